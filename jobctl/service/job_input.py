"""Turning request bodies into a job's settings and changes: validation beyond field types.

Checks that need the store (the task function exists and is active, the job type exists) or
the schedule (a cron field that cannot fire) live here, each reported at the field's ``loc``.
The body's camelCase fields become the snake_case settings of
:class:`~jobctl.models.JobSettings` by name, so a new setting needs no change here.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from jobctl.errors import Conflict, ValidationFailed
from jobctl.models import SHELL_TASK_FUNCTION, Caller, Job, JobSettings, JobType, TaskFunction
from jobctl.schedules.timing import NO_RUN, NextRun, build_schedule, first_run, stored_config
from jobctl.service.task_args import task_args_errors
from jobctl.store import Store
from jobctl.store.writes import NO_NEXT_SLOT, JobChanges, NewJob, NextSlot
from jobctl.wire.requests import JobCreate, JobStatusUpdate, JobUpdate, parse_body

TaskFunctionLookup = Callable[[int], TaskFunction | None]


def new_job(
    store: Store,
    data: Mapping[str, Any],
    *,
    caller: Caller,
    default_timezone: str,
    now: datetime,
    task_function_of: TaskFunctionLookup | None = None,
    notifiers: frozenset[str] = frozenset(),
    concurrency_groups: Collection[str] = (),
) -> NewJob:
    """A new job from a ``POST /jobs`` body. :raises ValidationFailed:"""
    body = parse_body(JobCreate, data)
    _check_notifiers(data.get("notify"), notifiers)
    _check_references(store, body.taskFunctionId, body.jobTypeId, body.taskArgs, task_function_of)
    _check_run_as(body.runAsUser, body.runAsGroup)
    _check_membership(body.runAsUser, body.runAsGroup)
    _check_group(body.concurrencyGroup, concurrency_groups)
    config = stored_config(body.jobTypeId, body.scheduleConfig, default_timezone)
    schedule = build_schedule(body.jobTypeId, config, default_timezone=default_timezone, anchor=now)
    upcoming = first_run(schedule, config, now)
    _check_fires(upcoming, body.jobTypeId)
    settings = JobSettings(**{**settings_from(body.model_dump()), "schedule_config": config})
    active = body.isEnabled and not body.isPaused
    return NewJob(
        settings=settings,
        next=NextSlot(slot=upcoming.slot, run_time=upcoming.run_time) if active else NO_NEXT_SLOT,
        created_at=now,
        created_by=caller.user_id,
    )


def job_changes(
    store: Store,
    job: Job,
    data: Mapping[str, Any],
    *,
    caller: Caller,
    default_timezone: str,
    now: datetime,
    notifiers: frozenset[str] = frozenset(),
    concurrency_groups: Collection[str] = (),
) -> JobChanges:
    """The change a ``PUT /jobs/{id}`` body makes. :raises ValidationFailed:"""
    body = parse_body(JobUpdate, data)
    _check_notifiers(data.get("notify"), notifiers)
    sent = body.model_dump(exclude_unset=True)
    task_function_id = sent.get("taskFunctionId", job.task_function_id)
    job_type_id = sent.get("jobTypeId", job.job_type_id)
    task_args = sent.get("taskArgs", job.task_args)
    _check_references(store, task_function_id, job_type_id, task_args, None)
    _check_run_as(sent.get("runAsUser"), sent.get("runAsGroup"))
    if "runAsUser" in sent or "runAsGroup" in sent:
        _check_membership(sent.get("runAsUser", job.run_as_user), sent.get("runAsGroup", job.run_as_group))
    _check_group(sent.get("concurrencyGroup"), concurrency_groups)
    changed = settings_from(sent)
    if "scheduleConfig" in sent or "jobTypeId" in sent:
        changed["schedule_config"] = stored_config(
            job_type_id, sent.get("scheduleConfig", job.schedule_config), default_timezone
        )
    after = dataclasses.replace(job, **changed)
    reschedule = "schedule_config" in changed or not (job.is_enabled and not job.is_paused)
    return JobChanges(
        settings=after,
        changed=frozenset(changed),
        next=_next_slot(after, reschedule=reschedule, default_timezone=default_timezone, now=now),
        updated_at=now,
        updated_by=caller.user_id,
    )


def status_changes(
    job: Job, data: Mapping[str, Any], *, caller: Caller, default_timezone: str, now: datetime
) -> JobChanges:
    """The change a ``PUT /jobs/{id}/status`` body makes. :raises ValidationFailed, Conflict:"""
    body = parse_body(JobStatusUpdate, data)
    enabled = job.is_enabled if body.isEnabled is None else body.isEnabled
    paused = job.is_paused if body.isPaused is None else body.isPaused
    after = dataclasses.replace(job, is_enabled=enabled, is_paused=paused)
    was_active = job.is_enabled and not job.is_paused
    try:
        following = _next_slot(after, reschedule=not was_active, default_timezone=default_timezone, now=now)
    except ValidationFailed as exc:
        raise Conflict(f"job {job.name!r} has no run left in its schedule; update its schedule first") from exc
    return JobChanges(
        settings=after,
        changed=frozenset({"is_enabled", "is_paused"}),
        next=following,
        updated_at=now,
        updated_by=caller.user_id,
    )


def settings_from(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The API's job fields (camelCase) as :class:`JobSettings` values (snake_case, enums as enums)."""
    names, enums = _setting_names(), _setting_enums()
    settings = {names[key]: value for key, value in fields.items()}
    return {name: _coerce(enums.get(name), value) for name, value in settings.items()}


def _coerce(kind: type[enum.Enum] | None, value: Any) -> Any:
    return value if kind is None or value is None else kind(value)


@functools.cache
def _setting_names() -> dict[str, str]:
    """camelCase API field -> setting, for every field of :class:`JobSettings`."""
    return {_camel(f.name): f.name for f in dataclasses.fields(JobSettings)}


@functools.cache
def _setting_enums() -> dict[str, type[enum.Enum]]:
    hints = typing.get_type_hints(JobSettings)
    return {name: hint for name, hint in hints.items() if isinstance(hint, type) and issubclass(hint, enum.Enum)}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _next_slot(job: Job, *, reschedule: bool, default_timezone: str, now: datetime) -> NextSlot | None:
    """The next slot of ``job`` as changed: cleared while inactive, recomputed when its schedule
    or state changed, else None (kept as it is)."""
    config = job.schedule_config
    schedule = build_schedule(job.job_type_id, config, default_timezone=default_timezone, anchor=job.created_at)
    if not (job.is_enabled and not job.is_paused):
        return NO_NEXT_SLOT
    if not reschedule and job.next_slot is not None:
        return None
    upcoming = first_run(schedule, config, now)
    _check_fires(upcoming, job.job_type_id)
    return NextSlot(slot=upcoming.slot, run_time=upcoming.run_time)


def _check_fires(upcoming: NextRun, job_type_id: int) -> None:
    if upcoming is NO_RUN or upcoming.slot is None:
        field = "run_date" if job_type_id == JobType.DATE else "end_date"
        raise ValidationFailed.field(["body", "scheduleConfig", field], "the schedule has no run left after now")


def _check_references(
    store: Store,
    task_function_id: int,
    job_type_id: int,
    task_args: Mapping[str, Any] | None,
    task_function_of: TaskFunctionLookup | None,
) -> None:
    errors: list[dict[str, Any]] = []
    task_function = (task_function_of or store.catalog.get_task_function)(task_function_id)
    if task_function is None:
        errors.append(_error("taskFunctionId", f"no task function with id {task_function_id}"))
    elif not task_function.is_active:
        errors.append(_error("taskFunctionId", f"task function {task_function.name!r} is inactive"))
    elif task_function.name == SHELL_TASK_FUNCTION:
        command = (task_args or {}).get("command")
        if not isinstance(command, str) or not command.strip():
            errors.append(_error("taskArgs", "the shell task function needs taskArgs.command (a non-empty string)"))
        shell = (task_args or {}).get("shell")
        if shell is not None and not (isinstance(shell, str) and shell.startswith("/")):
            errors.append(_error("taskArgs", "taskArgs.shell must be an absolute path, e.g. /bin/bash"))
    if store.catalog.get_job_type(job_type_id) is None:
        errors.append(_error("jobTypeId", f"no job type with id {job_type_id} (1 interval, 2 cron, 3 date)"))
    errors.extend(task_args_errors(task_args))
    if errors:
        raise ValidationFailed(errors)


def _check_run_as(user: str | None, group: str | None) -> None:
    """An unknown user or group is refused when the job is set, not when it first runs."""
    from jobctl.executors.context import lookup_group, lookup_user

    errors = []
    if user is not None and lookup_user(user) is None:
        errors.append(_error("runAsUser", f"no user {user!r} on this host"))
    if group is not None and lookup_group(group) is None:
        errors.append(_error("runAsGroup", f"no group {group!r} on this host"))
    if errors:
        raise ValidationFailed(errors)


def _check_membership(user: str | None, group: str | None) -> None:
    """A job naming both a user and a group the user is not in is refused when it is set, as the
    run would be (docs/run-as.md). With no user the run's user is the daemon's choice, which this
    host may not know: that run is checked when it starts."""
    from jobctl.executors.context import lookup_group, lookup_user, member_of

    entry = lookup_user(user) if user is not None else None
    found = lookup_group(group) if group is not None else None
    if entry is not None and found is not None and not member_of(entry, found.gr_gid):
        raise ValidationFailed([_error("runAsGroup", f"{entry.pw_name} is not a member of group {found.gr_name}")])


def _check_notifiers(rules: Any, names: frozenset[str]) -> None:
    """Each rule names a notifier of the config (the body's shape is already checked)."""
    known = ", ".join(sorted(names)) or "none configured"
    errors = [
        {"loc": ["body", "notify", index, "notifier"], "msg": f"unknown notifier {rule['notifier']!r} (known: {known})",
         "type": "value_error"}
        for index, rule in enumerate(rules or [])
        if rule["notifier"] not in names
    ]  # fmt: skip
    if errors:
        raise ValidationFailed(errors)


def _check_group(group: str | None, declared: Collection[str]) -> None:
    """A job may only name a group its config declares (a remote server checks against its own)."""
    if group is None or group in declared:
        return
    known = ", ".join(sorted(declared)) if declared else "none are declared"
    raise ValidationFailed(
        [_error("concurrencyGroup", f"no concurrency group {group!r} in [[concurrency_groups]] ({known})")]
    )


def _error(field: str, msg: str) -> dict[str, Any]:
    return {"loc": ["body", field], "msg": msg, "type": "value_error"}
