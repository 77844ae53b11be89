"""Every option and jobs-file key that takes a time reads it by one grammar: a time that
``datetime.fromisoformat`` would misread (``2026-12-07+01:00`` as 01:00, ``2026-12-07x09:00``
as 09:00) is one line on stderr and exit 2, as README says of a bad time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import OneStoreCli, check_error, check_ok

ISO = "give an ISO 8601 date or date-time (2026-12-04, 2026-12-04T02:00:00Z)"

COMMANDS = {
    "at-offset-as-time": (["jobs", "create", "at1", "--at", "2027-01-01+05:00", "--command", "true"], "--at: "),
    "at-any-separator": (["jobs", "create", "at2", "--at", "2027-01-01x09:00", "--command", "true"], "--at: "),
    "at-basic-time": (["jobs", "create", "at3", "--at", "0900", "--command", "true"], "--at: "),
    "export-until": (["executions", "export", "--until", "2026-12-07+10:35"], "--until: "),
    "export-since": (["executions", "export", "--since", "20261207-0500"], "--since: "),
    "why-since": (["jobs", "why", "hourly", "--since", "2026-12-07-05:00"], "--since: "),
    "why-until": (["jobs", "why", "hourly", "--until", "2026-12-07_05:00"], "--until: "),
    "audit-since": (["audit", "--since", "2026-12-07x10:00"], "--since: "),
    "cron-explain-from": (["cron", "explain", "0 9 * * *", "--from", "2027-01-01+05:00"], "--from: "),
}


@pytest.mark.parametrize(("args", "named"), COMMANDS.values(), ids=list(COMMANDS))
def test_a_malformed_time_is_exit_2_in_one_line(sqlite_only_cli: OneStoreCli, args: list[str], named: str) -> None:
    check_ok(sqlite_only_cli("jobs", "create", "hourly", "--every", "1h", "--command", "true"))
    line = check_error(sqlite_only_cli(*args), 2, "is not a time: give an ISO 8601 ")
    assert line.startswith(f"jobctl: {named}"), line


@pytest.mark.parametrize(
    ("key", "value"),
    [("at", "2099-01-01+05:00"), ("at", "2099-01-01x09:00"), ("start_date", "2099-01-01x05:00")],
    ids=["at-offset-as-time", "at-any-separator", "start-date"],
)
def test_a_malformed_time_in_a_jobs_file_is_exit_2(
    sqlite_only_cli: OneStoreCli, tmp_path: Path, key: str, value: str
) -> None:
    schedule = "" if key == "at" else 'every = "1h"\n'
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(f'[[jobs]]\nname = "timed"\n{schedule}{key} = "{value}"\ncommand = "true"\n')
    check_error(sqlite_only_cli("apply", "-f", str(jobs)), 2, f"{value!r} is not a time: {ISO}")
    assert check_ok(sqlite_only_cli("jobs", "list", "--json"))


@pytest.mark.parametrize("schedule", [["--at", "2099-01-01 05:00"], ["--cron", "0 5 * * *"]], ids=["at", "cron"])
def test_an_unknown_zone_is_named_as_the_option_that_gave_it(sqlite_only_cli: OneStoreCli, schedule: list[str]) -> None:
    """Not ``--at: unknown time zone``: the zone came from ``--timezone``, whatever the schedule."""
    args = ["jobs", "create", "zoned", *schedule, "--timezone", "Mars/Olympus", "--command", "true"]
    line = check_error(sqlite_only_cli(*args), 2, "unknown time zone 'Mars/Olympus'")
    assert line == "jobctl: --timezone: unknown time zone 'Mars/Olympus'", line
    assert "zoned" not in check_ok(sqlite_only_cli("jobs", "list", "--json")).stdout, "nothing was created"


HISTORY_FORMS = f"{ISO}, a duration ago (24h, 7d) or now"
HISTORY_TIMES = {
    "why-since": ["jobs", "why", "hourly", "--since"],
    "why-until": ["jobs", "why", "hourly", "--until"],
    "audit-since": ["audit", "--since"],
    "export-since": ["executions", "export", "--since"],
    "export-until": ["executions", "export", "--until"],
}


@pytest.mark.parametrize("args", HISTORY_TIMES.values(), ids=list(HISTORY_TIMES))
@pytest.mark.parametrize("text", ["soon", "2026-12-07x10:00"])
def test_every_command_taking_a_history_time_refuses_it_in_the_same_words(
    sqlite_only_cli: OneStoreCli, args: list[str], text: str
) -> None:
    """jobs why said "an ISO 8601 instant (2026-12-04T02:00:00Z)" though it takes a date alone,
    export "an ISO 8601 time (2026-12-04, ...)": one sentence now, naming every form taken."""
    check_ok(sqlite_only_cli("jobs", "create", "hourly", "--every", "1h", "--command", "true"))
    line = check_error(sqlite_only_cli(*args, text), 2)
    assert line == f"jobctl: {args[-1]}: {text!r} is not a time: {HISTORY_FORMS}"


OPTION_VALUES = {
    "create-every": (["jobs", "create", "e1", "--every", "soon", "--command", "true"], "--every: 'soon' is not"),
    "create-zone": (
        ["jobs", "create", "z1", "--cron", "0 9 * * *", "--timezone", "Mars/Base", "--command", "true"],
        "--timezone: unknown time zone 'Mars/Base'",
    ),
    "update-at": (["jobs", "update", "hourly", "--at", "soon"], "--at: 'soon' is not a time"),
    "explain-zone": (
        ["cron", "explain", "0 9 * * *", "--from", "2027-01-01", "--timezone", "Mars/Base"],
        "--timezone: unknown time zone 'Mars/Base'",
    ),
    "explain-count": (["cron", "explain", "0 9 * * *", "-n", "0"], "--count: must be between 1 and 100"),
}


@pytest.mark.parametrize(("args", "starts"), OPTION_VALUES.values(), ids=list(OPTION_VALUES))
def test_a_bad_option_value_is_named_as_the_option_typed(
    sqlite_only_cli: OneStoreCli, args: list[str], starts: str
) -> None:
    """The schedule parsers name a field as a jobs file spells it (``at``); the command line
    names the option the user typed (``--at``), as ``--since:`` errors always did."""
    check_ok(sqlite_only_cli("jobs", "create", "hourly", "--every", "1h", "--command", "true"))
    line = check_error(sqlite_only_cli(*args), 2)
    assert line.startswith(f"jobctl: {starts}"), line
