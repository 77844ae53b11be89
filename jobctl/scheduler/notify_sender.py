"""The leader's notification sender: its own thread and worker pools, never the scheduler's.

Deliveries are rows written with the outcomes that cause them. While this instance leads, the
sender claims due rows (a lease-checked transaction, like a slot claim) no faster than each
notifier's workers can take them, sends each on that notifier's pool, and records the result:
``sent``, or a failed attempt retried with exponential backoff until ``[notify]
retry_for_seconds`` after the event, then ``failed``. A slow or dead receiver holds up only its
own notifier's workers; runs are started and recorded by other threads and never wait for it
(docs/notifications.md).

A claim lasts the notifier's timeout (times the sends queued ahead of it per worker) plus
:data:`CLAIM_MARGIN_SECONDS`: a leader that dies
mid-send leaves the row to the next leader once the claim has run out. Only if it died after
the receiver took the event and before ``sent`` was committed is the event sent again (its
``deliveryId`` is the same, so a receiver can drop the copy).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from jobctl.errors import StoreError
from jobctl.models import Delivery
from jobctl.notifier_config import NotifierSpec, NotifySettings
from jobctl.notify import DeliveryFailed
from jobctl.notify.send import prepare, send
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.quiet import wait_for_quiet
from jobctl.service.job_checks import check_deliveries
from jobctl.service.notifications import log_given_up
from jobctl.store import Store
from jobctl.store.deliveries import NO_SUCH_NOTIFIER

log = logging.getLogger(__name__)

WORKERS_PER_NOTIFIER = 8
"""Sends in flight per notifier. More would not help a slow receiver much and would take the
interpreter from the scheduler's thread more often."""
QUEUED_PER_WORKER = 4
"""Deliveries claimed per worker of a notifier: the workers find the next one queued while the
sender's thread records and claims (a round per 8 sends held a fast receiver to ~100/s while
rounds waited for the scheduler's gaps). A claim lasts as long as the sends queued before it may take."""
POLL_SECONDS = 0.5
GATHER_SECONDS = 0.01
"""After a wake-up, results that finish within this are recorded in the same transaction."""
ORPHAN_CHECK_SECONDS = 30.0
"""How often the leader fails the pending deliveries to notifiers the config lacks (a leader that
started or reloaded does it at once): only another daemon on another config can make new ones."""
CHECK_SECONDS = 1.0
"""How often the leader looks for runs running too long and jobs past their success deadline."""
CLAIM_MARGIN_SECONDS = 10.0
QUIET_NEEDED_SECONDS = 0.01
"""A round of the sender (claim, record: a few ms) starts only when the scheduler will not need
the store for at least this long."""
MAX_DEFER_SECONDS = 5.0
"""Longest wait for such a gap: a scheduler that is never quiet (runs waiting for a run slot all
the time) still gets deliveries out, one round at a time. Well below a claim's length, so a result
is recorded before its claim runs out."""
BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 600.0


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 1, 2, 4, ... at most 10 minutes."""
    return float(min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** max(0, attempts - 1)))


class NotificationSender:
    """Sends pending deliveries while this instance leads."""

    def __init__(
        self,
        store: Store,
        *,
        leadership: Leadership,
        settings: NotifySettings,
        base_env: Mapping[str, str],
        quiet_for: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.quiet_for = quiet_for
        """Seconds the scheduling path will leave the store alone (the scheduler's
        :meth:`~jobctl.scheduler.loop.Scheduler.quiet_for`); None: never wait for it."""
        self.leadership = leadership
        self._settings = settings
        self.jobs_name_missing_notifiers = False
        """Some job names a notifier the config lacks (the daemon finds out at its start and at
        each reload): the time-based checks then run even with no notifier in the config, so that
        their events are failed deliveries rather than none."""
        self.base_env = dict(base_env)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._busy: dict[str, int] = {}
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._last_check: datetime | None = None
        self._last_orphan_check: datetime | None = None
        self._checked: set[str] = set()
        self._results: list[tuple[Delivery, str | None]] = []
        """Sends finished by the workers, recorded by the sender's thread in one transaction."""

    @property
    def settings(self) -> NotifySettings:
        """The notifiers and rules in force; a reload sets new ones."""
        return self._settings

    @settings.setter
    def settings(self, settings: NotifySettings) -> None:
        """Take a reloaded config: the pending deliveries to a notifier it dropped fail at the next
        round, not at the next of the periodic passes (up to :data:`ORPHAN_CHECK_SECONDS` later)."""
        self._settings = settings
        self._last_orphan_check = None
        self.wake()

    def in_flight(self) -> int:
        """Sends started and not yet recorded."""
        with self._lock:
            return sum(self._busy.values()) + len(self._results)

    def wake(self) -> None:
        """Look for due deliveries now (an outcome was recorded, a worker is free)."""
        self._wake.set()

    def run(self, stop: threading.Event) -> None:
        """Claim and send until ``stop`` is set; store errors are logged and retried."""
        self.prepare()
        while not stop.is_set():
            self.wait_for_quiet(stop)
            self.step(datetime.now(UTC))
            if self._wake.wait(POLL_SECONDS):
                time.sleep(GATHER_SECONDS)
            self._wake.clear()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        self.record_results()

    def prepare(self) -> None:
        """Load what the notifiers send with (httpx, TLS contexts) before the first event: done at
        the first send, it took the interpreter for a few hundred ms in the middle of a burst."""
        for spec in self.settings.notifiers:
            try:
                prepare(spec)
            except Exception:
                log.exception("notifier %s could not be prepared; it will be at its first send", spec.name)

    def wait_for_quiet(self, stop: threading.Event) -> float:
        """Wait until the scheduler will leave the store alone for :data:`QUIET_NEEDED_SECONDS`
        (at most :data:`MAX_DEFER_SECONDS`); the seconds waited.

        Claiming and recording deliveries take SQLite's write lock and the interpreter; done while
        slots are due or runs wait for a run slot, they made other jobs' runs start later."""
        return wait_for_quiet(self.quiet_for, stop, needed=QUIET_NEEDED_SECONDS, longest=MAX_DEFER_SECONDS)

    def step(self, now: datetime) -> None:
        """One round: record finished sends, run the checks, claim and hand out what is due."""
        try:
            self.record_results()
            if not self.leadership.is_leader():
                return
            self.give_up_orphans(now)
            if self.settings.notifiers or self.jobs_name_missing_notifiers:
                self.run_checks(now)
            if self.settings.notifiers:
                self.claim_and_send(now)
        except StoreError as exc:
            log.warning("notification sender: %s", exc.message)
        except Exception:
            log.exception("notification sender failed unexpectedly; retrying")

    def run_checks(self, now: datetime) -> None:
        """The time-based checks (``long_running``, ``no_success``), at most every :data:`CHECK_SECONDS`."""
        if self._last_check is not None and (now - self._last_check).total_seconds() < CHECK_SECONDS:
            return
        self._last_check = now
        if check_deliveries(self.store, self.settings, now=now, seen=self._checked):
            self.wake()

    def claim_and_send(self, now: datetime) -> int:
        """Claim what each notifier's free workers can send now and hand it to them; how many."""
        due = self.store.deliveries.earliest_due()
        if due is None or due > now:
            return 0
        handed = 0
        for spec in self.settings.notifiers:
            busy = self._busy.get(spec.name, 0)
            free = WORKERS_PER_NOTIFIER * QUEUED_PER_WORKER - busy
            if free <= 0:
                continue
            for delivery in self._claim(spec, now, free, ahead=busy):
                self._submit(spec, delivery)
                handed += 1
        return handed

    def _claim(self, spec: NotifierSpec, now: datetime, limit: int, *, ahead: int) -> list[Delivery]:
        """Claim up to ``limit`` due deliveries of ``spec``, queued behind ``ahead`` sends: the claim
        lasts until the last of them may have been tried (each takes at most the timeout)."""
        rounds = -(-(ahead + limit) // WORKERS_PER_NOTIFIER)
        until = now + timedelta(seconds=spec.timeout * rounds + CLAIM_MARGIN_SECONDS)
        leader = self.leadership
        with self.store.transaction():
            if not self.store.cluster.holds_lease(leader.instance_id, leader.term, for_at_least=leader.fence):
                return []
            return self.store.deliveries.claim_due(
                now=now, until=until, instance_id=leader.instance_id, limit=limit, notifier=spec.name
            )

    def give_up_orphans(self, now: datetime) -> None:
        """Pending deliveries to a notifier no longer in the config fail, saying so in ``lastError``
        and in the log (one WARNING each, as any delivery that fails for good): at the first round
        after the start or a reload, then every :data:`ORPHAN_CHECK_SECONDS`. Those of events
        written since are failed when written (:func:`~jobctl.service.notifications.event_deliveries`)."""
        if (
            self._last_orphan_check is not None
            and (now - self._last_orphan_check).total_seconds() < ORPHAN_CHECK_SECONDS
        ):
            return
        leader = self.leadership
        with self.store.transaction():
            if not self.store.cluster.holds_lease(leader.instance_id, leader.term, for_at_least=leader.fence):
                return
            given_up = self.store.deliveries.fail_unknown_notifiers(sorted(self.settings.names), now=now)
        self._last_orphan_check = now
        for delivery in given_up:
            log_given_up(delivery.id, delivery.event, delivery.job_name, delivery.notifier, NO_SUCH_NOTIFIER)

    def _submit(self, spec: NotifierSpec, delivery: Delivery) -> None:
        with self._lock:
            self._busy[spec.name] = self._busy.get(spec.name, 0) + 1
            pool = self._pools.get(spec.name)
            if pool is None:
                pool = ThreadPoolExecutor(max_workers=WORKERS_PER_NOTIFIER, thread_name_prefix=f"notify-{spec.name}")
                self._pools[spec.name] = pool
        pool.submit(self._deliver, spec, delivery)

    def _deliver(self, spec: NotifierSpec, delivery: Delivery) -> None:
        error = self._send(spec, delivery)
        with self._lock:
            self._busy[spec.name] -= 1
            self._results.append((delivery, error))
        self.wake()

    def record_results(self) -> None:
        """Record every finished send in one transaction. A result that cannot be recorded (the
        store is down) is kept for the next round; its claim may run out meanwhile, and then the
        delivery is sent again (at least once)."""
        with self._lock:
            results, self._results = self._results, []
        if not results:
            return
        try:
            with self.store.transaction():
                for delivery, error in results:
                    self._record(delivery, error)
        except Exception:
            with self._lock:
                self._results = results + self._results
            raise
        if any(delivery.notifier not in self.settings.names for delivery, _ in results):
            self._last_orphan_check = None  # sent before a reload dropped its notifier: a retry fails now

    def _send(self, spec: NotifierSpec, delivery: Delivery) -> str | None:
        try:
            send(spec, delivery.payload, base_env=self.base_env)
        except DeliveryFailed as exc:
            return exc.message
        except Exception as exc:
            log.exception("notifier %s failed unexpectedly", spec.name)
            return f"internal error: {type(exc).__name__}"
        return None

    def _record(self, delivery: Delivery, error: str | None) -> None:
        retry_at = record_result(self.store, self.settings, delivery, error, instance_id=self.leadership.instance_id)
        if error is not None:
            log.warning(
                "notification %s (%s of job %s) to %s failed (attempt %d): %s%s",
                delivery.id, delivery.event, delivery.job_name, delivery.notifier, delivery.attempts + 1, error,
                "; giving up" if retry_at is None else f"; retrying at {retry_at.isoformat()}",
            )  # fmt: skip


def record_result(
    store: Store, settings: NotifySettings, delivery: Delivery, error: str | None, *, instance_id: str
) -> datetime | None:
    """``sent``, or a failed attempt: pending again after :func:`backoff` while the event is
    younger than ``[notify] retry_for_seconds`` (the time of the next try is returned), else
    ``failed`` for good (None). Only a claim held by ``instance_id`` is changed."""
    now = datetime.now(UTC)
    if error is None:
        store.deliveries.mark_sent(delivery.id, instance_id=instance_id, now=now)
        return None
    retry_at: datetime | None = now + timedelta(seconds=backoff(delivery.attempts + 1))
    deadline = delivery.created_at + timedelta(seconds=settings.retry_for_seconds)
    if retry_at is not None and retry_at > deadline:
        retry_at = None
    store.deliveries.mark_attempt_failed(delivery.id, instance_id=instance_id, error=error, retry_at=retry_at)
    return retry_at
