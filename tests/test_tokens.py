"""API tokens on the store: revoked names can be given again, and uses are recorded as
``lastUsedAt`` at most once per interval per token, on SQLite and Postgres."""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from jobctl.errors import Conflict, NotAuthenticated, NotFound
from jobctl.models import Caller, Role
from jobctl.service.tokens import LastUseThrottle, authenticate, create_token, list_tokens, revoke_token
from jobctl.store import Store
from tests.conftest import Cli


def _last_used(store: Store, name: str) -> datetime | None:
    [token] = [t for t in store.tokens.list() if t.name == name and t.revoked_at is None]
    return token.last_used_at


def test_a_revoked_name_can_be_given_to_a_new_token(store: Store) -> None:
    old_secret, old = create_token(store, "ci", "viewer")
    with pytest.raises(Conflict, match="ci"):
        create_token(store, "ci", "admin")
    revoke_token(store, "ci")
    new_secret, new = create_token(store, "ci", "operator")
    assert new.id != old.id and (new.name, new.role, new.revoked_at) == ("ci", "operator", None)
    with pytest.raises(NotAuthenticated):
        authenticate(store, old_secret)
    assert authenticate(store, new_secret) == Caller(user_id="ci", role=Role.OPERATOR)
    with pytest.raises(Conflict, match="ci"):
        create_token(store, "ci", "viewer")

    revoke_token(store, "ci")  # the active one; the older stays as it was
    with pytest.raises(NotFound):
        revoke_token(store, "ci")
    third_secret, _ = create_token(store, "ci", "admin")
    listed = [(t["name"], t["role"], t["revokedAt"] is None) for t in list_tokens(store)]
    assert listed == [("ci", "viewer", False), ("ci", "operator", False), ("ci", "admin", True)]
    assert authenticate(store, third_secret).role is Role.ADMIN


def test_use_is_recorded_at_most_once_per_interval_per_token(store: Store) -> None:
    throttle = LastUseThrottle(interval=0.5)
    first_secret, _ = create_token(store, "first", "viewer")
    second_secret, _ = create_token(store, "second", "viewer")
    assert _last_used(store, "first") is None

    authenticate(store, first_secret, throttle)
    recorded = _last_used(store, "first")
    assert recorded is not None
    authenticate(store, first_secret, throttle)
    assert _last_used(store, "first") == recorded, "written again within the interval"
    authenticate(store, second_secret, throttle)
    assert _last_used(store, "second") is not None, "each token has its own interval"

    time.sleep(0.6)
    authenticate(store, first_secret, throttle)
    later = _last_used(store, "first")
    assert later is not None and later > recorded


def test_without_a_throttle_nothing_is_written(store: Store) -> None:
    secret, _ = create_token(store, "quiet", "viewer")
    authenticate(store, secret)
    assert _last_used(store, "quiet") is None


def test_the_cli_gives_a_revoked_name_again(cli: Cli) -> None:
    assert cli("token", "create", "deploy", "--role", "viewer").code == 0
    taken = cli("token", "create", "deploy", "--role", "viewer")
    assert taken.code == 4 and len(taken.stderr.splitlines()) == 1 and "revoke it first" in taken.stderr
    assert cli("token", "revoke", "deploy").code == 0
    again = cli("token", "create", "deploy", "--role", "admin", "--json")
    assert again.code == 0, again.stderr
    listed = json.loads(cli("token", "list", "--json").stdout)
    assert [(t["name"], t["role"], t["revokedAt"] is None) for t in listed] == [
        ("deploy", "viewer", False),
        ("deploy", "admin", True),
    ]
