"""The plain job settings of the command line and the jobs file, declared once.

A plain setting is one option of ``jobs create`` / ``jobs update`` that becomes one field of
the API body with at most a unit conversion (``--timeout 5m`` -> ``timeoutSeconds: 300``). The
same key, without its dashes, is a key of a ``[[jobs]]`` table in a jobs file. Declaring it
here, below the CLI and the service, lets the command line build its options from this table
and lets the API read a jobs file with the same rules; adding a plain job field is one entry.

Settings with more to them (the schedule, what to run, labels, the environment) have their own
code: they combine several options or read the job's current value.

Free of pydantic and Typer: the CLI imports it on every ``jobs create``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jobctl.errors import ValidationFailed
from jobctl.models import MAX_CHECK_SECONDS, MAX_RETRY_DELAY_SECONDS, MAX_TIMEOUT_SECONDS
from jobctl.shown import shown

Kind = Literal["text", "int", "duration"]


@dataclass(frozen=True)
class SettingKey:
    """One plain setting: its key (snake_case, the jobs-file key and, dashed, the long option),
    the API field it fills, the kind of value it takes, and its help text."""

    key: str
    field: str
    kind: Kind
    help: str
    metavar: str | None = None
    multiple: bool = False
    """Repeatable on the command line (``--x A --x B``), a list in the jobs file and the API."""
    clearable: bool = False
    """An empty value (``--run-as-user ''``) puts the setting back to its default (null in the
    API): without it ``jobs update`` could set such a setting but never unset it."""
    number_hint: str | None = None
    """What a text setting given a number says instead of ``takes text, got 23``: the TOML of
    a jobs file writes ``umask = 0o27`` as a number, 23, which is no mode as typed."""
    least: int = 0
    most: int | None = None
    """A duration's range in seconds, the API field's own (a test holds them to ``JobCreate``):
    checked here so that ``--timeout 0s`` says ``must be more than 0s, got '0s'`` in the terms
    it was typed in, not the field's ``must be 1 or more, got 0``."""

    @property
    def flag(self) -> str:
        """The long option: ``retry_delay`` -> ``--retry-delay``."""
        return "--" + self.key.replace("_", "-")

    def to_field(self, value: Any, *, loc: Sequence[str | int] | None = None) -> Any:
        """The API field's value for the option's (or the jobs file's) value.

        :raises ValidationFailed: naming ``loc`` (default: the key) for a value of the wrong kind.
        """
        where = tuple(loc) if loc is not None else (self.key,)
        if self.multiple:
            if not isinstance(value, list | tuple):
                raise _invalid(where, f"takes a list, got {value!r}")
            return [self._one(item, (*where, index)) for index, item in enumerate(value)]
        return self._one(value, where)

    def _one(self, value: Any, where: tuple[str | int, ...]) -> Any:
        if self.kind == "duration":
            seconds = duration_seconds(value, loc=where)
            problem = self.range_problem(seconds)
            if problem:
                raise _invalid(where, f"{problem}, got {shown(value)}")
            return seconds
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise _invalid(where, f"takes a whole number, got {shown(value)}")
            return value
        if not isinstance(value, str):
            number = isinstance(value, int | float) and not isinstance(value, bool)
            raise _invalid(
                where, self.number_hint if number and self.number_hint else f"takes text, got {shown(value)}"
            )
        return value

    def range_problem(self, seconds: int) -> str | None:
        """``must be more than 0s`` (``0s or more``, ``at most 30d``) for a duration out of range."""
        if seconds < self.least:
            least = format_duration(self.least) if self.least > 0 else "0s"
            return "must be more than 0s" if self.least == 1 else f"must be {least} or more"
        if self.most is not None and seconds > self.most:
            return f"must be at most {format_duration(self.most)}"
        return None


JOB_SETTING_KEYS: tuple[SettingKey, ...] = (
    SettingKey(
        "timeout",
        "timeoutSeconds",
        "duration",
        "Timeout: seconds or 5m, 1h.",
        "DURATION",
        least=1,
        most=MAX_TIMEOUT_SECONDS,
    ),
    SettingKey("retries", "retryCount", "int", "Retries after a failure or timeout."),
    SettingKey(
        "retry_delay",
        "retryDelaySeconds",
        "duration",
        "Delay between retries.",
        "DURATION",
        most=MAX_RETRY_DELAY_SECONDS,
    ),
    SettingKey("max_instances", "maxInstances", "int", "Runs allowed at once."),
    SettingKey("description", "description", "text", "Free text."),
    SettingKey("misfire", "misfirePolicy", "text", "After downtime: run_once or skip.", "POLICY"),
    SettingKey(
        "working_directory",
        "workingDirectory",
        "text",
        "Absolute directory runs start in (default /, or the run-as user's home; '' for the default).",
        "DIR",
        clearable=True,
    ),
    SettingKey(
        "umask",
        "umask",
        "text",
        "Octal umask of runs (default 022; 22 is 022, as for the shell's umask).",
        "MASK",
        number_hint='write the mode as text, such as "027"',
    ),
    SettingKey("nice", "nice", "int", "Nice value of runs, 0..19 (below 0: root daemon only)."),
    SettingKey(
        "stdin",
        "stdin",
        "text",
        "Text given to each run on standard input (64 KiB at most; '' for none).",
        clearable=True,
    ),
    SettingKey(
        "run_as_user",
        "runAsUser",
        "text",
        "User (name or uid) runs switch to ('' for the default).",
        "USER",
        clearable=True,
    ),
    SettingKey(
        "run_as_group",
        "runAsGroup",
        "text",
        "Group (name or gid) of runs ('' for the default).",
        "GROUP",
        clearable=True,
    ),
    SettingKey("pause_after_failures", "pauseAfterFailures", "int", "Pause after N failed final outcomes in a row."),
    SettingKey(
        "start_grace",
        "startGraceSeconds",
        "duration",
        "Late event when a run starts this late.",
        "DURATION",
        least=1,
        most=MAX_CHECK_SECONDS,
    ),
    SettingKey(
        "max_runtime_alert",
        "maxRuntimeAlertSeconds",
        "duration",
        "long_running event after this long.",
        "DURATION",
        least=1,
        most=MAX_CHECK_SECONDS,
    ),
    SettingKey(
        "expect_success_within",
        "expectSuccessWithinSeconds",
        "duration",
        "no_success event after this long without a success (dead-man check).",
        "DURATION",
        least=1,
        most=MAX_CHECK_SECONDS,
    ),
    SettingKey("retry_backoff", "retryBackoff", "text", "Retry delays: fixed or exponential (doubling).", "BACKOFF"),
    SettingKey(
        "retry_max_delay",
        "retryMaxDelaySeconds",
        "duration",
        "Cap of exponential retry delays.",
        "DURATION",
        least=1,
        most=MAX_RETRY_DELAY_SECONDS,
    ),
    SettingKey(
        "retry_on_exit_code",
        "retryOnExitCodes",
        "int",
        "Retry only on this exit code (repeatable).",
        "CODE",
        multiple=True,
    ),
    SettingKey("overlap", "overlapPolicy", "text", "When runs are active at a slot: skip, queue or replace.", "POLICY"),
    SettingKey("max_queued", "maxQueued", "int", "With --overlap queue: slots that may wait at once (default 1)."),
    SettingKey("concurrency_group", "concurrencyGroup", "text", "Concurrency group whose limit runs share.", "GROUP"),
)
"""Every plain setting, in the order ``--help`` lists them. A new plain job field is one entry."""

SETTING_KEYS_BY_KEY: dict[str, SettingKey] = {setting.key: setting for setting in JOB_SETTING_KEYS}
SETTING_KEYS_BY_FIELD: dict[str, SettingKey] = {setting.field: setting for setting in JOB_SETTING_KEYS}


def setting_fields(values: dict[str, Any], *, flags: bool = True) -> dict[str, Any]:
    """API fields for the plain settings given in ``values`` (key -> value; None = not given).

    :param flags: name the value in errors by its option (``--timeout``) rather than its key.
    :raises ValidationFailed: for the first value of the wrong kind.
    """
    fields: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        setting = SETTING_KEYS_BY_KEY[key]
        if setting.clearable and value == "":
            fields[setting.field] = None  # back to the default
            continue
        fields[setting.field] = setting.to_field(value, loc=(setting.flag,) if flags else None)
    return fields


def duration_seconds(value: Any, *, loc: Sequence[str | int] = ("duration",)) -> int:
    """``300``, ``"300"``, ``"90s"``, ``"5m"``, ``"1h30m"`` as whole seconds; zero and negative
    ones too (``"0s"``, ``"-5"``, ``"-5m"``), which the setting then refuses by its own range,
    saying so, rather than as text in no duration's form.

    :raises ValidationFailed: for anything else, naming ``loc``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        sign, text = (-1, value[1:]) if value.startswith("-") else (1, value)
        if text.isdigit():  # more digits than any bound needs stand for one over every bound
            digits = text.lstrip("0") or "0"
            return sign * (int(digits) if len(digits) <= _DIGITS else 10**_DIGITS)
        from jobctl.schedules.durations import parse_units, total_seconds

        try:
            return sign * total_seconds(parse_units(text, zero=True))
        except ValidationFailed:
            pass
    raise _invalid(tuple(loc), f"takes seconds or a duration like 90s, 5m, 1h30m; got {shown(value)}")


_DIGITS = 30
"""Digits of a number of seconds read: ``int()`` refuses over 4,300, and 10**30 is over every bound."""


def format_duration(seconds: int) -> str:
    """Whole seconds the way a person writes them on the command line: 90 -> ``1m30s``,
    5400 -> ``1h30m``, 0 -> ``0``; :func:`duration_seconds` reads it back to the same number."""
    from jobctl.schedules.durations import format_every

    if seconds <= 0:
        return str(seconds)
    units: dict[str, int] = {}
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        units[unit], seconds = divmod(seconds, size)
    return format_every(units)


def _invalid(loc: tuple[str | int, ...], message: str) -> ValidationFailed:
    return ValidationFailed.field(loc, message)
