"""Which failures are retried and after how long: the arithmetic, with the jitter as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.models import Job, MisfirePolicy, RetryBackoff
from jobctl.scheduler.retry_policy import MAX_DELAY_SECONDS, retry_delay_seconds, retry_wanted


def job(**settings: Any) -> Job:
    now = datetime.now(UTC)
    base: dict[str, Any] = dict(
        name="j", description=None, task_function_id=1, job_type_id=1, schedule_config={"hours": 1}, task_args=None,
        max_instances=1, timeout_seconds=None, retry_count=5, retry_delay_seconds=10, is_enabled=True,
        is_paused=False, misfire_policy=MisfirePolicy.RUN_ONCE, id="x", next_run_time=None, next_slot=None,
        last_run_time=None, last_status=None, created_at=now, updated_at=now, created_by=None, updated_by=None,
    )  # fmt: skip
    return Job(**{**base, **settings})


def test_fixed_delays_are_today_s() -> None:
    fixed = job()
    assert [retry_delay_seconds(fixed, attempt, jitter=0.9) for attempt in (1, 2, 5)] == [10, 10, 10]


def test_exponential_delays_double_from_the_delay_up_to_the_cap() -> None:
    grows = job(retry_backoff=RetryBackoff.EXPONENTIAL, retry_max_delay_seconds=60)
    assert [retry_delay_seconds(grows, attempt, jitter=0.0) for attempt in (1, 2, 3, 4, 5, 30)] == [
        10, 20, 40, 60, 60, 60]  # fmt: skip


@pytest.mark.parametrize("jitter", [0.0, 0.5, 0.999])
def test_jitter_takes_off_at_most_a_tenth_and_never_passes_the_cap(jitter: float) -> None:
    grows = job(retry_backoff=RetryBackoff.EXPONENTIAL, retry_max_delay_seconds=60)
    for attempt, nominal in ((1, 10), (3, 40), (9, 60)):
        delay = retry_delay_seconds(grows, attempt, jitter=jitter)
        assert nominal * 0.9 <= delay <= nominal
        assert delay == pytest.approx(nominal * (1 - 0.1 * jitter))


def test_without_a_cap_delays_stop_at_a_week_even_after_many_attempts() -> None:
    grows = job(retry_backoff=RetryBackoff.EXPONENTIAL, retry_delay_seconds=3600)
    assert retry_delay_seconds(grows, 100, jitter=0.0) == MAX_DELAY_SECONDS
    assert retry_delay_seconds(job(retry_backoff=RetryBackoff.EXPONENTIAL, retry_delay_seconds=0), 5, jitter=0) == 0


@pytest.mark.parametrize(
    ("codes", "status", "exit_code", "retried"),
    [
        (None, "failed", 1, True), ([], "failed", 7, True), (None, "timeout", None, True),
        ([75, 3], "failed", 75, True), ([75, 3], "failed", 1, False), ([75], "timeout", None, False),
        ([75], "failed", None, False), (None, "success", 0, False), (None, "cancelled", None, False),
        (None, "skipped", None, False),
    ],
    ids=["any-code", "empty-list-any-code", "any-timeout", "listed-code", "unlisted-code", "timeout-not-listed",
         "killed-by-signal", "success", "cancelled", "skipped"],
)  # fmt: skip
def test_which_failures_are_retried(codes: list[int] | None, status: str, exit_code: int | None, retried: bool) -> None:
    assert retry_wanted(job(retry_on_exit_codes=codes), status=status, exit_code=exit_code) is retried
