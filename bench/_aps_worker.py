"""The APScheduler 3.x side of the benchmarks; runs in ``bench/.venv-aps``.

``python _aps_worker.py MODE SPEC.json`` prints one JSON object (the result) on stdout.
Modes: ``add`` (jobs into a SQLAlchemyJobStore), ``cron`` (100k trigger computations),
``lateness`` (interval jobs running ``true``), ``burst`` (date jobs due at once), ``idle``
(a scheduler holding many hourly jobs, waiting for SIGTERM).
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

logging.getLogger("apscheduler").setLevel(logging.ERROR)


def run_true() -> float:
    """The job: record when it really started, then run ``true`` (what jobctl's ``sh -c true`` costs)."""
    started = time.time()
    subprocess.run(["true"], check=False)
    return started


def trigger(job_type: int, config: dict[str, Any]) -> Any:
    config = dict(config)
    if job_type == 1:
        start = config.pop("start_date", None)
        return IntervalTrigger(start_date=parse(start) if start else None, timezone=UTC, **config)
    if job_type == 2:
        zone = config.pop("timezone", "UTC")
        if "expression" in config:
            return CronTrigger.from_crontab(config["expression"], timezone=zone)
        return CronTrigger(timezone=zone, **config)
    return DateTrigger(run_date=parse(config["run_date"]), timezone=UTC)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scheduler(pool: int, jobstores: dict[str, Any] | None = None) -> BackgroundScheduler:
    return BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(pool)},
        jobstores=jobstores or {},
        job_defaults={"coalesce": False, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def mode_add(spec: dict[str, Any]) -> dict[str, Any]:
    """Add ``spec["jobs"]`` to a SQLAlchemyJobStore, each add its own transaction (as jobctl's create)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    sched = scheduler(4, {"default": SQLAlchemyJobStore(url=spec["url"])})
    sched.start(paused=True)
    triggers = [trigger(job["jobTypeId"], job["scheduleConfig"]) for job in spec["jobs"]]
    begin = time.perf_counter()
    for n, trig in enumerate(triggers):
        sched.add_job("subprocess:call", trig, args=[["true"]], id=f"job-{n}", name=f"job-{n}")
    seconds = time.perf_counter() - begin
    count = len(sched.get_jobs())
    sched.shutdown(wait=False)
    return {"seconds": seconds, "count": count, "trigger_build_seconds": None}


def mode_cron(spec: dict[str, Any]) -> dict[str, Any]:
    """Build CronTriggers for every item, then their next fire time after ``now``."""
    now = parse(spec["now"])
    items = spec["items"]
    begin = time.perf_counter()
    triggers = [trigger(2, item) for item in items]
    parse_s = time.perf_counter() - begin
    begin = time.perf_counter()
    nexts = [t.get_next_fire_time(None, now) for t in triggers]
    next_s = time.perf_counter() - begin
    begin = time.perf_counter()
    for item in items:
        trigger(2, item).get_next_fire_time(None, now)
    both_s = time.perf_counter() - begin
    with open(spec["out"], "w") as handle:
        json.dump([n.astimezone(UTC).isoformat() if n else None for n in nexts], handle)
    return {"parse_seconds": parse_s, "next_seconds": next_s, "parse_next_seconds": both_s}


def _run_collecting(sched: BackgroundScheduler, until: float) -> dict[str, Any]:
    lags: list[float] = []
    finished: list[float] = []
    counts = {"executed": 0, "error": 0, "missed": 0, "max_instances": 0}
    lock = threading.Lock()

    def listener(event: Any) -> None:
        with lock:
            if event.code == EVENT_JOB_EXECUTED:
                counts["executed"] += 1
                lags.append(event.retval - event.scheduled_run_time.timestamp())
                finished.append(time.time())
            elif event.code == EVENT_JOB_ERROR:
                counts["error"] += 1
            elif event.code == EVENT_JOB_MISSED:
                counts["missed"] += 1
            elif event.code == EVENT_JOB_MAX_INSTANCES:
                counts["max_instances"] += 1

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return {"lags": lags, "finished": finished, "counts": counts, "lock": lock, "until": until}


def mode_lateness(spec: dict[str, Any]) -> dict[str, Any]:
    """Interval jobs every ``period`` s from ``start_dates``; lateness of runs scheduled in [window)."""
    sched = scheduler(spec["pool"])
    for n, start in enumerate(spec["start_dates"]):
        sched.add_job(
            run_true, IntervalTrigger(seconds=spec["period"], start_date=parse(start), timezone=UTC), id=f"job-{n}"
        )
    state = _run_collecting(sched, 0)
    lags_by_slot: list[tuple[float, float]] = []

    def listener(event: Any) -> None:
        if event.code == EVENT_JOB_EXECUTED:
            with state["lock"]:
                lags_by_slot.append(
                    (event.scheduled_run_time.timestamp(), event.retval - event.scheduled_run_time.timestamp())
                )

    sched.add_listener(listener, EVENT_JOB_EXECUTED)
    sched.start()
    sys.stderr.write("aps started\n")
    window_end = spec["window_end"]
    while time.time() < window_end + 2.0:
        time.sleep(0.1)
    sched.shutdown(wait=True)
    inside = [lag for slot, lag in lags_by_slot if spec["window_start"] <= slot < window_end]
    return {"lags": inside, "counts": state["counts"], "in_window": len(inside)}


def mode_burst(spec: dict[str, Any]) -> dict[str, Any]:
    """``jobs`` date jobs at ``run_at``; time until the last one finished, and the start lags."""
    run_at = datetime.fromtimestamp(spec["run_at"], UTC)
    sched = scheduler(spec["pool"])
    for n in range(spec["jobs"]):
        sched.add_job(run_true, DateTrigger(run_date=run_at, timezone=UTC), id=f"job-{n}")
    state = _run_collecting(sched, 0)
    sched.start()
    deadline = spec["run_at"] + spec["timeout"]
    while time.time() < deadline:
        with state["lock"]:
            if state["counts"]["executed"] + state["counts"]["error"] >= spec["jobs"]:
                break
        time.sleep(0.005)
    sched.shutdown(wait=True)
    return {"lags": state["lags"], "finished": state["finished"], "counts": state["counts"]}


def mode_idle(spec: dict[str, Any]) -> dict[str, Any]:
    """Hold ``jobs`` hourly interval jobs (in memory, or in a SQLAlchemyJobStore seeded earlier) until SIGTERM."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    begin = time.perf_counter()
    stores: dict[str, Any] = {}
    if spec.get("url"):
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        stores = {"default": SQLAlchemyJobStore(url=spec["url"])}
    sched = scheduler(10, stores)
    if not spec.get("url"):
        first = datetime.now(UTC) + timedelta(hours=1)
        for n in range(spec["jobs"]):
            sched.add_job(
                "subprocess:call",
                IntervalTrigger(hours=1, start_date=first, timezone=UTC),
                args=[["true"]],
                id=f"job-{n}",
            )
    sched.start()
    sys.stderr.write(f"aps started in {time.perf_counter() - begin:.3f}s\n")
    sys.stderr.flush()
    count = len(sched.get_jobs())
    stop.wait(spec.get("timeout", 600))
    sched.shutdown(wait=False)
    return {"jobs": count}


def mode_seed(spec: dict[str, Any]) -> dict[str, Any]:
    """Put ``jobs`` hourly interval jobs into a SQLAlchemyJobStore (for ``idle``)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    sched = scheduler(4, {"default": SQLAlchemyJobStore(url=spec["url"])})
    sched.start(paused=True)
    first = datetime.now(UTC) + timedelta(hours=1)
    begin = time.perf_counter()
    for n in range(spec["jobs"]):
        sched.add_job(
            "subprocess:call", IntervalTrigger(hours=1, start_date=first, timezone=UTC), args=[["true"]], id=f"job-{n}"
        )
    seconds = time.perf_counter() - begin
    sched.shutdown(wait=False)
    return {"seconds": seconds}


MODES = {
    "add": mode_add,
    "cron": mode_cron,
    "lateness": mode_lateness,
    "burst": mode_burst,
    "idle": mode_idle,
    "seed": mode_seed,
}

if __name__ == "__main__":
    with open(sys.argv[2]) as handle:
        spec = json.load(handle)
    result = MODES[sys.argv[1]](spec)
    sys.stdout.write(json.dumps(result))
