"""Human views of the API's JSON: tables and detail blocks built on :mod:`jobctl.cli.output`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobctl.cli import output
from jobctl.cli.output import (
    Markup,
    local_instants,
    local_minute,
    local_seconds,
    local_time,
    relative,
    styled_status,
)
from jobctl.cli.scheduler_state import job_totals, leader_silence
from jobctl.cli.tables import Column
from jobctl.wire.ids import short_id
from jobctl.wire.values import json_text, quoted

if TYPE_CHECKING:
    from jobctl.cli.listing import EveryJob
    from jobctl.wire.responses import ExecutionList, ExecutionOut, JobDetail, JobOut, SchedulerStatus


def describe(job: JobOut) -> str:
    from jobctl.schedules import describe_schedule

    try:
        return describe_schedule(job["jobTypeId"], job["scheduleConfig"])
    except Exception:  # noqa: BLE001 - a view must not fail on an odd stored config
        return json_text(job["scheduleConfig"])


def state(job: JobOut) -> str:
    if not job["isEnabled"]:
        return Markup("[dim]disabled[/dim]")
    if not job["isPaused"]:
        return Markup("[green]enabled[/green]")
    reason = job.get("pausedReason")
    return f"paused: {_short(local_instants(reason), 48)}" if reason else Markup("[yellow]paused[/yellow]")


def _short(text: str, width: int) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def paused_note(job: JobOut) -> str:
    """Who paused the job, when and why (``jobs show``)."""
    if not job["isPaused"]:
        return "-"
    by = f" by {job['pausedBy']}" if job.get("pausedBy") else ""
    at = f" at {local_time(job['pausedAt'])}" if job.get("pausedAt") else ""
    reason = job.get("pausedReason")
    return f"{local_instants(reason, with_zone=True) if reason else 'no reason given'}{by}{at}"


def when(value: str | None) -> str:
    return "-" if value is None else f"{relative(value)} ({local_minute(value)})"


JOB_COLUMNS = (
    Column("NAME", shrink=True),
    Column("ID", keep=5),
    Column("SCHEDULE", shrink=True, min_width=10),
    Column("STATE"),
    Column("NEXT RUN", keep=7),
    Column("AT", keep=2),
    Column("LAST RUN", keep=4),
    Column("RESULT", keep=6),
)
"""Jobs in a table; when it is too wide, AT goes first, then LAST RUN, ID, RESULT, NEXT RUN."""


def jobs_table(
    data: EveryJob, *, page: tuple[int, int] | None = None, next_cursor: str | None = None, read: int | None = None
) -> None:
    """``data`` in the API's shape; ``page`` (number, size) when it is one page of the listing,
    ``next_cursor`` that page's ``nextCursor`` when it was read after a cursor (it has no counts),
    ``read`` how many jobs were read when ``--limit`` kept only the first of them."""
    rows = [
        [
            job["name"],
            short_id(job["id"]),
            describe(job),
            state(job),
            relative(job["nextRunTime"]),
            local_minute(job["nextRunTime"]),
            relative(job["lastRunTime"]),
            styled_status(job["lastStatus"]),
        ]
        for job in data["jobs"]
    ]
    footer = _jobs_footer(data, len(rows), page, next_cursor, read)
    output.print_table(None, JOB_COLUMNS, rows, footer=footer)


def _jobs_footer(
    data: EveryJob, shown: int, page: tuple[int, int] | None, next_cursor: str | None, read: int | None
) -> str:
    total = data["total"]
    if total is None:  # a page after a cursor: the API counts nothing then
        return after_cursor_footer(shown, "job", next_cursor)
    footer = (
        f"{_count(total, 'job')}: {data['enabledCount'] or 0:,} enabled, {data['disabledCount'] or 0:,} disabled, "
        f"{data['runningCount'] or 0:,} running"
    )
    if page is not None and shown < total:
        hint = "without --page and --per-page every job is listed"
        footer += f"\nshowing {_page_span(page, shown)} of {total:,} (page {page[0]}); {hint}"
    elif read is not None and shown < read:
        footer += f"\nshowing the first {shown:,} by name; use --limit N to see more"
    elif page is None and shown != total:
        footer += f"\nshowing {shown:,}, {total:,} when the list was started: jobs were created or deleted meanwhile"
    return footer


def job_detail(job: JobDetail) -> None:
    task = job["taskFunction"]
    fields = [
        ("id", job["id"]),
        ("description", job["description"] or "-"),
        ("schedule", describe(job)),
        ("state", state(job)),
        ("paused", paused_note(job)),
        ("notify", _rules(job.get("notify"))),
        ("alerts", alerts(job)),
        ("auto-pause", _auto_pause(job.get("pauseAfterFailures"))),
        ("task", f"{task['name']} ({task['handlerType']}: {_handler(job)})"),
        *task_args(job),
        ("next run", when(job["nextRunTime"])),
        ("last run", when(job["lastRunTime"])),
        ("last status", styled_status(job["lastStatus"])),
        ("timeout", f"{job['timeoutSeconds']}s" if job["timeoutSeconds"] else "task default"),
        ("retries", retries(job)),
        ("max instances", str(job["maxInstances"])),
        ("misfire policy", job["misfirePolicy"]),
        ("overlap", _overlap(job)),
        ("concurrency group", job.get("concurrencyGroup") or "-"),
        ("labels", labels(job["labels"])),
        *run_context(job),
        *other_settings(job),
        ("source", job.get("source") or "-"),
        ("created", f"{local_time(job['createdAt'])} by {job['createdBy'] or '-'}"),
        ("updated", f"{local_time(job['updatedAt'])} by {job['updatedBy'] or '-'}"),
    ]
    output.print_fields(f"Job {job['name']}", fields)
    if job["recentExecutions"]:
        recent: ExecutionList = {
            "executions": job["recentExecutions"], "total": len(job["recentExecutions"]), "nextCursor": None
        }  # fmt: skip
        executions_table(recent, {}, title="Recent runs", with_job=False)


def retries(job: JobOut) -> str:
    """``3, 60s apart`` or ``3, exponential from 60s (at most 600s), on exit 3 4``."""
    count, delay = job["retryCount"], job["retryDelaySeconds"]
    if not count:
        return "none"
    if job.get("retryBackoff") == "exponential":
        cap = job.get("retryMaxDelaySeconds")
        text = f"{count}, exponential from {delay}s" + (f" (at most {cap}s)" if cap else "")
    else:
        text = f"{count}, {delay}s apart"
    codes = job.get("retryOnExitCodes")
    return text + (f", on exit {' '.join(str(code) for code in codes)}" if codes else "")


def task_args(job: JobDetail) -> list[tuple[str, str]]:
    """What the task is given: a shell job's ``command`` line as typed, then any other
    arguments in the API's spelling (``{"shell":"/bin/bash"}``), not a Python repr that
    doubled the command's backslashes and switched its quotes."""
    from jobctl.models import SHELL_TASK_FUNCTION

    args = job["taskArgs"]
    shell = job["taskFunction"]["name"] == SHELL_TASK_FUNCTION
    if not shell or not isinstance(args, dict) or not isinstance(args.get("command"), str):
        return [("task args", "-" if args is None else json_text(args))]
    command = args["command"]
    rest = {key: value for key, value in args.items() if key != "command"}
    return [("command", command), *([("task args", json_text(rest))] if rest else [])]


def labels(values: dict[str, str]) -> str:
    """``team=ops tier=gold``; a value with blanks, or empty, in double quotes (``owner="data eng"``),
    so where one label ends stays plain."""
    return " ".join(f"{key}={_word(value)}" for key, value in sorted(values.items())) or "-"


def _word(text: str) -> str:
    return text if text and " " not in text and text.isprintable() else quoted(text)


def _handler(job: JobDetail) -> str:
    """The task's handler; for the built-in shell, the shell the job's ``taskArgs`` name (``--arg shell=``)."""
    task, args = job["taskFunction"], job["taskArgs"] or {}
    shell = args.get("shell") if task["name"] == "shell" else None
    return f"{shell} -c" if isinstance(shell, str) and shell else task["handlerPath"]


def alerts(job: JobOut) -> str:
    """The thresholds of the ``late``, ``long_running`` and ``no_success`` events, or ``-``."""
    from jobctl.wire.job_keys import format_duration

    thresholds = (
        ("late after", job.get("startGraceSeconds")),
        ("long running after", job.get("maxRuntimeAlertSeconds")),
        ("no success within", job.get("expectSuccessWithinSeconds")),
    )
    return ", ".join(f"{label} {format_duration(seconds)}" for label, seconds in thresholds if seconds) or "-"


SHOWN_ABOVE = frozenset({
    "description", "notify", "startGraceSeconds", "maxRuntimeAlertSeconds", "expectSuccessWithinSeconds",
    "pauseAfterFailures", "timeoutSeconds", "retryCount", "retryDelaySeconds", "retryBackoff", "retryMaxDelaySeconds",
    "retryOnExitCodes", "maxInstances", "misfirePolicy", "overlapPolicy", "maxQueued", "concurrencyGroup",
    "runAsUser", "runAsGroup", "workingDirectory", "umask", "nice", "stdin",
})  # fmt: skip
"""The plain settings ``job_detail`` words itself; every other one is shown by :func:`other_settings`."""


def other_settings(job: JobOut) -> list[tuple[str, str]]:
    """A line per plain setting (``jobctl.wire.job_keys``) with no wording of its own above,
    named by its key, so a setting added to that table shows in ``jobs show`` without an edit here."""
    from jobctl.wire.job_keys import JOB_SETTING_KEYS, format_duration

    lines = []
    for setting in JOB_SETTING_KEYS:
        if setting.field in SHOWN_ABOVE:
            continue
        value = job.get(setting.field)
        values = value if isinstance(value, list) else [] if value is None else [value]
        texts = [format_duration(v) if setting.kind == "duration" and isinstance(v, int) else str(v) for v in values]
        lines.append((setting.key.replace("_", " "), " ".join(texts) or "-"))
    return lines


def _auto_pause(failures: int | None) -> str:
    return f"after {failures} failed outcomes in a row" if failures else "-"


DEFAULT_USERS_HOME = "the default user's home (/ without [daemon] default_run_as)"
"""Where a run of a job that names no directory and no user starts: ``[daemon] default_run_as``'s
home, or ``/`` on a daemon without it (docs/run-as.md). The daemon's config is not part of a
job, nor of the API's answers, and the CLI's own config need not be the daemon's, so the view
says both, and is true whichever holds, read from the store or through ``--api``."""


def run_context(job: JobOut) -> list[tuple[str, str]]:
    """How runs start: user, directory, umask, nice, environment names, stdin size.

    Environment values and the stdin text are left out: they are where secrets are handed to
    jobs, and ``jobs show`` is for reading over a shoulder (``--json`` has them, but for a
    viewer's token, to which the API answers them masked).
    """
    user, group = job.get("runAsUser"), job.get("runAsGroup")
    environment = job.get("environment") or {}
    stdin = job.get("stdin")
    return [
        ("run as", (user or "the daemon's default") + (f", group {group}" if group else "")),
        ("directory", job.get("workingDirectory") or ("the user's home" if user else DEFAULT_USERS_HOME)),
        ("umask", job.get("umask") or "022"),
        ("nice", "the daemon's" if job.get("nice") is None else str(job.get("nice"))),
        ("environment", " ".join(sorted(environment)) or "-"),
        ("stdin", _stdin_size(stdin)),
    ]


def _stdin_size(stdin: str | None) -> str:
    """``-``, ``12 bytes``, or ``***`` as a viewer's token reads it through the API (its size
    unknown: docs/secrets.md)."""
    from jobctl.redaction import MASK

    if stdin is None:
        return "-"
    return MASK if stdin == MASK else f"{len(stdin.encode('utf-8')):,} bytes"


def _rules(rules: list[dict[str, Any]] | None) -> str:
    if rules is None:
        return "the config's default"
    each = " (each attempt)"
    parts = [f"{r['notifier']}:{','.join(r['on'])}" + (each if r.get("eachAttempt") else "") for r in rules]
    return " ".join(parts) or "none"


def _overlap(job: JobOut) -> str:
    policy = str(job.get("overlapPolicy", "skip"))
    return f"queue (at most {job.get('maxQueued', 1)} waiting)" if policy == "queue" else policy


def job_created(job: JobOut) -> None:
    job_changed(job, "created")


def job_changed(job: JobOut, verb: str) -> None:
    next_run = "not scheduled" if job["nextRunTime"] is None else f"next run {when(job['nextRunTime'])}"
    output.print_line(f"{verb} job {job['name']!r} ({job['id']}): {describe(job)}, {next_run}")


def job_unchanged(job: JobOut) -> None:
    """What ``jobs update`` says when the job already was as asked: nothing was written, not
    even its ``updatedAt`` (docs/updating-jobs.md)."""
    output.print_line(f"no changes to job {job['name']!r} ({job['id']})")


def job_deleted(job_id: str, name: str) -> None:
    """The line ``jobs delete`` prints, as :func:`job_changed` names the job (the API answers
    a delete with no body)."""
    output.print_line(f"deleted job {name!r} ({job_id})")


EXECUTION_COLUMNS = (
    Column("ID"),
    Column("JOB", shrink=True),
    Column("STATUS"),
    Column("BY", keep=3),
    Column("TRY", keep=2),
    Column("STARTED", keep=6),
    Column("DURATION", keep=4),
    Column("ERROR", keep=5, shrink=True, min_width=10),
)
"""Runs in a table; when it is too wide, TRY goes first, then BY, DURATION, ERROR, STARTED."""


def executions_table(
    data: ExecutionList, names: dict[str, str], *, title: str | None = None, footer: str | None = None,
    with_job: bool = True,
) -> None:  # fmt: skip
    """Runs with their job's name (from ``names``, else the job's short id)."""
    rows = [
        [
            short_id(e["id"]),
            names.get(e["jobId"]) or short_id(e["jobId"]),
            styled_status(e["status"]),
            e["triggeredBy"],
            str(e.get("attempt", 1)),
            _started(e),
            _duration(e["durationSeconds"]),
            _note(e),
        ]
        for e in data["executions"]
    ]
    columns: tuple[Column, ...] = EXECUTION_COLUMNS
    if not with_job:
        columns = tuple(column for column in EXECUTION_COLUMNS if column.header != "JOB")
        rows = [row[:1] + row[2:] for row in rows]
    output.print_table(title, columns, rows, footer=footer)


SLOTS_NOT_RUN = frozenset({"skipped", "missed"})
"""Statuses of a slot that never ran: the STARTED column shows the slot, their status says why."""


def _started(e: ExecutionOut) -> str:
    """The STARTED column: when the run started. A slot skipped or missed shows its slot (the
    status says it did not run); a run waiting to start, or one that ended before it started
    (cancelled while waiting), shows ``-``: its slot, or for a retry the failed run's slot, read
    as a start that never happened (docs/listings.md)."""
    if e["startedAt"]:
        return local_seconds(e["startedAt"])
    return local_seconds(e.get("scheduledFor")) if e["status"] in SLOTS_NOT_RUN else "-"


def _note(e: ExecutionOut) -> str:
    """The ERROR column: why a pending run waits, else the first line of its error."""
    waiting = e.get("pendingReason")
    if waiting:
        return f"waiting: {local_instants(waiting)}"
    return local_instants(e["errorMessage"].splitlines()[0]) if e["errorMessage"] else ""


PRUNED_NOTE = "output pruned: older than [history] output_keep_days"
"""What a person is told of a run whose output retention removed (``outputPruned``)."""


def truncation_note(e: ExecutionOut) -> str | None:
    """What a person is told when the start of a run's output was dropped to keep its tail, or
    when retention removed all of it (no output must not read as a run that printed nothing)."""
    if e.get("outputPruned"):
        return PRUNED_NOTE
    dropped = e.get("outputDroppedBytes", 0)
    return f"output truncated: first {dropped} bytes dropped" if dropped else None


def executions_footer(shown: int, total: int, *, page: tuple[int, int] | None) -> str:
    """``"3 runs"``, ``"showing 50 of 1,234 runs; use --limit N to see more"``, or for
    ``--page 2 --per-page 5``, which runs of the listing the page holds, as ``jobs list`` says it:
    ``"showing 6-10 of 19 runs (page 2); ..."`` (``none`` past the last page)."""
    return listing_footer(shown, total, noun="run", page=page)


def after_cursor_footer(shown: int, noun: str, next_cursor: str | None) -> str:
    """The footer of a page read after a cursor (``--after``), which the API counts nothing for:
    ``"2 runs after the cursor; next page: --after ID"`` (no next page at the end). A bare ``"2
    runs"`` read as the whole listing's count."""
    more = f"; next page: --after {next_cursor}" if next_cursor else ""
    return f"{_count(shown, noun)} after the cursor{more}"


def listing_footer(
    shown: int, total: int, *, noun: str, page: tuple[int, int] | None, newest_first: bool = True
) -> str:
    """:func:`executions_footer` for any listing with ``--limit``, ``--page``/``--per-page``
    and ``--all`` (jobctl/cli/paging.py): ``noun`` is one item's (``entry``, ``notification``)."""
    if page is None:
        if shown >= total:
            return _count(total, noun)
        return f"showing {shown:,} of {_count(total, noun)}; use --limit N to see more"
    if shown >= total and page[0] == 1:
        return _count(total, noun)
    hint = f"without --page and --per-page the {'newest' if newest_first else 'first'} are listed"
    return f"showing {_page_span(page, shown)} of {_count(total, noun)} (page {page[0]}); {hint}"


def _page_span(page: tuple[int, int], shown: int) -> str:
    """Which items of a listing page ``(number, size)`` holds when it shows ``shown``: ``26-50``,
    or ``none`` past the last page."""
    first = (page[0] - 1) * page[1] + 1
    return f"{first:,}-{first + shown - 1:,}" if shown else "none"


def _count(number: int, noun: str) -> str:
    if number == 1:
        return f"1 {noun}"
    return f"{number:,} {noun[:-1]}ies" if noun.endswith("y") else f"{number:,} {noun}s"


def _json_text(value: Any) -> str:
    """A run's result as the JSON it is (``{"rows": 12}``), not as Python prints it (``{'rows': 12}``)."""
    import json

    return json.dumps(value, ensure_ascii=False)


def execution_detail(e: ExecutionOut, job_name: str | None) -> None:
    fields = [
        ("job", f"{job_name} ({short_id(e['jobId'])})" if job_name else e["jobId"]),
        ("status", styled_status(e["status"])),
        *([("waiting", local_instants(str(e["pendingReason"]), with_zone=True))] if e.get("pendingReason") else []),
        ("triggered by", f"{e['triggeredBy']}" + (f" ({e['triggeredByUserId']})" if e["triggeredByUserId"] else "")),
        ("attempt", str(e.get("attempt", 1))),
        ("scheduled for", local_time(e.get("scheduledFor"))),
        *_missed_range(e),
        ("started", local_time(e["startedAt"])),
        ("completed", local_time(e["completedAt"])),
        ("duration", _duration(e["durationSeconds"])),
        ("result", _json_text(e["result"]) if e["result"] is not None else "-"),
        ("error", local_instants(e["errorMessage"], with_zone=True) if e["errorMessage"] else "-"),
        *([("cancelled by", str(e["cancelledBy"]))] if e.get("cancelledBy") else []),
        ("instance", e.get("instanceId") or "-"),
        ("celery task", e["celeryTaskId"] or "-"),
    ]
    output.print_fields(f"Execution {e['id']}", fields)


def cancel_summary(e: ExecutionOut) -> str:
    """One line saying that a cancel ended the run, and how (a run that ended first is exit 4)."""
    why = local_instants(e["errorMessage"], with_zone=True) if e["errorMessage"] else ""
    return f"Cancelled execution {e['id']}" + (f": {why}" if why else "")


def _missed_range(e: ExecutionOut) -> list[tuple[str, str]]:
    """A missed execution's range: its slot count and last slot (``scheduled for`` is the first)."""
    count = e.get("missedCount")
    if count is None:
        return []
    return [("missed slots", f"{count:,} through {local_time(e.get('missedUntil'))}")]


def status(data: SchedulerStatus) -> None:
    leader = data["leaderInstance"]
    nxt = data["nextScheduledJob"]
    fields = [
        ("scheduler", _scheduler_state(data)),
        (
            "leader",
            f"{leader['hostname']} pid {leader['pid']} since {local_time(leader['leaderSince'])}" if leader else "-",
        ),
        ("jobs", job_totals(data)),
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
        output.print_table("Instances", INSTANCE_COLUMNS, rows)
    groups = data.get("concurrencyGroups") or []
    if groups:
        rows = [[g["name"], str(g["limit"]), str(g["running"]), str(g["waiting"])] for g in groups]
        output.print_table("Concurrency groups", GROUP_COLUMNS, rows)


def _scheduler_state(data: SchedulerStatus) -> Markup:
    """Running, a leader that stopped heartbeating (its lease not yet ended), or no leader."""
    silence = leader_silence(data)
    if silence:
        return Markup(f"[yellow]{silence}[/yellow]")
    if data["isRunning"]:
        return Markup("[green]running[/green]")
    return Markup("[red]no leader: jobs are not being scheduled[/red]")


INSTANCE_COLUMNS = (
    Column("ID"),
    Column("HOST", shrink=True),
    Column("PID"),
    Column("ROLE"),
    Column("HEARTBEAT"),
    Column("VERSION", keep=3),
    Column("STARTED", keep=2),
)


GROUP_COLUMNS = (Column("GROUP", shrink=True), Column("LIMIT"), Column("RUNNING"), Column("WAITING"))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f}s" if seconds < 60 else f"{int(seconds // 60)}m{int(seconds % 60)}s"
