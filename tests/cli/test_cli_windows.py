"""One rule for a ``--since``/``--until`` window in every command that takes both: ``--until``
must be later than ``--since``; a reversed window and an empty one are refused alike, with one
message (docs/history-windows.md)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import OneStoreCli, check_error, check_ok

COMMANDS = [["executions", "export"], ["jobs", "why", "w"]]
"""Every command with both options (``audit`` takes ``--since`` alone)."""

REFUSED = [
    ["--since", "1h", "--until", "2h"],
    ["--since", "now", "--until", "now"],
    ["--since", "2026-12-01T00:00:00Z", "--until", "2026-12-01T00:00:00Z"],
    ["--since", "2026-12-01T01:00:00+01:00", "--until", "2026-12-01T00:00:00Z"],
]


@pytest.mark.parametrize("window", REFUSED, ids=["reversed", "now-to-now", "empty", "one-instant-two-offsets"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_reversed_or_empty_window_is_refused_with_one_message(
    sqlite_only_cli: OneStoreCli, command: list[str], window: list[str]
) -> None:
    """Before, ``executions export`` refused both (``--until must be later than --since``) and
    ``jobs why`` refused the reversed one in other words and took the empty one."""
    check_ok(sqlite_only_cli("jobs", "create", "w", "--every", "1h", "--command", "true"))
    result = sqlite_only_cli(*command, *window)
    assert check_error(result, 2) == "jobctl: --until must be later than --since"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_window_of_any_length_is_taken(sqlite_only_cli: OneStoreCli, command: list[str]) -> None:
    check_ok(sqlite_only_cli("jobs", "create", "w", "--every", "1h", "--command", "true"))
    check_ok(sqlite_only_cli(*command, "--since", "2026-12-01T00:00:00Z", "--until", "2026-12-01T00:00:01Z"))
