"""Starting claimed executions, following them to their end, and recording how they ended.

A local run is spawned by the spawner thread (a batch, while the scheduler claims the next one) or
on the caller's thread (a lone run, at its due moment), followed by the process reactor (one
thread for every child), and its outcome recorded by the recorder
thread in a batch with whatever else finished meanwhile: one transaction finishes the
executions, updates their jobs' last run, and queues the next attempt of a failed run with
retries left. A Celery run is sent and followed on a pool thread (the broker may block).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.errors import JobctlError, StoreError
from jobctl.executors.context import RunAsPolicy, RunContext, daemon_umask
from jobctl.executors.environment import base_environment
from jobctl.executors.local import LocalLaunch, LocalRun, prepare_local
from jobctl.executors.outcome import RunOutcome, RunRequest
from jobctl.executors.process import (
    KILL_GRACE_SECONDS,
    GroupListener,
    ProcessResult,
    SpawnedProcess,
    close_inherited_descriptors,
    reserve_descriptors,
)
from jobctl.executors.reactor import ProcessReactor
from jobctl.models import Execution, ExecutionStatus, HandlerType, Job, TaskFunction
from jobctl.notifier_config import NotifySettings
from jobctl.scheduler.output_writer import FLUSH_INTERVAL_SECONDS, OutputWriter
from jobctl.scheduler.reaper import was_abandoned
from jobctl.scheduler.recorder import OutcomeRecorder
from jobctl.scheduler.retry_policy import retry_delay_seconds, retry_wanted
from jobctl.scheduler.run_log import log_finished_run
from jobctl.service.notifications import FinishedAttempt, outcome_effects
from jobctl.store import Store
from jobctl.store.executions import FinishedRun, StopRequest
from jobctl.store.writes import NewExecution

TASK_FUNCTION_CACHE_SECONDS = 5.0
"""How stale a task function may be when a run starts (a config sync takes effect this late)."""

EXECUTION_GONE = "stopped: its execution no longer exists (its job was deleted)"
CRASH_MESSAGE = "internal error in the daemon while running; see its log"
OUTCOME_NOT_RECORDED = "the outcome of this run could not be stored"
NOT_STARTED = "stopped by daemon shutdown before it started"

INLINE_LAUNCH_MAX = 2
"""Batches up to this size are spawned on the scheduler's own thread when the spawner is idle."""

log = logging.getLogger(__name__)

RemoteExecutor = Callable[[RunRequest, Callable[[str], None], Callable[[], bool]], RunOutcome]
"""Runs a ``celery_task`` request: (request, record_task_id, stop_requested) -> outcome."""


@dataclass(frozen=True, kw_only=True)
class PreparedRun:
    """A run holding a slot, ready to start: a local launch, a Celery request to send, or an
    outcome decided before anything ran (its task function is gone)."""

    job: Job
    execution: Execution
    how: LocalLaunch | RunRequest | RunOutcome


@dataclass(eq=False, kw_only=True)
class _Ended:
    """A run that ended, on its way to the store. ``how`` is the outcome, or what computes it
    (on the recorder thread: reading a Python run's report is file I/O)."""

    job: Job
    execution: Execution
    how: RunOutcome | Callable[[], RunOutcome]
    writer: OutputWriter | None = None
    _outcome: RunOutcome | None = field(default=None, init=False)

    def outcome(self) -> RunOutcome:
        if self._outcome is None:
            try:
                self._outcome = self.how if isinstance(self.how, RunOutcome) else self.how()
            except Exception:
                log.exception("the outcome of execution %s could not be worked out", self.execution.id)
                self._outcome = _failed(CRASH_MESSAGE)
        return self._outcome


class _Spawner:
    """One thread that spawns the batches handed to it, in order, while their sender goes on."""

    def __init__(self, launch: Callable[[Sequence[PreparedRun]], None]) -> None:
        self._launch = launch
        self._cond = threading.Condition()
        self._queue: deque[list[PreparedRun]] = deque()
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="spawner", daemon=True)
        self._thread.start()

    def idle(self) -> bool:
        with self._cond:
            return not self._busy and not self._queue

    def put(self, runs: list[PreparedRun]) -> None:
        with self._cond:
            self._queue.append(runs)
            self._busy = True
            self._cond.notify()

    def close(self, timeout: float = 30.0) -> None:
        """Spawn what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._busy = False
                    self._cond.wait()
                if not self._queue:
                    self._busy = False
                    return
                runs = self._queue.popleft()
                self._busy = True
            try:
                self._launch(runs)
            except Exception:  # _launch records each run's failure itself; this is a last resort
                log.exception("spawner: unexpected error; continuing")


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
        log_runs: bool = False,
        base_env: Mapping[str, str] | None = None,
        run_as: RunAsPolicy | None = None,
        notify: NotifySettings | None = None,
        kill_grace: float = KILL_GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.notify = notify or NotifySettings()
        """Notifiers and default rules: each recorded outcome writes its deliveries (docs/notifications.md)."""
        self.base_env = dict(base_environment() if base_env is None else base_env)
        """What every local run's environment starts from (docs/run-environment.md)."""
        self.run_as = run_as or RunAsPolicy()
        self.log_runs = log_runs
        """Log one line per recorded run (the daemon does; ``jobctl run`` in the foreground does not)."""
        self.on_finish = on_finish
        self.celery = celery
        self.max_workers = max_workers
        self._cond = threading.Condition()
        self._active: dict[str, OutputWriter | None] = {}
        """Executions holding a run slot (until their outcome is recorded), with their output."""
        self._celery_futures: dict[str, Future[None]] = {}
        self._following: dict[str, SpawnedProcess] = {}
        """Local runs whose process the reactor still follows (a stop request can reach them)."""
        self._celery_running: set[str] = set()
        self._stop_reasons: dict[str, StopRequest] = {}
        """Runs asked to stop (a cancel, a forced delete), with the reason recorded as their error."""
        self._celery_pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._task_functions: dict[int, tuple[float, TaskFunction]] = {}
        daemon_umask()  # read once, before threads that create files run
        close_inherited_descriptors()  # before the first spawn: children get stdin/out/err only
        reserve_descriptors(max_workers)
        self._reactor = ProcessReactor(on_group=on_group, kill_grace=kill_grace)
        self._spawner = _Spawner(self._launch_now)
        self._recorder: OutcomeRecorder[_Ended] = OutcomeRecorder(
            self._write_outcomes,
            on_written=self._release,
            on_failed=self._record_crash,
            chores=self._flush_outputs,
            chore_interval=FLUSH_INTERVAL_SECONDS,
            closing=self._closing,
        )

    # -- starting ---------------------------------------------------------------------------

    def submit(self, job: Job, execution: Execution) -> None:
        """Start a run whose execution row is already ``running`` for this instance."""
        prepared = self.prepare(job, execution)
        if prepared is not None:
            self.launch([prepared])

    def prepare(self, job: Job, execution: Execution) -> PreparedRun | None:
        """Take a run slot and get the run ready to start (None: this execution is already here).

        The scheduler prepares a claimed batch a little before it is due and launches it at the
        due moment, so the moment itself costs little more than the spawns.
        """
        with self._cond:
            if execution.id in self._active:
                return None
            self._active[execution.id] = None
        try:
            how = self._prepare(job, execution)
        except Exception:
            log.exception("could not prepare execution %s", execution.id)
            how = _failed(CRASH_MESSAGE)
        return PreparedRun(job=job, execution=execution, how=how)

    def launch(self, runs: Sequence[PreparedRun]) -> None:
        """Start prepared runs now, in order.

        A batch of at most :data:`INLINE_LAUNCH_MAX` runs, when the spawner thread is idle, is
        spawned here on the caller's thread (a lone run starts without a hand-over); a larger
        batch goes to the spawner thread, so that the scheduler claims the next batch while the
        kernel starts these (docs/spawn-interpreter-lock.md). Either way one thread spawns a
        batch in a row, all of it before the reactor follows any (:meth:`ProcessReactor.held`).
        """
        if len(runs) <= INLINE_LAUNCH_MAX and self._spawner.idle():
            self._launch_now(runs)
        else:
            self._spawner.put(list(runs))

    def _launch_now(self, runs: Sequence[PreparedRun]) -> None:
        with self._reactor.held():
            for run in runs:
                try:
                    if self._stop.is_set():  # queued for the spawner when the grace ran out
                        self._recorder.put(_Ended(job=run.job, execution=run.execution, how=_failed(NOT_STARTED)))
                        continue
                    self._launch(run)
                except Exception:
                    log.exception("could not start execution %s", run.execution.id)
                    self._recorder.put(_Ended(job=run.job, execution=run.execution, how=_failed(CRASH_MESSAGE)))

    def free_slots(self) -> int:
        """Runs that could start now without waiting for one to end."""
        with self._cond:
            return self.max_workers - len(self._active)

    def active_count(self) -> int:
        with self._cond:
            return len(self._active)

    def _prepare(self, job: Job, execution: Execution) -> LocalLaunch | RunRequest | RunOutcome:
        task_function = self._task_function(job.task_function_id)
        if task_function is None:
            return _failed(f"task function {job.task_function_id} no longer exists")
        request = _request(job, execution, task_function)
        if task_function.handler_type == HandlerType.CELERY_TASK:
            return request
        return prepare_local(request, task_name=task_function.name, base_env=self.base_env, policy=self.run_as)

    def _launch(self, prepared: PreparedRun) -> None:
        job, execution, how = prepared.job, prepared.execution, prepared.how
        if isinstance(how, RunOutcome):
            self._recorder.put(_Ended(job=job, execution=execution, how=how))
            return
        if isinstance(how, RunRequest):
            self._start_celery(job, execution, how)
            return
        run = how.start()
        if isinstance(run.process, ProcessResult):
            self._recorder.put(_Ended(job=job, execution=execution, how=run.outcome(run.process)))
            return
        writer = OutputWriter(self.store, execution.id)
        process = run.process
        with self._cond:
            self._active[execution.id] = writer
            self._following[execution.id] = process
            stop_now = execution.id in self._stop_reasons

        def ended(result: ProcessResult, run: LocalRun = run) -> None:
            with self._cond:
                self._following.pop(execution.id, None)
            self._recorder.put(_Ended(job=job, execution=execution, how=lambda: run.outcome(result), writer=writer))

        self._reactor.follow(process, timeout=how.request.timeout_seconds, sink=writer, on_done=ended)
        if stop_now:  # asked while it was being prepared
            self._reactor.stop(process)

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

    def _start_celery(self, job: Job, execution: Execution, request: RunRequest) -> None:
        with self._cond:
            if self._celery_pool is None:
                self._celery_pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="celery")
            self._celery_futures[execution.id] = self._celery_pool.submit(self._run_celery, job, execution, request)
            self._celery_running.add(execution.id)

    def _run_celery(self, job: Job, execution: Execution, request: RunRequest) -> None:
        with self._cond:
            self._celery_futures.pop(execution.id, None)
        try:
            outcome = self._execute_celery(request, execution)
        except Exception:
            log.exception("run of execution %s failed unexpectedly", execution.id)
            outcome = _failed(CRASH_MESSAGE)
        with self._cond:
            self._celery_running.discard(execution.id)
        self._recorder.put(_Ended(job=job, execution=execution, how=outcome))

    def _execute_celery(self, request: RunRequest, execution: Execution) -> RunOutcome:
        if self.celery is None:
            from jobctl.executors.celery_task import NOT_CONFIGURED

            return _failed(NOT_CONFIGURED)

        def record_task_id(task_id: str) -> None:
            self.store.executions.set_celery_task_id(execution.id, task_id)

        def stop_requested() -> bool:
            return self._stop.is_set() or execution.id in self._stop_reasons

        return self.celery(request, record_task_id, stop_requested)

    # -- recording (on the recorder thread) ---------------------------------------------------

    def _write_outcomes(self, batch: list[_Ended]) -> None:
        """One transaction for a batch of outcomes; a failed run with retries left queues its next
        attempt in the same transaction, so a crash cannot record the failure and lose the retry."""
        for ended in batch:
            if ended.writer is not None:
                ended.writer.flush()  # all of a run's output is stored before it shows as ended
        runs = [(ended, self._finished_run(ended)) for ended in batch]
        retries = {run.execution_id for _, run in runs if self._retries(run)}
        plain = [run for _, run in runs if run.execution_id not in retries]
        with self.store.transaction():
            written = self.store.executions.finish_runs(plain)
            recorded = {run.execution_id for run, done in zip(plain, written, strict=True) if done}
            queued: set[str] = set()
            for ended, run in runs:
                if run.execution_id not in retries or not self.store.executions.finish_run(run):
                    continue
                recorded.add(run.execution_id)
                if self._queue_retry(ended.job, ended.execution, run, ended.outcome().exit_code):
                    queued.add(run.execution_id)
            # Only outcomes recorded here notify and count in the job's streak: another record
            # (a leader took the run for abandoned, a cancel not confirmed in time) has its own.
            attempts = [
                FinishedAttempt(claimed=ended.execution, run=run, final=run.execution_id not in queued)
                for ended, run in runs
                if run.execution_id in recorded
            ]
            outcome_effects(self.store, self.notify, attempts)
        for ended, run in runs:
            if run.execution_id in recorded:
                self._log_run(ended, run.status, run.duration_seconds)
            else:
                self._log_not_recorded(ended, run)

    def _log_run(self, ended: _Ended, status: str, duration_seconds: float | None) -> None:
        if self.log_runs:
            outcome = ended.outcome()
            log_finished_run(
                job_name=ended.job.name,
                execution_id=ended.execution.id,
                status=status,
                duration_seconds=duration_seconds,
                exit_code=outcome.exit_code,
                error=outcome.error_message if outcome.daemons_reason else None,
            )

    def _log_not_recorded(self, ended: _Ended, run: FinishedRun) -> None:
        """A run whose row was no longer ``running`` when its outcome came: say what the store
        holds instead of ``run finished``, which would contradict it (the row is left as it is)."""
        if not self.log_runs:
            return
        exit_code = ended.outcome().exit_code
        here = run.status if exit_code is None else f"{run.status}, exit {exit_code}"
        became = self._recorded_elsewhere(run.execution_id) or "no longer exists (its job was deleted)"
        log.warning("execution %s %s; its outcome here (%s) is not recorded", run.execution_id, became, here)

    def _recorded_elsewhere(self, execution_id: str) -> str | None:
        """What became of a run of ours that the store no longer has ``running``, as the end of a
        sentence about it (taken for abandoned by a leader, or recorded otherwise); None when its
        row is gone (deleted with its job)."""
        try:
            record = self.store.executions.get(execution_id)
        except StoreError as exc:
            return f"is no longer running in the store (it could not be read again: {exc.message})"
        if record is None:
            return None
        if was_abandoned(record):
            return "was recorded as abandoned by another daemon while this one was not heard from"
        said = f": {record.error_message.splitlines()[0]}" if record.error_message else ""
        return f"was already recorded {record.status.value} by another process{said}"

    def _finished_run(self, ended: _Ended) -> FinishedRun:
        outcome = ended.outcome()
        status, error = outcome.status, outcome.error_message
        asked = self._stop_reasons.get(ended.execution.id)
        if asked is not None and status != ExecutionStatus.SUCCESS:
            status = ExecutionStatus.FAILED if asked.cancelled_by is None else ExecutionStatus.CANCELLED
            error = f"{asked.reason} ({error})" if error else asked.reason
        elif self._stop.is_set() and status != ExecutionStatus.SUCCESS:
            error = (
                f"stopped by daemon shutdown after the grace period ({error})"
                if error
                else "stopped by daemon shutdown"
            )
        return FinishedRun(
            execution_id=ended.execution.id,
            status=status.value,
            started_at=outcome.started_at,
            completed_at=outcome.completed_at,
            duration_seconds=outcome.duration_seconds,
            result=outcome.result,
            error_message=error,
        )

    def _retries(self, run: FinishedRun) -> bool:
        failed = run.status in (ExecutionStatus.FAILED.value, ExecutionStatus.TIMEOUT.value)
        return failed and not self._stop.is_set() and run.execution_id not in self._stop_reasons

    def _queue_retry(self, job: Job, execution: Execution, run: FinishedRun, exit_code: int | None) -> bool:
        """Queue the next attempt if the job has one left and retries this failure; whether it did.

        The job is read again: a change of its retry settings applies to the next retry.
        """
        current = self.store.jobs.get(job.id)
        if current is None or not current.is_enabled or execution.attempt > current.retry_count:
            return False
        if not retry_wanted(current, status=run.status, exit_code=exit_code):
            return False
        recorded = self.store.executions.get(execution.id)
        if recorded is None or recorded.status == ExecutionStatus.CANCELLED:
            return False  # cancelled just as it failed (before this daemon saw the request): not retried
        now = run.completed_at
        delay = retry_delay_seconds(current, execution.attempt, jitter=random.random())
        run_after = now + timedelta(seconds=delay)
        return self.store.executions.insert(NewExecution.retry_of(execution, now=now, run_after=run_after)) is not None

    def _record_crash(self, ended: _Ended, error: Exception) -> None:
        """The store refused this outcome (not an outage): record the run ``failed`` with the
        reason instead, so it does not stay ``running`` and the batch it came in goes on."""
        reason = error.message if isinstance(error, JobctlError) else f"{type(error).__name__}: {error}"
        log.error("could not record the outcome of execution %s: %s", ended.execution.id, reason)
        self.store.executions.finish(
            ended.execution.id,
            status=ExecutionStatus.FAILED.value,
            started_at=None,
            completed_at=datetime.now(UTC),
            duration_seconds=None,
            result=None,
            error_message=f"{OUTCOME_NOT_RECORDED}: {reason}",
        )
        self._log_run(ended, ExecutionStatus.FAILED.value, None)

    def _release(self, batch: list[_Ended]) -> None:
        """Give the run slots back once their outcomes are stored, and let the scheduler know."""
        with self._cond:
            for ended in batch:
                self._active.pop(ended.execution.id, None)
                self._stop_reasons.pop(ended.execution.id, None)
            self._cond.notify_all()
        if self.on_finish:
            self.on_finish()

    def _flush_outputs(self) -> None:
        with self._cond:
            writers = [writer for writer in self._active.values() if writer is not None]
        for writer in writers:
            if writer.flush_due():
                writer.flush()

    # -- stopping ---------------------------------------------------------------------------

    def stop_requested(self, running: Callable[[], Mapping[str, StopRequest | None]]) -> None:
        """Stop runs that the store asks to stop, or whose execution row is gone.

        ``running()`` gives this instance's running executions with why each was asked to stop
        (None: not asked). A run of ours missing from it was deleted with its job (or finished
        by someone else): its process must not live on unseen. A local run's group gets
        SIGTERM, then SIGKILL after the kill grace; a Celery task is revoked. The run is
        recorded with the reason (unless it succeeded first): ``cancelled`` when cancelled,
        else ``failed``.
        """
        with self._cond:
            candidates: dict[str, SpawnedProcess | None] = dict(self._following)
            candidates.update(dict.fromkeys(self._celery_running))
            candidates = {key: value for key, value in candidates.items() if key not in self._stop_reasons}
        if not candidates:
            return
        asked = running()
        gone = {
            execution_id: self._gone_reason(execution_id) for execution_id in candidates if execution_id not in asked
        }
        stopping: list[tuple[str, SpawnedProcess | None, StopRequest]] = []
        with self._cond:
            for execution_id, process in candidates.items():
                reason = asked[execution_id] if execution_id in asked else gone[execution_id]
                if reason is None or execution_id in self._stop_reasons or execution_id not in self._active:
                    continue
                self._stop_reasons[execution_id] = reason
                stopping.append((execution_id, process, reason))
        for execution_id, process, reason in stopping:
            log.warning("stopping execution %s: %s", execution_id, reason.reason)
            if process is not None:
                self._reactor.stop(process)

    def _gone_reason(self, execution_id: str) -> StopRequest:
        """Why a run of ours that the store no longer has ``running`` is stopped: its row was
        deleted with its job, or another process recorded it (a leader that took it for abandoned
        while this one was frozen or cut off: its process must not run on beside a new run)."""
        became = self._recorded_elsewhere(execution_id)
        return StopRequest(EXECUTION_GONE if became is None else f"it {became}")

    def shutdown(self, grace_seconds: float) -> None:
        """Let running runs finish for ``grace_seconds``, then stop them; hand back unstarted ones."""
        self._closing.set()
        self._release_unstarted()
        if not self._wait(grace_seconds):
            log.warning("stopping %d run(s) still active after %.0fs", self.active_count(), grace_seconds)
            self._stop.set()
            self._reactor.stop_all()
            self._wait(None)
        self._spawner.close()
        self._recorder.close()
        self._reactor.close()
        if self._celery_pool is not None:
            self._celery_pool.shutdown(wait=True)

    def _release_unstarted(self) -> None:
        """Celery runs still waiting for a pool thread go back to ``pending`` for any leader."""
        with self._cond:
            waiting = list(self._celery_futures.items())
        for execution_id, future in waiting:
            if future.cancel():
                with self._cond:
                    self._celery_futures.pop(execution_id, None)
                    self._active.pop(execution_id, None)
                    self._cond.notify_all()
                try:
                    self.store.executions.release_to_pending(execution_id)
                except StoreError:
                    log.exception("could not hand back execution %s", execution_id)

    def _wait(self, timeout: float | None) -> bool:
        """Wait until every run's outcome is recorded; False if ``timeout`` passed first."""
        if timeout is not None and timeout == float("inf"):
            timeout = None
        with self._cond:
            return self._cond.wait_for(lambda: not self._active, timeout)


def _failed(message: str) -> RunOutcome:
    now = datetime.now(UTC)
    return RunOutcome(
        status=ExecutionStatus.FAILED, started_at=now, completed_at=now, result=None, error_message=message,
        daemons_reason=True,
    )  # fmt: skip


def _request(job: Job, execution: Execution, task_function: TaskFunction) -> RunRequest:
    timeout: Any = job.timeout_seconds or task_function.default_timeout_seconds
    return RunRequest(
        execution_id=execution.id,
        job_id=job.id,
        handler_type=task_function.handler_type,
        handler_path=task_function.handler_path,
        task_args=job.task_args,
        environment=job.environment,
        stdin=job.stdin,
        context=RunContext(
            working_directory=job.working_directory,
            umask=job.umask,
            nice=job.nice,
            run_as_user=job.run_as_user,
            run_as_group=job.run_as_group,
        ),
        timeout_seconds=float(timeout) if timeout else None,
        queue=task_function.queue,
        celery_task_id=execution.celery_task_id,
    )
