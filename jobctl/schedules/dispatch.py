"""From ``(jobTypeId, scheduleConfig)`` to a schedule, or to a short text."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.models import JobType
from jobctl.schedules.cron import parse_cron
from jobctl.schedules.cronfields import FIELD_ORDER
from jobctl.schedules.date import parse_date
from jobctl.schedules.durations import format_every
from jobctl.schedules.interval import parse_interval
from jobctl.schedules.protocol import Schedule
from jobctl.schedules.zones import UnknownZone, load_zone


def job_type_of(job_type_id: object) -> JobType:
    """The job type with this id.

    :raises ValidationFailed: at ``["jobTypeId"]`` for anything but 1, 2 or 3.
    """
    if isinstance(job_type_id, int) and not isinstance(job_type_id, bool):
        try:
            return JobType(job_type_id)
        except ValueError:
            pass
    known = ", ".join(f"{kind.value} ({kind.name.lower()})" for kind in JobType)
    raise ValidationFailed.field(["jobTypeId"], f"unknown job type {job_type_id!r}; use {known}")


def parse_schedule(job_type_id: int, config: Mapping[str, Any], *, default_timezone: str, anchor: datetime) -> Schedule:
    """Validate a schedule config and build the schedule that computes its slots.

    ``anchor`` is the job's creation time: interval slots count from it unless
    ``start_date`` is given, and a schedule with no slot at or after it is refused.
    ``default_timezone`` is the zone of cron jobs without ``timezone`` and of naive dates in
    cron and date configs (interval dates without an offset are UTC).

    :raises ValidationFailed: at ``["jobTypeId"]`` for an unknown type, otherwise with every
        error located under ``["scheduleConfig", ...]``.
    """
    kind = job_type_of(job_type_id)
    if kind is JobType.INTERVAL:
        return parse_interval(config, anchor=anchor)
    if kind is JobType.CRON:
        return parse_cron(config, default_timezone=default_timezone, anchor=anchor)
    return parse_date(config, default_timezone=default_timezone, anchor=anchor)


def describe_schedule(job_type_id: int, config: Mapping[str, Any]) -> str:
    """A short text for tables: ``every 1h30m``, ``cron 0 2 * * * (Europe/Berlin)``, ``at 2026-12-01 09:00Z``.

    Meant for stored (valid) configs, but never raises: anything unexpected is shown raw.
    """
    try:
        kind = job_type_of(job_type_id)
    except ValidationFailed:
        return f"type {job_type_id} {_raw(config)}"
    if not isinstance(config, Mapping):
        return f"{kind.name.lower()} {_raw(config)}"
    return _DESCRIBERS[kind](config) + _extras(config)


def _interval_text(config: Mapping[str, Any]) -> str:
    return f"every {format_every(config)}"


def _cron_text(config: Mapping[str, Any]) -> str:
    if isinstance(config.get("expression"), str):
        text = f"cron {' '.join(config['expression'].split())}"
    else:
        fields = [f"{key}={config[key]}" for key in FIELD_ORDER if config.get(key) is not None]
        text = f"cron {' '.join(fields)}"
    return f"{text} ({config['timezone']})" if config.get("timezone") else text


def _date_text(config: Mapping[str, Any]) -> str:
    run_date = config.get("run_date")
    if not isinstance(run_date, str):
        return f"at {_raw(run_date)}"
    try:
        value = datetime.fromisoformat(run_date.strip())
    except ValueError:
        return f"at {run_date}"
    zone = config.get("timezone")
    if value.tzinfo is not None and isinstance(zone, str):
        try:
            value = value.astimezone(load_zone(zone)).replace(tzinfo=None)  # the time in the job's zone
        except (UnknownZone, OverflowError):
            pass
    shown = value.strftime("%Y-%m-%d %H:%M" if value.second == 0 else "%Y-%m-%d %H:%M:%S")
    if value.tzinfo is not None:
        return f"at {shown}Z" if value.utcoffset() == UTC.utcoffset(None) else f"at {shown}{value.strftime('%z')}"
    return f"at {shown} ({zone})" if zone else f"at {shown}"


def _extras(config: Mapping[str, Any]) -> str:
    parts = []
    if config.get("start_date"):
        parts.append(f" from {config['start_date']}")
    if config.get("end_date"):
        parts.append(f" until {config['end_date']}")
    if config.get("jitter"):
        parts.append(f" (+0-{config['jitter']}s jitter)")  # runs start up to jitter late, never early
    return "".join(parts)


def _raw(value: object) -> str:
    import json  # only for odd configs; not worth loading up front

    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


_DESCRIBERS: dict[JobType, Callable[[Mapping[str, Any]], str]] = {
    JobType.INTERVAL: _interval_text,
    JobType.CRON: _cron_text,
    JobType.DATE: _date_text,
}
