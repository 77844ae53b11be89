"""API tokens: created and revoked on the store by the operator, checked by the API.

The secret is shown once; only its SHA-256 is stored. Lookups go by that hash: the database
compares digests, never the secret, so timing reveals nothing usable about a valid token.

A token's ``lastUsedAt`` is written at most once a minute per token (:class:`LastUseThrottle`,
kept in memory by each process), not on every request: a busy client would otherwise turn
every read into a write. So it may lag the real last use by up to a minute per daemon, and
a daemon that restarts writes it again on the next use.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from jobctl.errors import NotAuthenticated, NotFound, StoreError, ValidationFailed
from jobctl.models import ApiToken, Caller, Role
from jobctl.service import audit
from jobctl.store import Store
from jobctl.wire import responses
from jobctl.wire.responses import TokenOut

log = logging.getLogger(__name__)

TOKEN_PREFIX = "jobctl_"
LAST_USE_INTERVAL_SECONDS = 60.0
"""How often, at most, one process records the use of one token."""


class LastUseThrottle:
    """Which token uses to record: the first, then one per ``interval`` seconds per token.

    Thread-safe (the API's requests run in a thread pool). Memory is one entry per token that
    was used, which the number of tokens bounds.
    """

    def __init__(
        self, interval: float = LAST_USE_INTERVAL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._recorded: dict[int, float] = {}
        self._lock = threading.Lock()

    def due(self, token_id: int) -> bool:
        """Whether this use of ``token_id`` should be written (and, if so, note that it was)."""
        now = self._clock()
        with self._lock:
            last = self._recorded.get(token_id)
            if last is not None and now - last < self.interval:
                return False
            self._recorded[token_id] = now
            return True


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, role: str, *, actor: str | None = None) -> tuple[str, ApiToken]:
    """A new token; returns the secret (shown once) and the stored record, audited as done by
    ``actor`` (default ``local:UNIXUSER``). :raises Conflict:"""
    if not name.strip() or len(name) > 200:
        raise ValidationFailed.field(["name"], "a token name is 1 to 200 characters")
    try:
        Role(role)
    except ValueError:
        raise ValidationFailed.field(["role"], "must be admin, operator or viewer") from None
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with store.transaction():
        token = store.tokens.insert(name=name, role=role, token_hash=hash_token(secret), now=now)
        audit.record(
            store, actor=actor or audit.local_actor(), action=audit.TOKEN_CREATED, target_type=audit.TOKEN,
            target_id=str(token.id), target_name=token.name, details={"role": token.role.value}, at=now,
        )  # fmt: skip
    return secret, token


def list_tokens(store: Store) -> list[TokenOut]:
    return [responses.api_token(token) for token in store.tokens.list()]


def revoke_token(store: Store, name: str, *, actor: str | None = None) -> None:
    """Revoke the active token ``name``, audited as done by ``actor`` (default ``local:UNIXUSER``).

    :raises NotFound: when no active token has that name.
    """
    now = datetime.now(UTC)
    with store.transaction():
        token = store.tokens.get_active_by_name(name)
        if token is None or not store.tokens.revoke(name, now):
            raise NotFound("active token", name)
        audit.record(
            store, actor=actor or audit.local_actor(), action=audit.TOKEN_REVOKED, target_type=audit.TOKEN,
            target_id=str(token.id), target_name=name, at=now,
        )  # fmt: skip


def authenticate(store: Store, secret: str | None, last_use: LastUseThrottle | None = None) -> Caller:
    """The caller a bearer secret belongs to. :raises NotAuthenticated:

    With ``last_use``, the use is recorded as the token's ``lastUsedAt`` when the throttle says
    so. Recording is best effort: a store that cannot take the write right now costs the token
    that one record (logged), not the request.
    """
    if not secret:
        raise NotAuthenticated("missing bearer token")
    digest = hash_token(secret)
    token = store.tokens.find_active_by_hash(digest)
    if token is None:
        raise NotAuthenticated("invalid or revoked token")
    if last_use is not None and last_use.due(token.id):
        try:
            store.tokens.touch(token.id, datetime.now(UTC))
        except StoreError as exc:
            log.warning("could not record the use of token %r: %s", token.name, exc.message)
    return Caller(user_id=token.name, role=Role(token.role))
