"""One scheduler tick with and without missed-range recording, and how long a missed range takes to count.

Target: "recording missed ranges adds nothing measurable to a normal tick". ``Scheduler.tick(now)``
runs on a real SQLite store with a fake clock (``now`` is given), claiming ``--jobs`` minutely
jobs that are all due at each round; the launcher only records the runs (no process is spawned),
and each round's runs are marked finished outside the timing. Two variants, in alternating
rounds so that a change of load hits both alike:

- "as is": the code as it ships.
- "bypassed": this script replaces ``plan_missed`` (the missed range and its reason) with a stub
  that records nothing and runs the slot, and the leader's gap with None (monkeypatched here,
  for the comparison only).

The difference of the medians is set against the noise: the spread of the medians of the two
halves of each variant's own rounds. The same is done for ticks where every job is an hour late
(misfire policy ``run_once``: both variants run the latest slot, "as is" also records the 59
slots before it as one ``missed`` row per job, so a cost is expected there).

Then the count of a cron range: a per-second job (``* * * * * *``) missed for 10^3 .. 10^6 seconds
and a year, as ``span_through`` counts it (stepped for the first 2,000 slots, a day at a time
beyond), next to stepping every slot (the cost before); and one real tick that records a
million-second range of such a job.

Usage: python bench/tick.py [--jobs 1000] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import _common as c

T0 = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
"""The fake clock's start: ahead of the real one, so that the jobs created now first fire then."""
MINUTE = timedelta(minutes=1)


class Clock:
    """The scheduler's clock, set by this script."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def sleep_until(self, moment: datetime) -> None:
        self.current = max(self.current, moment)


class Recorder:
    """Stands in for the runner: takes every run, starts nothing."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.launched = 0

    def free_slots(self) -> int:
        return 1_000_000

    def prepare(self, job: Any, execution: Any) -> Any:
        from jobctl.models import ExecutionStatus
        from jobctl.scheduler.runner import PreparedRun, RunOutcome

        now = self.clock.now()
        outcome = RunOutcome(status=ExecutionStatus.SUCCESS, started_at=now, completed_at=now, result=None,
                             error_message=None)  # fmt: skip
        return PreparedRun(job=job, execution=execution, how=outcome)

    def launch(self, runs: Sequence[Any]) -> None:
        self.launched += len(runs)

    def submit(self, job: Any, execution: Any) -> None:
        self.launched += 1

    def stop_requested(self, running: Callable[[], Mapping[str, Any]]) -> None:
        """Nothing runs."""


@contextmanager
def bypassed() -> Iterator[None]:
    """Missed-range recording replaced by a stub: the late slot runs, nothing is recorded."""
    from jobctl.models import MisfirePolicy
    from jobctl.scheduler import claims, leadership
    from jobctl.scheduler.missed import MissedSlots

    def no_range(job: Any, schedule: Any, **_: Any) -> MissedSlots:
        return MissedSlots(catch_up=job.next_slot, on_time=False, missed=None, policy=MisfirePolicy.RUN_ONCE)

    saved_plan, saved_gap = claims.plan_missed, leadership.Leadership.gap
    claims.plan_missed = no_range  # type: ignore[assignment]
    leadership.Leadership.gap = property(lambda self: None)  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        claims.plan_missed = saved_plan
        leadership.Leadership.gap = saved_gap  # type: ignore[method-assign]


def tick_rounds(jobs: int, rounds: int, *, late: bool) -> dict[str, list[float]]:
    """Tick times (ms) of each variant, rounds alternating; every job due (or an hour late) each round."""
    from jobctl.scheduler.leadership import Leadership
    from jobctl.scheduler.loop import Scheduler

    times: dict[str, list[float]] = {"as is": [], "bypassed": []}
    with c.temp_dir("jobctl-bench-tick-") as folder:
        service = c.open_service(c.sqlite_url(folder / "jobctl.db"))
        store = service.store
        for n in range(jobs):
            service.create_job({"name": f"job-{n:05d}", "taskFunctionId": 1, "jobTypeId": 1,
                                "scheduleConfig": {"minutes": 1, "start_date": c.iso_z(T0)},
                                "taskArgs": {"command": "true"}})  # fmt: skip
        clock = Clock(T0)
        leadership = Leadership(store, ttl_seconds=15, clock=clock)
        leadership.register()
        scheduler = Scheduler(store, leadership=leadership, runner=Recorder(clock), default_timezone="UTC",
                              misfire_grace_seconds=1, clock=clock)  # fmt: skip
        moment = T0
        for n in range(rounds * 2 + 2):
            variant = "as is" if n % 2 == 0 else "bypassed"
            if late:  # every job's next slot an hour behind: each claim records a missed range (as is)
                store.db.execute(
                    "UPDATE jobs SET next_slot = :s, next_run_time = :s", {"s": moment - timedelta(hours=1)}
                )
            clock.current = moment + timedelta(milliseconds=5)
            assert leadership.beat()
            with bypassed() if variant == "bypassed" else nullcontext():
                begun = time.perf_counter()
                scheduler.tick(clock.current)
                elapsed = (time.perf_counter() - begun) * 1000
            if n >= 2:  # the first two warm the caches
                times[variant].append(elapsed)
            store.db.execute("UPDATE executions SET status = 'success', completed_at = :t WHERE status = 'running'",
                             {"t": clock.current})  # fmt: skip
            moment += MINUTE
        claimed = store.db.scalar("SELECT COUNT(*) FROM executions WHERE status != 'missed'")
        if claimed < jobs * rounds * 2:
            raise c.BenchError(f"only {claimed} runs were claimed, expected {jobs * rounds * 2} or more")
        store.close()
    return times


def noise(values: list[float]) -> float:
    """The difference between the medians of the first and the second half of ``values``."""
    half = len(values) // 2
    return abs(statistics.median(values[:half]) - statistics.median(values[half:]))


def span_rows() -> list[list[str]]:
    """How long counting a per-second cron range takes, by length, day-counted vs stepped."""
    from jobctl.schedules.cron import parse_cron
    from jobctl.schedules.spans import span_through

    schedule = parse_cron({"expression": "* * * * * *", "timezone": "Europe/Berlin"}, default_timezone="UTC",
                          anchor=T0)  # fmt: skip
    first = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    stepped_per_slot = None
    for seconds in (1_000, 10_000, 100_000, 1_000_000, 31_536_000):
        until = first + timedelta(seconds=seconds)
        timed = []
        for _ in range(3):
            begun = time.perf_counter()
            span = span_through(schedule, first, until)
            timed.append((time.perf_counter() - begun) * 1000)
        assert span is not None
        if seconds <= 100_000:
            begun = time.perf_counter()
            stepped = span_through(schedule, first, until, step_budget=10**9)
            stepped_ms = (time.perf_counter() - begun) * 1000
            assert stepped == span, (stepped, span)
            stepped_per_slot = stepped_ms / stepped.count
            stepped_text = c.fmt(stepped_ms)
        else:
            assert stepped_per_slot is not None
            stepped_text = f"~{stepped_per_slot * span.count:,.0f} (extrapolated)"
        rows.append([f"{seconds:,} s ({span.count:,} slots)", c.fmt(statistics.median(timed), 2), stepped_text])
    return rows


def cron_gap_tick() -> tuple[float, int]:
    """One real tick recording a million-second range of a per-second cron job: (ms, missedCount)."""
    from jobctl.scheduler.leadership import Leadership
    from jobctl.scheduler.loop import Scheduler

    with c.temp_dir("jobctl-bench-tick-") as folder:
        service = c.open_service(c.sqlite_url(folder / "jobctl.db"))
        store = service.store
        job = service.create_job({"name": "per-second", "taskFunctionId": 1, "jobTypeId": 2,
                                  "scheduleConfig": {"expression": "* * * * * *", "timezone": "UTC"},
                                  "taskArgs": {"command": "true"}, "misfirePolicy": "skip"})  # fmt: skip
        store.db.execute(
            "UPDATE jobs SET next_slot = :s, next_run_time = :s WHERE id = :id", {"s": T0, "id": job["id"]}
        )
        # T0 .. T0 + 1,000,000 s are more than the grace late; T0 + 1,000,001 s, 0.5 s late, runs
        clock = Clock(T0 + timedelta(seconds=1_000_001, milliseconds=500))
        leadership = Leadership(store, ttl_seconds=15, clock=clock)
        leadership.register()
        assert leadership.beat()
        scheduler = Scheduler(store, leadership=leadership, runner=Recorder(clock), default_timezone="UTC",
                              misfire_grace_seconds=1, clock=clock)  # fmt: skip
        begun = time.perf_counter()
        scheduler.tick(clock.current)
        elapsed = (time.perf_counter() - begun) * 1000
        count = store.db.scalar("SELECT missed_count FROM executions WHERE status = 'missed'")
        store.close()
    return elapsed, int(count)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20, help="rounds of each variant")
    args = parser.parse_args()
    load_before = os.getloadavg()
    c.log(f"{args.jobs} jobs due on time, {args.rounds} rounds of each variant")
    on_time = tick_rounds(args.jobs, args.rounds, late=False)
    c.log(f"{args.jobs} jobs an hour late, {args.rounds} rounds of each variant")
    late = tick_rounds(args.jobs, args.rounds, late=True)
    c.log("counting per-second cron ranges")
    spans = span_rows()
    gap_ms, gap_count = cron_gap_tick()
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())

    c.print_header("Scheduler tick (bench/tick.py)")
    rows = []
    verdicts = []
    for label, times in ((f"{args.jobs:,} jobs due on time", on_time), (f"{args.jobs:,} jobs an hour late", late)):
        as_is, without = statistics.median(times["as is"]), statistics.median(times["bypassed"])
        spread = max(noise(times["as is"]), noise(times["bypassed"]))
        rows.append([label, c.fmt(as_is), c.fmt(without), f"{as_is - without:+.1f}", c.fmt(spread),
                     c.ratio(as_is, without)])  # fmt: skip
        verdicts.append((label, abs(as_is - without) <= spread, as_is - without, spread))
    print(c.md_table(["tick", "as is ms (p50)", "bypassed ms (p50)", "difference ms", "noise ms", "ratio"], rows))
    print()
    print(c.md_table(["per-second cron range", "counted ms (p50 of 3)", "stepped through every slot ms"], spans))
    print()
    print(
        f"- one tick recording a million-second range of a per-second cron job: {gap_ms:.1f} ms, missedCount {gap_count:,}"
    )
    print(f"- load average before {' / '.join(f'{v:.2f}' for v in load_before)}, after {load}")
    label, within, difference, spread = verdicts[0]
    print(f"- Target 'recording missed ranges adds nothing measurable to a normal tick' ({label}): difference "
          f"{difference:+.1f} ms, noise {spread:.1f} ms -> {'MET (within the noise)' if within else 'MEASURABLE'}")  # fmt: skip
    if gap_count != 1_000_001:
        raise c.BenchError(f"the million-second range counted {gap_count} slots, not 1,000,001")
    c.save_results("tick", {"on_time": on_time, "late": late, "gap_ms": gap_ms, "load": os.getloadavg()})
    return 0 if within else c.EXIT_TARGET_MISSED


if __name__ == "__main__":
    c.run_benchmark(main)
