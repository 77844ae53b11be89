"""``jobctl apply`` / ``POST /apply``: make the store hold the jobs a file declares, idempotently.

A job is known by its name. Each ``[[jobs]]`` table (:mod:`jobctl.wire.job_tables`) declares the
whole job: keys left out mean their defaults. The plan compares the job as stored with the job
as declared, both written as jobs-file tables, so a job counts as changed only when a key would
be exported differently, and an unchanged job is never written (not even ``updatedAt``).

Everything is checked before anything is written: every error of every job is reported (each
at ``["body", "jobs", INDEX, KEY]`` with the job's name in its message) and nothing changes;
otherwise the creates, updates and deletes are written in one transaction. Apply records the
``source`` of the jobs it sets; ``prune`` deletes the jobs of that source that the file no
longer holds, and only those (docs/jobs-files.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobctl.errors import Conflict, NotFound, ValidationFailed
from jobctl.models import Caller, Job, TaskFunction
from jobctl.store import JobFilter, Store
from jobctl.store.writes import JobChanges, NewJob
from jobctl.wire import job_tables
from jobctl.wire.requests import JobCreate, parse_body
from jobctl.wire.responses import ApplyPlan, JobChangeOut, stays_paused

ALL_JOBS = 1 << 62
"""A limit no store reaches: apply reads every job once."""

PAUSED_KEY = "paused"
"""A table that leaves it out keeps the stored pause (and who paused, when, why): a pause is the
operator's (or auto-pause's) lever at run time, not part of the job's declaration
(docs/jobs-files.md). Written in the table, it sets the pause as every other key sets its field."""


@dataclass(kw_only=True)
class PlannedApply:
    """The plan (:class:`ApplyPlan`) and the writes that carry it out."""

    creates: list[NewJob] = field(default_factory=list)
    updates: list[tuple[Job, JobChanges]] = field(default_factory=list)
    deletes: list[Job] = field(default_factory=list)
    unchanged: int = 0
    changes: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    stays_paused: list[Job] = field(default_factory=list)
    """Paused jobs whose table leaves ``paused`` out: they stay paused, and the plan says so."""

    def summary(self) -> ApplyPlan:
        from jobctl.service.plan_masking import shown_changes

        updated: list[JobChangeOut] = [
            {"name": job.name, "changes": shown_changes(self.changes[job.name])} for job, _ in self.updates
        ]
        return {
            "created": [new.settings.name for new in self.creates],
            "updated": updated,
            "deleted": [job.name for job in self.deletes],
            "unchanged": self.unchanged,
            "staysPaused": [stays_paused(job) for job in self.stays_paused],
        }

    @property
    def writes_anything(self) -> bool:
        return bool(self.creates or self.updates or self.deletes)


def plan_apply(
    store: Store,
    tables: Sequence[Any],
    *,
    source: str,
    prune: bool,
    caller: Caller,
    default_timezone: str,
    now: datetime,
    notifiers: frozenset[str] = frozenset(),
    concurrency_groups: Collection[str] = (),
    allow_empty: bool = False,
) -> PlannedApply:
    """What applying ``tables`` (from ``source``) changes. Reads only. ``notifiers``: the names
    notification rules may use (the config's). ``allow_empty``: let ``prune`` delete every job
    of the source when ``tables`` is empty (:func:`refuse_an_empty_prune`).

    :raises ValidationFailed: with every error of every job, each naming its job; at
        ``["body", "jobs"]`` for an empty file that would prune jobs, without ``allow_empty``.
    :raises Conflict: when a job to prune has pending or running runs (:func:`refuse_busy_prunes`).
    """
    from jobctl.service.job_input import job_changes, new_job

    task_functions = _task_functions(store)
    by_id = {tf.id: tf for tf in task_functions.values()}
    stored = {job.name: job for job in store.jobs.list(JobFilter(), limit=ALL_JOBS, offset=0)}
    plan = PlannedApply()
    errors: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def resolve_task(name: str) -> int:
        found = task_functions.get(name)
        if found is None:
            raise NotFound("task function", name)
        return found.id

    for index, table in enumerate(tables):
        label = _label(table, index)
        if not isinstance(table, Mapping):
            errors.append(_job_error(index, [], label, "each job must be a table of jobs-file keys"))
            continue
        name = table.get("name")
        if isinstance(name, str):
            if name in seen:
                errors.append(_job_error(index, ["name"], label, f"the name is already used by job #{seen[name] + 1}"))
                continue
            seen[name] = index
        try:
            body = _checked_body(table, resolve_task=resolve_task, default_timezone=default_timezone)
            current = stored.get(body["name"]) if isinstance(body["name"], str) else None
            if current is not None and PAUSED_KEY not in table:
                body["isPaused"] = current.is_paused  # the pause is a lever of run time, not declared
                if current.is_paused:
                    plan.stays_paused.append(current)
            wanted = job_tables.table_from_fields(body, task_name=by_id[body["taskFunctionId"]].name)
            if current is None:
                new = new_job(
                    store, body, caller=caller, default_timezone=default_timezone, now=now,
                    task_function_of=by_id.get, notifiers=notifiers, concurrency_groups=concurrency_groups,
                )  # fmt: skip
                plan.creates.append(dataclasses.replace(new, settings=dataclasses.replace(new.settings, source=source)))
                continue
            changes = _differences(_table_of(current, by_id), wanted)
            if current.source != source:
                changes["source"] = [current.source, source]
            if not changes:
                plan.unchanged += 1
                continue
            sent = {f: body[f] for key in changes if key != "source" for f in job_tables.FIELDS_OF_KEY[key]}
            change = job_changes(
                store, current, sent, caller=caller, default_timezone=default_timezone, now=now, notifiers=notifiers,
                concurrency_groups=concurrency_groups,
            )  # fmt: skip
            change = dataclasses.replace(
                change,
                settings=dataclasses.replace(change.settings, source=source),
                changed=change.changed | {"source"},
            )
            plan.updates.append((current, change))
            plan.changes[current.name] = changes
        except ValidationFailed as exc:
            errors.extend(_job_errors(exc, index, table, label))
    if errors:
        raise ValidationFailed(errors)
    if prune:
        gone = [job for job in stored.values() if job.source == source and job.name not in seen]
        plan.deletes = sorted(gone, key=lambda job: job.name)
        if not tables and not allow_empty:
            refuse_an_empty_prune(plan.deletes, source)
        refuse_busy_prunes(store, plan.deletes)  # a dry run answers as the apply would
    return plan


def refuse_an_empty_prune(deletes: Sequence[Job], source: str) -> None:
    """Refuse to prune every job of a source for a file that declares no jobs, unless asked to.

    An empty file (or one of comments only) is what a failed template render, a truncated copy
    or ``crontab -l`` of a user without a crontab leaves; applied with prune, it deleted every
    job of its source, with their history, without a word. Without prune it changes nothing
    and is not refused; nor is it when the source has no jobs to delete.

    :raises ValidationFailed: at ``["body", "jobs"]``, naming how many jobs would go.
    """
    if deletes:
        message = job_tables.no_jobs_message(len(deletes), source)
        raise ValidationFailed.field(["body", "jobs"], message, job_tables.NO_JOBS)


def refuse_busy_prunes(store: Store, deletes: Sequence[Job]) -> None:
    """Refuse a plan that prunes a job with pending or running runs. Checked when planning, so
    a dry run reports the conflict the apply would meet (same message, 409, exit 4), and again
    in the apply's transaction, for a run started in between.

    :raises Conflict: naming every such job.
    """
    busy = [job.name for job in deletes if store.executions.active_of_job(job.id)]
    if busy:
        names = ", ".join(repr(name) for name in busy)
        raise Conflict(f"cannot prune job(s) with pending or running runs: {names}; nothing was applied")


_STAND_INS = {"name": "-", "jobTypeId": 1, "scheduleConfig": {}, "taskFunctionId": 1, "taskArgs": None}
"""Valid values for the fields a table failed to give, so the model still checks the others."""


def _checked_body(
    table: Mapping[str, Any], *, resolve_task: Callable[[str], int], default_timezone: str
) -> dict[str, Any]:
    """The job's body, its types checked by the API's model (the unchanged jobs' too).

    :raises ValidationFailed: with the errors of the keys and of the model together.
    """
    body, errors = job_tables.partial_body(table, resolve_task=resolve_task, default_timezone=default_timezone)
    stand_ins = {key: value for key, value in _STAND_INS.items() if key not in body}
    try:
        parse_body(JobCreate, {**body, **stand_ins})
    except ValidationFailed as exc:
        errors.extend(error for error in exc.errors if error["loc"][1:2] != [] and error["loc"][1] not in stand_ins)
    if errors:
        raise ValidationFailed(errors)
    return body


def execute_apply(
    store: Store,
    plan: PlannedApply,
    *,
    caller: Caller,
    source: str,
    now: datetime,
    after_update: Callable[[Job, JobChanges], None],
) -> None:
    """Write ``plan`` in one transaction, each change with its audit entry (nothing at all when
    the plan changes nothing). ``after_update`` does what an update of a job entails besides
    the write (ending a disabled job's waiting runs, noting a pause).

    :raises Conflict: for a pruned job with pending or running runs, or a name taken meanwhile;
        nothing is written then.
    """
    from jobctl.service import audit

    if not plan.writes_anything:
        return
    applied = {"appliedFrom": source}
    with store.transaction():
        refuse_busy_prunes(store, plan.deletes)
        for job in plan.deletes:
            store.jobs.delete(job.id)
            audit.record_job(store, caller, audit.JOB_DELETED, job, details={**applied, "pruned": True}, at=now)
        for job, changes in plan.updates:
            store.jobs.update(job.id, changes)
            after_update(job, changes)
            fields = audit.field_changes(job, changes.settings, changes.changed)
            audit.record_job(store, caller, audit.JOB_UPDATED, job, details={**applied, "changes": fields}, at=now)
        for new in plan.creates:
            job = store.jobs.insert(new)
            details = {**applied, "settings": audit.settings_snapshot(job)}
            audit.record_job(store, caller, audit.JOB_CREATED, job, details=details, at=now)
        store.cluster.bump_generation()


def _task_functions(store: Store) -> dict[str, TaskFunction]:
    items, _ = store.catalog.list_task_functions(is_active=None, limit=ALL_JOBS, offset=0)
    return {tf.name: tf for tf in items}


def _table_of(job: Job, by_id: Mapping[int, TaskFunction]) -> dict[str, Any]:
    from jobctl.wire.responses import job as job_fields

    task = by_id.get(job.task_function_id)
    try:
        return job_tables.table_from_fields(job_fields(job), task_name=task.name if task else "?")
    except job_tables.NotExportable:
        return {"name": job.name, "cron": None}  # differs from any table a file gives: rewritten


def _differences(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each key whose value differs, as ``[old, new]`` (None where a table leaves the key out)."""
    keys = [key for key in job_tables.KEY_ORDER if key in current or key in wanted]
    defaults = job_tables.FILE_DEFAULTS
    return {
        key: [current.get(key, defaults.get(key)), wanted.get(key, defaults.get(key))]
        for key in keys
        if current.get(key) != wanted.get(key)
    }


def _label(table: Any, index: int) -> str:
    name = table.get("name") if isinstance(table, Mapping) else None
    return f"job {name!r}" if isinstance(name, str) else f"job #{index + 1}"


def _job_error(index: int, key: list[Any], label: str, msg: str) -> dict[str, Any]:
    where = f"{'.'.join(str(part) for part in key)}: " if key else ""
    return {"loc": ["body", "jobs", index, *key], "msg": f"{label}: {where}{msg}", "type": "value_error"}


def _job_errors(exc: ValidationFailed, index: int, table: Mapping[str, Any], label: str) -> list[dict[str, Any]]:
    """The errors of one job at ``["body", "jobs", index, key, ...]``, each naming the job."""
    found = []
    for error in exc.errors:
        loc = list(error.get("loc", []))
        key = job_tables.key_of_loc(loc, table) if loc[:1] == ["body"] else loc
        found.append({**_job_error(index, key, label, str(error.get("msg"))), "type": error.get("type", "value_error")})
    return found
