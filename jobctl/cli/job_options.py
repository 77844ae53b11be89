"""``jobs create`` / ``jobs update`` options turned into an API request body.

The plain settings (``--timeout``, ``--retries``, ``--umask``, ...) are not declared here: each
is one entry of ``JOB_SETTING_KEYS`` in ``jobctl/wire/job_keys.py``, which both commands and the
jobs file read (see docs/adding-a-field.md). This module keeps the options that combine several
fields or read the job's current value: the schedule, what to run, labels, the environment.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobctl.cli.option_terms import options_message
from jobctl.errors import NotFound, UsageError, ValidationFailed
from jobctl.models import SHELL_TASK_FUNCTION
from jobctl.wire.free_json import too_deep_to_read
from jobctl.wire.job_tables import no_task_function_named


@dataclass(kw_only=True)
class JobOptions:
    """What the user gave on the command line; None means not given."""

    every: str | None = None
    cron: str | None = None
    at: str | None = None
    timezone: str | None = None
    task: str | None = None
    args: list[str] | None = None
    command: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The plain settings (``jobctl.wire.job_keys``) by key; None = not given."""
    labels: list[str] | None = None
    unlabels: list[str] | None = None
    env: list[str] | None = None
    unset_env: list[str] | None = None
    clear_env: bool = False
    notify: list[str] | None = None
    """``NOTIFIER:EVENT[,EVENT...][:each-attempt]`` rules; given, they replace the job's."""
    clear_notify: bool = False


def read_json_body(source: str) -> dict[str, Any]:
    """A full API body from a file or ``-`` (stdin). :raises UsageError:"""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{source} is not valid JSON: {exc}") from exc
    except RecursionError:
        raise UsageError(too_deep_to_read(source)) from None
    if not isinstance(data, dict):
        raise UsageError(f"{source} must hold a JSON object (an API job body)")
    return data


def task_by_name(resolve: Callable[[str], int]) -> Callable[[str], int]:
    """``resolve`` (the service's task function by name), with a name the store lacks refused
    as bad input at ``taskFunctionId``: exit 2 with the words of a jobs file's unknown ``task``
    (``--task: no task function named 'x'``), as the API's 422 for an unknown
    ``taskFunctionId`` and ``apply`` are. Exit 3 is for the job or run a command is about."""

    def resolve_or_refuse(name: str) -> int:
        try:
            return resolve(name)
        except NotFound:
            raise ValidationFailed.field(["body", "taskFunctionId"], no_task_function_named(name)) from None

    return resolve_or_refuse


def job_body_from_json(source: str, *, resolve_task: Callable[[str], int]) -> dict[str, Any]:
    """A job body from FILE or ``-``: an API body, or what ``jobs show --json`` printed.

    The read-only keys of a job (``id``, ``createdAt``, ``nextRunTime``, ``recentExecutions``,
    ...) are dropped; any other unknown key is left for the API to refuse. When the input names
    its task function (``taskFunction.name``, as ``show`` prints it), the task function of that
    name in *this* store is used: ids differ between stores, names do not.

    :raises UsageError: for unreadable input. :raises ValidationFailed: for a task function this
        store lacks (with :func:`task_by_name`).
    """
    from jobctl.wire.responses import JOB_READ_ONLY_KEYS

    data = read_json_body(source)
    body = {key: value for key, value in data.items() if key not in JOB_READ_ONLY_KEYS}
    task = data.get("taskFunction")
    if isinstance(task, dict) and isinstance(task.get("name"), str):
        try:
            body["taskFunctionId"] = resolve_task(task["name"])
        except ValidationFailed as exc:  # named where the input named it
            where = ["body", "taskFunction", "name"]
            raise ValidationFailed([{**error, "loc": where} for error in exc.errors]) from None
    return body


Current = Callable[[str], Any]
"""The value of an API job field that options change from: the ``--from-json`` body's when it
holds the field, else the job's (``jobs update``; None for ``jobs create``)."""


def body_from_options(
    body: dict[str, Any],
    options: JobOptions,
    *,
    current: Current,
    resolve_task: Callable[[str], int],
    default_timezone: str,
    required: bool,
) -> dict[str, Any]:
    """``body`` with the fields the options set: every option given wins over the body's field,
    and the options that change part of a field (``--cron`` of a schedule, ``--command`` of the
    task's arguments, ``--env``, ``--label``) change ``current``'s value of it
    (docs/updating-jobs.md). ``required``: a schedule and what to run must be given.

    :raises UsageError: naming the option, for options that do not go together or a bad value.
    """
    from jobctl.cli.schedule_options import schedule_fields

    body.update(
        schedule_fields(
            options,
            default_timezone=default_timezone,
            required=required,
            current=lambda: (current("jobTypeId"), current("scheduleConfig")),
        )
    )
    body.update(
        task_fields(
            options,
            resolve_task=resolve_task,
            required=required,
            current=lambda: (current("taskFunctionId"), current("taskArgs")),
        )
    )
    body.update(setting_fields(options))
    body.update(environment_fields(options, current=lambda: _mapping(current("environment"))))
    body.update(notify_fields(options))
    body.update(label_fields(options, current=lambda: _mapping(current("labels"))))
    return body


def _mapping(value: Any) -> Mapping[str, Any]:
    """A field's value to add to: none for anything but an object (the options' result replaces it)."""
    return value if isinstance(value, Mapping) else {}


CurrentTask = Callable[[], tuple[Any, Any]]
"""``taskFunctionId`` and ``taskArgs`` as the job has them (None, None when it has none yet)."""


def task_fields(
    options: JobOptions, *, resolve_task: Any, required: bool, current: CurrentTask | None = None
) -> dict[str, Any]:
    """``taskFunctionId`` and ``taskArgs`` from ``--command`` or ``--task``, with ``--arg``.

    ``--task`` gives the task and all its arguments. ``--command`` and ``--arg`` without
    ``--task`` change the arguments they name and keep the others the job's task has
    (``taskArgs.shell`` of a shell job; none when ``--command`` replaces another task).

    :raises UsageError:
    """
    if options.command and options.task:
        raise UsageError("give either --command or --task, not both")
    args = parse_args(options.args or [])
    if options.task:
        return {"taskFunctionId": resolve_task(options.task), "taskArgs": args or None}
    if not options.command and options.args is None:
        if required:
            raise UsageError("give what to run: --command CMD or --task NAME [--arg K=V]...")
        return {}
    task_id, task_args = current() if current is not None else (None, None)
    kept = dict(task_args) if isinstance(task_args, Mapping) else {}
    if options.command:
        if "command" in args:
            raise UsageError("--arg command=... and --command both give the command: give it to --command")
        shell_id = resolve_task(SHELL_TASK_FUNCTION)
        others = {key: value for key, value in kept.items() if key != "command"} if task_id == shell_id else {}
        return {"taskFunctionId": shell_id, "taskArgs": {"command": options.command, **others, **args}}
    if required:
        raise UsageError("give what to run: --command CMD or --task NAME [--arg K=V]...")
    return {"taskArgs": {**kept, **args} or None}


def setting_fields(options: JobOptions) -> dict[str, Any]:
    """The plain settings that were given, as API fields (``--timeout 5m`` -> ``timeoutSeconds``).

    :raises UsageError: naming the option, for a value of the wrong kind.
    """
    from jobctl.wire.job_keys import setting_fields as fields_of

    try:
        return fields_of(dict(options.settings))
    except ValidationFailed as exc:
        error = exc.errors[0]
        msg = str(error["msg"])
        # "--timeout takes seconds or ..." reads on from the option; a rule is said after a colon
        raise UsageError(
            f"{error['loc'][0]} {msg}" if msg.startswith("takes ") else f"{error['loc'][0]}: {msg}"
        ) from None


def environment_fields(
    options: JobOptions, *, current: Callable[[], Mapping[str, str] | None] | None = None
) -> dict[str, Any]:
    """``environment`` from ``--env NAME=VALUE``, ``--unset-env NAME`` and ``--clear-env``;
    nothing when none was given.

    Creating (no ``current``), the variables given are the set. Updating, they are applied to
    ``current()`` (the job's variables, read only when needed), as labels are: ``--env`` adds
    or changes a variable, ``--unset-env`` removes one, ``--clear-env`` starts from none. An
    empty result is ``null`` (no variables).

    A name given to both ``--env`` and ``--unset-env`` is refused: the command line does not
    keep the order of different options, so either reading (set, or removed) would be a guess.

    :raises UsageError: for a malformed ``--env`` or a name both set and unset.
    """
    if not options.env and not options.unset_env and not options.clear_env:
        return {}
    given = parse_args(options.env or [], flag="--env")
    both = [name for name in dict.fromkeys(options.unset_env or []) if name in given]
    if both:
        names = ", ".join(both)
        raise UsageError(f"--env and --unset-env both name {names}: give each variable to one of them")
    if current is None:
        return {"environment": given or None}
    variables = {} if options.clear_env else dict(current() or {})
    variables.update(given)
    for name in options.unset_env or []:
        variables.pop(name, None)
    return {"environment": variables or None}


def label_fields(options: JobOptions, *, current: Callable[[], Mapping[str, str]]) -> dict[str, Any]:
    """``labels`` from ``--label K=V`` (add or change) and ``--unlabel K`` (remove, if there),
    applied to ``current()`` (the job's labels, read only when an option was given).

    A key given to both is refused, as a variable given to ``--env`` and ``--unset-env`` is:
    the label was removed whatever the order on the command line.

    :raises UsageError: for a malformed ``--label`` or a key both set and removed.
    """
    if not options.labels and not options.unlabels:
        return {}
    given = parse_args(options.labels or [], flag="--label")
    both = [key for key in dict.fromkeys(options.unlabels or []) if key in given]
    if both:
        raise UsageError(f"--label and --unlabel both name {', '.join(both)}: give each label to one of them")
    labels = dict(current())
    labels.update(given)
    for key in options.unlabels or []:
        labels.pop(key, None)
    return {"labels": labels}


def parse_args(pairs: list[str], *, flag: str = "--arg") -> dict[str, str]:
    """``K=V`` pairs; the value stays a string. :raises UsageError:"""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{flag} takes KEY=VALUE, got {pair!r}")
        parsed[key] = value
    return parsed


_STRUCTURED_OPTIONS: dict[str, tuple[str, ...]] = {
    "name": ("NAME", "--name"),
    "scheduleConfig": ("--every", "--cron", "--at", "--timezone"),
    "jobTypeId": ("--every", "--cron", "--at"),
    "taskFunctionId": ("--task", "--command"),
    "taskArgs": ("--command", "--arg"),
    "labels": ("--label",),
    "environment": ("--env",),
    "notify": ("--notify",),
    "isEnabled": ("--disabled",),
}
"""The fields the options with code of their own in this module set, each with those options
(the first given names it). The plain settings come from ``JOB_SETTING_KEYS``."""

ENTRY_NOUNS = {"labels": "key", "environment": "name", "taskArgs": "key"}
"""What the keys of each field that maps names to values are called: ``--label: key must be ...``."""


@functools.cache
def job_field_options() -> dict[str, tuple[str, ...]]:
    """Every field of a job body that ``jobs create`` or ``jobs update`` sets, with the options
    (as declared: ``--retry-delay``; ``NAME`` for create's argument) that set it: the plain
    settings from ``JOB_SETTING_KEYS``, the rest from the code above. A test holds it to every
    field the API takes and every option the commands declare."""
    from jobctl.wire.job_keys import JOB_SETTING_KEYS

    return {**{setting.field: (setting.flag,) for setting in JOB_SETTING_KEYS}, **_STRUCTURED_OPTIONS}


def typed_fields(given: Collection[str]) -> dict[str, str]:
    """The API field -> the option that set it, of the options ``given`` (as declared): how a
    field's error names what was typed. A field no given option set (one from ``--from-json``)
    is left out, and keeps the API's name."""
    typed = {}
    for field_name, options in job_field_options().items():
        option = next((option for option in options if option in given), None)
        if option is not None:
            typed[field_name] = option
    return typed


def body_errors_as_typed(exc: ValidationFailed, given: Collection[str]) -> UsageError:
    """The API's (or the service's) refusal of a job body, each field named as the option that
    set it: ``--umask: must be an octal mode ...`` for ``umask: ...``. :func:`typed_fields`."""
    return UsageError(options_message(exc, typed_fields(given), entries=ENTRY_NOUNS))


def notify_fields(options: JobOptions) -> dict[str, Any]:
    """``notify`` from ``--notify NOTIFIER:EVENT[,EVENT...][:each-attempt]`` (repeatable: one rule
    each), or ``null`` (the config's default rules) for ``--clear-notify``. :raises UsageError:"""
    if options.clear_notify:
        if options.notify:
            raise UsageError("give --notify or --clear-notify, not both")
        return {"notify": None}
    if not options.notify:
        return {}
    return {"notify": [_notify_rule(text) for text in options.notify]}


def _notify_rule(text: str) -> dict[str, Any]:
    parts = text.split(":")
    each = len(parts) == 3 and parts[2] == "each-attempt"
    events = [event.strip() for event in parts[1].split(",")] if len(parts) >= 2 else []
    if len(parts) not in (2, 3) or (len(parts) == 3 and not each) or not parts[0] or not all(events):
        raise UsageError(
            f"--notify takes NOTIFIER:EVENT[,EVENT...][:each-attempt], e.g. ops:failure,timeout; got {text!r}"
        )
    rule: dict[str, Any] = {"notifier": parts[0], "on": events}
    if each:
        rule["eachAttempt"] = True
    return rule
