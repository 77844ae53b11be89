"""``GET /metrics``: the Prometheus text format, produced with ``prometheus_client``.

Three parts, each rendered by ``prometheus_client``:

- :class:`StoreCollector` reads what every daemon must report alike about the cluster (the lease
  term, the live instances, a store round trip).
- :class:`JobLines` holds the per-job families: every job's sample lines, rendered by
  ``prometheus_client`` when the job's figures changed and kept until they change again, so a
  refresh reads the store (a few aggregate statements whatever the number of jobs) and renders
  only the jobs that changed since the previous one; the families are the kept lines joined.
- :class:`InstanceCollector` reports this process: whether it leads, how late its runs started,
  how long its claims took, and the build. Read live on every scrape (no I/O).

The store's parts are kept for at most :data:`STORE_FIGURES_MAX_AGE` seconds, so scrapes arriving
together cost the store one read, and a leader and a standby answer the same. The texts are
concatenated; their metric names never overlap. This is the only module that imports
``prometheus_client`` (docs/metrics.md says why the scheduler keeps plain counters).
"""

from __future__ import annotations

import logging
import platform
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from jobctl import __version__
from jobctl.models import ExecutionStatus
from jobctl.scheduler.stats import DistributionSnapshot, SchedulerStats
from jobctl.store import Store
from jobctl.store.figures import FigureChunk, JobFigures, JobSignature

log = logging.getLogger(__name__)

ACTIVE_STATUSES = frozenset(status.value for status in ExecutionStatus if status.is_active)
"""Statuses a run leaves again: not counted in ``jobctl_job_runs_total``, whose series only grow."""

STORE_FIGURES_MAX_AGE = 5.0
"""Seconds a rendering of the store's figures is served again before the store is read anew."""

REFRESH_LEAD_SECONDS = 2.0
"""How long before an expected scrape the store's figures are refreshed (a refresh takes about a
second with 10,000 jobs on a busy machine)."""

MAX_PLANNED_INTERVAL = 3600.0
"""Scrapes further apart than this are not planned for."""

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format every Prometheus version reads."""


class StoreCollector:
    """Per-job figures and the cluster's view of the lease, read from the store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        cluster = self.store.figures.cluster_figures()
        yield _gauge(
            "jobctl_scheduler_lease_term",
            "Term of the leader lease (grows at every change of leader)",
            cluster.lease_term,
        )
        yield _gauge(
            "jobctl_scheduler_live_instances",
            "Daemons that have not stopped (by their heartbeat rows)",
            cluster.live_instances,
        )
        yield _gauge(
            "jobctl_store_round_trip_seconds",
            "Time one small read of the store took, at the last refresh",
            cluster.round_trip_seconds,
        )


JOB_FAMILIES: tuple[tuple[str, str, str], ...] = (
    ("jobctl_job_last_success_timestamp_seconds", "gauge", "When the job's latest successful run ended (Unix time)"),
    ("jobctl_job_last_run_timestamp_seconds", "gauge",
     "When the job's latest finished run started (Unix time), labelled with its status"),
    ("jobctl_job_last_duration_seconds", "gauge", "How long the job's latest finished run took"),
    ("jobctl_job_next_run_timestamp_seconds", "gauge",
     "When the job runs next (Unix time); absent while paused, disabled or out of slots"),
    ("jobctl_job_runs", "counter", "Finished executions of the job by status"),
    ("jobctl_job_missed_slots", "counter", "Scheduled slots of the job that were missed (absent: none yet)"),
    ("jobctl_job_skipped_slots", "counter",
     "Scheduled slots of the job recorded as skipped, maxInstances and the like (absent: none yet)"),
    ("jobctl_job_running", "gauge", "Runs of the job going on now (absent: none)"),
)  # fmt: skip
"""Name, type and help of each per-job family, in the order they are written."""


def job_families(jobs: list[JobFigures]) -> list[Metric]:
    """The per-job metric families of ``jobs``, label ``job`` = the job's name."""
    families, _ = _job_families_counted(jobs)
    return families


def _job_families_counted(jobs: list[JobFigures]) -> tuple[list[Metric], list[tuple[int, ...]]]:
    """The per-job families of ``jobs``, and how many samples each job has in each family.

    Only what a job has is written: a timestamp it does not have yet (never ran, never
    succeeded, no next run) is left out rather than reported as 0; ``runs_total`` has one series
    per finished status the job has executions in (pending and running come and go, so they are
    no counter: ``running`` is the gauge of the runs going on, present while there are some); the
    slot counters appear with the job's first skipped or missed slot. With 10,000 jobs every
    series that is always there costs a full rendering about 30 ms (docs/metrics.md).
    """
    families = [Metric(name, documentation, kind) for name, kind, documentation in JOB_FAMILIES]
    last_success, last_run, last_duration, next_run, runs, missed, skipped, running = families
    counts: list[tuple[int, ...]] = []
    for job in jobs:
        before = [len(family.samples) for family in families]
        label = {"job": job.name}
        if job.last_success_time is not None:
            last_success.add_sample(last_success.name, label, job.last_success_time.timestamp())
        if job.last_status is not None and job.last_run_time is not None:
            last_run.add_sample(last_run.name, {**label, "status": job.last_status}, job.last_run_time.timestamp())
        if job.last_duration_seconds is not None:
            last_duration.add_sample(last_duration.name, label, job.last_duration_seconds)
        if job.next_run_time is not None:
            next_run.add_sample(next_run.name, label, job.next_run_time.timestamp())
        for status, count in job.runs_by_status.items():
            if status not in ACTIVE_STATUSES:
                runs.add_sample(f"{runs.name}_total", {**label, "status": status}, count)
        for counter, status in ((missed, "missed"), (skipped, "skipped")):
            if status in job.slots_by_status:
                counter.add_sample(f"{counter.name}_total", label, job.slots_by_status[status])
        if job.running:
            running.add_sample(running.name, label, job.running)
        counts.append(tuple(len(family.samples) - start for family, start in zip(families, before, strict=True)))
    return families, counts


RENDER_CHUNK = 1000
"""Jobs rendered per ``generate_latest`` call. All 100,000 jobs of a daemon's first read in one
call held every sample object and the whole text at once: the daemon stayed at 445 MB."""


class JobLines:
    """Every job's sample lines in each per-job family, as ``prometheus_client`` rendered them.

    The text format wants each family's samples together under its ``# HELP``/``# TYPE`` lines,
    so a job's lines are kept per family, and a family's text is its header followed by every
    job's lines in it. :meth:`apply` renders the jobs a store read found changed (all of them
    at the first read) in one ``generate_latest`` call and cuts its output into each job's lines
    by the number of samples each job put in each family (the format writes one line per
    sample); a job that is gone is dropped. A refresh with a few changed jobs then costs the
    store read and a join, not the rendering of every job's samples (docs/metrics.md).
    """

    def __init__(self) -> None:
        self.signatures: dict[str, JobSignature] = {}
        """What the store said about each job at the read its lines come from."""
        self._families: list[dict[str, bytes]] = [{} for _ in JOB_FAMILIES]
        """Each family's lines of each job, by job id."""
        self._headers = [block[0] for block in _family_blocks(generate_latest(_Families(job_families([]))), [])]

    def apply(self, chunks: Iterable[FigureChunk]) -> int:
        """Take in a store read, span by span; returns how many jobs were rendered anew."""
        signatures: dict[str, JobSignature] = {}
        rendered = 0
        for chunk in chunks:
            self._render(chunk.changed)
            rendered += len(chunk.changed)
            signatures.update(chunk.signatures)
        for job_id in self.signatures.keys() - signatures.keys():
            for lines in self._families:
                lines.pop(job_id, None)
        self.signatures = signatures
        return rendered

    def _render(self, jobs: list[JobFigures]) -> None:
        for start in range(0, len(jobs), RENDER_CHUNK):
            chunk = jobs[start : start + RENDER_CHUNK]
            families, counts = _job_families_counted(chunk)
            blocks = _family_blocks(generate_latest(_Families(families)), counts)
            for lines, block in zip(self._families, blocks, strict=True):
                for index, job in enumerate(chunk):
                    if block[index + 1]:
                        lines[job.job_id] = block[index + 1]
                    else:  # no sample in this family: no entry (most jobs have none in several)
                        lines.pop(job.job_id, None)

    def text(self) -> bytes:
        """The per-job families, every job's kept lines under each family's header."""
        parts: list[bytes] = []
        for header, lines in zip(self._headers, self._families, strict=True):
            parts.append(header)
            parts.append(b"".join(lines.values()))
        return b"".join(parts)


def _family_blocks(text: bytes, counts: list[tuple[int, ...]]) -> list[list[bytes]]:
    """``text`` rendered from the per-job families, cut into ``[header, job 1's lines, ...]`` per family.

    ``counts[j][f]`` is how many samples job ``j`` has in family ``f``; the text is, for each
    family in order, its two header lines, then one line per sample in the order they were added.
    """
    lines = [line + b"\n" for line in text.split(b"\n")[:-1]]  # one per line; label values escape "\n"
    blocks: list[list[bytes]] = []
    position = 0
    for family in range(len(JOB_FAMILIES)):
        header = lines[position] + lines[position + 1]
        if not header.startswith(b"# HELP "):
            raise AssertionError(f"unexpected exposition layout at line {position}: {header[:80]!r}")
        position += 2
        block = [header]
        for job_counts in counts:
            end = position + job_counts[family]
            block.append(b"".join(lines[position:end]))
            position = end
        blocks.append(block)
    if position != len(lines):
        raise AssertionError(f"{len(lines) - position} lines of the exposition were not accounted for")
    return blocks


class _Families:
    """Ready families, as a collector ``generate_latest`` can render."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class InstanceCollector:
    """This daemon's own figures: leadership, scheduler distributions, build."""

    def __init__(self, stats: SchedulerStats, is_leader: Callable[[], bool], store_backend: str) -> None:
        self.stats = stats
        self.is_leader = is_leader
        self.store_backend = store_backend

    def collect(self) -> Iterator[Metric]:
        yield _gauge(
            "jobctl_scheduler_leader",
            "1 while this daemon holds the leader lease, else 0",
            1 if self.is_leader() else 0,
        )
        yield _histogram(
            "jobctl_scheduler_lateness_seconds",
            "Seconds from a slot's due moment to the launch of its run, on this daemon",
            self.stats.lateness.snapshot(),
        )
        yield _histogram(
            "jobctl_scheduler_claim_batch_duration_seconds",
            "Seconds each claim transaction of due slots took, on this daemon",
            self.stats.claim_batches.snapshot(),
        )
        info = InfoMetricFamily("jobctl_build", "The jobctl build this daemon runs")
        info.add_metric([], {"version": __version__, "python": platform.python_version(), "store": self.store_backend})
        yield info


@dataclass
class _Rendered:
    text: bytes
    at: float


class MetricsExposition:
    """Renders ``/metrics``: the store's part cached for at most ``max_age`` seconds, this
    instance's part live. Safe to call from several request threads: one refreshes, the others
    wait for its result rather than reading the store too.

    Prometheus scrapes at a steady interval, usually longer than ``max_age``, so a plain cache
    would be stale at every scrape and each scrape would wait for the store read and the
    rendering of the jobs that changed (:class:`JobLines`). So the exposition learns the interval between the last
    two scrapes and refreshes the store's part ``lead`` seconds before the next one is due (more
    when the last refresh took long, never so early that the text is stale by then), in a
    thread of its own: a periodic scrape finds a text at most about ``lead`` old and only renders
    the daemon's own part. It costs one refresh per scrape, as before, not one per ``max_age``;
    an irregular or first scrape still refreshes on the spot (docs/metrics.md).
    """

    def __init__(
        self,
        store: Store,
        instance_collector: InstanceCollector,
        *,
        max_age: float = STORE_FIGURES_MAX_AGE,
        lead: float = REFRESH_LEAD_SECONDS,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self.lead = lead
        self.refreshes = 0
        """How many times the store's part was read and rendered (for tests and the benchmark)."""
        self.jobs_rendered = 0
        """How many jobs the latest refresh rendered anew (the others' lines were kept)."""
        self.plan_ahead = True
        """Whether to refresh ahead of the scrape expected next (off: every refresh is a scrape's)."""
        self._store_registry = _registry(StoreCollector(store))
        self._job_lines = JobLines()
        self._instance_registry = _registry(instance_collector)
        self._cached: _Rendered | None = None
        self._lock = threading.Lock()
        self._last_scrape: float | None = None
        self._refresh_seconds = 0.0
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()

    def render(self) -> bytes:
        """The whole exposition. :raises StoreError: when the store cannot be read."""
        self._plan_next_refresh(time.monotonic())
        return self._store_text() + generate_latest(self._instance_registry)

    def _store_text(self, *, ahead: bool = False) -> bytes:
        with self._lock:
            cached = self._cached
            if ahead or cached is None or time.monotonic() - cached.at >= self.max_age:
                begun = time.monotonic()  # the data is as old as the moment it was read
                cluster = generate_latest(self._store_registry)
                self.jobs_rendered = self._job_lines.apply(
                    self.store.figures.job_figure_chunks(self._job_lines.signatures)
                )
                cached = _Rendered(text=cluster + self._job_lines.text(), at=begun)
                self._cached = cached
                self.refreshes += 1
                self._refresh_seconds = time.monotonic() - begun
            return cached.text

    def _plan_next_refresh(self, now: float) -> None:
        """After a scrape: refresh ``lead`` seconds before the next one, if scrapes come at an
        interval the cache cannot bridge (longer than ``max_age``, at most an hour)."""
        with self._timer_lock:
            previous, self._last_scrape = self._last_scrape, now
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            interval = None if previous is None else now - previous
            if interval is None or not self.plan_ahead or not self.max_age < interval <= MAX_PLANNED_INTERVAL:
                return
            # Early enough for the last refresh's duration to pass half again, late enough that the
            # text is still younger than max_age when the scrape comes.
            lead = min(max(self.lead, 1.5 * self._refresh_seconds), 0.9 * self.max_age)
            self._timer = threading.Timer(max(0.0, interval - lead), self._refresh_ahead)
            self._timer.daemon = True
            self._timer.start()

    def prewarm(self) -> threading.Thread:
        """Render every job's lines now, in a thread of its own: at a daemon's start, so that its
        first scrape reads the store and renders only what changed since, rather than all of it.
        The text is not kept for serving: the first scrape still gets the store as it is then."""
        thread = threading.Thread(target=self._warm, name="metrics-prewarm", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            with self._lock:
                if self._cached is None:
                    self._job_lines.apply(self.store.figures.job_figure_chunks(self._job_lines.signatures))
        except Exception as exc:  # noqa: BLE001 - the first scrape will read it all and report it
            log.warning("metrics: rendering every job's figures at start failed: %s", exc)

    def close(self) -> None:
        """Cancel a planned refresh (the store is about to close)."""
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _refresh_ahead(self) -> None:
        try:
            self._store_text(ahead=True)
        except Exception as exc:  # noqa: BLE001 - the scrape itself will refresh and report it
            log.warning("metrics: refreshing the store's figures ahead of a scrape failed: %s", exc)


def daemon_exposition(store: Store, stats: SchedulerStats, is_leader: Callable[[], bool]) -> MetricsExposition:
    """The exposition of one daemon over ``store``."""
    backend = "sqlite" if store.db.is_sqlite else "postgresql"
    return MetricsExposition(store, InstanceCollector(stats, is_leader, backend))


# -- building families -------------------------------------------------------------------


def _registry(collector: Collector) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return registry


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _histogram(name: str, documentation: str, snapshot: DistributionSnapshot) -> HistogramMetricFamily:
    cumulative: list[tuple[str, float]] = []
    running_total = 0
    for bound, count in zip([*snapshot.bounds, float("inf")], snapshot.counts, strict=True):
        running_total += count
        cumulative.append((floatToGoString(bound), running_total))  # type: ignore[no-untyped-call]
    return HistogramMetricFamily(name, documentation, buckets=cumulative, sum_value=snapshot.total)
