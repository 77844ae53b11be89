"""``jobctl jobs why`` over 30 days of a minutely job: 43,200 executions (target: <= 1 s).

Seeds a SQLite store and a Postgres one with a job created 30 days ago that ran
every minute since (a few failures, a skipped slot, a missed range, a pause and a resume in
the audit log), then times:

- the timeline in the service (``Service.get_job_timeline``, what the API and the local CLI run),
  next to its peer in the same run: reading the same 43,200 executions through the store's
  ordinary listing (``executions.list``, what ``jobctl executions list --all`` does), the
  least any answer built from them can cost;
- the whole command, ``python -m jobctl jobs why JOB --since 30d`` (start-up included), next to
  ``python -m jobctl jobs show JOB`` (start-up and one small read).

    python bench/why.py [--no-pg] [--repeat 5]

Postgres: a fresh database on 127.0.0.1:5432 (user postgres), dropped afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import jobctl_venv, pg_available, pg_database, reexec_in

if __name__ == "__main__":
    reexec_in(jobctl_venv)  # jobctl's dependencies (alembic, SQLAlchemy, ...) live in bench/.venv-cli

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from jobctl.store.writes import NewExecution

SLOTS = 30 * 24 * 60
MINUTE = timedelta(minutes=1)


def seed(store: Store) -> str:
    service = Service(store, Caller(user_id="local:bench", role=Role.ADMIN), default_timezone="UTC")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - SLOTS * MINUTE
    job = service.create_job({
        "name": "backup", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
        "scheduleConfig": {"minutes": 1, "start_date": start.isoformat()},
    })  # fmt: skip
    store.db.execute("UPDATE jobs SET created_at = :t WHERE id = :id", {"t": start - MINUTE, "id": job["id"]})
    record = store.jobs.get(job["id"])
    assert record is not None
    rows = []
    for k in range(SLOTS):
        slot = start + k * MINUTE
        if k == 5000:
            rows.append(NewExecution.skipped_slot(record, slot, now=slot, reason="1 run(s) still active"))
        elif 9000 <= k < 9030:
            if k == 9000:
                rows.append(NewExecution.missed_range(record, first=slot, last=slot + 29 * MINUTE, count=30,
                                                      now=slot + 30 * MINUTE, reason="no daemon was leading"))  # fmt: skip
        else:
            rows.append(NewExecution.for_slot(record, slot, now=slot, start_at=slot + timedelta(milliseconds=12),
                                              instance_id="bench"))  # fmt: skip
    for chunk in range(0, len(rows), 2000):
        with store.transaction():
            store.executions.insert_many(rows[chunk : chunk + 2000])
    store.db.execute(
        "UPDATE executions SET status = 'success', completed_at = started_at WHERE job_id = :id AND status = 'running'",
        {"id": job["id"]},
    )
    store.db.execute(
        "UPDATE executions SET status = 'failed', error_message = 'exit code 1' WHERE job_id = :id "
        "AND scheduled_for IN (:a, :b)",
        {"id": job["id"], "a": start + 20000 * MINUTE, "b": start + 20001 * MINUTE},
    )
    service.set_job_status(job["id"], {"isPaused": True, "reason": "disk full"})
    service.set_job_status(job["id"], {"isPaused": False})
    return str(job["id"])


def best(seconds: list[float]) -> str:
    return f"{min(seconds) * 1000:.0f} ms (median {statistics.median(seconds) * 1000:.0f})"


def timed(action: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return times


def measure(label: str, url: str, repeat: int) -> list[tuple[str, str, str, str]]:
    store = open_store(url)
    try:
        job_id = seed(store)
        service = Service(store, Caller(user_id="local:bench", role=Role.ADMIN), default_timezone="UTC")
        timeline = timed(lambda: service.get_job_timeline(job_id, since="30d"), repeat)
        listing = timed(lambda: store.executions.list(job_id=job_id, status=None, limit=SLOTS, offset=0), repeat)
        events = len(service.get_job_timeline(job_id, since="30d")["events"])
    finally:
        store.close()
    env = {**os.environ, "JOBCTL_DB": url, "JOBCTL_CONFIG": os.devnull}
    cli = timed(lambda: _cli(env, "jobs", "why", "backup", "--since", "30d"), repeat)
    show = timed(lambda: _cli(env, "jobs", "show", "backup"), repeat)
    ratio_service = min(timeline) / min(listing)
    ratio_cli = min(cli) / min(show)
    return [
        (label, f"timeline in the service ({events} events)", best(timeline), f"{ratio_service:.2f} x listing"),
        (label, "peer: executions.list of the same rows", best(listing), "1.00"),
        (label, "jobctl jobs why backup --since 30d", best(cli), f"{ratio_cli:.2f} x jobs show"),
        (label, "peer: jobctl jobs show backup", best(show), "1.00"),
    ]


def _cli(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "jobctl", *args], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows += measure("SQLite", f"sqlite:///{folder}/why.db", options.repeat)
    if not options.no_pg and pg_available():
        with pg_database("why") as url:
            rows += measure("Postgres", url, options.repeat)
    print(f"{SLOTS:,} executions of one minutely job over 30 days; best of {options.repeat}")
    print("| store | what | time | ratio |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
