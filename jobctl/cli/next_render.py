"""Human output of ``jobctl jobs next``: each coming run in the job's zone and in UTC.

A job with jitter runs somewhere in ``[slot, slot + jitter]``, so each line shows that range;
a paused or disabled job gets a note, since the times listed are those it would have once
resumed or enabled.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jobctl.cli import output
from jobctl.wire.responses import JobDetail, NextRunTimes


def next_runs(job: JobDetail, data: NextRunTimes) -> None:
    from jobctl.schedules.zones import load_zone

    zone = load_zone(data["timezone"])
    jitter = int(job["scheduleConfig"].get("jitter") or 0)
    output.print_line(f"{job['name']}: next runs ({data['timezone']})")
    if not data["nextRunTimes"]:
        output.print_line("  none: the schedule has no run left")
    slots = [datetime.fromisoformat(text) for text in data["nextRunTimes"]]
    notes = _dst_notes(job, data["timezone"], slots)
    for text, slot, note in zip(data["nextRunTimes"], slots, notes, strict=True):
        local = slot.astimezone(zone)
        when = f"{local:%a %Y-%m-%d %H:%M:%S %Z}"
        if jitter:
            latest = (slot + timedelta(seconds=jitter)).astimezone(zone)
            when = f"{local:%a %Y-%m-%d %H:%M:%S} to {latest:%H:%M:%S %Z} (jitter {jitter}s)"
        output.print_line(f"  {when:<48} {text:<22} {output.relative(text)}")
        if note is not None:
            output.print_line(f"    note: {note}")
    for line in _notes(job):
        output.print_line(line)


def _dst_notes(job: JobDetail, timezone: str, slots: list[datetime]) -> list[str | None]:
    """How DST resolved each slot of a cron job (computed here from its schedule, alike in both
    modes, since the API's answer is only the times)."""
    from jobctl.errors import ValidationFailed
    from jobctl.models import JobType
    from jobctl.schedules import CronSchedule, parse_schedule
    from jobctl.schedules.explain import dst_notes

    if job["jobTypeId"] != JobType.CRON or not slots:
        return [None] * len(slots)
    try:
        schedule = parse_schedule(JobType.CRON, job["scheduleConfig"], default_timezone=timezone, anchor=slots[0])
    except ValidationFailed:
        return [None] * len(slots)
    assert isinstance(schedule, CronSchedule)
    return [None if note is None else note.message for note in dst_notes(schedule, slots)]


def _notes(job: JobDetail) -> list[str]:
    if not job["isEnabled"]:
        return [f"note: the job is disabled: these runs happen only after 'jobctl jobs enable {job['name']}'"]
    if job["isPaused"]:
        return [f"note: the job is paused: these runs happen only after 'jobctl jobs resume {job['name']}'"]
    return []
