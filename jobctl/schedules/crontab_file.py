"""Reading a crontab file as cron(5) defines it, with a lint that names the line of each problem.

A crontab is read line by line:

* a UTF-8 byte order mark at the start of the text (some Windows editors save one) is not part
  of the first line;
* blank lines and lines whose first non-blank character is ``#`` are skipped; a comment
  ``# name: NAME`` right above a job line names that job;
* ``NAME=value`` (blanks around ``=`` allowed, the value optionally in matching single or
  double quotes to keep its outer blanks, the name optionally quoted too) sets a variable for
  the job lines *after* it; nothing is expanded (``PATH=$HOME/bin`` is those characters);
* a job line is, after an optional ``-`` (cronie: do not log its runs; left out, with a
  warning), five time fields (or one of ``@yearly @annually @monthly @weekly @daily
  @midnight @hourly``), then, in the system format (``/etc/crontab``, ``/etc/cron.d/*``), the
  user, then cronie's option ``-n`` (mail the output only when the run fails; any other
  ``-`` before the command is an error, as in cronie), then the command: the rest of the line,
  blanks at its end kept (cron reads it to the line's end). In the command an unescaped ``%``
  ends the command and the rest is its standard input, where each further ``%`` is a newline;
  ``\\%`` is a literal ``%``, and in the command a backslash pairs with the character after
  it (``\\\\%``: the ``%`` is unescaped), as cron's ``do_command.c`` reads it (:func:`split_percent`).

Everything else is an error. Errors and warnings are :class:`LintIssue` values with a stable
``code``; the time-field checks are the parser ``jobs create --cron`` uses
(:func:`~jobctl.schedules.cronfields.crontab_spec`) and the warnings come from
:mod:`jobctl.schedules.cronlint`, shared with ``jobctl cron explain``. Nothing here does I/O:
the caller reads the text and decides what to do with the entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from jobctl.models import VARIABLE_NAME_PATTERN
from jobctl.schedules.cron import CronSchedule
from jobctl.schedules.cronfields import MONTH_NAMES, SUNDAY_FIRST, FieldError, crontab_spec
from jobctl.schedules.cronlint import dst_findings, lint_fields, normalized_fields
from jobctl.schedules.cronsearch import build_search
from jobctl.schedules.zones import UnknownZone, load_zone

Severity = Literal["error", "warning"]
MACROS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
ZONE_VARIABLE = "CRON_TZ"
"""The variable whose zone the schedule is read in (cronie reads only it: ``TZ`` is the commands')."""
MAIL_VARIABLES = ("MAILTO", "MAILFROM", "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING")
"""Variables cron reads to mail a job's output; jobctl does not mail output (see import)."""
HOME_VARIABLE = "HOME"
"""cron starts a run in the job's ``HOME``: the crontab's, else the owner's from passwd."""
IDENTITY_VARIABLES = ("LOGNAME", "USER")
"""Variables cron sets to the crontab's owner after reading the crontab: a crontab cannot change them."""
VALUE_MAX = 32 * 1024
DONT_LOG = "-"
"""cronie's mark before a job line's schedule: do not syslog its runs (root's and system crontabs)."""
RANDOM_DELAY_VARIABLE = "RANDOM_DELAY"
"""cronie: delay each job of the lines after it by a random number of minutes below this one."""
RANDOM_DELAY_MAX_MINUTES = 24 * 60
"""The largest ``RANDOM_DELAY`` cronie takes; above it (or below 0) it logs "bad value" and delays nothing."""
_LEADING_NUMBER = re.compile(r"\s*[+-]?\d+")
MAIL_ON_FAILURE = "-n"
"""cronie's option before a command: mail the run's output only when the run fails. It is the
only option cronie knows: a command starting with any other ``-`` is refused there (and would
be an option of ``/bin/sh -c`` here, failing every run)."""
_OPTION_BLANKS = " \t"
"""What cronie skips after an option: blanks and tabs (``Skip_Blanks``)."""
BYTE_ORDER_MARK = "\ufeff"
"""What some Windows editors save before a UTF-8 file's text. It belongs to no line: read as
one, it made the first line (a variable, a job, a ``# name:``) an error or a comment no more."""

_VARIABLE = re.compile(r"""\s*(?P<quote>['"]?)(?P<name>[^\s='"]+)(?P=quote)\s*=(?P<value>.*)""", re.DOTALL)
_NAME_COMMENT = re.compile(r"#\s*name:\s*(?P<name>.*\S)\s*$", re.IGNORECASE)
_WORD = re.compile(r"\s*(\S+)")
_FIELD_CHARS = re.compile(r"[a-z0-9*?,/#-]+")
_FIELD_WORDS = frozenset({*MONTH_NAMES, *SUNDAY_FIRST})
_COMMAND_START_LOOKS_LIKE_FIELD = re.compile(r"[0-9*][0-9*,/-]*")


@dataclass(frozen=True, kw_only=True)
class LintIssue:
    """One finding on one line: ``FILE:LINE: severity: message`` when printed."""

    line: int
    severity: Severity
    code: str
    message: str


@dataclass(frozen=True, kw_only=True)
class Variable:
    """A ``NAME=value`` line in effect for the job lines after it."""

    name: str
    value: str
    line: int


@dataclass(frozen=True, kw_only=True)
class CrontabEntry:
    """One job line, read: its schedule, user, command, standard input and variables."""

    line: int
    expression: str
    """The five fields as written (blanks collapsed), or the macro."""
    user: str | None
    command: str
    stdin: str | None
    name: str | None
    """From a ``# name:`` comment on the line above, else None."""
    variables: tuple[Variable, ...]
    """Every variable set above the line, the latest value of each name, in first-set order."""
    raw: str
    """Everything after the fields (and user), as written but for blanks at its end (and after
    ``-n``): with the schedule, the job's identity (so blanks an editor adds or drops at a line's end do not
    change the job's generated name)."""
    mail_on_failure: bool = False
    """cronie's ``-n`` before the command: mail the output only when the run fails."""


@dataclass(kw_only=True)
class Crontab:
    """A read crontab: its job lines, and every error and warning, in line order."""

    entries: list[CrontabEntry] = field(default_factory=list)
    issues: list[LintIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[LintIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    def add(self, line: int, severity: Severity, code: str, message: str) -> None:
        self.issues.append(LintIssue(line=line, severity=severity, code=code, message=message))


def quoted(text: str) -> str:
    """A line's text in a lint message: in double quotes, each character as written.

    Python's ``repr`` doubled every backslash (``echo "a%b"\\\\`` shown with four), the very
    characters a message about ``\\%`` is about, and switched quotes by the content. Control
    characters are left to the printer: stderr shows them escaped, backslashes not doubled
    (docs/terminal-output.md), and ``--json`` holds them exactly.
    """
    return f'"{text}"'


def parse_crontab(
    text: str, *, system: bool, default_timezone: str, now: datetime, skip_unsupported: bool = False
) -> Crontab:
    """Read crontab ``text``: entries, errors and warnings (see the module docstring).

    ``default_timezone`` is the zone of jobs without ``CRON_TZ`` (for the DST lint);
    ``now`` starts the year the DST lint looks at and the search for a first run. With
    ``skip_unsupported`` an ``@reboot`` line is a warning and left out, else an error.
    """
    result = Crontab()
    variables: dict[str, Variable] = {}
    previous = ""
    for number, line in enumerate(text.removeprefix(BYTE_ORDER_MARK).splitlines(), 1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            variable = _variable(line)
            if variable is not None:
                _check_variable(Variable(name=variable[0], value=variable[1], line=number), result)
                variables[variable[0]] = Variable(name=variable[0], value=variable[1], line=number)
            else:
                name = _comment_name(previous)
                _read_job(
                    line.lstrip(),  # the line's end is the command's: cron keeps its blanks
                    number,
                    name,
                    tuple(variables.values()),
                    result,
                    system=system,
                    skip_unsupported=skip_unsupported,
                )
        previous = stripped
    for entry in result.entries:
        _lint_schedule(entry, result, default_timezone=default_timezone, now=now)
        _lint_tz_variable(entry, result)
        _lint_mail_on_failure(entry, result)
    result.issues.sort(key=lambda issue: issue.line)
    return result


def _variable(line: str) -> tuple[str, str] | None:
    """``(name, value)`` if ``line`` is a variable assignment, as cron's ``load_env`` reads it."""
    match = _VARIABLE.fullmatch(line)
    if match is None:
        return None
    value = match["value"].strip()
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        value = value[1:-1]
    return match["name"], value


def _comment_name(line: str) -> str | None:
    match = _NAME_COMMENT.fullmatch(line) if line.startswith("#") else None
    return None if match is None else match["name"]


def _check_variable(variable: Variable, result: Crontab) -> None:
    """Refuse what a job could not be given: a bad name, an unknown zone, a relative shell."""
    name, value, line = variable.name, variable.value, variable.line
    if not re.fullmatch(VARIABLE_NAME_PATTERN, name) or name.startswith("JOBCTL_"):
        reason = "JOBCTL_ names are set by jobctl for each run" if name.startswith("JOBCTL_") else "not a valid name"
        result.add(line, "error", "bad_variable", f"variable {quoted(name)}: {reason}")
    elif len(value.encode()) > VALUE_MAX:
        result.add(line, "error", "bad_variable", f"variable {quoted(name)}: value longer than {VALUE_MAX} bytes")
    elif name == ZONE_VARIABLE and value:
        try:
            load_zone(value)
        except UnknownZone:
            result.add(line, "error", "unknown_zone", f"{name}={quoted(value)}: unknown time zone")
    elif name == "SHELL" and not value.startswith("/"):
        result.add(line, "error", "bad_shell", f"SHELL={quoted(value)}: the shell must be an absolute path")
    elif name == HOME_VARIABLE and not value.startswith("/"):
        result.add(
            line,
            "error",
            "bad_home",
            f"HOME={quoted(value)}: cron starts each run in HOME, and jobctl needs an absolute directory to start "
            "it in",
        )
    elif name == RANDOM_DELAY_VARIABLE and random_delay_minutes(value)[1] is not None:
        result.add(line, "warning", "random_delay", f"{name}={value}: {random_delay_minutes(value)[1]}")
    elif name in IDENTITY_VARIABLES:
        result.add(
            line,
            "warning",
            "user_variable",
            f"{name}={value}: cron sets LOGNAME and USER to the crontab's owner over the crontab's (crontab(5): "
            "LOGNAME cannot be changed), so no command sees this value; left out: a run gets its run-as user's",
        )


def random_delay_minutes(value: str) -> tuple[int, str | None]:
    """The minutes of a ``RANDOM_DELAY`` value as cronie reads it (``strtol``: the whole number at
    its start, 0 when there is none; over :data:`RANDOM_DELAY_MAX_MINUTES` or below 0 no delay at
    all), and what a reader should be told when that is not simply the value (else None)."""
    if not value or (value.isdigit() and int(value) <= RANDOM_DELAY_MAX_MINUTES):
        return int(value or 0), None
    match = _LEADING_NUMBER.match(value)
    if match is None:
        return 0, "not a number of minutes: cron reads it as 0 and delays nothing; no jitter"
    minutes = int(match[0])
    if not 0 <= minutes <= RANDOM_DELAY_MAX_MINUTES:
        return 0, (
            f"cron takes 0 to {RANDOM_DELAY_MAX_MINUTES} minutes (it logs 'bad value of RANDOM_DELAY' and delays "
            "nothing); no jitter"
        )
    return minutes, f"read as {minutes} minutes, as cron reads the number at its start"


def _read_job(
    line: str,
    number: int,
    name: str | None,
    variables: tuple[Variable, ...],
    result: Crontab,
    *,
    system: bool,
    skip_unsupported: bool,
) -> None:
    """Read one job line into an entry, or record why it cannot be one."""
    if line.startswith(DONT_LOG):
        line = line.removeprefix(DONT_LOG)
        if not line[:1] or line[:1].isspace():
            result.add(
                number,
                "error",
                "not_a_job",
                "'-' (cron: do not log this job) must be followed by the schedule, no blank between",
            )
            return
        result.add(
            number,
            "warning",
            "dont_log",
            "'-' at the line's start (cron: do not log this job's runs; root's and system crontabs only) "
            "is left out: jobctl records every run in its history",
        )
    if line.startswith("@"):
        macro, rest = _take_words(line, 1)
        expression = macro[0].lower()
        if expression == "@reboot":
            severity: Severity = "warning" if skip_unsupported else "error"
            tail = "skipped" if skip_unsupported else "use --skip-unsupported to import the other lines"
            result.add(number, severity, "reboot", f"@reboot runs at boot, which jobctl does not schedule: {tail}")
            return
        if expression not in MACROS:
            known = ", ".join(MACROS)
            result.add(number, "error", "unknown_macro", f"unknown macro {quoted(macro[0])}; use one of {known}")
            return
    else:
        fields, rest = _take_words(line, 5)
        if not _check_field_count(fields, rest, number, result, system=system):
            return
        expression = " ".join(fields)
    user = None
    if system:
        words, rest = _take_words(rest, 1)
        user = words[0] if words else ""
        if not _check_user(user, number, result):
            return
    text = rest.lstrip()  # cron skips the blanks before the command, and keeps those at its end
    raw = text.rstrip()
    options = _take_options(text, number, result)
    if options is None:
        return
    mail_on_failure, text = options
    if mail_on_failure:  # blanks after it collapsed, as between the fields: the same line, the same job
        raw = f"{MAIL_ON_FAILURE} {text.rstrip()}"
    command, stdin = split_percent(text)
    if not command.strip():
        result.add(number, "error", "empty_command", "no command after the schedule")
        return
    if stdin is not None:
        result.add(
            number,
            "warning",
            "stdin",
            f"'%' ends the command at {quoted(command)} and sends the rest to it as standard input "
            "(each further '%' a newline), as cron does; write '\\%' for a literal percent",
        )
    entry = CrontabEntry(
        line=number,
        expression=expression,
        user=user,
        command=command,
        stdin=stdin,
        name=name,
        variables=variables,
        raw=raw,
        mail_on_failure=mail_on_failure,
    )
    result.entries.append(entry)


def _take_options(text: str, number: int, result: Crontab) -> tuple[bool, str] | None:
    """cronie's options before the command, as its ``load_entry`` reads them: ``-n`` (once),
    then at least one blank; whether it was there and the command after it, or None (recorded
    as ``bad_option`` or ``empty_command``) for any other ``-`` at the command's start."""
    mail_on_failure = False
    while text.startswith("-"):
        option = text[:2]
        if option != MAIL_ON_FAILURE or mail_on_failure or not text[2:3] or text[2:3] not in _OPTION_BLANKS:
            said = text.split()[0]
            why = "given twice" if option == MAIL_ON_FAILURE and mail_on_failure else "not an option cron knows"
            result.add(
                number,
                "error",
                "bad_option",
                f"{quoted(said)} before the command: {why}; cron reads a '-' there as an option, knows only "
                "'-n' followed by a blank (mail only when the run fails), and refuses the line",
            )
            return None
        text = text[2:].lstrip(_OPTION_BLANKS)
        mail_on_failure = True
    if mail_on_failure and not text.strip():
        result.add(number, "error", "empty_command", "no command after '-n'")
        return None
    return mail_on_failure, text


def _take_words(text: str, count: int) -> tuple[list[str], str]:
    """The first ``count`` blank-separated words of ``text`` and the rest, blanks kept."""
    words: list[str] = []
    position = 0
    while len(words) < count:
        match = _WORD.match(text, position)
        if match is None:
            break
        words.append(match[1])
        position = match.end()
    return words, text[position:]


_NAMED_FIELDS = {3: "month name: jan..dec", 4: "weekday name: sun..sat"}
"""The fields that take names, by position, for the error of a line whose name is misspelt."""


def _looks_like_field(word: str) -> bool:
    """Whether ``word`` is written like a time field (then the field parser names its error),
    rather than like the start of a command: field characters only, with a digit, ``*``,
    ``?``, an ``L`` of its own or a month or weekday name among them."""
    lowered = word.lower()
    if _FIELD_CHARS.fullmatch(lowered) is None:
        return False
    if re.search(r"[0-9*?]", lowered) or any(part in ("l", "lw") for part in lowered.split(",")):
        return True  # "L" alone: the last day of the month (LW: the field parser says W is not supported)
    return any(name in _FIELD_WORDS for name in re.findall(r"[a-z]+", lowered))


def _check_field_count(fields: list[str], rest: str, number: int, result: Crontab, *, system: bool) -> bool:
    """Whether the line has five time fields and something after them; records why not."""
    count = next((index for index, word in enumerate(fields) if not _looks_like_field(word)), len(fields))
    if count == 0:
        result.add(number, "error", "not_a_job", "not a job (five time fields and a command), a variable or a comment")
        return False
    if count < 5:
        after = f"before {quoted(fields[count])}" if count < len(fields) else "and nothing after them"
        if count < len(fields) and count in _NAMED_FIELDS and fields[count].isalpha():
            after += f" (not a {_NAMED_FIELDS[count]})"  # a misspelt name reads as the command's start
        result.add(
            number,
            "error",
            "field_count",
            f"{count} time fields {after}: a crontab line needs 5 (minute hour day month weekday)",
        )
        return False
    words, _ = _take_words(rest, 1)
    if not system and words and _COMMAND_START_LOOKS_LIKE_FIELD.fullmatch(words[0]):
        result.add(
            number,
            "error",
            "field_count",
            f"6 time fields: a crontab line has 5 (minute hour day month weekday), so {quoted(words[0])} "
            "would start the command",
        )
        return False
    return True


def _check_user(user: str, number: int, result: Crontab) -> bool:
    if not user:
        result.add(number, "error", "missing_user", "no user and command after the schedule (system crontab format)")
        return False
    if _COMMAND_START_LOOKS_LIKE_FIELD.fullmatch(user):
        result.add(
            number,
            "error",
            "field_count",
            f"6 time fields: a system crontab line has 5, then the user, so {quoted(user)} would be the user",
        )
        return False
    return True


def split_percent(text: str) -> tuple[str, str | None]:
    """A cron command and its standard input, read as cron's ``do_command.c`` reads them.

    In the command a backslash takes the character after it as a pair: ``\\%`` is a literal
    ``%`` (the backslash dropped), any other pair is kept as written (``\\\\`` stays two
    backslashes, so the ``%`` after it is unescaped); the first unescaped ``%`` ends the command.
    The rest is the standard input (:func:`_standard_input`); None when there is no unescaped ``%``.
    """
    command: list[str] = []
    escaped = False
    for index, char in enumerate(text):
        if escaped:
            if char == "%":
                command[-1] = "%"  # the backslash before it is dropped
            else:
                command.append(char)
            escaped = False
            continue
        if char == "%":
            return "".join(command), _standard_input(text[index + 1 :])
        command.append(char)
        escaped = char == "\\"
    return "".join(command), None


def _standard_input(text: str) -> str:
    """What cron writes to the command's standard input for the text after its ``%``: each
    ``%`` a newline, ``\\%`` a literal ``%``, every other backslash kept (unlike the command,
    a backslash here is no pair: ``\\\\%`` is ``\\%``), and a final newline when the last
    character it wrote was not one (``%hello`` gives ``hello\\n``, ``%hello%`` the same).
    cronie's loop, char for char: a backslash at the very end is written after that check, so
    it may end the input without a newline."""
    written: list[str] = []
    escaped = need_newline = False
    for char in text:
        if escaped:
            if char != "%":
                written.append("\\")
        elif char == "%":
            char = "\n"
        escaped = char == "\\"
        if not escaped:
            written.append(char)
            need_newline = char != "\n"
    if escaped:
        written.append("\\")
    if need_newline:
        written.append("\n")
    return "".join(written)


def _lint_schedule(entry: CrontabEntry, result: Crontab, *, default_timezone: str, now: datetime) -> None:
    """The time-field errors of ``jobs create --cron`` and the warnings of the shared lint."""
    try:
        spec = crontab_spec(entry.expression)
    except FieldError as exc:
        result.add(entry.line, "error", exc.code, f"{quoted(entry.expression)}: {exc}")
        return
    zone_name = _zone_name(entry, default_timezone)
    try:
        zone = load_zone(zone_name)
    except UnknownZone:
        return  # recorded at the variable's line
    search = build_search(spec)
    if search is None or CronSchedule(search, zone, timezone=zone_name).unbounded_slot_after(now) is None:
        result.add(entry.line, "error", "never_fires", f"{quoted(entry.expression)} never fires")
        return
    for finding in [*lint_fields(normalized_fields(entry.expression)), *dst_findings(spec, zone_name, after=now)]:
        result.add(entry.line, "warning", finding.code, finding.message)


def _zone_name(entry: CrontabEntry, default_timezone: str) -> str:
    """The zone the line's schedule is read in: ``CRON_TZ``, else the default (never ``TZ``)."""
    found = {variable.name: variable.value for variable in entry.variables}
    return found.get(ZONE_VARIABLE) or default_timezone


def _lint_mail_on_failure(entry: CrontabEntry, result: Crontab) -> None:
    """Warn about ``-n`` with no ``MAILTO``: cron then mails the crontab's owner, on failures only,
    which no rule of the import can say (the job follows ``[notify] default``). With ``MAILTO``
    the import makes failure rules; with ``MAILTO=""`` cron mails nothing, ``-n`` or not."""
    if not entry.mail_on_failure:
        return
    found = {variable.name: variable.value for variable in entry.variables}
    if "MAILTO" in found:
        return
    result.add(
        entry.line,
        "warning",
        "mail_on_failure",
        "'-n' (cron: mail the output only when the run fails) without MAILTO: cron mails the crontab's owner, "
        "and jobctl has no owner to mail; the job follows [notify] default. Set MAILTO to an address an email "
        "notifier sends to, and failed runs are mailed there",
    )


def _lint_tz_variable(entry: CrontabEntry, result: Crontab) -> None:
    """Warn about a line with ``TZ=`` and no ``CRON_TZ=``: cron schedules it in its default zone,
    ``TZ`` reaching only the command (crontab(5)), which a reader of ``TZ=`` does not expect."""
    found = {variable.name: variable for variable in entry.variables}
    tz = found.get("TZ")
    if tz is None or not tz.value or (ZONE_VARIABLE in found and found[ZONE_VARIABLE].value):
        return
    result.add(
        entry.line,
        "warning",
        "tz_variable",
        f"TZ={tz.value} (line {tz.line}) sets TZ for the command only, as in cron: the schedule stays in the "
        f"default zone ([scheduler] timezone); add CRON_TZ={tz.value} above the line to schedule it in that zone",
    )
