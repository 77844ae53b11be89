"""A read crontab as the ``[[jobs]]`` tables of a jobs file, for ``jobctl import crontab``.

Each job line becomes one table (the keys of ``jobctl apply``), so an import is an apply with
the source ``crontab:NAME``: a second import of the same crontab changes nothing, and
``--prune`` deletes the jobs whose lines are gone. How cron's settings map (docs/crontab-import.md):

* the schedule is ``cron`` as written (``@daily`` included); ``CRON_TZ`` is its ``timezone``
  (none: the scheduler's default zone). ``TZ`` is not: cron schedules in ``CRON_TZ`` only, and
  ``TZ`` is the commands' variable, as any other;
* ``RANDOM_DELAY`` (cronie: delay each run by a random number of minutes below it) is the
  job's ``jitter``, in seconds, up to that many minutes; kept out of the environment as ``CRON_TZ`` is;
* the command runs with the built-in shell task, ``SHELL`` (other than ``/bin/sh``) as its
  ``shell`` argument; text after an unescaped ``%`` is ``stdin``;
* ``HOME`` is also the job's ``working_directory``: cron starts a run in its HOME (without
  ``HOME=``, the run-as user's home, which a job naming a user starts in anyway);
* every other variable (``PATH``, ``HOME``, ``TZ``, ...) is the job's ``env``, except cron's
  mail settings and ``LOGNAME``/``USER``, which cron sets to the owner over the crontab's;
* a non-empty ``MAILTO`` becomes a ``notify`` rule ``on = ["output"]`` (cron mails a run's
  output, whatever its outcome: the ``output`` event is that) for each email notifier of the
  config whose ``to`` holds one of its addresses, ``on = ["failure"]`` for a line with cronie's
  ``-n`` (mail only when the run fails); an address no notifier sends to is reported on each
  line it applies to, as not carried over;
* the system format's user is ``run_as_user``; in a user crontab, a command whose first word
  is a user of this host and no command is warned about (``user_column``: the file reads like
  ``/etc/crontab``, to be imported with ``--system``).

A job's name is its ``# name:`` comment, else a readable part of the command and a short hash
of the line's schedule, user and command (:func:`job_name`), so it stays the same across
re-imports while the line does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jobctl.models import NAME_MAX
from jobctl.schedules.crontab_file import (
    HOME_VARIABLE,
    IDENTITY_VARIABLES,
    MAIL_VARIABLES,
    RANDOM_DELAY_VARIABLE,
    ZONE_VARIABLE,
    Crontab,
    CrontabEntry,
    LintIssue,
    quoted,
    random_delay_minutes,
)
from jobctl.wire.job_keys import format_duration

SOURCE_PREFIX = "crontab:"
DESCRIPTION_PREFIX = "crontab: "
"""What the description of each imported job starts with; the line follows it."""
DESCRIPTION_MAX = 2000
"""The API's limit on a description (``jobctl.wire.requests``, not imported here: it brings pydantic
into the CLI's start-up): a longer line is cut there."""
DEFAULT_SHELL = "/bin/sh"
_SLUG_WORDS = 3
_SLUG_MAX = 40
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ADDRESS_SEPARATORS = re.compile(r"[,\s]+")
MAIL_EVENTS = ("output",)
"""What cron mails: any output of a run, whatever its outcome."""
FAILURE_MAIL_EVENTS = ("failure",)
"""What cronie mails for a line with ``-n``: a run that did not exit 0 (and printed something)."""
MailRoutes = Mapping[str, Sequence[str]]
"""An address (lower-cased) -> the names of the email notifiers that send to it."""
_SCHEDULE_VARIABLES = frozenset({ZONE_VARIABLE, RANDOM_DELAY_VARIABLE, "SHELL", *MAIL_VARIABLES, *IDENTITY_VARIABLES})
"""Variables kept out of the environment. The first set something else; cron also hands ``CRON_TZ``
and ``RANDOM_DELAY`` to the command, but jobctl keeps them out, as they are the job's ``timezone``
and ``jitter``. ``LOGNAME`` and
``USER`` never reach a command in cron, which sets them to the owner after the crontab's
variables: a run gets its run-as user's (docs/crontab-import.md)."""


@dataclass(frozen=True, kw_only=True)
class ImportedJob:
    """One job table and the crontab line it came from."""

    line: int
    table: dict[str, Any]


def crontab_jobs(
    crontab: Crontab, *, prefix: str = "", mail_routes: MailRoutes | None = None
) -> tuple[list[ImportedJob], list[LintIssue]]:
    """The job tables of ``crontab``'s entries and the issues the mapping finds.

    ``mail_routes`` (see :func:`mail_routes`) says which notifiers mail which address. The issues
    are: ``mailto`` (warning: an address of a non-empty ``MAILTO`` that no notifier mails) and
    ``duplicate_name`` / ``name_too_long`` (errors: two lines give one name, or a name would
    pass the API's limit).
    """
    jobs: list[ImportedJob] = []
    issues: list[LintIssue] = []
    first_line_of: dict[str, int] = {}
    for entry in crontab.entries:
        name = prefix + job_name(entry)
        if name in first_line_of:
            issues.append(_issue(entry.line, "error", "duplicate_name", _duplicate(name, first_line_of[name], entry)))
            continue
        if len(name) > NAME_MAX:
            too_long = f"job name {quoted(name[:40])}... is over {NAME_MAX} characters"
            issues.append(_issue(entry.line, "error", "name_too_long", too_long))
            continue
        first_line_of[name] = entry.line
        table = job_table(entry, name)
        mailto = _mailto(entry)
        if mailto is not None:
            notifiers, missing = route_mailto(mailto[0], mail_routes or {})
            if notifiers:
                events = FAILURE_MAIL_EVENTS if entry.mail_on_failure else MAIL_EVENTS
                table["notify"] = [{"notifier": notifier, "on": list(events)} for notifier in notifiers]
            if missing:
                issues.append(_issue(entry.line, "warning", "mailto", _mailto_message(mailto, missing)))
        user_column = _user_column(entry)
        if user_column is not None:
            issues.append(_issue(entry.line, "warning", "user_column", user_column))
        jobs.append(ImportedJob(line=entry.line, table=table))
    return jobs, issues


def _user_column(entry: CrontabEntry) -> str | None:
    """Why a user crontab's line reads like ``/etc/crontab``'s, with a user after the schedule:
    its command begins with a user of this host that is no command, followed by what is one
    (a path, a command on ``PATH`` or a shell builtin: ``root cd / && ...``). Imported as it
    is, the job would run ``root cd / && ...`` as the daemon's user, and an update from such a
    file turned a job that ran as a user into one that runs as the daemon's (root, for a system
    daemon). ``mail -s ...`` is left alone: Debian has a user ``mail``, but ``-s`` is no command.
    """
    if entry.user is not None:
        return None
    words = entry.command.split()
    if len(words) < 2 or "/" in words[0] or not _is_a_user(words[0]):
        return None
    import shutil

    first, second = words[0], words[1]
    if shutil.which(first) is not None:
        return None
    if "/" not in second and second not in _SHELL_BUILTINS and shutil.which(second) is None:
        return None
    return (
        f"the command begins with {quoted(first)}, a user on this host and no command: a line of "
        "/etc/crontab's format (a user after the schedule)? Import such a file with --system"
    )


_SHELL_BUILTINS = frozenset({"cd", "test", "[", "exec", "echo", "true", "false", "set", ".", "export", "umask", "nice"})
"""Words that start a command in ``sh -c`` though no file of that name need be on ``PATH``."""


def _is_a_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except (KeyError, ValueError):
        return False
    return True


def job_table(entry: CrontabEntry, name: str) -> dict[str, Any]:
    """The ``[[jobs]]`` table of one crontab line (keys in the order ``jobctl export`` writes)."""
    variables = {variable.name: variable.value for variable in entry.variables}
    table: dict[str, Any] = {"name": name, "cron": entry.expression}
    zone = variables.get(ZONE_VARIABLE)
    if zone:
        table["timezone"] = zone
    delay, _ = random_delay_minutes(variables.get(RANDOM_DELAY_VARIABLE, ""))
    if delay:
        table["jitter"] = format_duration(delay * 60)
    table["command"] = entry.command
    shell = variables.get("SHELL")
    if shell and shell != DEFAULT_SHELL:
        table["args"] = {"shell": shell}
    table["description"] = line_description(f"{entry.expression} {entry.user + ' ' if entry.user else ''}{entry.raw}")
    if variables.get(HOME_VARIABLE):
        table["working_directory"] = variables[HOME_VARIABLE]  # cron starts each run in HOME
    if entry.stdin is not None:
        table["stdin"] = entry.stdin
    if entry.user is not None:
        table["run_as_user"] = entry.user
    environment = {key: value for key, value in variables.items() if key not in _SCHEDULE_VARIABLES}
    if environment:
        table["env"] = environment
    return table


def line_description(line: str) -> str:
    """The ``description`` of a job made from ``line``: its schedule (fields one blank apart),
    user and command as written (blanks at its end dropped, as from the identity), cut to the
    API's limit. ``jobctl export --format crontab`` writes a job's line back from it."""
    return (DESCRIPTION_PREFIX + line)[:DESCRIPTION_MAX]


def job_name(entry: CrontabEntry) -> str:
    """The ``# name:`` of the line, else ``SLUG-HASH``: up to three words of the command (paths
    cut to their last part) and 6 hex digits of the line's schedule, user and command."""
    if entry.name is not None:
        return entry.name
    words = [word.rsplit("/", 1)[-1] for word in entry.command.split()[:_SLUG_WORDS]]
    slug = _NOT_SLUG.sub("-", " ".join(words).lower()).strip("-")[:_SLUG_MAX].strip("-") or "job"
    identity = "\n".join((" ".join(entry.expression.split()), entry.user or "", entry.raw))
    return f"{slug}-{hashlib.sha256(identity.encode()).hexdigest()[:6]}"


def source_name(name: str) -> str:
    """The apply source of an imported crontab called ``name``."""
    return SOURCE_PREFIX + name


def _mailto(entry: CrontabEntry) -> tuple[str, int] | None:
    found = [variable for variable in entry.variables if variable.name == "MAILTO"]
    if not found or not found[-1].value:
        return None
    return found[-1].value, found[-1].line


def uses_mailto(crontab: Crontab) -> bool:
    """Whether a job line has a non-empty ``MAILTO`` (then the notifiers are worth asking for)."""
    return any(_mailto(entry) is not None for entry in crontab.entries)


def mail_routes(notifiers: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Which email notifiers (``GET /notifiers`` entries) send to which address, by address."""
    routes: dict[str, list[str]] = {}
    for notifier in notifiers:
        settings = notifier.get("settings") or {}
        if notifier.get("type") != "email" or not isinstance(settings.get("to"), list):
            continue
        for address in settings["to"]:
            routes.setdefault(str(address).strip().lower(), []).append(str(notifier["name"]))
    return routes


def route_mailto(mailto: str, routes: MailRoutes) -> tuple[list[str], list[str]]:
    """The notifiers that mail ``MAILTO``'s addresses (each once, in order), and the addresses none mails."""
    notifiers: list[str] = []
    missing: list[str] = []
    for address in filter(None, _ADDRESS_SEPARATORS.split(mailto)):
        found = routes.get(address.lower())
        if not found:
            missing.append(address)
        notifiers.extend(name for name in found or [] if name not in notifiers)
    return notifiers, missing


def _mailto_message(mailto: tuple[str, int], missing: Sequence[str]) -> str:
    address, line = mailto
    return (
        f"MAILTO={address} (line {line}): no email notifier sends to {', '.join(missing)}, so that mail is not "
        'carried over; add one to [[notifiers]] (type = "email", to = [...]) and import again'
    )


def _duplicate(name: str, first: int, entry: CrontabEntry) -> str:
    if entry.name is not None:
        return f"job name {quoted(name)} is already used by line {first}"
    return (
        f"same schedule and command as line {first} (job name {quoted(name)}): cron would run both; "
        "give one a '# name: NAME' comment on the line above"
    )


def _issue(line: int, severity: Any, code: str, message: str) -> LintIssue:
    return LintIssue(line=line, severity=severity, code=code, message=message)


def lines_of(jobs: Sequence[ImportedJob]) -> list[int]:
    """The crontab line of each table, by index (an apply error's ``loc`` holds the index)."""
    return [job.line for job in jobs]
