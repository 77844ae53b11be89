"""``celery_task`` task functions: send the task to a Celery broker, follow it in the result backend.

A run sends ``handler_path`` by name with ``taskArgs`` as keyword arguments to the task
function's ``queue`` and polls the result backend until the task is ready. Outcome rules mirror
:mod:`jobctl.executors.local`: ``SUCCESS`` is ``success`` with the return value as ``result``
(a dict as is, anything else as ``{"value": ...}``); ``FAILURE`` is ``failed`` with
``"ExcType: message"`` and, on the lines below, the tail of the worker's traceback; past the
timeout the task is revoked with ``terminate=True`` and the run is ``timeout``.

Why polling and not ``AsyncResult.get()``: the runner follows many tasks from many threads, and
Celery's push-based result consumers (Redis pub/sub, ``rpc://``) keep per-process subscription
state that is neither thread-safe nor drained unless ``get()`` is called. A plain read of the
task's state per poll is stateless, so one Celery app can serve every runner thread.

Celery is imported only when an executor is built: the daemon starts without it unless
``[celery] broker_url`` is configured.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from jobctl.executors.outcome import RunOutcome, RunRequest, tail_at_a_line
from jobctl.models import ExecutionStatus

log = logging.getLogger(__name__)

BROKER_CONNECT_TIMEOUT = 3.0
"""Seconds to wait for a broker connection (and across its retries) before a send fails."""

BROKER_RETRIES = 2
"""Reconnects tried when sending or connecting fails: a down broker fails the run in seconds."""

SOCKET_TIMEOUT = 5.0
"""Seconds one command to a Redis broker or result backend may wait for its answer (the clients'
defaults wait 120 s or forever, which would let a hung server stall a run)."""

POLL_FIRST = 0.02
POLL_MAX = 0.5
"""Polling starts fast (short tasks finish quickly) and backs off to ``POLL_MAX``, which also
bounds how late a timeout, a shutdown or a finished task is noticed."""

RESULT_OUTAGE_LIMIT = 300.0
"""Seconds the result backend may stay unreachable while following a task before the run gives
up as ``failed``: with no timeout on the job the run would otherwise stay ``running`` forever."""

REVOKE_WAIT = 10.0
"""Seconds to wait for a revoke to be handed to the broker before recording the outcome anyway."""

WORKER_TIME_LIMIT_MARGIN = 5.0
"""Added to the job's timeout as the task's hard ``time_limit`` on the worker: a backstop that
ends the task even if the daemon dies before it can revoke it (prefork workers only)."""

ERROR_TAIL_CHARS = 1000
READY_STATES = ("SUCCESS", "FAILURE", "REVOKED")


NOT_CONFIGURED = (
    "celery_task needs [celery] broker_url and result_backend in the config (of the daemon, or of jobctl run "
    "when it runs the run itself) and the jobctl[celery] extra installed"
)
"""The error of a ``celery_task`` run in a process whose config has no ``[celery] broker_url``."""


def sanitized_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs (never raises)."""
    from jobctl.redaction import redact

    return redact(url)


@dataclass
class _Follow:
    """What a run knows while it follows its task: deadlines and the current result-backend outage."""

    task_id: str
    started_at: datetime
    started_mono: float
    deadline: float | None
    outage_since: float | None = None
    outage_error: str | None = None


class CeleryExecutor:
    """Runs ``celery_task`` requests through one Celery app (one broker, one result backend).

    Called from the runner's worker threads at once: the app, its broker connection pool and its
    result backend client are shared and safe for that (sending borrows a pooled producer; a
    poll is one stateless read).
    """

    def __init__(
        self,
        *,
        broker_url: str,
        result_backend: str | None,
        result_outage_limit: float = RESULT_OUTAGE_LIMIT,
        log_problem: bool = True,
    ) -> None:
        """``log_problem``: log at once why runs will fail, if they will (the daemon's log says it at
        its start; ``jobctl run`` says it as the run's error, once)."""
        self.broker_display = sanitized_url(broker_url)
        self.backend_display = sanitized_url(result_backend) if result_backend else None
        self.result_outage_limit = result_outage_limit
        self.problem = _config_problem(result_backend)
        self._app: Any = None
        if self.problem is None:
            try:
                self._app = _make_app(broker_url, result_backend or "")
            except ImportError as exc:
                self.problem = f"celery_task needs the jobctl[celery] extra (pip install 'jobctl[celery]'): {exc}"
            except Exception as exc:  # noqa: BLE001 - a bad [celery] setting must fail runs, not the daemon
                self.problem = f"cannot set up Celery for {self.broker_display}: {type(exc).__name__}: {exc}"
        if self.problem and log_problem:
            log.error("celery_task runs will fail: %s", self.problem)

    def __call__(
        self, request: RunRequest, record_task_id: Callable[[str], None], stop_requested: Callable[[], bool]
    ) -> RunOutcome:
        """Send the task, follow it to its end, and say how it ended."""
        started_at, started_mono = datetime.now(UTC), time.monotonic()
        task_id = request.celery_task_id or str(uuid.uuid4())
        if self.problem is not None:
            return _outcome(ExecutionStatus.FAILED, started_at, None, self.problem, request.celery_task_id)
        if request.celery_task_id is None:
            record_task_id(task_id)
        error = self._send(request, task_id)
        if error is not None:
            return _outcome(ExecutionStatus.FAILED, started_at, None, error, task_id)
        deadline = started_mono + request.timeout_seconds if request.timeout_seconds else None
        follow = _Follow(task_id=task_id, started_at=started_at, started_mono=started_mono, deadline=deadline)
        return self._follow(request, follow, stop_requested)

    # -- sending ----------------------------------------------------------------------------

    def _send(self, request: RunRequest, task_id: str) -> str | None:
        """Hand the task to the broker; an error message when it was not accepted."""
        from kombu.exceptions import OperationalError

        options: dict[str, Any] = {"task_id": task_id, "kwargs": dict(request.task_args or {})}
        if request.queue:
            options["queue"] = request.queue
        if request.timeout_seconds:
            options["time_limit"] = request.timeout_seconds + WORKER_TIME_LIMIT_MARGIN
        try:
            self._app.send_task(request.handler_path, **options)
        except (OperationalError, OSError) as exc:
            return f"cannot reach the Celery broker at {self.broker_display}: {_describe(exc)}"
        except Exception as exc:  # noqa: BLE001 - whatever the client library raises, the task was not sent
            return f"could not send the task to the Celery broker at {self.broker_display}: {type(exc).__name__}: {exc}"
        log.debug("sent celery task %s (%s) to queue %s", task_id, request.handler_path, request.queue or "celery")
        return None

    # -- following --------------------------------------------------------------------------

    def _follow(self, request: RunRequest, follow: _Follow, stop_requested: Callable[[], bool]) -> RunOutcome:
        """Poll the task's state until it is ready, the timeout passes, or the daemon stops."""
        result = self._app.AsyncResult(follow.task_id)
        interval = POLL_FIRST
        while True:
            state = self._poll(result, follow)
            if state in READY_STATES:
                return self._finished(result, state, follow)
            ended = self._check_limits(request, follow, stop_requested)
            if ended is not None:
                return ended
            time.sleep(_pause(interval, follow.deadline))
            interval = min(interval * 1.5, POLL_MAX)

    def _poll(self, result: Any, follow: _Follow) -> str | None:
        """The task's state, or None while the result backend cannot be read (noted in ``follow``)."""
        began = time.monotonic()
        try:
            state = str(result.state)
        except Exception as exc:  # noqa: BLE001 - any backend error is an outage to ride out
            if follow.outage_since is None:
                follow.outage_since = began
                log.warning("cannot read celery task %s from %s: %s", follow.task_id, self.backend_display, exc)
            follow.outage_error = _describe(exc)
            return None
        follow.outage_since = None
        return state

    def _check_limits(
        self, request: RunRequest, follow: _Follow, stop_requested: Callable[[], bool]
    ) -> RunOutcome | None:
        """The outcome when the run must end now though the task is not ready, else None."""
        now = time.monotonic()
        if stop_requested():  # the runner words it: "stopped by daemon shutdown after the grace period (...)"
            return self._abandon(follow, ExecutionStatus.FAILED, None)
        if follow.deadline is not None and now >= follow.deadline:
            if follow.outage_since is not None:
                return self._abandon(
                    follow,
                    ExecutionStatus.FAILED,
                    self._outage_message(now, follow) + f" until the timeout of {request.timeout_seconds:g}s",
                )
            return self._abandon(follow, ExecutionStatus.TIMEOUT, f"timed out after {request.timeout_seconds:g}s")
        if follow.outage_since is not None and now - follow.outage_since >= self.result_outage_limit:
            return self._abandon(follow, ExecutionStatus.FAILED, self._outage_message(now, follow))
        return None

    def _outage_message(self, now: float, follow: _Follow) -> str:
        assert follow.outage_since is not None
        return (
            f"lost track of the task: the result backend at {self.backend_display} was unreachable for "
            f"{now - follow.outage_since:.0f}s ({follow.outage_error})"
        )

    def _abandon(self, follow: _Follow, status: ExecutionStatus, reason: str | None) -> RunOutcome:
        """Revoke (terminate) a task the run stops following, and record why."""
        problem = self._revoke(follow.task_id)
        revoked = f"could not revoke task {follow.task_id}: {problem}" if problem else f"task {follow.task_id} revoked"
        return _outcome(status, follow.started_at, None, f"{reason}; {revoked}" if reason else revoked, follow.task_id)

    def _revoke(self, task_id: str) -> str | None:
        """Broadcast a terminating revoke on a fresh connection; an error message if it was not sent.

        A fresh connection because a pooled one may be dead after a broker outage, and a thread
        with a bounded wait because kombu retries a broadcast on a lost connection without end.
        """
        errors: list[str] = []

        def send() -> None:
            try:
                with self._app.connection_for_write() as connection:
                    self._app.control.revoke(task_id, terminate=True, signal="SIGTERM", connection=connection)
            except Exception as exc:  # noqa: BLE001 - reported in the outcome, never raised
                errors.append(f"cannot reach the Celery broker at {self.broker_display}: {_describe(exc)}")
            else:
                errors.append("")

        thread = threading.Thread(target=send, name=f"revoke-{task_id[:8]}", daemon=True)
        thread.start()
        thread.join(REVOKE_WAIT)
        if not errors:
            return f"the broker at {self.broker_display} did not take the revoke within {REVOKE_WAIT:g}s"
        return errors[0] or None

    def _finished(self, result: Any, state: str, follow: _Follow) -> RunOutcome:
        """The outcome of a task that reached a ready state."""
        if state == "SUCCESS":
            return _outcome(ExecutionStatus.SUCCESS, follow.started_at, _as_result(result.result), None, follow.task_id)
        if state == "REVOKED":
            message = f"task {follow.task_id} was revoked outside this run (by a worker, an operator or its expiry)"
            return _outcome(ExecutionStatus.FAILED, follow.started_at, None, message, follow.task_id)
        return _outcome(ExecutionStatus.FAILED, follow.started_at, None, _failure_message(result), follow.task_id)


RunSender = Callable[[RunRequest, Callable[[str], None], Callable[[], bool]], RunOutcome]
"""What runs a ``celery_task`` request: (request, record_task_id, stop_requested) -> outcome."""


def configured_executor(
    broker_url: str | None, result_backend: str | None, *, deferred: bool = False
) -> RunSender | None:
    """The executor the config's ``[celery]`` settings describe; None without a ``broker_url``.

    The daemon and ``jobctl run`` (when it runs its run itself) both build it here, so a
    ``celery_task`` run goes to the same broker whichever of them runs it. ``deferred`` builds
    the Celery app only when the first ``celery_task`` run starts: ``jobctl run`` of any other
    job does not pay for importing Celery (about half a second).
    """
    if not broker_url:
        return None
    if deferred:
        return _DeferredExecutor(broker_url, result_backend)
    return CeleryExecutor(broker_url=broker_url, result_backend=result_backend)


class _DeferredExecutor:
    """A :class:`CeleryExecutor` made on the first call (see :func:`configured_executor`)."""

    def __init__(self, broker_url: str, result_backend: str | None) -> None:
        self._settings = (broker_url, result_backend)
        self._lock = threading.Lock()
        self._executor: CeleryExecutor | None = None

    def __call__(
        self, request: RunRequest, record_task_id: Callable[[str], None], stop_requested: Callable[[], bool]
    ) -> RunOutcome:
        with self._lock:
            if self._executor is None:
                broker_url, result_backend = self._settings
                self._executor = CeleryExecutor(broker_url=broker_url, result_backend=result_backend, log_problem=False)
        return self._executor(request, record_task_id, stop_requested)


# -- helpers ----------------------------------------------------------------------------------


def _config_problem(result_backend: str | None) -> str | None:
    """Why runs cannot work with this result backend setting, if they cannot."""
    if not result_backend:
        return "celery_task needs [celery] result_backend in the daemon's config: jobctl follows each task through it"
    if result_backend.split("://", 1)[0] == "rpc":
        return (
            "the rpc:// result backend delivers a task's result only to the process that waits on it "
            "and cannot be polled; use redis:// or a database result backend"
        )
    return None


def _make_app(broker_url: str, result_backend: str) -> Any:
    """The Celery app for one broker and result backend, set up for bounded, fail-fast sending."""
    from celery import Celery

    class PollingCelery(Celery):  # type: ignore[misc]
        """Sends without subscribing to results (see the module docstring): polling reads them."""

        def _get_backend(self) -> Any:
            backend = super()._get_backend()
            backend.on_task_call = lambda producer, task_id: None
            return backend

    app = PollingCelery("jobctl", broker=broker_url, backend=result_backend, set_as_current=False)
    retry = {"max_retries": BROKER_RETRIES, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
    app.conf.update(
        broker_connection_timeout=BROKER_CONNECT_TIMEOUT,
        broker_transport_options={
            **retry,
            "connect_retries_timeout": BROKER_CONNECT_TIMEOUT,
            "socket_connect_timeout": BROKER_CONNECT_TIMEOUT,  # Redis broker
            "socket_timeout": SOCKET_TIMEOUT,  # Redis broker
        },
        task_publish_retry=True,
        task_publish_retry_policy=retry,
        redis_socket_connect_timeout=BROKER_CONNECT_TIMEOUT,
        redis_socket_timeout=SOCKET_TIMEOUT,
        result_backend_always_retry=False,
    )
    # Build the lazily created parts now, in one thread: first use from several runner threads
    # at once could otherwise build them twice. None of this connects yet.
    _ = app.amqp.producer_pool, app.backend
    return app


def _pause(interval: float, deadline: float | None) -> float:
    """How long to sleep before the next poll: ``interval``, but not past the deadline."""
    if deadline is None:
        return interval
    return max(0.0, min(interval, deadline - time.monotonic()))


def _as_result(value: Any) -> Any:
    """A task's return value as a JSON result: a dict as is, anything else as ``{"value": ...}``."""
    wrapped = value if isinstance(value, dict) else {"value": value}
    try:
        json.dumps(wrapped)
    except (TypeError, ValueError):
        return {"value": repr(value)}
    return wrapped


def _failure_message(result: Any) -> str:
    """``ExcType: message`` of a failed task, then the tail of its traceback on the lines below.

    The exception's words end the first line, the one ``jobctl run``, ``executions list`` and
    ``top`` show (after ``: `` the line went on into "Traceback (most recent call last):"), as
    a Python callable's do (docs/python-callables.md); the tail starts at a line of its own.
    """
    try:
        exc, traceback = result.result, result.traceback
    except Exception as err:  # noqa: BLE001 - an undecodable exception is still a failure
        return f"the task failed, and its exception could not be read: {type(err).__name__}: {err}"
    message = f"{type(exc).__name__}: {exc}" if isinstance(exc, BaseException) else f"task failed: {exc!r}"
    tail = tail_at_a_line(str(traceback or "").strip(), ERROR_TAIL_CHARS)
    return f"{message}\n{tail}" if tail else message


def _describe(exc: BaseException) -> str:
    """A short text for a connection error; kombu often wraps an empty-message socket error."""
    text = str(exc).strip()
    return text or type(exc).__name__


def _outcome(
    status: ExecutionStatus, started_at: datetime, result: Any, error: str | None, task_id: str | None
) -> RunOutcome:
    return RunOutcome(
        status=status,
        started_at=started_at,
        completed_at=datetime.now(UTC),
        result=result,
        error_message=error,
        celery_task_id=task_id,
    )
