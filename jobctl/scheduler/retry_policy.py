"""Whether a failed run is retried, and after how long (docs/retry-backoff.md).

Pure functions of the job's settings and the attempt, so they are tested without running
anything; the runner calls them in the transaction that records the failure and inserts the
next attempt as a ``pending`` row with its due time (``run_after``), which is what makes a
waiting retry survive a restart or a failover: any leader starts it once it is due.
"""

from __future__ import annotations

from jobctl.models import ExecutionStatus, Job, RetryBackoff

JITTER_FRACTION = 0.1
"""An exponential delay is shortened by up to this fraction, at random: retries of many jobs
that failed together (a database down) do not all come back at the same instant."""
MAX_DELAY_SECONDS = 7 * 24 * 3600
"""The cap when the job sets none: the largest ``retryDelaySeconds`` allowed."""
_MAX_DOUBLINGS = 40
"""Beyond this many doublings any delay is past every cap (and ``2**n`` stays small)."""


def retry_wanted(job: Job, *, status: str, exit_code: int | None) -> bool:
    """Whether a failed or timed-out attempt is one the job retries (retries left aside).

    With ``retry_on_exit_codes`` set, only a failure that exited with one of them: a timeout or
    a run killed by a signal has no exit code and is not retried.
    """
    if status not in (ExecutionStatus.FAILED.value, ExecutionStatus.TIMEOUT.value):
        return False
    if not job.retry_on_exit_codes:
        return True
    return exit_code is not None and exit_code in job.retry_on_exit_codes


def retry_delay_seconds(job: Job, failed_attempt: int, *, jitter: float) -> float:
    """Seconds between the end of attempt ``failed_attempt`` (1 for the first run) and the next.

    ``fixed``: ``retry_delay_seconds``. ``exponential``: ``retry_delay_seconds * 2**(attempt-1)``,
    capped by ``retry_max_delay_seconds``, then shortened by ``jitter`` (0..1) times
    :data:`JITTER_FRACTION` of itself, so it never exceeds the cap.
    """
    base = float(job.retry_delay_seconds)
    if job.retry_backoff != RetryBackoff.EXPONENTIAL:
        return base
    cap = job.retry_max_delay_seconds or MAX_DELAY_SECONDS
    doublings: int = min(max(failed_attempt - 1, 0), _MAX_DOUBLINGS)
    grown = min(base * float(2**doublings), float(cap))
    return grown * (1 - JITTER_FRACTION * min(max(jitter, 0.0), 1.0))
