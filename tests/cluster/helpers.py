"""Several ``jobctl daemon`` processes on one Postgres schema, each behind a proxy of its own.

A :class:`Cluster` starts daemons whose store URL points at their own :class:`TcpProxy`, so a
test can cut one instance off the store (or freeze or kill it) and watch what the others do.
A :class:`LeaseMonitor` samples the lease row through a direct connection (never proxied)
every 50 ms, so the test knows when each leader last renewed and when a new one took over.
Every process is tracked by PID and ended at teardown.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from jobctl.store.database import to_utc
from tests.cluster.proxy import TcpProxy
from tests.daemon.helpers import DaemonFactory, DaemonProcess, wait_for, write_config


def utcnow() -> datetime:
    return datetime.now(UTC)


def admin_service(store: Store) -> Service:
    return Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")


@dataclass
class Node:
    """One daemon and its proxy; ``instance_id`` once the daemon has registered."""

    name: str
    daemon: DaemonProcess
    proxy: TcpProxy | None
    instance_id: str = ""
    stopped_by_signal: bool = False

    @property
    def pid(self) -> int:
        return self.daemon.pid

    def log(self) -> str:
        return self.daemon.log()

    def alive(self) -> bool:
        return self.daemon.alive()


@dataclass
class LeaseSample:
    at: datetime
    holder_id: str | None
    term: int
    expires_at: datetime | None


class BackgroundLoop:
    """A daemon thread running ``_run`` until :meth:`stop`; ``_stop`` is its stop flag."""

    thread_name = "background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        raise NotImplementedError


class LeaseMonitor(BackgroundLoop):
    """Samples the lease row every ``interval`` seconds on a thread of its own."""

    thread_name = "lease-monitor"

    def __init__(self, url: str, interval: float = 0.05) -> None:
        self.url = url
        self.interval = interval
        self.samples: list[LeaseSample] = []
        self.errors = 0
        self._lock = threading.Lock()
        super().__init__()

    def _run(self) -> None:
        store = open_store(self.url)
        try:
            while not self._stop.is_set():
                try:
                    row = store.db.fetch_one("SELECT holder_id, term, expires_at FROM leases WHERE name = 'scheduler'")
                except Exception:
                    self.errors += 1
                    row = None
                if row is not None:
                    sample = LeaseSample(utcnow(), row["holder_id"], int(row["term"]), to_utc(row["expires_at"]))
                    with self._lock:
                        self.samples.append(sample)
                self._stop.wait(self.interval)
        finally:
            store.close()

    def history(self) -> list[LeaseSample]:
        with self._lock:
            return list(self.samples)

    def holder(self) -> str | None:
        """The holder of an unexpired lease at the last sample, if any."""
        history = self.history()
        if not history:
            return None
        last = history[-1]
        return last.holder_id if last.expires_at is not None and last.expires_at > last.at else None

    def last_expiry_of(self, instance_id: str, *, before: datetime | None = None) -> datetime | None:
        """The latest ``expires_at`` written while ``instance_id`` held the lease (sampled before ``before``)."""
        found = None
        for sample in self.history():
            if before is not None and sample.at > before:
                break
            if sample.holder_id == instance_id and sample.expires_at is not None:
                found = sample.expires_at if found is None else max(found, sample.expires_at)
        return found

    def first_holder_after(self, moment: datetime, *, other_than: str) -> LeaseSample | None:
        """The first sample after ``moment`` showing a valid lease held by someone else."""
        for sample in self.history():
            if sample.at <= moment or sample.holder_id in (None, other_than):
                continue
            if sample.expires_at is not None and sample.expires_at > sample.at:
                return sample
        return None

    def terms(self) -> list[tuple[str | None, int, datetime]]:
        """(holder, term, first seen) for each term in order."""
        seen: list[tuple[str | None, int, datetime]] = []
        for sample in self.history():
            if sample.holder_id is None:
                continue
            if not seen or (seen[-1][0], seen[-1][1]) != (sample.holder_id, sample.term):
                seen.append((sample.holder_id, sample.term, sample.at))
        return seen


@dataclass
class Cluster:
    """Daemons on one Postgres schema; each one behind a proxy when ``proxied``."""

    pg_url: str
    workdir: Path
    ttl: float = 3
    proxied: bool = True
    daemon_settings: dict[str, Any] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = {"lease_ttl_seconds": self.ttl, "shutdown_grace_seconds": 2, **self.daemon_settings}
        self.config_path = write_config(self.workdir / "cluster.toml", **settings)
        self._factory = DaemonFactory(self.pg_url, self.config_path, self.workdir)
        self.store = open_store(self.pg_url)
        self.service = admin_service(self.store)
        self.monitor = LeaseMonitor(self.pg_url).start()

    # -- processes --------------------------------------------------------------------------

    def start(self, count: int = 1) -> list[Node]:
        started = []
        for _ in range(count):
            proxy = TcpProxy() if self.proxied else None
            self._factory.store_url = proxy.url_for(self.pg_url) if proxy else self.pg_url
            daemon = self._factory.start()
            node = Node(f"d{len(self.nodes)}", daemon, proxy)
            self.nodes.append(node)
            node.instance_id = self._wait_registered(daemon.pid)
            started.append(node)
        return started

    def _wait_registered(self, pid: int) -> str:
        return str(wait_for(lambda: self._instance_id(pid), timeout=10, what="registration"))

    def _instance_id(self, pid: int) -> str | None:
        row = self.store.db.fetch_one(
            "SELECT id FROM scheduler_instances WHERE pid = :pid ORDER BY started_at DESC LIMIT 1", {"pid": pid}
        )
        return None if row is None else str(row["id"])

    def restart(self, node: Node) -> Node:
        """Start a new daemon in place of a dead one (through the same proxy)."""
        assert not node.alive()
        self._factory.store_url = node.proxy.url_for(self.pg_url) if node.proxy else self.pg_url
        daemon = self._factory.start()
        fresh = Node(node.name + "'", daemon, node.proxy)
        fresh.instance_id = self._wait_registered(daemon.pid)
        self.nodes.append(fresh)
        return fresh

    def live(self) -> list[Node]:
        return [node for node in self.nodes if node.alive()]

    def node_of(self, instance_id: str | None) -> Node | None:
        return next((node for node in self.nodes if node.instance_id == instance_id), None)

    def wait_leader(self, timeout: float = 15, *, other_than: str | None = None) -> Node:
        def leader() -> Node | None:
            node = self.node_of(self.monitor.holder())
            return node if node is not None and node.instance_id != other_than and node.alive() else None

        found: Node = wait_for(leader, timeout=timeout, what="a leader", interval=0.02)
        return found

    def stop_all(self, timeout: float = 30) -> None:
        """SIGCONT (in case one is frozen), then SIGTERM each live daemon, SIGKILL after ``timeout``."""
        for node in self.nodes:
            if node.alive():
                node.daemon.signal(signal.SIGCONT)
        for node in self.nodes:
            if node.alive():
                node.daemon.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            try:
                node.daemon.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                node.daemon.signal(signal.SIGKILL)
                node.daemon.proc.wait(timeout=10)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop_all()
        for node in self.nodes:
            if node.proxy is not None:
                node.proxy.close()
        self.monitor.stop()
        self.store.close()

    # -- store inspection -------------------------------------------------------------------

    def executions(self) -> list[dict[str, Any]]:
        rows = self.store.db.fetch_all(
            "SELECT id, job_id, status, scheduled_for, attempt, started_at, completed_at, created_at, instance_id, "
            "triggered_by, error_message FROM executions"
        )
        for row in rows:
            for key in ("scheduled_for", "started_at", "completed_at", "created_at"):
                row[key] = to_utc(row[key])
        return rows

    def instances(self) -> dict[str, dict[str, Any]]:
        return {entry["id"]: entry for entry in self.service.get_status()["instances"]}

    def backend_states(self, node: Node) -> list[dict[str, Any]]:
        """``pg_stat_activity`` of the node's sessions (those behind its proxy)."""
        ports = node.proxy.upstream_ports() if node.proxy else []
        if not ports:
            return []
        return self.store.db.fetch_all(
            "SELECT pid, state, client_port, query, backend_xid IS NOT NULL AS wrote, "
            "now() - state_change AS in_state FROM pg_stat_activity WHERE client_port = ANY(:ports)",
            {"ports": ports},
        )


@contextlib.contextmanager
def cluster_on(pg_url: str, workdir: Path, **kwargs: Any) -> Iterator[Cluster]:
    cluster = Cluster(pg_url, workdir, **kwargs)
    try:
        yield cluster
    finally:
        cluster.close()


def log_lines(node: Node, *needles: str) -> list[str]:
    return [line for line in node.log().splitlines() if any(needle in line for needle in needles)]


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


# -- slot analysis ----------------------------------------------------------------------------


@dataclass
class SlotReport:
    """What the store says about the scheduled slots (attempt 1) of some jobs."""

    duplicates: list[tuple[str, datetime]]
    bad_spacing: list[tuple[str, datetime, datetime]]
    long_gaps: dict[str, list[tuple[datetime, datetime]]]
    late_runs: dict[str, list[dict[str, Any]]]
    runs: int

    def max_long_gaps(self) -> int:
        return max((len(gaps) for gaps in self.long_gaps.values()), default=0)

    def max_late_runs(self) -> int:
        return max((len(runs) for runs in self.late_runs.values()), default=0)


def analyse_slots(
    rows: list[dict[str, Any]], periods: dict[str, float], *, until: datetime, late_after: float = 1.0
) -> SlotReport:
    """Duplicates, off-grid spacing, long gaps and late claims per job, for slots before ``until``."""
    duplicates: list[tuple[str, datetime]] = []
    bad_spacing: list[tuple[str, datetime, datetime]] = []
    long_gaps: dict[str, list[tuple[datetime, datetime]]] = {}
    late_runs: dict[str, list[dict[str, Any]]] = {}
    count = 0
    by_job: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        ran = row["status"] != "missed"  # a missed range is the record of slots that did not run
        if ran and row["attempt"] == 1 and row["triggered_by"] == "scheduler" and row["scheduled_for"] < until:
            by_job.setdefault(row["job_id"], []).append(row)
    for job_id, runs in by_job.items():
        period = timedelta(seconds=periods[job_id])
        slots = sorted(run["scheduled_for"] for run in runs)
        count += len(slots)
        duplicates += [(job_id, a) for a, b in itertools.pairwise(slots) if a == b]
        for a, b in itertools.pairwise(slots):
            if a == b:
                continue
            if (b - a) % period:
                bad_spacing.append((job_id, a, b))
            if b - a > period:
                long_gaps.setdefault(job_id, []).append((a, b))
        late = [run for run in runs if (run["created_at"] - run["scheduled_for"]).total_seconds() > late_after]
        if late:
            late_runs[job_id] = late
    return SlotReport(duplicates, bad_spacing, long_gaps, late_runs, count)


def pg_connections(pid: int, port: int = 5432) -> int:
    """TCP connections of process ``pid`` to ``port`` on loopback (from /proc, no tools needed)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[2].rsplit(":", 1)[1] == f"{port:04X}" and fields[3] == "01":
                inodes.add(fields[9])
    count = 0
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    count += 1
    except OSError:
        return 0
    return count
