"""``jobs update`` changes what its options name and keeps the rest of each field they touch;
``jobs create --from-json`` takes the options given with the body; ``jobs delete`` says what
it deleted (docs/updating-jobs.md, docs/deleting-jobs.md). Real subprocesses on a real store, on
every backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

CRONTAB = """\
SHELL=/bin/bash
CRON_TZ=Asia/Tokyo
RANDOM_DELAY=5
# name: rep
0 6 * * * echo "shell: $0"
"""
"""A crontab job with a zone (``CRON_TZ``), jitter (``RANDOM_DELAY``, minutes) and a shell."""


def next_wall(zone: str, hour: int, minute: int, after: datetime) -> datetime:
    """The first ``hour:minute`` on ``zone``'s clock after ``after``, in UTC."""
    local = after.astimezone(ZoneInfo(zone))
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        day = (local + timedelta(days=1)).date()
        candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
    return candidate.astimezone(UTC)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_new_cron_expression_keeps_the_jobs_zone_and_jitter(
    cli: Any, run_json: Callable[..., Any], ok: Callable[[Any], Any]
) -> None:
    ok(cli("import", "crontab", "-", input=CRONTAB))
    updated = run_json("jobs", "update", "rep", "--cron", "30 7 * * *", "--json")
    assert updated["scheduleConfig"] == {"expression": "30 7 * * *", "timezone": "Asia/Tokyo", "jitter": 300}
    slot = next_wall("Asia/Tokyo", 7, 30, ts(updated["updatedAt"]))
    assert slot <= ts(updated["nextRunTime"]) <= slot + timedelta(seconds=300)

    ok(cli("jobs", "create", "nightly", "--cron", "0 2 * * *", "--timezone", "America/Chicago", "--command", "true"))
    line = ok(cli("jobs", "update", "nightly", "--cron", "30 2 * * *")).stdout
    assert line.startswith("updated job 'nightly' (") and ": cron 30 2 * * * (America/Chicago), next run" in line
    given = run_json("jobs", "update", "rep", "--cron", "0 8 * * *", "--timezone", "Europe/Lisbon", "--json")
    assert given["scheduleConfig"] == {"expression": "0 8 * * *", "timezone": "Europe/Lisbon", "jitter": 300}


def test_timezone_alone_moves_a_cron_or_date_job_to_the_zone_and_is_refused_for_an_interval(
    cli: Any, run_json: Callable[..., Any], ok: Callable[[Any], Any], fails: Callable[..., str]
) -> None:
    ok(cli("import", "crontab", "-", input=CRONTAB))
    moved = run_json("jobs", "update", "rep", "--timezone", "America/Chicago", "--json")
    assert moved["scheduleConfig"] == {"expression": "0 6 * * *", "timezone": "America/Chicago", "jitter": 300}
    slot = next_wall("America/Chicago", 6, 0, ts(moved["updatedAt"]))
    assert slot <= ts(moved["nextRunTime"]) <= slot + timedelta(seconds=300)

    created = run_json("jobs", "create", "once", "--at", "2030-01-01 09:00", "--timezone", "Asia/Tokyo",
                       "--command", "true", "--json")  # fmt: skip
    assert created["scheduleConfig"] == {"run_date": "2030-01-01T00:00:00Z", "timezone": "Asia/Tokyo"}
    later = run_json("jobs", "update", "once", "--at", "2030-01-02 10:00", "--json")  # read on Tokyo's clock
    assert later["scheduleConfig"] == {"run_date": "2030-01-02T01:00:00Z", "timezone": "Asia/Tokyo"}
    line = ok(cli("jobs", "update", "once", "--timezone", "America/Chicago")).stdout
    assert ": at 2030-01-02 10:00 (America/Chicago), next run" in line  # the same wall time, in Chicago
    shown = run_json("jobs", "show", "once", "--json")
    assert shown["scheduleConfig"] == {"run_date": "2030-01-02T16:00:00Z", "timezone": "America/Chicago"}
    assert shown["nextRunTime"] == "2030-01-02T16:00:00Z"
    assert run_json("jobs", "next", "once", "--json")["timezone"] == "America/Chicago"

    ok(cli("jobs", "create", "ping", "--every", "5m", "--command", "true"))
    fails(cli("jobs", "update", "ping", "--timezone", "Europe/Berlin"), 2, "--timezone: an interval job has no")
    fails(cli("jobs", "update", "rep", "--timezone", "Mars/Base"), 2, "--timezone: unknown time zone 'Mars/Base'")
    fails(cli("jobs", "update", "ping", "--every", "1h", "--timezone", "Europe/Berlin"), 2, "--timezone goes with")
    assert run_json("jobs", "show", "ping", "--json")["scheduleConfig"] == {"minutes": 5}


def test_a_date_job_keeps_its_zone_through_a_jobs_file(cli: Any, tmp_path: Any, ok: Callable[[Any], Any]) -> None:
    ok(cli("jobs", "create", "once", "--at", "2030-01-01 09:00", "--timezone", "Asia/Tokyo", "--command", "true"))
    path = tmp_path / "jobs.toml"
    ok(cli("export", "-o", str(path)))
    assert 'at = "2030-01-01T00:00:00Z", timezone = "Asia/Tokyo",' in path.read_text()
    assert ok(cli("apply", "-f", str(path))).stdout == f"~ update once: source (none) -> {path}\n0 unchanged\n"
    assert ok(cli("jobs", "show", "once", "--json")).stdout.count('"timezone": "Asia/Tokyo"') == 1


def test_a_new_command_keeps_the_jobs_shell_and_arg_goes_with_command(
    cli: Any, run_json: Callable[..., Any], ok: Callable[[Any], Any], fails: Callable[..., str]
) -> None:
    ok(cli("import", "crontab", "-", input=CRONTAB))
    updated = run_json("jobs", "update", "rep", "--command", 'echo "now: $0"', "--json")
    assert updated["taskArgs"] == {"command": 'echo "now: $0"', "shell": "/bin/bash"}
    result = cli("run", "rep")
    assert (result.code, result.stdout) == (0, "now: /bin/bash\n"), result.stderr

    created = run_json("jobs", "create", "bash", "--every", "1h", "--command", 'echo "$0 $JOBCTL_ARG_TO"',
                       "--arg", "shell=/bin/bash", "--arg", "to=ops", "--json")  # fmt: skip
    assert created["taskArgs"] == {"command": 'echo "$0 $JOBCTL_ARG_TO"', "shell": "/bin/bash", "to": "ops"}
    result = cli("run", "bash")
    assert (result.code, result.stdout) == (0, "/bin/bash ops\n"), result.stderr
    changed = run_json("jobs", "update", "bash", "--arg", "to=dev", "--json")  # one argument, the rest kept
    assert changed["taskArgs"] == {"command": 'echo "$0 $JOBCTL_ARG_TO"', "shell": "/bin/bash", "to": "dev"}
    fails(cli("jobs", "update", "bash", "--command", "true", "--arg", "command=false"), 2, "--arg command=")
    fails(cli("jobs", "update", "bash", "--arg", "shell=bash"), 2, "--arg: ", "absolute path")


def test_create_from_json_takes_the_options_given_with_the_body(
    cli: Any, run_json: Callable[..., Any], ok: Callable[[Any], Any]
) -> None:
    ok(cli("jobs", "create", "src", "--every", "5m", "--command", "echo x", "--env", "A=1", "--env", "PGPASSWORD=s",
           "--label", "team=ops"))  # fmt: skip
    shown = ok(cli("jobs", "show", "src", "--json")).stdout
    c1 = run_json("jobs", "create", "c1", "--from-json", "-", "--every", "5h", "--timeout", "9s", "--retries", "5",
                  "--disabled", "--description", "hi", "--json", input=shown)  # fmt: skip
    assert (c1["scheduleConfig"], c1["timeoutSeconds"], c1["retryCount"], c1["isEnabled"], c1["description"]) == (
        {"hours": 5}, 9, 5, False, "hi")  # fmt: skip
    assert c1["environment"] == {"A": "1", "PGPASSWORD": "s"} and c1["taskArgs"] == {"command": "echo x"}
    c2 = run_json("jobs", "create", "c2", "--from-json", "-", "--env", "Q=1", "--label", "tier=gold",
                  "--command", "echo y", "--json", input=shown)  # fmt: skip
    assert c2["environment"] == {"A": "1", "PGPASSWORD": "s", "Q": "1"}
    assert (c2["labels"], c2["taskArgs"]) == ({"team": "ops", "tier": "gold"}, {"command": "echo y"})

    ok(cli("import", "crontab", "-", input=CRONTAB))
    tokyo = ok(cli("jobs", "show", "rep", "--json")).stdout
    c3 = run_json("jobs", "create", "c3", "--from-json", "-", "--cron", "0 9 * * *", "--json", input=tokyo)
    assert c3["scheduleConfig"] == {"expression": "0 9 * * *", "timezone": "Asia/Tokyo", "jitter": 300}


def test_delete_says_which_job_it_deleted(cli: Any, run_json: Callable[..., Any], fails: Callable[..., str]) -> None:
    created = run_json("jobs", "create", "old-backup", "--every", "1h", "--command", "true", "--json")
    result = cli("jobs", "delete", created["id"][:8])
    assert (result.code, result.stdout, result.stderr) == (0, f"deleted job 'old-backup' ({created['id']})\n", "")
    fails(cli("jobs", "delete", "old-backup"), 3, "old-backup")
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 0


def test_an_update_that_changes_nothing_writes_nothing_and_says_so(
    cli: Any, run_json: Callable[..., Any], ok: Callable[[Any], Any]
) -> None:
    """``updatedAt``/``updatedBy`` change only when someone changes the job (README); an update to
    the values the job has moved them while the audit log recorded nothing."""
    job = run_json("jobs", "create", "same", "--every", "5m", "--command", "true", "--json")
    for options in (["--retries", "0"], ["--every", "5m"], ["--command", "true"]):
        result = ok(cli("jobs", "update", "same", *options))
        assert result.stdout == f"no changes to job 'same' ({job['id']})\n", options
    now = run_json("jobs", "show", "same", "--json")
    assert (now["updatedAt"], now["updatedBy"]) == (job["updatedAt"], job["updatedBy"])
    assert [entry["action"] for entry in run_json("audit", "--json")["entries"]] == ["job.created"]
    assert ok(cli("jobs", "update", "same", "--retries", "1")).stdout.startswith("updated job 'same'")
    assert run_json("jobs", "show", "same", "--json")["updatedAt"] != job["updatedAt"]
