"""Jobs as a crontab that ``jobctl import crontab`` reads back to the same jobs (``jobctl export --format crontab``).

A crontab line holds a schedule and a command (standard input after a ``%``); everything else
cron knows is a variable line above it, in force for every line after it until set again:
``CRON_TZ`` (the zone), ``RANDOM_DELAY`` (``jitter``, in whole minutes), ``SHELL``
(``taskArgs.shell``), ``MAILTO`` (``notify`` rules on the ``output`` event of email notifiers,
which is what cron's mail is; rules on ``failure`` are ``MAILTO`` and cronie's ``-n`` before the
command) and the job's environment, whose ``HOME`` is also its working directory (cron starts a
run there).
So the writer keeps the variables in force and, before each line, sets those its job needs
otherwise. A variable cannot be unset, only set again, so jobs whose environments name
different variables share one crontab only in an order where each job names every variable
named before it: the longest such chain of jobs is written, and each other job is refused
with the reason, as is a job with a setting no crontab holds.

A job the import made is written as the line its description names (``crontab: LINE``) when that
line reads back to this very job (:func:`_with_line`): cron reads ``cat%hello`` and ``cat%hello%``
as one job, but the import describes each by its own line, so a canonical form would change the
description of every line written the other way. Any other job gets the canonical line.

Every job written is read back through the import's own parser and mapping before the text is
given out (:func:`_misread`): a job that would not come back the same is refused too, never
written wrong. Only ``labels`` is left out of the comparison, and the job's own ``description``
where it is not written as its own line: then the description must be the one of the line written.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from jobctl.schedules.crontab_file import (
    HOME_VARIABLE,
    IDENTITY_VARIABLES,
    MAIL_ON_FAILURE,
    MAIL_VARIABLES,
    RANDOM_DELAY_MAX_MINUTES,
    RANDOM_DELAY_VARIABLE,
    parse_crontab,
)
from jobctl.service.crontab_import import (
    DEFAULT_SHELL,
    DESCRIPTION_PREFIX,
    FAILURE_MAIL_EVENTS,
    MAIL_EVENTS,
    MailRoutes,
    crontab_jobs,
    line_description,
    route_mailto,
)
from jobctl.wire.job_keys import duration_seconds

HEADER = "# jobs exported by jobctl; read back with: jobctl import crontab FILE"
NOTES = frozenset({"description", "labels"})
"""jobctl's own notes on a job: dropped, as the import describes each job by its line."""
_LABELS = frozenset({"labels"})
"""The notes of a job written as its own line: its description then comes back as it is."""
SETTINGS = ("CRON_TZ", RANDOM_DELAY_VARIABLE, "SHELL", "MAILTO")
"""The variables cron reads as settings, written before a job's environment."""
UNSET = {"CRON_TZ": "", RANDOM_DELAY_VARIABLE: "0", "SHELL": DEFAULT_SHELL, "MAILTO": ""}
"""What each setting is in a crontab that does not set it, as the import reads it (no zone, no
jitter, no ``taskArgs.shell``, no ``notify`` rule); ``RANDOM_DELAY=0`` puts the jitter back to none."""
RESERVED = frozenset({*SETTINGS, *MAIL_VARIABLES})
"""Names the import takes as cron's settings, never as a variable of the environment."""
_HELD = frozenset({"name", "cron", "timezone", "command", "stdin", "env", "notify", "working_directory", *NOTES})
_MAX_SHOWN = 60
_WHY = {
    "every": "an interval schedule (cron has only calendar schedules)",
    "at": "a one-time run (use at(1))",
    "task": "a task function other than a shell command",
    "enabled": "disabled",
    "paused": "paused",
    "start_date": "a start date",
    "end_date": "an end date",
    "jitter": f"jitter other than whole minutes up to {RANDOM_DELAY_MAX_MINUTES} (cronie's RANDOM_DELAY)",
    "run_as_user": "a run-as user (a user crontab has no user field)",
}


@dataclass(frozen=True, kw_only=True)
class CrontabExport:
    """The crontab's text, and each job not in it with the reason (in name order)."""

    text: str
    refused: list[tuple[str, str]]


@dataclass(frozen=True, kw_only=True)
class _Job:
    """A job that a crontab can hold: its table, and the variables in force for its line."""

    table: dict[str, Any]
    variables: dict[str, str]
    mail_on_failure: bool = False
    """Its rules mail failures only: cronie's ``-n`` before the command."""
    line: str = ""
    """The crontab line written for it: schedule, ``-n``, command and standard input."""
    as_imported: bool = False
    """``line`` is the one its description (the import's ``crontab: LINE``) names, read back to
    this very job, description included; else it is the canonical line of the job."""

    @property
    def name(self) -> str:
        return str(self.table["name"])

    @property
    def environment_names(self) -> frozenset[str]:
        return frozenset(self.variables) - set(SETTINGS)


def crontab_export(
    tables: Sequence[dict[str, Any]],
    *,
    mail_routes: MailRoutes,
    now: datetime,
    skipped: Sequence[tuple[str, str]] = (),
) -> CrontabExport:
    """The crontab of ``tables`` (``[[jobs]]`` tables, as :func:`jobctl.wire.job_tables.table_from_fields`
    makes them) and the jobs it cannot hold, ``skipped`` (jobs without a table) among them.

    ``mail_routes`` says which email notifiers mail which address (the import's
    :func:`~jobctl.service.crontab_import.mail_routes`: the same notifiers must read it back);
    ``now`` starts the import's lint, run on the text to check it reads back.
    """
    refused = dict(skipped)
    jobs: list[_Job] = []
    for table in tables:
        job = crontab_job(table, mail_routes)
        if isinstance(job, str):
            refused[table["name"]] = job
        else:
            jobs.append(job)
    jobs, unchained = _chain(jobs)
    refused.update(unchained)
    jobs = [_with_line(job, mail_routes, now) for job in jobs]
    while True:  # each round drops at least one job, so it ends
        lines, owners = _write(jobs)
        misread = _misread(jobs, lines, owners, mail_routes, now)
        if not misread:
            break
        refused.update(misread)
        jobs = [job for job in jobs if job.name not in misread]
    comments = [f"# not exported: {name}: {why}" for name, why in sorted(refused.items())]
    return CrontabExport(text="\n".join([HEADER, *lines, *comments]) + "\n", refused=sorted(refused.items()))


def crontab_job(table: dict[str, Any], routes: MailRoutes) -> _Job | str:
    """``table`` as a crontab line's variables, or why no crontab holds it (every reason, ``; `` apart)."""
    why = [_WHY.get(key) or _no_such_setting(key, value) for key, value in table.items() if not _held(key, value)]
    why += _schedule_and_command(table)
    home = _home(table)
    if home:
        why.append(home)
    mailto, on_failure, unmailable = _mailto(table.get("notify"), routes)
    if unmailable:
        why.append(unmailable)
    variables = {
        "CRON_TZ": str(table.get("timezone") or ""),
        RANDOM_DELAY_VARIABLE: str(_jitter_seconds(table.get("jitter")) // 60),
        "SHELL": _shell(table.get("args")),
        "MAILTO": mailto,
    }
    for name, value in (table.get("env") or {}).items():
        problem = _variable_problem(name, value)
        if problem:
            why.append(problem)
        variables[name] = value
    return "; ".join(why) if why else _Job(table=table, variables=variables, mail_on_failure=on_failure)


def _held(key: str, value: Any) -> bool:
    """Whether a crontab can say ``key``: a task argument only as ``SHELL``, a shell but the default."""
    if key in _HELD:
        return True
    if key == "jitter":
        seconds = _jitter_seconds(value)
        return seconds % 60 == 0 and seconds // 60 <= RANDOM_DELAY_MAX_MINUTES
    return key == "args" and isinstance(value, dict) and set(value) == {"shell"} and value["shell"] != DEFAULT_SHELL


def _jitter_seconds(value: Any) -> int:
    """A table's ``jitter`` (a duration as the jobs file writes it) in seconds; 0 when it has none."""
    return duration_seconds(value, loc=["jitter"]) if value else 0


def _home(table: dict[str, Any]) -> str | None:
    """Why the job's directory and its ``HOME`` are not what one ``HOME=`` line gives (cron, and
    the import, start a run in ``HOME``), or None."""
    directory = table.get("working_directory")
    env = table.get("env")
    home = env.get(HOME_VARIABLE) if isinstance(env, dict) else None
    if directory == home:
        return None
    said = f"working_directory = {_shown(directory)}" if directory is not None else "no working_directory"
    has = f"HOME = {_shown(home)}" if home is not None else "no HOME variable"
    return f"{said} and {has} (cron starts a run in HOME: a crontab's HOME= line sets both)"


def _no_such_setting(key: str, value: Any) -> str:
    if key == "args":
        return f"task arguments {_shown(value)} (a crontab line's only one is SHELL, a shell other than /bin/sh)"
    return f"{key} = {_shown(value)} (cron has no such setting)"


def _shown(value: Any) -> str:
    """A value as the jobs file writes it, whole, or said to be long: never cut midway."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_SHOWN else "(a long value)"


def _schedule_and_command(table: dict[str, Any]) -> list[str]:
    why = []
    cron, command, stdin = table.get("cron"), table.get("command"), table.get("stdin")
    if isinstance(cron, str) and not cron.startswith("@") and len(cron.split()) != 5:
        why.append("a schedule with seconds (cron has minutes)")
    if isinstance(command, str):
        if _breaks_lines(command):
            why.append("a command of several lines")
        elif command != command.lstrip():
            why.append("a command with blanks at its start (cron skips those after the schedule)")
    if isinstance(stdin, str) and _breaks_lines(stdin.replace("\n", "")):
        why.append("standard input with a line break other than \\n (each % of cron's is a \\n)")
    return why


def _breaks_lines(text: str) -> bool:
    """Whether ``text`` would not stay one line of a crontab (\\n, \\r, and the other breaks
    Python's ``splitlines`` knows, which the import reads the file with)."""
    return "".join(text.splitlines()) != text


def _shell(args: Any) -> str:
    shell = args.get("shell") if isinstance(args, dict) else None
    return shell if isinstance(shell, str) and shell else DEFAULT_SHELL


def _variable_problem(name: str, value: Any) -> str | None:
    if name in RESERVED:
        return f"variable {name} (a crontab's {name}= line is cron's own setting, kept out of the environment)"
    if name in IDENTITY_VARIABLES:
        return f"variable {name} (cron sets it to the crontab's owner over a {name}= line)"
    if not isinstance(value, str) or _breaks_lines(value):
        return f"variable {name} holds a line break (a crontab variable is one line)"
    return None


def _mailto(rules: Any, routes: MailRoutes) -> tuple[str, bool, str | None]:
    """The ``MAILTO`` whose addresses the import turns into exactly ``rules`` (empty for none),
    whether the line needs ``-n`` (rules on failures only), and why no ``MAILTO`` does, or None."""
    if rules is None:
        return "", False, None
    if not rules:
        return (
            "",
            False,
            "notify = [] (no notification at all, where a crontab without MAILTO follows [notify] default)",
        )
    events = list(rules[0].get("on") or [])
    wanted = []
    for rule in rules:
        if list(rule.get("on") or []) != events or rule.get("each_attempt") or tuple(events) not in _MAIL_OF:
            said = ", ".join(rule.get("on") or []) + (", each attempt" if rule.get("each_attempt") else "")
            return (
                "",
                False,
                (
                    f"notify rule {rule.get('notifier')} on {said} (cron's MAILTO mails output, or with -n the "
                    "output of failed runs, the same for each address: nothing else)"
                ),
            )
        wanted.append(str(rule.get("notifier")))
    on_failure = _MAIL_OF[tuple(events)]
    chosen: list[str] = []
    for notifier in wanted:
        if notifier in route_mailto(",".join(chosen), routes)[0]:
            continue
        fits = [address for address, names in routes.items() if notifier in names and set(names) <= set(wanted)]
        if not fits:
            return (
                "",
                False,
                f"notify rule {notifier} (no MAILTO address reaches it: it is no email notifier of this config)",
            )
        chosen.append(fits[0])
    mailto = ",".join(chosen)
    if route_mailto(mailto, routes)[0] != wanted:
        return "", False, f"notify rules {', '.join(wanted)} (no MAILTO reaches exactly these notifiers, in this order)"
    return mailto, on_failure, None


_MAIL_OF = {MAIL_EVENTS: False, FAILURE_MAIL_EVENTS: True}
"""The events of the rules a ``MAILTO`` line makes: whether they need ``-n`` (failures only)."""


def _chain(jobs: list[_Job]) -> tuple[list[_Job], dict[str, str]]:
    """The most jobs whose environments' names grow along the crontab (each job names every
    variable named above it: none can be unset), in that order, and why each other job is out."""
    names = sorted({job.environment_names for job in jobs}, key=lambda found: (len(found), sorted(found)))
    count = {found: sum(job.environment_names == found for job in jobs) for found in names}
    score: list[int] = []
    before: list[int | None] = []
    for index, found in enumerate(names):
        smaller = [other for other in range(index) if names[other] < found]
        best = max(smaller, key=lambda other: score[other], default=None)
        score.append(count[found] + (score[best] if best is not None else 0))
        before.append(best)
    chain: list[frozenset[str]] = []
    at = max(range(len(names)), key=lambda index: score[index], default=None)
    while at is not None:
        chain.insert(0, names[at])
        at = before[at]
    rank = {found: position for position, found in enumerate(chain)}
    kept = [job for job in jobs if job.environment_names in rank]
    kept.sort(key=lambda job: (rank[job.environment_names], job.name))
    widest = ", ".join(sorted(chain[-1])) if chain else ""
    refused = {
        job.name: (
            f"its variables ({', '.join(sorted(job.environment_names)) or 'none'}) do not fit beside the other jobs' "
            f"({widest}): a crontab variable holds for every later line and cannot be unset; export it on its own "
            f"(jobctl export {shlex.quote(job.name)} --format crontab)"
        )
        for job in jobs
        if job.environment_names not in rank
    }
    return kept, refused


def _write(jobs: Sequence[_Job]) -> tuple[list[str], dict[int, str]]:
    """The crontab's lines after its header, and the job each line was written for, by line number."""
    lines: list[str] = []
    owners: dict[int, str] = {}
    in_force = dict(UNSET)
    for job in jobs:
        for name, value in job.variables.items():
            if in_force.get(name) != value:
                lines.append(_assignment(name, value))
                in_force[name] = value
                owners[len(lines) + 1] = job.name
        lines += [f"# name: {job.name}", job.line]
        owners[len(lines)] = owners[len(lines) + 1] = job.name
    return lines, owners


def _assignment(name: str, value: str) -> str:
    """``NAME=value``, quoted where the import would otherwise drop blanks or quotes around it."""
    quoted = not value or value != value.strip() or (len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0])
    return f'{name}="{value}"' if quoted else f"{name}={value}"


def _with_line(job: _Job, routes: MailRoutes, now: datetime) -> _Job:
    """``job`` with the line to write for it. A job the import made is described by its line, and
    cron reads several lines as one job (``cat%hello`` and ``cat%hello%`` give the same standard
    input): written in the canonical form, its re-import would change the description. So the
    line its description names is written when that line, read back alone through the import,
    gives exactly this job, description included; else the canonical line (:func:`_command`)."""
    for line in _described_lines(job.table):
        if _reads_back_as(job, line, routes, now):
            return replace(job, line=line, as_imported=True)
    command = _command(job.table["command"], job.table.get("stdin"))
    if job.mail_on_failure:
        command = f"{MAIL_ON_FAILURE} {command}"
    return replace(job, line=f"{job.table['cron']} {command}")


_FINAL_BLANKS = re.compile(r"[^\S\n]*\Z")


def _described_lines(table: dict[str, Any]) -> list[str]:
    """The lines an import description ``crontab: LINE`` may come from: LINE, and LINE with the
    blanks the job's command or standard input ends with (the import drops those from the
    description, not from the job: ``printf x   `` runs with its blanks)."""
    description = table.get("description")
    if not isinstance(description, str) or not description.startswith(DESCRIPTION_PREFIX):
        return []
    line = description.removeprefix(DESCRIPTION_PREFIX)
    if _breaks_lines(line):
        return []
    stdin = table.get("stdin")
    last = stdin.removesuffix("\n") if isinstance(stdin, str) else str(table.get("command") or "")
    blanks = _FINAL_BLANKS.search(last)
    return list(dict.fromkeys([line, line + (blanks.group() if blanks else "")]))


def _reads_back_as(job: _Job, line: str, routes: MailRoutes, now: datetime) -> bool:
    """Whether ``line``, under the job's variables, reads back as exactly ``job`` (all but its labels)."""
    assignments = [_assignment(name, value) for name, value in job.variables.items()]
    text = "\n".join([*assignments, f"# name: {job.name}", line])
    crontab = parse_crontab(text, system=False, default_timezone="UTC", now=now)
    read, issues = crontab_jobs(crontab, mail_routes=routes)
    if crontab.errors or any(issue.severity == "error" for issue in issues) or len(read) != 1:
        return False
    return not _differences(job.table, read[0].table, ignored=_LABELS)


def _command(command: str, stdin: str | None) -> str:
    """The command part of a line in canonical form: ``%`` escaped, standard input after a ``%``
    with each line break as a further ``%`` (a final one included, so it reads back whole)."""
    text = command.replace("%", "\\%")
    if stdin is not None:
        text += "%" + stdin.replace("%", "\\%").replace("\n", "%")
    return text


def _differences(wanted: Mapping[str, Any], got: Mapping[str, Any], *, ignored: frozenset[str]) -> list[str]:
    """The keys whose values differ between two tables, but ``ignored`` ones."""
    keys = {*wanted, *got} - ignored
    return sorted(key for key in keys if wanted.get(key) != got.get(key))


def _misread(
    jobs: Sequence[_Job], lines: list[str], owners: Mapping[int, str], routes: MailRoutes, now: datetime
) -> dict[str, str]:
    """The jobs the import would not read back from ``lines`` as they are, and why."""
    crontab = parse_crontab("\n".join([HEADER, *lines]), system=False, default_timezone="UTC", now=now)
    read, issues = crontab_jobs(crontab, mail_routes=routes)
    misread = {
        owners[issue.line]: f"it would not read back: {issue.message}"
        for issue in [*crontab.errors, *issues]
        if issue.severity == "error" and issue.line in owners
    }
    back = {job.table["name"]: job.table for job in read}
    for job in jobs:
        if job.name in misread:
            continue
        got = back.get(job.name, {})
        differ = _differences(job.table, got, ignored=_LABELS if job.as_imported else NOTES)
        if not job.as_imported and got.get("description") != line_description(job.line.rstrip()):
            differ.append("description")  # the import describes a job by its line: by this one
        if differ:
            misread[job.name] = f"a crontab line cannot hold it exactly ({', '.join(differ)} would read back otherwise)"
    return misread
