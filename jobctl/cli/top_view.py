"""What ``jobctl top`` shows, as plain lines of text: one function of an overview, drawn by the
live screen (:mod:`jobctl.cli.top_screen`) and printed once when stdout is not a terminal.

Every name, reason and message comes from the store and may hold control characters: each goes
through :func:`~jobctl.cli.terminal.printable`, so the view cannot move the cursor or rewrite
the screen (``docs/terminal-output.md``). Durations count from the server's ``generatedAt``, so
a viewer whose clock is off still sees how long runs have been going.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jobctl.cli.output import local_instants, local_seconds, parse_time, relative
from jobctl.cli.scheduler_state import job_totals, leader_silence
from jobctl.cli.terminal import printable
from jobctl.wire.responses import Overview


def overview_lines(data: Overview) -> list[str]:
    """The whole view, top to bottom; the screen cuts it to its size."""
    now = parse_time(data["generatedAt"])
    lines = _header(data)
    lines += _section(
        f"RUNNING NOW ({len(data['running'])})",
        ["JOB", "STARTED", "FOR", "ATTEMPT", "INSTANCE"],
        [[r["jobName"], local_seconds(r["startedAt"]), _elapsed(r["startedAt"], now), str(r["attempt"]),
          (r["instanceId"] or "-")[:8]] for r in data["running"]],
    )  # fmt: skip
    lines += _section(
        "NEXT SLOTS",
        ["JOB", "AT", "IN"],
        [
            [u["jobName"], local_seconds(u["nextRunTime"]), relative(u["nextRunTime"], now=now)]
            for u in data["upcoming"]
        ],
    )
    lines += _section(
        "RECENT FAILURES",
        ["JOB", "STATUS", "ENDED", "ERROR"],
        [[f["jobName"], f["status"], relative(f["completedAt"], now=now), _first_line(f["errorMessage"])]
         for f in data["recentFailures"]],
    )  # fmt: skip
    lines += _section(
        "MISSED RANGES",
        ["JOB", "FROM", "TO", "SLOTS", "WHY"],
        [[m["jobName"], local_seconds(m["firstSlot"]), local_seconds(m["lastSlot"]), str(m["slots"]),
          _first_line(m["reason"])] for m in data["missed"]],
    )  # fmt: skip
    return lines


def _header(data: Overview) -> list[str]:
    status = data["status"]
    leader = status["leaderInstance"]
    since = local_seconds(leader["leaderSince"]) if leader else ""
    leading = f"{leader['hostname']} pid {leader['pid']} since {since}" if leader else "-"
    now = parse_time(data["generatedAt"])
    silence = leader_silence(status, now=now)
    scheduler = "running" if status["isRunning"] else "NO LEADER: jobs are not being scheduled"
    lines = [
        f"jobctl top  {local_seconds(data['generatedAt'])}",
        "scheduler: " + (silence or scheduler),
        "leader: " + printable(leading),
        f"jobs: {job_totals(status)}",
    ]  # fmt: skip
    lines += _section(
        f"INSTANCES ({len(status['instances'])})",
        ["ID", "HOST", "PID", "ROLE", "HEARTBEAT", "VERSION"],
        [[i["id"][:8], i["hostname"], str(i["pid"]), "leader" if i["isLeader"] else "standby",
          relative(i["lastHeartbeat"], now=now), i["version"]] for i in status["instances"]],
    )  # fmt: skip
    return lines


def _section(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A blank line, the title, and the rows in aligned columns (``(none)`` when there are none)."""
    if not rows:
        return ["", title, "  (none)"]
    cells = [[printable(value) for value in row] for row in rows]
    widths = [max(len(column), *(len(row[index]) for row in cells)) for index, column in enumerate(columns)]
    widths[-1] = 0  # the last column is not padded: it runs to the edge of the screen

    def line(values: Sequence[str]) -> str:
        return "  " + "  ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)).rstrip()

    return ["", title, line(columns), *(line(row) for row in cells)]


def _elapsed(started: str | None, now: datetime | None) -> str:
    moment = parse_time(started)
    if moment is None or now is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _first_line(text: str | None) -> str:
    """A stored reason's first line, its UTC instants in the viewer's zone like the view's times."""
    return local_instants((text or "-").strip().splitlines()[0]) if (text or "").strip() else "-"
