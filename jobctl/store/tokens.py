"""API tokens: only their SHA-256 hashes are stored.

A name is unique among active tokens only (a partial unique index): a revoked token keeps its
row, as history, and its name can be given to a new token.
"""

from __future__ import annotations

import builtins
from datetime import datetime

from jobctl.errors import Conflict
from jobctl.models import ApiToken
from jobctl.store.database import Database, UniqueViolation
from jobctl.store.records import token_from_row


class TokenRecords:
    """Reads and writes ``api_tokens``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, *, name: str, role: str, token_hash: str, now: datetime) -> ApiToken:
        """:raises Conflict: when an active token of that name exists."""
        try:
            self.db.execute(
                "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES (:name, :role, :hash, :now)",
                {"name": name, "role": role, "hash": token_hash, "now": now},
            )
        except UniqueViolation as exc:
            raise Conflict(f"an active token named {name!r} already exists; revoke it first") from exc
        token = self.find_active_by_hash(token_hash)
        assert token is not None
        return token

    def get_active_by_name(self, name: str) -> ApiToken | None:
        row = self.db.fetch_one("SELECT * FROM api_tokens WHERE name = :name AND revoked_at IS NULL", {"name": name})
        return token_from_row(row) if row else None

    def find_active_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self.db.fetch_one(
            "SELECT * FROM api_tokens WHERE token_hash = :hash AND revoked_at IS NULL", {"hash": token_hash}
        )
        return token_from_row(row) if row else None

    def list(self) -> builtins.list[ApiToken]:
        return [token_from_row(row) for row in self.db.fetch_all("SELECT * FROM api_tokens ORDER BY id")]

    def revoke(self, name: str, now: datetime) -> bool:
        return (
            self.db.execute(
                "UPDATE api_tokens SET revoked_at = :now WHERE name = :name AND revoked_at IS NULL",
                {"now": now, "name": name},
            )
            > 0
        )

    def touch(self, token_id: int, now: datetime) -> None:
        """Record that the token was used at ``now`` (callers throttle this; see the service)."""
        self.db.execute("UPDATE api_tokens SET last_used_at = :now WHERE id = :id", {"now": now, "id": token_id})
