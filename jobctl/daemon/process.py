"""The daemon process: composes store, leadership, scheduler, runner and API server.

Threads: the scheduler loop, the heartbeat, the history pruner, the API server, and the run pool. Signal handlers
only set flags (the main thread acts on them): SIGTERM/SIGINT stop, SIGHUP reloads the config.
Start order: what can fail for a reason outside the daemon (the API's socket, bound and listening
by the caller; the store) comes before this instance registers and may take the lease, so a
daemon that fails to start has claimed and run nothing; the API server is then started on that
socket after the scheduler, so the lease is not held back by its start-up, and anything that
fails once it may lead goes through the shutdown below, as SIGTERM does (docs/daemon-start.md).
Shutdown order: stop claiming, hand the lease over, let runs finish for the grace period (still
heartbeating, so that no leader takes them for abandoned), stop what is left and record it, then
mark this instance stopped.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jobctl.config import Config, exposure_warning, load_config
from jobctl.errors import StoreError
from jobctl.executors.context import RunAsPolicy
from jobctl.executors.environment import base_environment
from jobctl.executors.guard import GroupGuard
from jobctl.models import HEARTBEATS_PER_LEASE
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.loop import Scheduler
from jobctl.scheduler.notify_sender import NotificationSender
from jobctl.scheduler.runner import Runner
from jobctl.scheduler.stats import SchedulerStats
from jobctl.service.notifications import jobs_naming_missing_notifiers
from jobctl.service.registry import SyncReport, sync_task_functions
from jobctl.service.settings import ServiceSettings
from jobctl.store import Store
from jobctl.store.schema_version import upgrade_notice

if TYPE_CHECKING:
    from jobctl.api.metrics import MetricsEndpoint
    from jobctl.daemon.server import Listener

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SWITCH_INTERVAL_SECONDS = 0.0005
"""How long a thread waiting for the interpreter lock lets the holder run before asking for it
(Python's default: 5 ms). The scheduler gives the lock up during every spawn and needs it back
right after; with the default it waited up to 5 ms behind the recorder each time
(docs/spawn-interpreter-lock.md)."""


@dataclass(frozen=True)
class DaemonSignals:
    """SIGTERM/SIGINT (stop) and SIGHUP (reload), as flags the daemon's threads read.

    The signal handlers themselves do nothing. A Python handler runs in the main thread between
    two bytecodes, possibly while that thread holds the lock inside ``Event.wait``; a handler that
    sets an event then waits for that lock forever, and the daemon never stops (the ``signal``
    module's documentation warns against locks in handlers). Instead ``signal.set_wakeup_fd``
    writes each signal's number to a pipe, and the main thread, in :meth:`wait`, reads it and
    sets the events itself.
    """

    stop: threading.Event
    reload: threading.Event
    wakeup_fd: int
    """The pipe's reading end: one byte per signal received, its number."""

    @classmethod
    def install(cls) -> DaemonSignals:
        """Handle SIGTERM/SIGINT (stop) and SIGHUP (reload) from now on (main thread only).

        Installed before the store is opened, so a stop requested during start-up is a clean
        stop right after it, never the default kill.
        """
        read_fd, write_fd = os.pipe()
        for fd in (read_fd, write_fd):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        for number in (*STOP_SIGNALS, signal.SIGHUP):
            signal.signal(number, _noted)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        return cls(stop=threading.Event(), reload=threading.Event(), wakeup_fd=read_fd)

    def wait(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a signal, then set the events of those received."""
        ready, _, _ = select.select([self.wakeup_fd], [], [], timeout)
        if not ready:
            return
        try:
            received = os.read(self.wakeup_fd, 512)
        except BlockingIOError:
            return
        for number in received:
            if number in STOP_SIGNALS:
                self.stop.set()
            elif number == signal.SIGHUP:
                self.reload.set()


def _noted(signum: int, frame: object) -> None:
    """The Python-level handler: nothing to do, the pipe carries the signal (see DaemonSignals)."""


class Daemon:
    """One ``jobctl daemon`` instance."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        listener: Listener | None,
        config_path: str | None,
        signals: DaemonSignals | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.listener = listener
        """The API's socket, already listening (None: ``--no-api``)."""
        self.config_path = config_path
        """The file a SIGHUP re-reads: the one the daemon started from (None: it started from none)."""
        self.started_config = config
        """The config as the daemon started: what it keeps of it until the next start
        (:data:`RESTART_ONLY`) is what a reload compares a new file with."""
        self.signals = signals or DaemonSignals.install()
        self.stop_event = self.signals.stop
        self.reload_event = self.signals.reload
        self._lease_event = threading.Event()
        self.service_settings = ServiceSettings.of(config)
        """What the API's answers take from the config; a reload swaps it whole (docs/config-reload.md)."""
        self.guard = GroupGuard(config.kill_grace_seconds)
        self.leadership = Leadership(store, ttl_seconds=config.lease_ttl_seconds)
        # A session of this daemon frozen or cut off inside a transaction is ended by Postgres
        # well within the lease, so its row locks never outlast it (docs/exactly-once.md).
        store.db.limit_idle_transactions(self.leadership.idle_transaction_limit)
        self.scheduler: Scheduler | None = None
        self.stats = SchedulerStats()
        self.runner = Runner(
            store,
            max_workers=config.max_concurrent_runs,
            on_group=self.guard,
            on_finish=self._wake,
            celery=_celery_executor(config),
            log_runs=True,
            base_env=base_environment(path=config.run_path, passed=config.pass_environment),
            run_as=RunAsPolicy(default_user=config.default_run_as, allowed=config.allowed_run_as),
            notify=config.notify,
            kill_grace=config.kill_grace_seconds,
        )
        self.scheduler = Scheduler(
            store,
            leadership=self.leadership,
            runner=self.runner,
            default_timezone=config.scheduler_timezone,
            misfire_grace_seconds=config.misfire_grace_seconds,
            notify=config.notify,
            stats=self.stats,
        )
        self.sender = NotificationSender(
            store, leadership=self.leadership, settings=config.notify, base_env=self.runner.base_env,
            quiet_for=self.scheduler.quiet_for,
        )  # fmt: skip
        self._threads: list[threading.Thread] = []
        self._server: Any = None
        self._closers: list[Callable[[], None]] = []

    def _wake(self) -> None:
        if self.scheduler is not None:
            self.scheduler.wake()
        self.sender.wake()

    # -- lifecycle ------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; returns the exit code.

        :raises JobctlError: when the start fails (nothing was claimed, the lease was not taken), or
            when something fails later (after the same clean shutdown as SIGTERM's).
        """
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        if self.store.upgraded_from is not None:
            log.warning("%s", upgrade_notice(self.store.upgraded_from, self.store.revision))
        report = self._sync_declarations(self.config)
        log.info(
            "task functions synced: %d from config, inactive now: %s",
            len(report.upserted),
            report.deactivated or "none",
        )
        self._log_concurrency_groups(self.config)
        self._warn_of_missing_notifiers(self.config)
        self.leadership.register()
        try:
            self._start_scheduling()
            if self.listener is not None:
                self._start_api(self.listener)
            while not self.stop_event.is_set():
                self.signals.wait(0.5)
                if self.reload_event.is_set():
                    self.reload_event.clear()
                    self._reload()
        finally:
            self._shutdown()
        return 0

    def _start_scheduling(self) -> None:
        """Take the lease if free and start the threads that schedule and run jobs."""
        self.leadership.beat()
        self._start_thread("heartbeat", self._heartbeat_loop)
        self._start_thread("listener", self._listen)
        assert self.scheduler is not None
        self._start_thread("scheduler", lambda: self.scheduler.run(self.stop_event))  # type: ignore[union-attr]
        self._start_thread("notify", lambda: self.sender.run(self.stop_event))
        self._start_thread("pruner", self._prune_history)
        log.info("instance %s started (leader: %s)", self.leadership.instance_id, self.leadership.is_leader())

    def _prune_history(self) -> None:
        """Keep history within ``[history]`` while this instance leads (docs/retention.md)."""
        from jobctl.scheduler.pruner import BackgroundPruner

        assert self.scheduler is not None
        pruner = BackgroundPruner(
            self.store,
            policy=lambda: self.config.retention,
            is_leader=self.leadership.is_leader,
            quiet_for=self.scheduler.quiet_for,
        )
        pruner.run(self.stop_event)

    def _heartbeat_loop(self) -> None:
        interval = self.started_config.lease_ttl_seconds / HEARTBEATS_PER_LEASE
        standby_check = min(0.5, interval)
        while not self.stop_event.is_set():
            try:
                leading = self.leadership.beat()
            except Exception:
                log.exception("heartbeat failed unexpectedly; retrying")
                leading = False
            if leading:
                self._wake()
            self._lease_event.wait(interval if leading else standby_check)
            self._lease_event.clear()

    def _heartbeat_while_draining(self, drained: threading.Event) -> None:
        """Heartbeat (without the lease) while runs finish in the shutdown grace, which may last
        longer than the lease TTL: a leader reaps the runs of an instance whose heartbeat is older."""
        # The TTL the lease and the other daemons' reaper go by: the one it started with, not a
        # reloaded one (a longer one would let the heartbeat go stale while runs finish).
        while not drained.wait(self.started_config.lease_ttl_seconds / HEARTBEATS_PER_LEASE):
            self.leadership.heartbeat()

    def _listen(self) -> None:
        from jobctl.store.notifications import listen_for_changes

        listen_for_changes(self.store.url, self._on_notification, self.stop_event)

    def _on_notification(self) -> None:
        """Another process changed jobs, runs or the lease: look now instead of at the next poll."""
        self._wake()
        if not self.leadership.is_leader():
            self._lease_event.set()

    def _start_api(self, listener: Listener) -> None:
        """Serve the API on ``listener``; on failure the socket is closed here (no server took it)
        and the caller's shutdown follows."""
        from jobctl.daemon.server import start_api_server

        try:
            self._server = start_api_server(
                self.store, self.config, listener=listener, on_change=self._wake, metrics=self._metrics(),
                settings=lambda: self.service_settings,
            )  # fmt: skip
        except BaseException:
            listener.close()
            self._close_resources()
            raise

    def _metrics(self) -> MetricsEndpoint:
        """``/metrics`` of this daemon; whether it is public follows the config, reloads included."""
        from jobctl.api.metrics import MetricsEndpoint
        from jobctl.daemon.metrics import CONTENT_TYPE, daemon_exposition

        exposition = daemon_exposition(self.store, self.stats, self.leadership.is_leader)
        self._closers.append(exposition.close)  # no refresh planned for after the store closes
        exposition.prewarm()  # every job's lines rendered before the first scrape (docs/metrics.md)
        return MetricsEndpoint(
            render=exposition.render, content_type=CONTENT_TYPE, public=lambda: self.config.metrics_public
        )

    def _start_thread(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _shutdown(self) -> None:
        log.info(
            "shutting down: handing over the lease, letting runs finish for up to %.0fs",
            self.config.shutdown_grace_seconds,
        )
        self.stop_event.set()  # already set after a signal; not when something failed
        self._wake()
        self._lease_event.set()
        for thread in self._threads:
            thread.join(timeout=5)
            if thread.is_alive():
                log.warning("thread %s has not stopped after 5s; going on without it", thread.name)
        self.leadership.resign()
        if self._server is not None:
            self._server.stop()
        self._close_resources()
        drained = threading.Event()
        beating = threading.Thread(target=self._heartbeat_while_draining, args=(drained,), name="drain-heartbeat")
        beating.start()
        try:
            self.runner.shutdown(self.config.shutdown_grace_seconds)
        finally:
            drained.set()
            beating.join()  # its last heartbeat must not come after mark_stopped below
        self.guard.close()
        self.leadership.mark_stopped()
        log.info("stopped")

    def _close_resources(self) -> None:
        for close in self._closers:
            close()
        self._closers.clear()

    # -- signals --------------------------------------------------------------------------

    def _reload(self) -> None:
        """Apply the config file again, all of it or none of it: a SIGHUP never stops the daemon.

        The store's part (task functions, concurrency groups) is written first, in one
        transaction; only once it is committed does the daemon take the new config for itself. A
        config that does not load, or a store that fails the sync (Postgres restarting, a lock
        held past the lock timeout, SQLite busy past its timeout), leaves the old config in force
        in the store and in memory, and is logged in one line (docs/config-reload.md).
        """
        try:
            config = load_config(self.config_path)
        except Exception as exc:  # noqa: BLE001 - a bad edit must not kill a running daemon
            log.error("config reload failed, keeping the old one: %s", exc)
            return
        try:
            report = self._sync_declarations(config)
        except StoreError as exc:
            log.error("config reload failed, keeping the old one: %s: %s", "syncing task functions and groups", exc)
            return
        self.config = config
        if self.config_path is None and config.path is not None:
            self.config_path = str(config.path)  # a file found now is this daemon's config from now on
        self.service_settings = self.service_settings.reloaded(config)
        self.runner.notify = self.sender.settings = config.notify
        if self.scheduler is not None:
            self.scheduler.notify = config.notify
        log_config_warnings(config)
        kept = config.retention
        log.info(
            "config reloaded; task functions synced: %d, inactive now: %s; [history] keep_days = %d,"
            " keep_per_job = %d, output_keep_days = %d, audit_keep_days = %d",
            len(report.upserted),
            report.deactivated or "none",
            kept.keep_days,
            kept.keep_per_job,
            kept.output_keep_days,
            kept.audit_keep_days,
        )
        self._log_concurrency_groups(config)
        self._warn_of_missing_notifiers(config)
        waiting = restart_only_changes(self.started_config, config)
        if waiting:
            log.warning("config reloaded; %s changed and take effect at the next start", waiting)

    def _sync_declarations(self, config: Config) -> SyncReport:
        """Write the config's concurrency groups and task functions to the store, in one
        transaction: both or neither (the groups first, so that a wait for their table holds no
        row that other writers need, like the change counter the task functions' sync bumps).

        :raises StoreError: when the store fails; nothing of ``config`` is then written.
        """
        with self.store.transaction():
            self.store.groups.sync(config.concurrency_groups, now=datetime.now(UTC))
            report = sync_task_functions(self.store, config.task_functions)
        self._wake()  # a raised limit may let waiting runs start
        return report

    def _warn_of_missing_notifiers(self, config: Config) -> None:
        """One WARNING naming the jobs whose rules name a notifier ``config`` lacks (it was removed
        while they still name it): their events for it are failed deliveries, which nobody may look
        at. Said at the start and at every reload, like the config's other warnings."""
        try:
            missing = jobs_naming_missing_notifiers(self.store, config.notify)
        except StoreError as exc:
            log.warning("could not look for jobs naming a notifier the config lacks: %s", exc.message)
            return
        self.sender.jobs_name_missing_notifiers = bool(missing)
        if missing:
            log.warning("%s", missing_notifiers_warning(missing))

    def _log_concurrency_groups(self, config: Config) -> None:
        if config.concurrency_groups:
            log.info(
                "concurrency groups: %s",
                ", ".join(f"{group.name} (limit {group.limit})" for group in config.concurrency_groups),
            )


RESTART_ONLY: tuple[tuple[str, str, str], ...] = (
    ("[store]", "url", "store_url"),
    ("[daemon]", "host", "daemon_host"),
    ("[daemon]", "port", "daemon_port"),
    ("[daemon]", "log_format", "log_format"),
    ("[daemon]", "lease_ttl_seconds", "lease_ttl_seconds"),
    ("[daemon]", "kill_grace_seconds", "kill_grace_seconds"),
    ("[daemon]", "max_concurrent_runs", "max_concurrent_runs"),
    ("[daemon]", "docs", "api_docs"),
    ("[daemon]", "path", "run_path"),
    ("[daemon]", "pass_environment", "pass_environment"),
    ("[daemon]", "default_run_as", "default_run_as"),
    ("[daemon]", "allowed_run_as", "allowed_run_as"),
    ("[scheduler]", "timezone", "timezone"),
    ("[scheduler]", "misfire_grace_seconds", "misfire_grace_seconds"),
    ("[celery]", "broker_url", "celery_broker_url"),
    ("[celery]", "result_backend", "celery_result_backend"),
)
"""The daemon's settings a SIGHUP does not apply, each as (table, key, :class:`Config` field): the
address, store, lease, run limits and runs' environment, the scheduler, Celery. The others a
daemon reads (``[history]``, ``[metrics] public``, ``shutdown_grace_seconds``, the notifiers, task
functions and groups) apply at once; ``[client]`` is not the daemon's (docs/config-reload.md)."""


def restart_only_changes(started: Config, reloaded: Config) -> str:
    """The :data:`RESTART_ONLY` settings whose value in ``reloaded`` is not the one the daemon
    started with, by table (``[daemon] port, lease_ttl_seconds, [scheduler] timezone``); empty
    when there is none. Compared with the start, not the last reload: until the restart every
    reload says again what is not in force."""
    changed: dict[str, list[str]] = {}
    for table, key, name in RESTART_ONLY:
        if getattr(started, name) != getattr(reloaded, name):
            changed.setdefault(table, []).append(key)
    return ", ".join(f"{table} {', '.join(keys)}" for table, keys in changed.items())


MISSING_NOTIFIER_JOBS_SHOWN = 20
"""Jobs named in the warning about notifiers the config lacks; the rest are counted."""


def missing_notifiers_warning(missing: list[tuple[str, list[str]]]) -> str:
    """``2 jobs name a notifier the config lacks; their events for it are failed deliveries (jobctl
    notifications list): backup (n2), report (n2, pager)``."""
    shown = ", ".join(f"{job} ({', '.join(names)})" for job, names in missing[:MISSING_NOTIFIER_JOBS_SHOWN])
    more = len(missing) - MISSING_NOTIFIER_JOBS_SHOWN
    jobs = "1 job names" if len(missing) == 1 else f"{len(missing):,} jobs name"
    their = "its" if len(missing) == 1 else "their"
    return (
        f"{jobs} a notifier the config lacks; {their} events for it are failed deliveries"
        f" (jobctl notifications list): {shown}" + (f", and {more:,} more" if more > 0 else "")
    )


def log_config_warnings(config: Config) -> None:
    """Log what is wrong but not fatal in ``config`` (at start and on every reload)."""
    warning = exposure_warning(config)
    if warning:
        log.warning("%s", warning)
    if config.metrics_public:
        log.warning(
            "[metrics] public = true: GET /metrics answers without a token; "
            "anyone who can reach the API can read every job's name and outcome"
        )


def log_start_warnings(config: Config) -> None:
    """Log what is odd in the settings that apply only from a start (not re-read on SIGHUP, so not
    checked again on a reload, when they would speak of a config not in force)."""
    from jobctl.executors.context import root_default_warning

    warning = root_default_warning(RunAsPolicy(default_user=config.default_run_as, allowed=config.allowed_run_as))
    if warning:
        log.warning("%s", warning)


def _celery_executor(config: Config) -> Any:
    """Built at the start, so that a ``[celery]`` setting it cannot work with is logged then."""
    if not config.celery_broker_url:
        return None
    from jobctl.executors.celery_task import configured_executor

    return configured_executor(config.celery_broker_url, config.celery_result_backend)
