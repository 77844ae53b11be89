"""A scheduler on a real store whose clock the test sets, and a launcher that records what it starts."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jobctl.executors.outcome import RunOutcome
from jobctl.models import Execution, ExecutionStatus, Job
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.loop import Scheduler
from jobctl.scheduler.runner import PreparedRun
from jobctl.service import Service
from jobctl.store import Store

NEXT_YEAR = datetime.now(UTC).year + 1
"""Fake time runs in the future: jobs created now (by the real service) have their slots there."""
S = datetime(NEXT_YEAR, 1, 5, 12, 0, tzinfo=UTC)
"""The first slot of most test jobs."""
SHELL_ID = 1


def last_sunday(year: int, month: int) -> date:
    """The last Sunday of the month: Europe's DST changes in March and October."""
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 6) % 7)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeClock:
    """The scheduler's clock, set by the test; sleeping until a moment moves it there."""

    def __init__(self, start: datetime) -> None:
        self.current = start
        self.slept_until: list[datetime] = []

    def now(self) -> datetime:
        return self.current

    def sleep_until(self, moment: datetime) -> None:
        self.slept_until.append(moment)
        self.current = max(self.current, moment)

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Launched:
    job: Job
    execution: Execution
    at: datetime
    """The fake clock's time when the run was started."""


class RecordingLauncher:
    """Stands in for the daemon's Runner: records each run the scheduler starts, and when, and
    leaves it running (its row stays ``running`` in the store, so it counts for ``maxInstances``).
    Starting real processes is covered by the daemon tests and by one test here with the Runner."""

    def __init__(self, clock: FakeClock, *, slots: int = 1000) -> None:
        self.clock = clock
        self.slots = slots
        self.launched: list[Launched] = []

    def free_slots(self) -> int:
        return self.slots - len(self.launched)

    def prepare(self, job: Job, execution: Execution) -> PreparedRun | None:
        now = self.clock.now()
        placeholder = RunOutcome(
            status=ExecutionStatus.SUCCESS, started_at=now, completed_at=now, result=None, error_message=None
        )
        return PreparedRun(job=job, execution=execution, how=placeholder)

    def launch(self, runs: Sequence[PreparedRun]) -> None:
        self.launched += [Launched(run.job, run.execution, self.clock.now()) for run in runs]

    def submit(self, job: Job, execution: Execution) -> None:
        self.launched.append(Launched(job, execution, self.clock.now()))

    def stop_requested(self, running: Callable[[], Mapping[str, str | None]]) -> None:
        """Nothing to stop: these runs are only records (stopping is tested with real daemons)."""


@dataclass
class Rig:
    """One leading scheduler on a real store, on a fake clock."""

    store: Store
    service: Service
    clock: FakeClock
    leadership: Leadership
    launcher: RecordingLauncher
    scheduler: Scheduler = field(init=False)

    def __post_init__(self) -> None:
        self.scheduler = Scheduler(
            self.store,
            leadership=self.leadership,
            runner=self.launcher,
            default_timezone="Europe/Berlin",
            misfire_grace_seconds=1,
            clock=self.clock,
        )
        self.leadership.register()
        self.at(self.clock.now())

    def expire_lease(self) -> None:
        """Let the lease run out. Its expiry is judged by the store's clock, which the fake clock
        does not move, so the row's expiry is set a second into the real past."""
        self.store.db.execute(
            "UPDATE leases SET expires_at = :past", {"past": datetime.now(UTC) - timedelta(seconds=1)}
        )

    def at(self, moment: datetime) -> None:
        """Move the clock to ``moment`` and heartbeat there, as the daemon's heartbeat thread would."""
        self.clock.current = moment
        assert self.leadership.beat()

    def tick(self, moment: datetime) -> float:
        self.at(moment)
        return self.scheduler.tick(moment)

    def job(self, name: str, schedule: dict[str, Any], *, job_type: int = 1, **fields: Any) -> dict[str, Any]:
        """Create a shell job through the service."""
        body = {
            "name": name, "taskFunctionId": SHELL_ID, "jobTypeId": job_type, "scheduleConfig": schedule,
            "taskArgs": {"command": "true"}, **fields,
        }  # fmt: skip
        return self.service.create_job(body)

    def stored(self, job_id: str) -> Job:
        job = self.store.jobs.get(job_id)
        assert job is not None
        return job

    def runs(self, job_id: str) -> list[dict[str, Any]]:
        """The job's executions, oldest first."""
        listed = self.service.list_executions(job_id=job_id, per_page=100)["executions"]
        return sorted(listed, key=lambda e: (e["scheduledFor"] or "", e["attempt"]))

    def slots(self, job_id: str) -> list[datetime]:
        return [parse(e["scheduledFor"]) for e in self.runs(job_id)]
