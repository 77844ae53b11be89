"""Scheduler instances, the leader lease, and the change counter that wakes schedulers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jobctl.models import Instance, Lease, LeaseTerm
from jobctl.store.database import Database
from jobctl.store.records import instance_from_row, lease_from_row, lease_term_from_row

LEASE_NAME = "scheduler"
KEPT_TERMS = 100
"""How many of the lease's latest terms ``lease_terms`` keeps: a leader reads only the one before
its own, the rest are for people reading the store after a bad night."""
BUMP_GENERATION_SQL = "UPDATE store_state SET generation = generation + 1 WHERE id = 1"
CHANGES_CHANNEL = "jobctl_changes"
"""Postgres channel notified when jobs, pending runs or the lease change."""


class ClusterRecords:
    """Reads and writes ``scheduler_instances``, ``leases``, ``lease_terms`` and ``store_state``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- instances ------------------------------------------------------------------------

    def register_instance(self, instance: Instance) -> None:
        self.db.execute(
            """
            INSERT INTO scheduler_instances (id, hostname, pid, version, started_at, last_heartbeat)
            VALUES (:id, :hostname, :pid, :version, :started_at, :last_heartbeat)
            """,
            {
                "id": instance.id,
                "hostname": instance.hostname,
                "pid": instance.pid,
                "version": instance.version,
                "started_at": instance.started_at,
                "last_heartbeat": instance.last_heartbeat,
            },
        )

    def heartbeat(self, instance_id: str, now: datetime) -> None:
        """Record that the instance lives; clears ``stopped_at`` in case a leader reaped it as dead
        while it was only cut off from the store or frozen (it would otherwise never be listed again)."""
        self.db.execute(
            "UPDATE scheduler_instances SET last_heartbeat = :now, stopped_at = NULL WHERE id = :id",
            {"now": now, "id": instance_id},
        )

    def mark_stopped(self, instance_id: str, now: datetime) -> None:
        self.db.execute(
            "UPDATE scheduler_instances SET stopped_at = :now, last_heartbeat = :now WHERE id = :id",
            {"now": now, "id": instance_id},
        )

    def live_instances(self) -> list[Instance]:
        """Instances that have not stopped cleanly, oldest first (some may be dead: see heartbeat)."""
        rows = self.db.fetch_all("SELECT * FROM scheduler_instances WHERE stopped_at IS NULL ORDER BY started_at")
        return [instance_from_row(row) for row in rows]

    def forget_instances(self, stopped_before: datetime) -> None:
        """Drop rows of instances long gone, so the table does not grow forever."""
        self.db.execute(
            "DELETE FROM scheduler_instances WHERE last_heartbeat < :before",
            {"before": stopped_before},
        )

    # -- lease ----------------------------------------------------------------------------

    def lease(self) -> Lease:
        row = self.db.fetch_one("SELECT * FROM leases WHERE name = :name", {"name": LEASE_NAME})
        return lease_from_row(row) if row else Lease(holder_id=None, term=0, acquired_at=None, expires_at=None)

    def has_live_leader(self, now: datetime) -> bool:
        """Whether an instance that has not stopped holds an unexpired lease (one query)."""
        return self.live_leader(now) is not None

    def live_leader(self, now: datetime) -> tuple[Instance, Lease] | None:
        """The instance that holds an unexpired lease at ``now`` and its lease, unless that
        instance has stopped; None when there is none (one query)."""
        row = self.db.fetch_one(
            """
            SELECT leases.*, scheduler_instances.*
            FROM leases JOIN scheduler_instances ON scheduler_instances.id = leases.holder_id
            WHERE leases.name = :name AND leases.expires_at > :now AND scheduler_instances.stopped_at IS NULL
            """,
            {"name": LEASE_NAME, "now": now},
        )
        return None if row is None else (instance_from_row(row), lease_from_row(row))

    def acquire_or_renew_lease(self, instance_id: str, ttl: timedelta) -> Lease | None:
        """Hold the leader lease for ``ttl`` from now; None while another instance holds it.

        Taking a free or expired lease starts a new term; renewing keeps the term. "Now" is the
        store's clock at the moment the row is written (``clock_timestamp()`` on Postgres, the
        time read once SQLite's write lock is held), never a time taken before waiting: one
        host's clock judges every lease. One statement in its own transaction (plus an insert
        the very first time), so no caller ever holds the lease row locked between statements.
        """
        if self.db.is_sqlite:
            with self.db.transaction():
                return self._take_lease(instance_id, ttl, datetime.now(UTC))
        return self._take_lease(instance_id, ttl, None)

    def _take_lease(self, instance_id: str, ttl: timedelta, now: datetime | None) -> Lease | None:
        clock = ":now" if now is not None else "clock_timestamp()"
        params: dict[str, Any] = {"me": instance_id, "name": LEASE_NAME}
        if now is not None:
            params |= {"now": now, "expires": now + ttl}
            expires = ":expires"
        else:
            params["ttl"] = ttl.total_seconds()
            expires = "clock_timestamp() + make_interval(secs => :ttl)"
        row = self.db.fetch_one(
            f"""
            UPDATE leases SET
                term = CASE WHEN holder_id = :me THEN term ELSE term + 1 END,
                acquired_at = CASE WHEN holder_id = :me THEN acquired_at ELSE {clock} END,
                vacated_at = CASE WHEN holder_id = :me THEN vacated_at ELSE expires_at END,
                holder_id = :me, expires_at = {expires}
            WHERE name = :name AND (holder_id IS NULL OR holder_id = :me OR expires_at < {clock})
            RETURNING *
            """,
            params,
        )
        if row is None:  # held by another, or no lease row yet (a new store)
            row = self.db.fetch_one(
                f"""
                INSERT INTO leases (name, term, holder_id, acquired_at, expires_at)
                VALUES (:name, 1, :me, {clock}, {expires})
                ON CONFLICT (name) DO NOTHING RETURNING *
                """,
                params,
            )
        return lease_from_row(row) if row else None

    def holds_lease(self, instance_id: str, term: int, *, for_at_least: timedelta) -> bool:
        """Whether ``instance_id`` holds term ``term`` of the lease for ``for_at_least`` more, by the
        store's clock; call inside the transaction the lease fences.

        A plain read, no row lock: a takeover never waits for a claim (docs/exactly-once.md says
        why the claim stays fenced all the same).
        """
        params: dict[str, Any] = {"name": LEASE_NAME, "me": instance_id, "term": term}
        if self.db.is_sqlite:
            params["until"] = datetime.now(UTC) + for_at_least  # the write lock is held: no takeover meanwhile
            until = ":until"
        else:
            params["left"] = for_at_least.total_seconds()
            until = "clock_timestamp() + make_interval(secs => :left)"
        row = self.db.fetch_one(
            f"SELECT 1 AS held FROM leases WHERE name = :name AND holder_id = :me AND term = :term "
            f"AND expires_at > {until}",
            params,
        )
        return row is not None

    def release_lease(self, instance_id: str, term: int | None = None) -> None:
        """Give the lease up; standbys listening on Postgres hear of it at once.

        The lease expires now (rather than being cleared), so the next leader records when this
        term ended as its ``vacated_at``; ``term``'s row in ``lease_terms`` is marked released in
        the same transaction, so the next leader never finds the lease free and its term unmarked.
        """
        clock = ":now" if self.db.is_sqlite else "clock_timestamp()"
        params: dict[str, Any] = {"name": LEASE_NAME, "me": instance_id, "term": term}
        if self.db.is_sqlite:
            params["now"] = datetime.now(UTC)
        with self.db.transaction():
            if term is not None:
                self.db.execute(
                    f"""
                    UPDATE lease_terms SET released_at = {clock}
                    WHERE term = :term AND holder_id = :me AND EXISTS (
                        SELECT 1 FROM leases WHERE name = :name AND holder_id = :me AND term = :term
                    )
                    """,
                    params,
                )
            self.db.execute(
                f"UPDATE leases SET holder_id = NULL, expires_at = {clock} WHERE name = :name AND holder_id = :me",
                params,
            )
            self._notify()

    # -- terms ----------------------------------------------------------------------------

    def record_term(self, lease: Lease, instance: Instance) -> None:
        """Note that ``instance`` began ``lease``'s term, and forget terms long past.

        Its own statement after the takeover, not part of it: a leader that dies in between
        leaves the term unrecorded, and its successor then says less about why no daemon led,
        nothing worse (docs/missed-slots.md).
        """
        assert lease.acquired_at is not None, "a held lease has begun"
        with self.db.transaction():
            self.db.execute(
                """
                INSERT INTO lease_terms (term, holder_id, hostname, pid, acquired_at)
                VALUES (:term, :holder_id, :hostname, :pid, :acquired_at)
                ON CONFLICT (term) DO NOTHING
                """,
                {
                    "term": lease.term, "holder_id": instance.id, "hostname": instance.hostname,
                    "pid": instance.pid, "acquired_at": lease.acquired_at,
                },
            )  # fmt: skip
            self.db.execute("DELETE FROM lease_terms WHERE term <= :old", {"old": lease.term - KEPT_TERMS})

    def lease_term(self, term: int) -> LeaseTerm | None:
        """Who held ``term``, whether it gave the lease up, and when it was last heard from (its
        instance's last heartbeat, while that row is kept); None when the term was not recorded."""
        row = self.db.fetch_one(
            """
            SELECT lease_terms.*, scheduler_instances.last_heartbeat
            FROM lease_terms LEFT JOIN scheduler_instances ON scheduler_instances.id = lease_terms.holder_id
            WHERE lease_terms.term = :term
            """,
            {"term": term},
        )
        return None if row is None else lease_term_from_row(row)

    # -- change counter -------------------------------------------------------------------

    def bump_generation(self) -> None:
        """Tell every scheduler that jobs or pending executions changed (at once on Postgres)."""
        self.db.execute(BUMP_GENERATION_SQL)
        self._notify()

    def _notify(self) -> None:
        if not self.db.is_sqlite:
            self.db.execute(f"NOTIFY {CHANGES_CHANNEL}")

    def generation(self) -> int:
        return int(self.db.scalar("SELECT generation FROM store_state WHERE id = 1") or 0)
