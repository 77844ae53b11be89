"""Jobs-file tables: the ``[[jobs]]`` table a job is written as, and the API body a table declares.

A jobs file (``jobctl apply``, ``jobctl export``, docs/jobs-files.md) holds ``[[jobs]]`` tables
whose keys are the long options of ``jobs create`` in snake_case, values as on the command line
(durations like ``"90s"`` or ``"1h30m"``). This module turns such a table into an API job body
(:func:`body_from_table`) and an API job back into a table (:func:`table_from_fields`), so the
CLI, the local service and the API server (``POST /apply`` takes the tables as JSON) read a
file the same way. It imports neither Typer nor pydantic: the API's rules stay in
:mod:`jobctl.wire.requests`; here is only the spelling.

The plain settings (one option, one field each) come from ``JOB_SETTING_KEYS`` of
:mod:`jobctl.wire.job_keys`, the table ``jobs create`` builds its options from: a plain job field
added there is a file key, read and exported, with nothing to change here. The keys with
structure (schedule, what to run, labels, environment, state) are handled by name below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jobctl.errors import JobctlError, ValidationFailed
from jobctl.models import SHELL_TASK_FUNCTION, JobType
from jobctl.wire.job_keys import JOB_SETTING_KEYS, SettingKey, duration_seconds, format_duration

FIELD_DEFAULTS: dict[str, Any] = {
    "retryCount": 0,
    "retryDelaySeconds": 60,
    "maxInstances": 1,
    "misfirePolicy": "run_once",
    "retryBackoff": "fixed",
    "overlapPolicy": "skip",
    "maxQueued": 1,
}
"""The API's default of each plain setting that has one other than null (a test holds this to
``JobCreate``): a table leaving the key out means it, and export leaves it out."""


def default_of(setting: SettingKey) -> Any:
    return FIELD_DEFAULTS.get(setting.field)


def file_value(setting: SettingKey, value: Any) -> Any:
    """The API field's value as a jobs file writes it (durations like ``"1m30s"``)."""
    if setting.kind == "duration":
        if setting.multiple and isinstance(value, list):
            return [format_duration(item) for item in value]
        if isinstance(value, int) and not isinstance(value, bool):
            return format_duration(value)
    return value


SCHEDULE_KEYS = ("every", "cron", "at")
SCHEDULE_EXTRA_KEYS = ("timezone", "start_date", "end_date", "jitter")
TASK_KEYS = ("command", "task", "args")
STATE_KEYS = ("enabled", "paused")
ENV_KEY = "env"
ENV_ALIAS = "environment"
ENV_PREFIX = f"{ENV_KEY}."
"""An apply plan shows a change of the environment per variable, as the key ``env.NAME`` (TOML's
dotted key for it), its values masked (:mod:`jobctl.service.plan_masking`)."""
NOTIFY_KEY = "notify"
"""Notification rules: ``notify = [{notifier = "ops", on = ["failure"], each_attempt = true}]``."""
_RULE_KEYS = {"notifier": "notifier", "on": "on", "each_attempt": "eachAttempt"}

KEY_ORDER: tuple[str, ...] = (
    "name",
    *SCHEDULE_KEYS,
    *SCHEDULE_EXTRA_KEYS,
    *TASK_KEYS,
    *(setting.key for setting in JOB_SETTING_KEYS),
    *STATE_KEYS,
    "labels",
    ENV_KEY,
    NOTIFY_KEY,
)
"""Every key a ``[[jobs]]`` table may hold (``environment`` is also read, as ``env``), in export order."""

FIELDS_OF_KEY: dict[str, tuple[str, ...]] = {
    **{key: ("jobTypeId", "scheduleConfig") for key in (*SCHEDULE_KEYS, *SCHEDULE_EXTRA_KEYS)},
    **{key: ("taskFunctionId", "taskArgs") for key in TASK_KEYS},
    **{setting.key: (setting.field,) for setting in JOB_SETTING_KEYS},
    "name": ("name",),
    "enabled": ("isEnabled",),
    "paused": ("isPaused",),
    "labels": ("labels",),
    ENV_KEY: ("environment",),
    NOTIFY_KEY: ("notify",),
}
"""The API fields each key sets: a change of the key is sent as these fields."""

_KEY_OF_FIELD: dict[str, str] = {
    **{setting.field: setting.key for setting in JOB_SETTING_KEYS},
    "name": "name",
    "isEnabled": "enabled",
    "isPaused": "paused",
    "labels": "labels",
    "environment": ENV_KEY,
    "notify": NOTIFY_KEY,
}
_KEY_OF_SCHEDULE_FIELD = {"run_date": "at", "expression": "cron", **{k: k for k in SCHEDULE_EXTRA_KEYS}}

NO_JOBS = "value_error.no_jobs"
"""The ``type`` of the error refusing to prune every job of a source for a file that declares none."""
_TERMS = ((" and prune would ", " and --prune would "), ("(send allowEmpty: true ", "(give --allow-empty "))
"""How the message of :data:`NO_JOBS` names pruning and its override: in the API, on the command line."""


def no_jobs_message(count: int, source: str) -> str:
    """Why a file that declares no jobs is not applied with prune: it would delete every job of
    its source, which is what a file emptied by a failed template render or copy looks like."""
    what, them = ("the 1 job", "it") if count == 1 else (f"all {count} jobs", "them")
    (prune, _), (allow, _) = _TERMS
    return (
        f"the file declares no jobs,{prune}delete {what} of source {source!r}; "
        f"nothing was applied {allow}to delete {them})"
    )


def in_cli_terms(message: str) -> str:
    """A :data:`NO_JOBS` message (the local service's or a daemon's) naming the options instead:
    the first term is looked for before the source and the second after it, since a source may
    hold any text."""
    (api_prune, cli_prune), (api_allow, cli_allow) = _TERMS
    head, found, tail = message.partition(api_prune)
    middle, found_allow, end = tail.rpartition(api_allow)
    if not found or not found_allow:
        return message
    return f"{head}{cli_prune}{middle}{cli_allow}{end}"


TaskResolver = Callable[[str], int]
"""A task function's id from its name. :raises NotFound:"""


class NotExportable(JobctlError):
    """A stored job whose settings the file keys cannot say (a cron schedule in API field form)."""


# -- file -> API ------------------------------------------------------------------------------


def body_from_table(table: Mapping[str, Any], *, resolve_task: TaskResolver, default_timezone: str) -> dict[str, Any]:
    """The complete ``POST /jobs`` body a ``[[jobs]]`` table declares: every field, the ones the
    table leaves out at their defaults, so that applying it sets the job to exactly the table.

    :raises ValidationFailed: with ``loc`` ``[key]`` (or ``[key, ...]``) for every key it can
        check without the API's model: unknown keys, schedule and task choice, durations,
        schedule syntax, task names. The API's model checks the rest of the body.
    """
    body, errors = partial_body(table, resolve_task=resolve_task, default_timezone=default_timezone)
    if errors:
        raise ValidationFailed(errors)
    return body


def partial_body(
    table: Mapping[str, Any], *, resolve_task: TaskResolver, default_timezone: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """:func:`body_from_table` without raising: the fields that could be read, and the errors
    (so a caller can still check the readable fields and report every error at once)."""
    errors: list[dict[str, Any]] = []
    table = dict(table)
    if ENV_ALIAS in table:
        if ENV_KEY in table:
            errors.append(_error([ENV_ALIAS], f"give either {ENV_KEY} or {ENV_ALIAS}, not both"))
        table[ENV_KEY] = table.pop(ENV_ALIAS)
    known = set(KEY_ORDER)
    for key in table:
        if key not in known:
            errors.append(_error([key], f"unknown key {key!r} (keys are the long options of jobs create)"))
    body: dict[str, Any] = {}
    if "name" not in table:
        errors.append(_error(["name"], "every job needs a name"))
    else:
        body["name"] = table["name"]
    for part in (_schedule_fields, _task_fields):
        try:
            body.update(part(table, resolve_task=resolve_task, default_timezone=default_timezone))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    for setting in JOB_SETTING_KEYS:
        try:
            body[setting.field] = setting.to_field(table[setting.key]) if setting.key in table else default_of(setting)
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    body["isEnabled"] = table.get("enabled", True)
    body["isPaused"] = table.get("paused", False)
    body["labels"] = table.get("labels", {})
    body["environment"] = table.get(ENV_KEY)
    body["notify"] = _notify_field(table.get(NOTIFY_KEY), errors)
    return body, errors


def _notify_field(rules: Any, errors: list[dict[str, Any]]) -> Any:
    """The API's ``notify`` from the file's rule tables (``each_attempt`` -> ``eachAttempt``);
    the API's model checks the values."""
    if rules is None or not isinstance(rules, list):
        if rules is not None:
            errors.append(_error([NOTIFY_KEY], "must be a list of rule tables (notifier, on, each_attempt)"))
        return None
    converted: list[Any] = []
    for index, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            errors.append(_error([NOTIFY_KEY, index], "must be a table with notifier and on"))
            continue
        for key in rule:
            if key not in _RULE_KEYS:
                errors.append(_error([NOTIFY_KEY, index, key], f"unknown key {key!r} (notifier, on, each_attempt)"))
        converted.append({_RULE_KEYS[key]: value for key, value in rule.items() if key in _RULE_KEYS})
    return converted


def _schedule_fields(table: Mapping[str, Any], *, default_timezone: str, **_: Any) -> dict[str, Any]:
    from jobctl.schedules import crontab_config, parse_every

    given = [key for key in SCHEDULE_KEYS if key in table]
    if len(given) != 1:
        why = f"give only one of every, cron, at (got {', '.join(given)})" if given else "give every, cron or at"
        raise ValidationFailed.field([given[-1] if given else "every"], why)
    key = given[0]
    value = _text(table, key)
    zone = table.get("timezone")
    if zone is not None and not isinstance(zone, str):
        raise ValidationFailed.field(["timezone"], "must be a string like 'Europe/Berlin'")
    if key == "every":
        if zone is not None:
            raise ValidationFailed.field(["timezone"], "timezone goes with cron or at")
        job_type, config = JobType.INTERVAL, dict[str, Any](parse_every(value))
    elif key == "cron":
        job_type, config = JobType.CRON, crontab_config(value, zone or default_timezone)
    else:
        job_type, config = JobType.DATE, {"run_date": _run_date(value, zone or default_timezone)}
        if zone is not None:  # the job's zone, as ``jobs create --at TIME --timezone ZONE`` keeps it
            config["timezone"] = zone
    for extra in ("start_date", "end_date"):
        if extra in table:
            config[extra] = _text(table, extra)
    if "jitter" in table:
        config["jitter"] = duration_seconds(table["jitter"], loc=["jitter"])
    return {"jobTypeId": int(job_type), "scheduleConfig": config}


def _run_date(text: str, zone_name: str) -> str:
    from jobctl.schedules.iso_times import not_a_time, parse_time_of_day
    from jobctl.schedules.zones import UnknownZone, format_utc, load_zone, parse_iso

    try:
        parse_time_of_day(text)
    except ValueError:
        pass
    else:
        raise ValidationFailed.field(["at"], f"{text!r} is a time of day; a jobs file needs a date-time")
    try:
        zone = load_zone(zone_name)
    except UnknownZone:
        raise ValidationFailed.field(["timezone"], f"unknown time zone {zone_name!r}") from None
    try:
        return format_utc(parse_iso(text, zone))
    except ValueError:
        raise ValidationFailed.field(["at"], not_a_time(text)) from None


def _task_fields(table: Mapping[str, Any], *, resolve_task: TaskResolver, **_: Any) -> dict[str, Any]:
    from jobctl.errors import NotFound

    args = table.get("args")
    if args is not None and not isinstance(args, Mapping):
        raise ValidationFailed.field(["args"], "must be a table of task arguments")
    if "command" in table and "task" in table:
        raise ValidationFailed.field(["task"], "give either command or task, not both")
    task_args: dict[str, Any] | None
    if "command" in table:
        if args and "command" in args:
            raise ValidationFailed.field(["args", "command"], "the command goes in the command key")
        name, task_args = SHELL_TASK_FUNCTION, {"command": _text(table, "command"), **(args or {})}
    elif "task" in table:
        name, task_args = _text(table, "task"), dict(args or {}) or None
    else:
        raise ValidationFailed.field(["command"], "give what to run: command or task (with args)")
    try:
        task_function_id = resolve_task(name)
    except NotFound:
        raise ValidationFailed.field(["task"], no_task_function_named(name)) from None
    return {"taskFunctionId": task_function_id, "taskArgs": task_args}


def no_task_function_named(name: str) -> str:
    """What a job that names a task function the store lacks is told, by name: a jobs file's
    ``task`` and the command line's ``--task`` alike. It is bad input (a 422, exit 2) like the
    API's unknown ``taskFunctionId``, not a "not found" of what the command is about."""
    return f"no task function named {name!r}"


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table[key]
    if not isinstance(value, str):
        raise ValidationFailed.field([key], f"must be a string, not {_type_name(value)}")
    return value


def key_of_loc(loc: list[Any], table: Mapping[str, Any]) -> list[Any]:
    """The file key (and what follows it) an API error's ``loc`` (``["body", field, ...]``) is about."""
    parts = [part for part in loc if part != "body"]
    if not parts:
        return []
    field, rest = parts[0], parts[1:]
    if field == "scheduleConfig":
        schedule_key = next((key for key in SCHEDULE_KEYS if key in table), "every")
        return [_KEY_OF_SCHEDULE_FIELD.get(rest[0], schedule_key) if rest else schedule_key]
    if field in ("jobTypeId",):
        return [next((key for key in SCHEDULE_KEYS if key in table), "every")]
    if field in ("taskFunctionId", "taskArgs"):
        if field == "taskArgs" and "args" in table:
            return ["args", *rest]
        return ["command" if "command" in table else "task"]
    key = _KEY_OF_FIELD.get(field)
    return [key, *rest] if key else parts


# -- API -> file ------------------------------------------------------------------------------


def table_from_fields(fields: Mapping[str, Any], *, task_name: str) -> dict[str, Any]:
    """The ``[[jobs]]`` table of a job given by its API fields (``JobOut`` or a create body),
    keys in :data:`KEY_ORDER`, settings at their defaults left out.

    Two jobs that behave alike give the same table, which is what apply compares.

    :raises NotExportable: for a cron schedule stored in API field form.
    """
    table: dict[str, Any] = {"name": fields["name"]}
    table.update(_schedule_keys(fields))
    task_args = dict(fields.get("taskArgs") or {})
    command = task_args.get("command")
    if task_name == SHELL_TASK_FUNCTION and isinstance(command, str):
        table["command"] = task_args.pop("command")
    else:
        table["task"] = task_name
    if task_args:
        table["args"] = task_args
    for setting in JOB_SETTING_KEYS:
        value = fields.get(setting.field, default_of(setting))
        if value != default_of(setting):
            table[setting.key] = file_value(setting, value)
    if fields.get("isEnabled", True) is False:
        table["enabled"] = False
    if fields.get("isPaused", False) is True:
        table["paused"] = True
    for key, field in (("labels", "labels"), (ENV_KEY, "environment")):
        value = fields.get(field)
        if value:
            table[key] = dict(value) if isinstance(value, Mapping) else value
    rules = fields.get("notify")
    if isinstance(rules, list):
        table[NOTIFY_KEY] = [_rule_table(rule) for rule in rules]
    return table


def _rule_table(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A notification rule as a file writes it: ``each_attempt`` only when true."""
    table: dict[str, Any] = {"notifier": rule.get("notifier"), "on": list(rule.get("on") or [])}
    if rule.get("eachAttempt"):
        table["each_attempt"] = True
    return table


def _schedule_keys(fields: Mapping[str, Any]) -> dict[str, Any]:
    from jobctl.schedules.durations import format_every

    config = dict(fields.get("scheduleConfig") or {})
    job_type = fields.get("jobTypeId")
    keys: dict[str, Any] = {}
    if job_type == JobType.INTERVAL:
        keys["every"] = format_every(config)
    elif job_type == JobType.CRON:
        if not isinstance(config.get("expression"), str):
            raise NotExportable(
                f"job {fields['name']!r}: its cron schedule is in API field form, which a jobs file cannot hold"
            )
        keys["cron"] = config["expression"]
        if config.get("timezone"):
            keys["timezone"] = config["timezone"]
    else:
        keys["at"] = config.get("run_date")
        if config.get("timezone"):
            keys["timezone"] = config["timezone"]
    for extra in ("start_date", "end_date"):
        if config.get(extra) is not None:
            keys[extra] = config[extra]
    if config.get("jitter"):
        keys["jitter"] = format_duration(int(config["jitter"]))
    return keys


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _error(loc: list[Any], msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": "value_error"}


FILE_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "paused": False,
    **{s.key: file_value(s, default_of(s)) for s in JOB_SETTING_KEYS if default_of(s) is not None},
}
"""What a key left out of a table means, as the file would say it (for showing a change)."""
