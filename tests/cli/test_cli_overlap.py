"""``--overlap``, ``--max-queued``, ``--concurrency-group`` and ``[[concurrency_groups]]`` through the
real CLI on a real SQLite store: bad input is one line and exit 2; waiting runs and group
counts show in ``executions show``/``list`` and ``status`` (the scheduling itself is tested in
tests/scheduler/test_overlap.py and with real daemons)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobctl.models import ConcurrencyGroup
from jobctl.store import open_store
from tests.cli.helpers import OneStoreCli, check_error, check_ok

CREATE = ("jobs", "create", "x", "--every", "1h", "--command", "true")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        (("--overlap", "sometimes"), "--overlap: must be skip, queue or replace, got 'sometimes'"),
        (("--max-queued", "0"), "--max-queued: must be 1 or more, got 0"),
        (("--concurrency-group", "nope"), "no concurrency group 'nope'"),
    ],
    ids=["policy", "max-queued-0", "unknown-group"],
)
def test_bad_values_are_one_line_and_exit_2(
    sqlite_only_cli: OneStoreCli, options: tuple[str, ...], fragment: str
) -> None:
    check_error(sqlite_only_cli(*CREATE, *options), 2, fragment)


def test_update_refuses_them_too_and_changes_nothing(sqlite_only_cli: OneStoreCli) -> None:
    check_ok(sqlite_only_cli(*CREATE, "--json"))
    check_error(sqlite_only_cli("jobs", "update", "x", "--overlap", "never"), 2, "--overlap: must be skip,")
    check_error(sqlite_only_cli("jobs", "update", "x", "--concurrency-group", "nope"), 2, "no concurrency group")
    shown = json.loads(check_ok(sqlite_only_cli("jobs", "show", "x", "--json")).stdout)
    assert (shown["overlapPolicy"], shown["concurrencyGroup"]) == ("skip", None)


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        (
            '[[concurrency_groups]]\nname = "db"\nlimit = 0\n',
            "concurrency_groups[0] limit must be between 1 and 1000000, not 0",
        ),
        (
            '[[concurrency_groups]]\nname = "db"\nlimit = 1\n' * 2,
            "concurrency group names must be unique: concurrency_groups[0] and concurrency_groups[1] are both "
            "named 'db'",
        ),
    ],
    ids=["limit-0", "duplicate"],
)
def test_a_bad_group_in_the_config_is_one_line_and_exit_2(
    sqlite_only_cli: OneStoreCli, tmp_path: Path, groups: str, fragment: str
) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(groups)
    check_error(sqlite_only_cli("jobs", "list", env={"JOBCTL_CONFIG": str(config)}), 2, fragment)


def test_waiting_runs_and_group_counts_are_shown(sqlite_only_cli: OneStoreCli) -> None:
    created = json.loads(check_ok(sqlite_only_cli(*CREATE, "--concurrency-group", "db", "--overlap", "queue",
                                                  "--json")).stdout)  # fmt: skip
    assert (created["concurrencyGroup"], created["overlapPolicy"], created["maxQueued"]) == ("db", "queue", 1)
    execution_id = json.loads(check_ok(sqlite_only_cli("jobs", "trigger", "x", "--json")).stdout)["executionId"]
    store = open_store(sqlite_only_cli.env["JOBCTL_DB"])
    try:
        store.groups.sync([ConcurrencyGroup(name="db", limit=1)], now=datetime.now(UTC))
        store.executions.set_pending_reason(execution_id, "group db full")  # as the scheduler would
    finally:
        store.close()

    shown = check_ok(sqlite_only_cli("executions", "show", execution_id)).stdout
    assert "waiting" in shown and "group db full" in shown
    listed = check_ok(sqlite_only_cli("executions", "list")).stdout
    assert "waiting: group db full" in listed
    as_json = json.loads(check_ok(sqlite_only_cli("executions", "show", execution_id, "--json")).stdout)
    assert as_json["pendingReason"] == "group db full"

    status = check_ok(sqlite_only_cli("status")).stdout
    assert "Concurrency groups" in status and "db" in status
    groups = json.loads(check_ok(sqlite_only_cli("status", "--json")).stdout)["concurrencyGroups"]
    assert groups == [{"name": "db", "limit": 1, "running": 0, "waiting": 1}]
