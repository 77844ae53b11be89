"""A schedule changed in part: what a new expression keeps of the job's config, and a move to
another zone.

A ``scheduleConfig`` holds keys that *define* when a job fires (an expression or cron fields,
interval units, a ``run_date``) and keys that *qualify* it: ``timezone``, ``jitter``,
``start_date``, ``end_date``. ``jobs update --cron EXPR`` replaces the first kind only: the
job's qualifiers stay, those the new job type takes (:func:`kept_qualifiers`).
``jobs update --timezone ZONE`` alone keeps the wall times and changes the zone they are read
in (:func:`rezoned`). The API's ``PUT`` replaces ``scheduleConfig`` whole; these are for the
command line, which builds the whole config from the job's (docs/updating-jobs.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.models import JobType
from jobctl.schedules import cron, date, interval
from jobctl.schedules.iso_times import parse_date_time
from jobctl.schedules.zones import UnknownZone, format_utc, load_zone, wall_to_utc

QUALIFIER_KEYS = ("timezone", "jitter", "start_date", "end_date")
"""The keys of a config that qualify a schedule rather than define it."""

_KEYS_OF_TYPE: dict[JobType, frozenset[str]] = {
    JobType.INTERVAL: interval.KEYS,
    JobType.CRON: cron.KEYS,
    JobType.DATE: date.KEYS,
}


def kept_qualifiers(job_type: JobType, current: Mapping[str, Any]) -> dict[str, Any]:
    """The qualifiers of ``current`` (the job's config) that a schedule of ``job_type`` takes:
    the zone for cron and date, jitter and the start and end dates for interval and cron."""
    keys = _KEYS_OF_TYPE[job_type]
    return {key: current[key] for key in QUALIFIER_KEYS if key in keys and current.get(key) is not None}


def rezoned(job_type: JobType, config: Mapping[str, Any], zone: str, *, default_timezone: str) -> dict[str, Any]:
    """``config`` with its wall times read in ``zone``: a cron job keeps its expression (``0 2 *
    * *`` is 02:00 in the new zone), a date job its date and time of day in its zone (the
    config's ``timezone``, else ``default_timezone``: where a time typed without an offset was
    read).

    :raises ValidationFailed: at ``["timezone"]`` for an unknown zone or an interval job (its
        runs are a fixed time apart whatever the clock says); at ``["run_date"]`` for a stored
        date that cannot be read.
    """
    if job_type is JobType.INTERVAL:
        raise ValidationFailed.field(["timezone"], "an interval job has no time zone: its runs are a fixed time apart")
    new_zone = _zone(zone)
    if job_type is JobType.CRON:
        return {**config, "timezone": zone}
    text = config.get("run_date")
    try:
        when = parse_date_time(text) if isinstance(text, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ValidationFailed.field(["run_date"], f"the job's run date {text!r} cannot be read")
    if when.tzinfo is None:  # a wall time already: read in the new zone from now on
        return {**config, "timezone": zone}
    old_zone = _zone(str(config.get("timezone") or default_timezone))
    wall = when.astimezone(old_zone).replace(tzinfo=None)
    return {**config, "run_date": format_utc(wall_to_utc(wall, new_zone)), "timezone": zone}


def _zone(name: str) -> Any:
    try:
        return load_zone(name)
    except UnknownZone:
        raise ValidationFailed.field(["timezone"], f"unknown time zone {name!r}") from None
