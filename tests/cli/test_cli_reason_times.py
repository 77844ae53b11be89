"""Stored reasons name their instants in UTC (``2026-12-07T14:54:43Z``); the views for people
show them the way they show their other times, in the viewer's zone, as ``jobs why`` shows them
in the job's: ``top``'s missed ranges, ``executions list``/``show``, the auto-pause reason in
``jobs show`` and ``audit``, and the mail in UTC, saying so. The API's JSON keeps the stored text.

Real CLI processes on a real store (both backends), the viewer in New York (``TZ``) so that
every instant moves; a real mail through a ``sendmail`` stand-in.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jobctl.config import config_from_dict
from jobctl.notify.payload import event_payload
from jobctl.notify.send import send
from jobctl.service import Service
from jobctl.store import Store
from jobctl.store.writes import NewExecution
from tests.conftest import ADMIN, TEST_ZONE, Cli

VIEWER = {"TZ": "America/New_York", "COLUMNS": "400"}
NEW_YORK = ZoneInfo("America/New_York")
FROM, UNTIL, LAST = (
    datetime(2026, 12, 7, 14, 54, 43, tzinfo=UTC),
    datetime(2026, 12, 7, 14, 56, 1, tzinfo=UTC),
    datetime(2026, 12, 7, 14, 50, 14, tzinfo=UTC),
)
MISSED_REASON = "no daemon was leading from 2026-12-07T14:54:43Z to 2026-12-07T14:56:01Z; misfire policy skip"
PAUSED_REASON = "paused after 3 consecutive failures, last at 2026-12-07T14:50:14Z"


def table(moment: datetime) -> str:
    return f"{moment.astimezone(NEW_YORK):%Y-%m-%d %H:%M:%S}"


def detail(moment: datetime) -> str:
    return f"{moment.astimezone(NEW_YORK):%Y-%m-%d %H:%M:%S %Z}"


def a_job_with_a_missed_range(store: Store) -> tuple[str, str]:
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    job = service.create_job({
        "name": "backup", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
        "scheduleConfig": {"minutes": 1},
    })  # fmt: skip
    row = store.jobs.get(job["id"])
    assert row is not None
    now = datetime.now(UTC)  # recent, so that top lists it
    missed = NewExecution.missed_range(row, first=FROM, last=UNTIL, count=2, now=now, reason=MISSED_REASON)
    store.executions.insert(missed)
    return job["id"], missed.id


def test_missed_reasons_show_their_times_as_each_view_shows_times(store: Store, cli: Cli) -> None:
    _, missed_id = a_job_with_a_missed_range(store)
    in_table = f"no daemon was leading from {table(FROM)} to {table(UNTIL)}; misfire policy skip"

    listed = cli("executions", "list", "--job", "backup", env=VIEWER)
    assert listed.code == 0, listed.stderr
    assert in_table in listed.stdout, listed.stdout

    shown = cli("executions", "show", missed_id, env=VIEWER)
    assert shown.code == 0, shown.stderr
    assert f"no daemon was leading from {detail(FROM)} to {detail(UNTIL)}; misfire policy skip" in shown.stdout

    top = cli("top", env=VIEWER)
    assert top.code == 0, top.stderr
    ranges = top.stdout.split("MISSED RANGES", 1)[1]
    assert in_table in ranges, ranges

    for output in (listed.stdout, shown.stdout, top.stdout):
        assert "T14:54:43Z" not in output, output
    as_json = cli("executions", "show", missed_id, "--json", env=VIEWER)
    assert json.loads(as_json.stdout)["errorMessage"] == MISSED_REASON, "the API's JSON keeps the stored text"


def test_an_auto_pause_reason_shows_its_time_as_jobs_show_and_audit_show_times(store: Store, cli: Cli) -> None:
    job_id, _ = a_job_with_a_missed_range(store)
    assert store.job_health.pause(job_id, reason=PAUSED_REASON, by="jobctl", now=datetime.now(UTC))
    shown = cli("jobs", "show", "backup", env=VIEWER)
    assert shown.code == 0, shown.stderr
    assert f"paused after 3 consecutive failures, last at {detail(LAST)} by jobctl" in shown.stdout, shown.stdout
    listed = cli("jobs", "list", env=VIEWER)
    assert f"paused: paused after 3 consecutive failures, last at {table(LAST)}"[:48] in listed.stdout, listed.stdout
    assert "2026-12-07T14:50:14Z" not in shown.stdout + listed.stdout

    # The audit log holds the reason of a pause made through the service (the auto-pause's too).
    service = Service(store, ADMIN, default_timezone=TEST_ZONE)
    service.set_job_status(job_id, {"isPaused": False})
    service.set_job_status(job_id, {"isPaused": True, "reason": PAUSED_REASON})
    audit = cli("audit", "--job", "backup", env=VIEWER)
    assert audit.code == 0, audit.stderr
    assert f"reason: paused after 3 consecutive failures, last at {detail(LAST)}" in audit.stdout, audit.stdout


def test_the_pause_mail_shows_its_times_in_utc_saying_so(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f"#!/bin/sh\ncat > {spool}\n")
    sendmail.chmod(0o755)
    payload = event_payload("paused", occurred_at=LAST, host="box", job=None, execution=None, message=PAUSED_REASON)
    payload["execution"] = {
        "id": "e-1", "status": "failed", "attempt": 1, "startedAt": "2026-12-07T14:50:13.520431Z",
        "completedAt": "2026-12-07T14:50:14.010000Z", "exitCode": 2, "errorMessage": "exit code 2",
    }  # fmt: skip
    mail = {"name": "mail", "type": "email", "to": ["root@localhost"], "from": "jobctl@localhost",
            "sendmail": str(sendmail)}  # fmt: skip
    send(config_from_dict({"notifiers": [mail]}).notify.notifiers[0], payload, base_env={})
    body = spool.read_text()
    assert "paused after 3 consecutive failures, last at 2026-12-07 14:50:14 UTC\n" in body, body
    assert "started:    2026-12-07 14:50:13 UTC\n" in body and "finished:   2026-12-07 14:50:14 UTC\n" in body, body
    assert "T14:50" not in body, body
