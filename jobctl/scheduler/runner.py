"""Running claimed executions on a thread pool and recording how they ended.

Each run: process (or Celery task) → outcome → one transaction that finishes the execution,
updates the job's last run, and queues the next attempt when a failed run has retries left.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.errors import StoreError
from jobctl.executors.local import run_local
from jobctl.executors.outcome import RunOutcome, RunRequest
from jobctl.executors.process import GroupListener
from jobctl.models import Execution, ExecutionStatus, HandlerType, Job, TaskFunction, TriggeredBy
from jobctl.scheduler.output_writer import OutputWriter
from jobctl.store import Store

TASK_FUNCTION_CACHE_SECONDS = 5.0
"""How stale a task function may be when a run starts (a config sync takes effect this late)."""

RECORD_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Waits between attempts to record an outcome while the store is unreachable (the last repeats)."""
RECORD_ATTEMPTS_WHEN_CLOSING = 3
"""Once shutting down, give up after this many more attempts: the reaper of the next leader
finishes what is left once this instance stops heartbeating."""

log = logging.getLogger(__name__)

RemoteExecutor = Callable[[RunRequest, Callable[[str], None], Callable[[], bool]], RunOutcome]
"""Runs a ``celery_task`` request: (request, record_task_id, stop_requested) -> outcome."""


class Runner:
    """Starts executions, at most ``max_workers`` at once, and records their outcomes."""

    def __init__(
        self,
        store: Store,
        *,
        max_workers: int,
        on_group: GroupListener | None = None,
        on_finish: Callable[[], None] | None = None,
        celery: RemoteExecutor | None = None,
    ) -> None:
        self.store = store
        self.on_group = on_group
        self.on_finish = on_finish
        self.celery = celery
        self.max_workers = max_workers
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="run")
        self._lock = threading.Lock()
        self._futures: dict[str, Future[None]] = {}
        self._started: set[str] = set()
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._task_functions: dict[int, tuple[float, TaskFunction]] = {}

    # -- starting ---------------------------------------------------------------------------

    def submit(self, job: Job, execution: Execution) -> None:
        """Queue a run whose execution row is already ``running`` for this instance."""
        with self._lock:
            if execution.id in self._futures:
                return
            self._futures[execution.id] = self._pool.submit(self._run, job, execution)

    def free_slots(self) -> int:
        """Runs that could start now without waiting for a worker."""
        with self._lock:
            return self.max_workers - len(self._futures)

    def active_count(self) -> int:
        with self._lock:
            return len(self._futures)

    def _run(self, job: Job, execution: Execution) -> None:
        try:
            with self._lock:
                self._started.add(execution.id)
            outcome = self._execute(job, execution)
            self._persist(execution, lambda: self._record(job, execution, outcome))
        except Exception:
            log.exception("run of execution %s failed unexpectedly", execution.id)
            self._persist(execution, lambda: self._record_crash(job, execution))
        finally:
            with self._lock:
                self._futures.pop(execution.id, None)
                self._started.discard(execution.id)
            if self.on_finish:
                self.on_finish()

    def _execute(self, job: Job, execution: Execution) -> RunOutcome:
        task_function = self._task_function(job.task_function_id)
        if task_function is None:
            now = datetime.now(UTC)
            return RunOutcome(
                status=ExecutionStatus.FAILED,
                started_at=now,
                completed_at=now,
                result=None,
                error_message=f"task function {job.task_function_id} no longer exists",
            )
        request = _request(job, execution, task_function)
        if task_function.handler_type == HandlerType.CELERY_TASK:
            return self._execute_celery(request, execution)
        writer = OutputWriter(self.store, execution.id)
        try:
            return run_local(
                request,
                task_name=task_function.name,
                sink=writer,
                on_group=self.on_group,
                stop_requested=self._stop.is_set,
            )
        finally:
            writer.flush()

    def _task_function(self, task_function_id: int) -> TaskFunction | None:
        """The task function, read at most every few seconds (a sync changes it rarely)."""
        now = time.monotonic()
        cached = self._task_functions.get(task_function_id)
        if cached is not None and now - cached[0] < TASK_FUNCTION_CACHE_SECONDS:
            return cached[1]
        task_function = self.store.catalog.get_task_function(task_function_id)
        if task_function is not None:
            self._task_functions[task_function_id] = (now, task_function)
        return task_function

    def _execute_celery(self, request: RunRequest, execution: Execution) -> RunOutcome:
        if self.celery is None:
            now = datetime.now(UTC)
            return RunOutcome(
                status=ExecutionStatus.FAILED,
                started_at=now,
                completed_at=now,
                result=None,
                error_message="celery_task needs [celery] broker_url in the daemon's config "
                "and the jobctl[celery] extra installed",
            )

        def record_task_id(task_id: str) -> None:
            self.store.executions.set_celery_task_id(execution.id, task_id)

        return self.celery(request, record_task_id, self._stop.is_set)

    # -- recording --------------------------------------------------------------------------

    def _record(self, job: Job, execution: Execution, outcome: RunOutcome) -> None:
        error = outcome.error_message
        if self._stop.is_set() and outcome.status != ExecutionStatus.SUCCESS:
            error = (
                f"stopped by daemon shutdown after the grace period ({error})"
                if error
                else "stopped by daemon shutdown"
            )
        retry = outcome.status in (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT) and not self._stop.is_set()
        with self.store.transaction() if retry else nullcontext():
            finished = self.store.executions.finish_run(
                execution.id,
                status=outcome.status.value,
                started_at=outcome.started_at,
                completed_at=outcome.completed_at,
                duration_seconds=outcome.duration_seconds,
                result=outcome.result,
                error_message=error,
            )
            if finished and retry:
                self._queue_retry(job, execution, outcome.completed_at)

    def _persist(self, execution: Execution, write: Callable[[], None]) -> None:
        """Run ``write`` until the store takes it: an outcome that is never recorded would leave the
        execution ``running`` for as long as this instance lives (no reaper finishes the runs of a
        live instance). Writes are idempotent: ``finish`` only changes an active execution.
        """
        attempt = 0
        left_when_closing = RECORD_ATTEMPTS_WHEN_CLOSING
        while True:
            try:
                write()
                if attempt:
                    log.info("recorded the outcome of execution %s after %d failed attempt(s)", execution.id, attempt)
                return
            except StoreError as exc:
                if self._closing.is_set():
                    left_when_closing -= 1
                    if left_when_closing <= 0:
                        log.error("could not record the outcome of execution %s: %s", execution.id, exc.message)
                        return
                delay = RECORD_RETRY_DELAYS[min(attempt, len(RECORD_RETRY_DELAYS) - 1)]
                attempt += 1
                log.warning(
                    "could not record the outcome of execution %s (%s); retrying in %.1fs",
                    execution.id,
                    exc.message,
                    delay,
                )
                if self._closing.is_set():
                    time.sleep(min(delay, 1.0))
                else:
                    self._closing.wait(delay)

    def _queue_retry(self, job: Job, execution: Execution, now: datetime) -> None:
        current = self.store.jobs.get(job.id)
        if current is None or not current.is_enabled or execution.attempt > current.retry_count:
            return
        self.store.executions.insert(
            {
                "id": str(uuid.uuid4()),
                "job_id": job.id,
                "status": ExecutionStatus.PENDING.value,
                "scheduled_for": execution.scheduled_for,
                "attempt": execution.attempt + 1,
                "run_after": now + timedelta(seconds=current.retry_delay_seconds),
                "triggered_by": TriggeredBy.RETRY.value,
                "triggered_by_user_id": execution.triggered_by_user_id,
                "created_at": now,
            }
        )

    def _record_crash(self, job: Job, execution: Execution) -> None:
        now = datetime.now(UTC)
        self.store.executions.finish(
            execution.id,
            status=ExecutionStatus.FAILED.value,
            started_at=None,
            completed_at=now,
            duration_seconds=None,
            result=None,
            error_message="internal error in the daemon while running; see its log",
        )

    # -- stopping ---------------------------------------------------------------------------

    def shutdown(self, grace_seconds: float) -> None:
        """Let running runs finish for ``grace_seconds``, then stop them; hand back unstarted ones."""
        self._closing.set()
        self._release_unstarted()
        waited = self._wait(grace_seconds)
        if not waited:
            log.warning("stopping %d run(s) still active after %.0fs", self.active_count(), grace_seconds)
            self._stop.set()
            self._wait(None)
        self._pool.shutdown(wait=True)

    def _release_unstarted(self) -> None:
        with self._lock:
            pending = [(eid, fut) for eid, fut in self._futures.items() if eid not in self._started]
        for execution_id, future in pending:
            if future.cancel():
                with self._lock:
                    self._futures.pop(execution_id, None)
                try:
                    self.store.executions.release_to_pending(execution_id)
                except StoreError:
                    log.exception("could not hand back execution %s", execution_id)

    def _wait(self, timeout: float | None) -> bool:
        with self._lock:
            futures = list(self._futures.values())
        from concurrent.futures import wait

        _done, not_done = wait(futures, timeout=timeout)
        return not not_done


def _request(job: Job, execution: Execution, task_function: TaskFunction) -> RunRequest:
    timeout: Any = job.timeout_seconds or task_function.default_timeout_seconds
    return RunRequest(
        execution_id=execution.id,
        job_id=job.id,
        handler_type=task_function.handler_type,
        handler_path=task_function.handler_path,
        task_args=job.task_args,
        timeout_seconds=float(timeout) if timeout else None,
        queue=task_function.queue,
        celery_task_id=execution.celery_task_id,
    )
