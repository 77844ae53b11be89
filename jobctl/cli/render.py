"""Human views of the API's JSON: tables and detail blocks built on :mod:`jobctl.cli.output`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobctl.cli import output
from jobctl.cli.output import Markup, local_minute, local_time, relative, styled_status

if TYPE_CHECKING:
    from jobctl.wire.responses import ExecutionList, ExecutionOut, JobDetail, JobList, JobOut, SchedulerStatus


def describe(job: JobOut) -> str:
    from jobctl.schedules import describe_schedule

    try:
        return describe_schedule(job["jobTypeId"], job["scheduleConfig"])
    except Exception:  # noqa: BLE001 - a view must not fail on an odd stored config
        return str(job["scheduleConfig"])


def state(job: JobOut) -> str:
    if not job["isEnabled"]:
        return Markup("[dim]disabled[/dim]")
    return Markup("[yellow]paused[/yellow]" if job["isPaused"] else "[green]enabled[/green]")


def when(value: str | None) -> str:
    return "-" if value is None else f"{relative(value)} ({local_minute(value)})"


def jobs_table(data: JobList, *, page: int, per_page: int) -> None:
    rows = [
        [
            job["name"],
            describe(job),
            state(job),
            when(job["nextRunTime"]),
            relative(job["lastRunTime"]),
            styled_status(job["lastStatus"]),
        ]
        for job in data["jobs"]
    ]
    shown = f"page {page}, " if data["total"] > per_page else ""
    footer = (
        f"{shown}{data['total']} job(s): {data['enabledCount']} enabled, {data['disabledCount']} disabled, "
        f"{data['runningCount']} running"
    )
    output.print_table(None, ["NAME", "SCHEDULE", "STATE", "NEXT RUN", "LAST RUN", "LAST STATUS"], rows, footer=footer)


def job_detail(job: JobDetail) -> None:
    task = job["taskFunction"]
    fields = [
        ("id", job["id"]),
        ("description", job["description"] or "-"),
        ("schedule", describe(job)),
        ("state", state(job)),
        ("task", f"{task['name']} ({task['handlerType']}: {task['handlerPath']})"),
        ("task args", str(job["taskArgs"]) if job["taskArgs"] is not None else "-"),
        ("next run", when(job["nextRunTime"])),
        ("last run", when(job["lastRunTime"])),
        ("last status", styled_status(job["lastStatus"])),
        ("timeout", f"{job['timeoutSeconds']}s" if job["timeoutSeconds"] else "task default"),
        ("retries", f"{job['retryCount']} ({job['retryDelaySeconds']}s apart)"),
        ("max instances", str(job["maxInstances"])),
        ("misfire policy", job["misfirePolicy"]),
        ("created", f"{local_time(job['createdAt'])} by {job['createdBy'] or '-'}"),
        ("updated", f"{local_time(job['updatedAt'])} by {job['updatedBy'] or '-'}"),
    ]
    output.print_fields(f"Job {job['name']}", fields)
    if job["recentExecutions"]:
        executions_table(
            {"executions": job["recentExecutions"], "total": len(job["recentExecutions"])}, title="Recent runs"
        )


def job_created(job: JobOut) -> None:
    job_changed(job, "created")


def job_changed(job: JobOut, verb: str) -> None:
    next_run = "not scheduled" if job["nextRunTime"] is None else f"next run {when(job['nextRunTime'])}"
    output.print_line(f"{verb} job {job['name']!r} ({job['id']}): {describe(job)}, {next_run}")


def executions_table(data: ExecutionList, *, title: str | None = None) -> None:
    rows = [
        [
            e["id"],
            e["jobId"][:8],
            styled_status(e["status"]),
            e["triggeredBy"],
            str(e["attempt"]),
            local_time(e["startedAt"] or e["scheduledFor"]),
            _duration(e["durationSeconds"]),
            (e["errorMessage"] or "").splitlines()[0] if e["errorMessage"] else "",
        ]
        for e in data["executions"]
    ]
    output.print_table(
        title,
        ["ID", "JOB", "STATUS", "BY", "TRY", "STARTED", "DURATION", "ERROR"],
        rows,
        footer=f"{data['total']} execution(s)" if title is None else None,
    )


def truncation_note(e: ExecutionOut) -> str | None:
    """What a person is told when the start of a run's output was dropped to keep its tail."""
    dropped = e.get("outputDroppedBytes", 0)
    return f"output truncated: first {dropped} bytes dropped" if dropped else None


def execution_detail(e: ExecutionOut) -> None:
    fields = [
        ("job", e["jobId"]),
        ("status", styled_status(e["status"])),
        ("triggered by", f"{e['triggeredBy']}" + (f" ({e['triggeredByUserId']})" if e["triggeredByUserId"] else "")),
        ("attempt", str(e.get("attempt", 1))),
        ("scheduled for", local_time(e.get("scheduledFor"))),
        ("started", local_time(e["startedAt"])),
        ("completed", local_time(e["completedAt"])),
        ("duration", _duration(e["durationSeconds"])),
        ("result", str(e["result"]) if e["result"] is not None else "-"),
        ("error", e["errorMessage"] or "-"),
        ("instance", e.get("instanceId") or "-"),
        ("celery task", e["celeryTaskId"] or "-"),
    ]
    output.print_fields(f"Execution {e['id']}", fields)


def status(data: SchedulerStatus) -> None:
    leader = data["leaderInstance"]
    running = Markup(
        "[green]running[/green]" if data["isRunning"] else "[red]no leader: jobs are not being scheduled[/red]"
    )
    nxt = data["nextScheduledJob"]
    fields = [
        ("scheduler", running),
        (
            "leader",
            f"{leader['hostname']} pid {leader['pid']} since {local_time(leader['leaderSince'])}" if leader else "-",
        ),
        ("jobs", f"{data['totalJobs']} total, {data['enabledJobs']} enabled, {data['runningJobs']} running"),
        ("next job", f"{nxt['name']} {when(nxt['nextRunTime'])}" if nxt else "-"),
    ]
    output.print_fields("jobctl", fields)
    if data["instances"]:
        rows = [
            [
                i["id"][:8],
                i["hostname"],
                str(i["pid"]),
                "leader" if i["isLeader"] else "standby",
                relative(i["lastHeartbeat"]),
                i["version"],
                local_time(i["startedAt"]),
            ]
            for i in data["instances"]
        ]
        output.print_table("Instances", ["ID", "HOST", "PID", "ROLE", "HEARTBEAT", "VERSION", "STARTED"], rows)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60)}s"
