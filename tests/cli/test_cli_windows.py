"""One rule for a ``--since``/``--until`` window in every command that takes both: ``--until``
must be later than ``--since``; a reversed window and an empty one are refused alike, with one
message (docs/history-windows.md)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import OneStoreCli, check_error, check_ok

COMMANDS = [["executions", "export"], ["executions", "list"], ["jobs", "why", "w"]]
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


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (["--since", "0001-01-01", "--until", "0001-06-01"], "--since: '0001-01-01' lies outside"),
        (["--until", "1000000d"], "--until: '1000000d' lies outside"),
        (["--until", "0001-01-01T00:00:00-23:59"], "--until: '0001-01-01T00:00:00-23:59' lies outside"),
    ],
    ids=["year-1", "a-duration-before-year-1", "own-offset"],
)
def test_a_why_window_at_the_first_times_is_one_line_not_an_internal_error(
    sqlite_only_cli: OneStoreCli, window: list[str], message: str
) -> None:
    """``internal error: OverflowError: date value out of range`` before (exit 1)."""
    check_ok(sqlite_only_cli("jobs", "create", "w", "--every", "1h", "--command", "true"))
    line = check_error(sqlite_only_cli("jobs", "why", "w", *window), 2)
    assert line == (
        f"jobctl: {message} the times a job's timeline shows (0001-01-03 to 9999-12-29 UTC): give a time between them"
    )
