"""Where retention has removed a job's history, for its timeline and verdict (``jobctl jobs why``).

Retention deletes finished executions created more than ``[history] keep_days`` ago and those
beyond a job's newest ``keep_per_job`` (docs/retention.md). Its passes leave no record of what
they removed, so the span is inferred from what they left and the settings in force, which is
what retention itself goes by:

- ``keep_per_job``: when the job has that many executions or more, every finished one before
  its oldest kept finished execution was retention's to remove; the span ends at that
  execution's slot (or start), and only when the job had a slot before it.
- ``keep_days``: everything created before now minus that many days, when the job had a slot
  before then; the span ends there, or where the oldest kept finished execution is when that is
  older (a run made since the pruner's last pass, or a store no pruner has been at).

A slot in the span with no record left is "unknown", not "not run": it may well have run. The
settings are those of the process that answers (the daemon's through the API), so a store
pruned under other settings is judged by these (docs/why.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from jobctl.models import RetentionPolicy
from jobctl.store import Store


@dataclass(frozen=True, kw_only=True)
class PrunedSpan:
    """From the job's first slot until :attr:`until`, retention has removed what was recorded."""

    since: datetime
    """The job's first slot: nothing was recorded before it but manual runs."""
    by_count: datetime | None
    """Where ``keep_per_job``'s part ends (the oldest kept finished execution), if it has one."""
    by_age: datetime | None
    """Where ``keep_days``'s part ends (now minus the days), if it has one."""
    policy: RetentionPolicy

    @property
    def until(self) -> datetime:
        """The first instant whose history retention has kept."""
        return max(edge for edge in (self.by_count, self.by_age) if edge is not None)

    def holds(self, moment: datetime) -> bool:
        return moment < self.until

    def settings(self, moment: datetime) -> str:
        """The settings that removed the history of ``moment`` (``[history] keep_per_job = 5``)."""
        named = []
        if self.by_count is not None and moment < self.by_count:
            named.append(f"keep_per_job = {self.policy.keep_per_job}")
        if self.by_age is not None and moment < self.by_age:
            named.append(f"keep_days = {self.policy.keep_days}")
        return "[history] " + ", ".join(named)


def pruned_span(
    store: Store, job_id: str, policy: RetentionPolicy, *, first_slot: datetime, looking_from: datetime, now: datetime
) -> PrunedSpan | None:
    """The span of the job's history that retention removed, when the timeline looks at any of it
    (``looking_from``: the earliest instant it asks about); None when there is none, or when the
    timeline looks only at kept history (then the job's executions are not counted)."""
    oldest = store.history.oldest_finished(job_id)
    cutoff = now - timedelta(days=policy.keep_days)
    # keep_days removes what was made before its cutoff; the kept history may begin earlier
    # (a run made since the pruner's last pass, or a store no pruner has been at)
    age_edge = cutoff if oldest is None else min(cutoff, oldest)
    by_age = age_edge if first_slot < age_edge else None
    by_count = None if oldest is None or oldest <= first_slot else oldest
    if by_count is not None and (
        looking_from >= by_count or not store.history.has_at_least(job_id, policy.keep_per_job)
    ):
        by_count = None  # not looked at, or the job has fewer runs than keep_per_job removes from
    if by_age is None and by_count is None:
        return None
    span = PrunedSpan(since=first_slot, by_count=by_count, by_age=by_age, policy=policy)
    return span if looking_from < span.until else None
