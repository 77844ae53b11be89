"""API tokens: created and revoked on the store by the operator, checked by the API.

The secret is shown once; only its SHA-256 is stored. Lookups go by that hash: the database
compares digests, never the secret, so timing reveals nothing usable about a valid token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from jobctl.errors import NotAuthenticated, NotFound, ValidationFailed
from jobctl.models import ApiToken, Caller, Role
from jobctl.store import Store
from jobctl.wire import responses
from jobctl.wire.responses import TokenOut

TOKEN_PREFIX = "jobctl_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, role: str) -> tuple[str, ApiToken]:
    """A new token; returns the secret (shown once) and the stored record. :raises Conflict:"""
    if not name.strip() or len(name) > 200:
        raise ValidationFailed.field(["name"], "a token name is 1 to 200 characters")
    try:
        Role(role)
    except ValueError:
        raise ValidationFailed.field(["role"], "must be admin, operator or viewer") from None
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = store.tokens.insert(name=name, role=role, token_hash=hash_token(secret), now=datetime.now(UTC))
    return secret, token


def list_tokens(store: Store) -> list[TokenOut]:
    return [responses.api_token(token) for token in store.tokens.list()]


def revoke_token(store: Store, name: str) -> None:
    """:raises NotFound: when no active token has that name."""
    if not store.tokens.revoke(name, datetime.now(UTC)):
        raise NotFound("active token", name)


def authenticate(store: Store, secret: str | None) -> Caller:
    """The caller a bearer secret belongs to. :raises NotAuthenticated:"""
    if not secret:
        raise NotAuthenticated("missing bearer token")
    digest = hash_token(secret)
    token = store.tokens.find_active_by_hash(digest)
    if token is None:
        raise NotAuthenticated("invalid or revoked token")
    return Caller(user_id=token.name, role=Role(token.role))
