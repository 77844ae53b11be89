"""``jobctl jobs next``: a job's coming runs on the store (SQLite and Postgres), with notes.

Both modes printing the same is checked in tests/remote/test_remote_cli.py; this holds the
local output to exact times (schedules that start in the future) and the notes for a job
that will not run as listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.cli.helpers import check_error, check_ok


def create_from_body(cli: Any, tmp_path: Path, body: dict[str, Any]) -> None:
    path = tmp_path / f"{body['name']}.json"
    path.write_text(json.dumps({"taskFunctionId": 1, "taskArgs": {"command": "true"}, **body}))
    check_ok(cli("jobs", "create", "--from-json", str(path)))


def test_cron_job_with_end_date_lists_only_its_remaining_runs(cli: Any, tmp_path: Path) -> None:
    config = {"expression": "0 0 L * *", "timezone": "UTC", "start_date": "2027-01-20", "end_date": "2027-04-01"}
    create_from_body(cli, tmp_path, {"name": "month-end", "jobTypeId": 2, "scheduleConfig": config})
    document = json.loads(check_ok(cli("jobs", "next", "month-end", "--json", "-n", "10")).stdout)
    assert document["timezone"] == "UTC"
    assert document["nextRunTimes"] == ["2027-01-31T00:00:00Z", "2027-02-28T00:00:00Z", "2027-03-31T00:00:00Z"]
    lines = check_ok(cli("jobs", "next", "month-end")).stdout.splitlines()
    assert lines[0] == "month-end: next runs (UTC)"
    assert lines[1].startswith("  Sun 2027-01-31 00:00:00 UTC ") and "2027-01-31T00:00:00Z" in lines[1]
    assert len(lines) == 4  # three runs, no note: the job is enabled and not paused


def test_disabled_job_says_so_and_a_date_job_lists_its_one_run(cli: Any, tmp_path: Path) -> None:
    create_from_body(cli, tmp_path, {"name": "once", "jobTypeId": 3, "isEnabled": False,
                                     "scheduleConfig": {"run_date": "2027-06-01T09:00:00Z"}})  # fmt: skip
    lines = check_ok(cli("jobs", "next", "once")).stdout.splitlines()
    assert "Tue 2027-06-01 11:00:00 CEST" in lines[1] and "2027-06-01T09:00:00Z" in lines[1]
    assert lines[2:] == ["note: the job is disabled: these runs happen only after 'jobctl jobs enable once'"]


def test_bad_count_and_unknown_job(cli: Any, tmp_path: Path) -> None:
    create_from_body(cli, tmp_path, {"name": "hourly", "jobTypeId": 1, "scheduleConfig": {"hours": 1}})
    check_error(cli("jobs", "next", "hourly", "-n", "0"), 2, "--count")
    check_error(cli("jobs", "next", "hourly", "-n", "101"), 2, "--count")
    check_error(cli("jobs", "next", "missing"), 3, "missing")


def test_dst_gap_and_fold_are_explained_under_the_runs_they_moved(cli: Any, tmp_path: Path) -> None:
    create_from_body(cli, tmp_path, {"name": "spring", "jobTypeId": 2, "scheduleConfig": {
        "expression": "30 2 * * *", "timezone": "Europe/Berlin", "start_date": "2027-03-27T00:00:00"}})  # fmt: skip
    lines = check_ok(cli("jobs", "next", "spring", "-n", "3")).stdout.splitlines()
    assert "Sun 2027-03-28 03:00:00 CEST" in lines[2] and "2027-03-28T01:00:00Z" in lines[2]
    assert lines[3].startswith("    note: 2027-03-28 02:30:00 does not exist in Europe/Berlin")
    assert "first valid instant after it" in lines[3]
    assert len(lines) == 5  # the two other runs have no note
    create_from_body(cli, tmp_path, {"name": "autumn", "jobTypeId": 2, "scheduleConfig": {
        "hour": "*", "minute": "0", "timezone": "Europe/Berlin", "start_date": "2027-10-31T01:30:00"}})  # fmt: skip
    document = json.loads(check_ok(cli("jobs", "next", "autumn", "-n", "3", "--json")).stdout)
    assert document["nextRunTimes"] == ["2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z", "2027-10-31T03:00:00Z"]
    lines = check_ok(cli("jobs", "next", "autumn", "-n", "3")).stdout.splitlines()
    assert lines[2].startswith("    note: 2027-10-31 02:00:00 happens twice in Europe/Berlin")
    assert "runs once" in lines[2]
    assert len(lines) == 5


def test_a_fold_note_names_every_repeated_time_once(cli: Any, tmp_path: Path) -> None:
    create_from_body(cli, tmp_path, {"name": "quarter", "jobTypeId": 2, "scheduleConfig": {
        "expression": "*/15 * * * *", "timezone": "Europe/Berlin", "start_date": "2027-10-31T01:50:00"}})  # fmt: skip
    lines = check_ok(cli("jobs", "next", "quarter", "-n", "5")).stdout.splitlines()
    assert "Sun 2027-10-31 02:00:00 CEST" in lines[1] and "2027-10-31T00:00:00Z" in lines[1]
    assert lines[2] == (
        "    note: 2027-10-31 02:00:00, 02:15:00, 02:30:00 and 02:45:00 happen twice in Europe/Berlin (the clocks "
        "go back): each runs once, at its first occurrence (in CEST, 2027-10-31T00:00:00Z to 2027-10-31T00:45:00Z), "
        "not again in CET: 4 runs, not 8"
    )
    assert "2027-10-31T00:15:00Z" in lines[3] and "2027-10-31T00:30:00Z" in lines[4]
    assert "2027-10-31T00:45:00Z" in lines[5] and "Sun 2027-10-31 03:00:00 CET" in lines[6]
    assert len(lines) == 7  # the note once, under the first run of the fold
