"""``--every``, ``--cron``, ``--at`` and ``--timezone`` of ``jobs create`` / ``jobs update`` as
``jobTypeId`` and ``scheduleConfig``, changed from the job's schedule (docs/updating-jobs.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from jobctl.cli.option_terms import options_message
from jobctl.errors import UsageError, ValidationFailed
from jobctl.models import JobType

if TYPE_CHECKING:
    from jobctl.cli.job_options import JobOptions

SCHEDULE_OPTIONS = {"every": "--every", "at": "--at", "timezone": "--timezone"}
"""The fields the schedule parsers name and the options that give them. A bad expression stays
``cron:``: ``jobctl cron explain`` (where it is an argument) says it in the very same line."""


CurrentSchedule = Callable[[], tuple[Any, Any]]
"""``jobTypeId`` and ``scheduleConfig`` as the job has them (None, None when it has none yet)."""


def schedule_fields(
    options: JobOptions, *, default_timezone: str, required: bool, current: CurrentSchedule | None = None
) -> dict[str, Any]:
    """``jobTypeId`` and ``scheduleConfig`` from ``--every``, ``--cron`` or ``--at``, or
    ``scheduleConfig`` from ``--timezone`` alone.

    A new expression keeps the zone, jitter and start and end dates of ``current()`` (those the
    new type takes) unless ``--timezone`` gives the zone; ``--timezone`` alone reads the current
    cron or date schedule's wall times in that zone (:mod:`jobctl.schedules.edits`).

    :raises UsageError:
    """
    from jobctl.schedules.edits import kept_qualifiers

    given = [
        flag for flag, value in (("--every", options.every), ("--cron", options.cron), ("--at", options.at)) if value
    ]
    if len(given) > 1:
        raise UsageError(f"give only one of --every, --cron, --at (got {', '.join(given)})")
    if options.every and options.timezone:
        raise UsageError("--timezone goes with --cron or --at")
    if not given:
        if required:
            raise UsageError("give a schedule: --every 1h30m, --cron '0 2 * * *' or --at TIME")
        if options.timezone:
            job_type, config = _current_schedule(current)
            return {"scheduleConfig": _rezoned(job_type, config, options.timezone, default_timezone)}
        return {}
    _, config = _current_schedule(current)
    kind = JobType.INTERVAL if options.every else JobType.CRON if options.cron else JobType.DATE
    kept = kept_qualifiers(kind, config)
    if options.timezone:
        kept["timezone"] = options.timezone
    return {"jobTypeId": int(kind), "scheduleConfig": {**_schedule_of(kind, options, kept, default_timezone), **kept}}


def _current_schedule(current: CurrentSchedule | None) -> tuple[JobType | None, Mapping[str, Any]]:
    """The job type and config to change, as far as they can be read (a ``--from-json`` body
    may hold anything: the API judges what is sent)."""
    job_type, config = current() if current is not None else (None, None)
    try:
        kind = JobType(job_type) if isinstance(job_type, int) and not isinstance(job_type, bool) else None
    except ValueError:
        kind = None
    return kind, config if isinstance(config, Mapping) else {}


def _schedule_of(kind: JobType, options: JobOptions, kept: Mapping[str, Any], default_timezone: str) -> dict[str, Any]:
    """The config the schedule option defines (the interval, the expression, the run date)."""
    from jobctl.schedules import crontab_config, parse_at, parse_every

    if kind is JobType.INTERVAL:
        assert options.every is not None
        return dict(_cli_field(parse_every, options.every))
    zone = kept.get("timezone")
    if kind is JobType.CRON:
        return dict(_cli_field(crontab_config, options.cron, zone))
    at_zone = zone or default_timezone
    return dict(_cli_field(lambda text: parse_at(text, default_timezone=at_zone, now=datetime.now(UTC)), options.at))


def _rezoned(job_type: JobType | None, config: Mapping[str, Any], zone: str, default_timezone: str) -> dict[str, Any]:
    from jobctl.schedules.edits import rezoned

    if job_type is None:
        raise UsageError("--timezone goes with --cron or --at")
    if job_type is JobType.INTERVAL:
        raise UsageError(
            "--timezone: an interval job has no time zone (its runs are a fixed time apart); "
            "give --cron or --at with it to run the job by the clock"
        )
    return dict(_cli_field(lambda: rezoned(job_type, config, zone, default_timezone=default_timezone)))


def _cli_field(parse: Any, *args: Any) -> Any:
    try:
        return parse(*args)
    except ValidationFailed as exc:
        raise UsageError(options_message(exc, SCHEDULE_OPTIONS)) from None
