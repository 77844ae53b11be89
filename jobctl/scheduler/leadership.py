"""Instance registration, heartbeats and the leader lease, with self-fencing.

Every instance heartbeats; one holds the lease and schedules. The leader trusts its lease only
until ``renewed_at + ttl - margin`` on its own monotonic clock, so a leader cut off from the
store stops claiming before anyone else can take the lease over. Claims re-check the lease in
their own transaction as well (see :mod:`jobctl.scheduler.claims`).

Heartbeats and lease writes go through a connection of their own (``Database.dedicated``), so
a burst of run outcomes filling the pool never delays a renewal (docs/lease-connection.md).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta

from jobctl import __version__
from jobctl.errors import StoreError
from jobctl.models import Instance, Lease, LeaseTerm
from jobctl.scheduler.clock import Clock, SystemClock
from jobctl.scheduler.missed import LeaderGap
from jobctl.store import Store
from jobctl.store.cluster import ClusterRecords

log = logging.getLogger(__name__)

MARGIN_FRACTION = 0.2
"""The leader stops trusting its lease this fraction of the TTL before it expires."""
IDLE_TRANSACTION_FRACTION = 0.8
"""Postgres ends a daemon session idle inside a transaction after this fraction of the margin:
a claim either commits while its lease still holds or is rolled back (docs/exactly-once.md)."""
LEASE_LOCK_FRACTION = 0.5
"""A lease write waits for a row lock at most this fraction of the margin, then counts as failed."""


class Leadership:
    """This instance's membership and, when it leads, its lease.

    ``beat()`` is called periodically by the daemon's heartbeat thread; ``is_leader()`` may be
    asked from any thread.
    """

    def __init__(self, store: Store, *, ttl_seconds: float, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock or SystemClock()
        """The wall clock of the times written to the store; the lease's validity here is kept on
        the monotonic clock, which no change of wall time can stretch."""
        self.ttl = timedelta(seconds=ttl_seconds)
        self.margin = ttl_seconds * MARGIN_FRACTION
        self.idle_transaction_limit = self.margin * IDLE_TRANSACTION_FRACTION
        """How long the daemon's Postgres sessions may sit idle inside a transaction."""
        lock_ms = max(1, round(self.margin * LEASE_LOCK_FRACTION * 1000))
        self.cluster = ClusterRecords(store.db.dedicated(lock_timeout=f"{lock_ms}ms"))
        """The lease and heartbeat records, on the dedicated connection."""
        now = self.clock.now()
        self.instance = Instance(
            id=str(uuid.uuid4()),
            hostname=socket.gethostname(),
            pid=os.getpid(),
            version=__version__,
            started_at=now,
            last_heartbeat=now,
            stopped_at=None,
        )
        self._valid_until = 0.0
        self._renewed_at = 0.0
        self._announced = False  # "became leader" was logged and no loss since
        self._term = 0
        self._gap: LeaderGap | None = None
        self._lock = threading.Lock()
        self._standby_event = threading.Event()

    @property
    def instance_id(self) -> str:
        return self.instance.id

    @property
    def term(self) -> int:
        return self._term

    @property
    def gap(self) -> LeaderGap | None:
        """The time before this instance's current term when no daemon led (None before it leads):
        what a missed range right after a takeover is put down to."""
        return self._gap

    @property
    def fence(self) -> timedelta:
        """How much of its lease a claim needs left, by the store's clock, to commit."""
        return timedelta(seconds=self.margin)

    def register(self) -> None:
        self.store.cluster.register_instance(self.instance)

    def is_leader(self) -> bool:
        """True while the lease is certainly ours (renewed recently enough).

        The first call after the lease lapsed unrenewed (store hung or unreachable, process
        paused) logs the loss: nothing else would, the renewal being stuck or late.
        """
        with self._lock:
            now = time.monotonic()
            valid = now < self._valid_until
            lapsed = self._announced and not valid
            if lapsed:
                self._announced = False
            since = now - self._renewed_at
        if lapsed:
            log.warning(
                "no longer leader: the lease was not renewed in time (last renewed %.1fs ago); stopped claiming", since
            )
        return valid

    def beat(self) -> bool:
        """Heartbeat and take or renew the lease; returns whether this instance leads.

        A store error makes this instance a follower at once (it cannot prove its lease).
        """
        started = time.monotonic()
        try:
            lease = self.cluster.acquire_or_renew_lease(self.instance_id, self.ttl)
            self.cluster.heartbeat(self.instance_id, self.clock.now())
        except StoreError as exc:
            self._lose(f"store error: {exc.message}")
            return False
        if lease is None:
            self._lose("another instance holds the lease")
            return False
        previous = self._begin_term(lease) if lease.term != self._term else None
        with self._lock:
            announced, self._announced = self._announced, True
            self._valid_until = started + self.ttl.total_seconds() - self.margin
            self._renewed_at = started
            if lease.term != self._term or self._gap is None:
                self._gap = _gap_before(lease, previous)
            self._term = lease.term
        if not announced:
            log.info("became leader (term %d)", lease.term)
        return True

    def _begin_term(self, lease: Lease) -> LeaseTerm | None:
        """Record the term this instance just began, and read the one before it: who led then,
        and whether it gave the lease up or let it run out (what a missed range is put down to).
        Only for the record: a store error here costs the words, not the lease."""
        try:
            self.cluster.record_term(lease, self.instance)
            return self.cluster.lease_term(lease.term - 1)
        except StoreError as exc:
            log.warning("could not record the lease's term %d: %s", lease.term, exc.message)
            return None

    def _lose(self, why: str) -> None:
        with self._lock:
            announced, self._announced = self._announced, False
            self._valid_until = 0.0
        if announced:
            log.warning("no longer leader: %s", why)

    def resign(self) -> None:
        """Give the lease up at once (clean shutdown) so a standby takes over without waiting."""
        with self._lock:
            self._valid_until = 0.0
            self._announced = False
        try:
            self.cluster.release_lease(self.instance_id, self._term or None)
        except StoreError as exc:
            log.warning("could not release the lease: %s", exc.message)

    def heartbeat(self) -> None:
        """Record that this instance lives without taking or renewing the lease: a stopping
        daemon whose runs are still finishing, so that no leader takes them for abandoned."""
        try:
            self.cluster.heartbeat(self.instance_id, self.clock.now())
        except StoreError as exc:
            log.warning("heartbeat failed: %s", exc.message)

    def mark_stopped(self) -> None:
        try:
            self.cluster.mark_stopped(self.instance_id, self.clock.now())
        except StoreError as exc:
            log.warning("could not record this instance as stopped: %s", exc.message)
        self.cluster.db.close()


def _gap_before(lease: Lease, previous: LeaseTerm | None) -> LeaderGap | None:
    """No daemon led from the end of the previous term until this one began."""
    if lease.acquired_at is None:
        return None
    return LeaderGap(since=lease.vacated_at, until=lease.acquired_at, previous=previous)
