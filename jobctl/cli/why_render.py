"""``jobctl jobs why`` for people: the timeline line by line, the verdict last.

The words come from the service (the same in both modes); this only lays them out, each
line prefixed with its moment in the timeline's zone. The last line is always the verdict, so
``jobctl jobs why JOB | tail -1`` answers the question in a script.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from jobctl.cli import output
from jobctl.wire.history import JobTimeline


def timeline(data: JobTimeline) -> None:
    zone = ZoneInfo(data["timezone"])
    output.print_line(
        f"{data['jobName']}: {_local(data['since'], zone)} to {_local(data['until'], zone)} ({data['timezone']})"
    )
    if not data["events"]:
        output.print_line("  nothing happened in this window")
    for event in data["events"]:
        output.print_line(f"  {_local(event['at'], zone)}  {event['kind']:<7}  {event['text']}")
    next_slot = data["nextSlot"]
    overdue = data.get("nextSlotOverdue")  # a daemon of an earlier release leaves it out
    shown = _local(next_slot, zone) if next_slot else "none (paused, disabled or ended)"
    output.print_line(f"next slot: {shown}" + (f" ({overdue})" if overdue else ""))
    verdict = data["verdict"]
    slot = f" ({_local(verdict['slot'], zone)} slot)" if verdict["slot"] else ""
    output.print_line(f"verdict{slot}: {verdict['text']}")


def _local(value: str, zone: ZoneInfo) -> str:
    return f"{datetime.fromisoformat(value.replace('Z', '+00:00')).astimezone(zone):%Y-%m-%d %H:%M:%S}"
