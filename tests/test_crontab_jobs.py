"""Crontab lines as jobs-file tables: names, zone, shell, stdin, environment, user, MAILTO."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from jobctl.schedules.crontab_file import parse_crontab
from jobctl.service.crontab_export import crontab_export
from jobctl.service.crontab_import import crontab_jobs, mail_routes

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def tables(text: str, *, system: bool = False, prefix: str = "") -> list[dict[str, object]]:
    crontab = parse_crontab(text, system=system, default_timezone="UTC", now=NOW)
    assert crontab.errors == []
    jobs, _ = crontab_jobs(crontab, prefix=prefix)
    return [job.table for job in jobs]


def test_every_cron_setting_maps_to_its_key() -> None:
    [table] = tables(
        'SHELL=/bin/bash\nPATH=/usr/local/bin:/usr/bin\nHOME=/srv\nCRON_TZ=Europe/Berlin\nMAILTO=""\n'
        "# name: report\n"
        "5 4 * * sun mail -s report root%Hello\\%there%bye\n"
    )
    assert table == {
        "name": "report",
        "cron": "5 4 * * sun",
        "timezone": "Europe/Berlin",
        "command": "mail -s report root",
        "args": {"shell": "/bin/bash"},
        "description": "crontab: 5 4 * * sun mail -s report root%Hello\\%there%bye",
        "working_directory": "/srv",
        "stdin": "Hello%there\nbye\n",
        "env": {"PATH": "/usr/local/bin:/usr/bin", "HOME": "/srv"},
    }


def test_tz_is_the_command_s_variable_and_cron_tz_the_zone() -> None:
    tz_only, both = tables("TZ=Asia/Tokyo\n@daily date\nCRON_TZ=Europe/Paris\n@hourly date\n")
    assert "timezone" not in tz_only and tz_only["env"] == {"TZ": "Asia/Tokyo"}  # cron schedules in its default
    assert both["timezone"] == "Europe/Paris" and both["env"] == {"TZ": "Asia/Tokyo"}
    [plain] = tables("SHELL=/bin/sh\n@hourly date\n")
    assert "args" not in plain and "timezone" not in plain and "env" not in plain  # cron's defaults add nothing


def test_system_user_is_run_as_user() -> None:
    [table] = tables("0 * * * * www-data php /srv/cron.php\n", system=True)
    assert table["run_as_user"] == "www-data"
    assert table["command"] == "php /srv/cron.php"


def test_generated_names_are_readable_stable_and_tell_lines_apart() -> None:
    text = "0 2 * * * /usr/local/bin/backup.sh --full /srv\n0 3 * * * /usr/local/bin/backup.sh --full /srv\n"
    first, second = (table["name"] for table in tables(text))
    assert str(first).startswith("backup-sh-full-srv-") and len(str(first)) == len("backup-sh-full-srv-") + 6
    assert first != second
    assert [table["name"] for table in tables(text)] == [first, second]  # stable across imports
    moved = tables("PATH=/bin\n\n" + text)  # other lines above and other variables: same names
    assert [table["name"] for table in moved] == [first, second]
    assert [table["name"] for table in tables(text, prefix="web1-")] == [f"web1-{first}", f"web1-{second}"]
    [odd] = tables("@daily %%%\\%\n".replace("%%%\\%", "'!!!'"))
    assert str(odd["name"]).startswith("job-")


def test_duplicates_and_mailto_are_reported_per_line() -> None:
    crontab = parse_crontab(
        "MAILTO=ops@example.com\n@daily a\n@daily a\n# name: x\n@hourly b\n# name: x\n@hourly c\nMAILTO=\n@daily d\n",
        system=False, default_timezone="UTC", now=NOW,
    )  # fmt: skip
    jobs, issues = crontab_jobs(crontab)
    assert [(issue.line, issue.severity, issue.code) for issue in issues] == [
        (2, "warning", "mailto"), (3, "error", "duplicate_name"),
        (5, "warning", "mailto"), (7, "error", "duplicate_name"),
    ]  # fmt: skip
    assert "MAILTO=ops@example.com (line 1): no email notifier sends to ops@example.com" in issues[0].message
    assert "line 2" in issues[1].message and "# name:" in issues[1].message
    assert [job.line for job in jobs] == [2, 5, 9]
    _, [named] = crontab_jobs(parse_crontab("# name: a\\b\n@daily a\n# name: a\\b\n@daily b\n", system=False,
                                            default_timezone="UTC", now=NOW))  # fmt: skip
    assert named.message == 'job name "a\\b" is already used by line 2'  # the name as written, one backslash


def test_a_user_crontab_line_with_a_user_column_is_warned_about() -> None:
    """``/etc/crontab``'s format read as a user crontab: ``root`` became the command's first
    word, and the job would run ``root cd / && ...`` as the daemon's user, with no word said."""
    text = (
        "17 * * * * root cd / && run-parts /etc/cron.hourly\n5 * * * * id -u\n9 * * * * nobody-here echo\n"
        '0 12 1 * * mail -s "monthly report" ops\n'  # Debian has a user mail; -s is no command
        "1 2 * * * root /usr/local/bin/backup.sh\n"
    )
    crontab = parse_crontab(text, system=False, default_timezone="UTC", now=NOW)
    _, issues = crontab_jobs(crontab)
    assert [(issue.line, issue.severity, issue.code) for issue in issues] == [
        (1, "warning", "user_column"), (5, "warning", "user_column"),
    ]  # fmt: skip
    assert '"root", a user on this host' in issues[0].message and "--system" in issues[0].message
    system = parse_crontab(text.splitlines()[0] + "\n", system=True, default_timezone="UTC", now=NOW)
    assert crontab_jobs(system)[1] == [], "read with --system, root is the user"


def test_mailto_becomes_an_output_rule_for_each_notifier_that_mails_its_addresses() -> None:
    notifiers = [
        {"name": "ops-mail", "type": "email", "target": "", "settings": {"to": ["Ops@Example.com", "dev@example.com"]}},
        {"name": "dev-mail", "type": "email", "target": "", "settings": {"to": ["dev@example.com"]}},
        {"name": "hook", "type": "webhook", "target": "", "settings": {"url": "https://example.com/***"}},
    ]
    routes = mail_routes(notifiers)
    assert routes == {"ops@example.com": ["ops-mail"], "dev@example.com": ["ops-mail", "dev-mail"]}
    crontab = parse_crontab(
        "MAILTO=ops@example.com\n@daily a\nMAILTO=\"dev@example.com, nobody@example.com\"\n@daily b\n",
        system=False, default_timezone="UTC", now=NOW,
    )  # fmt: skip
    jobs, issues = crontab_jobs(crontab, mail_routes=routes)
    assert [job.table.get("notify") for job in jobs] == [
        [{"notifier": "ops-mail", "on": ["output"]}],
        [{"notifier": "ops-mail", "on": ["output"]}, {"notifier": "dev-mail", "on": ["output"]}],
    ]
    [missing] = issues
    assert (missing.line, missing.severity, missing.code) == (4, "warning", "mailto")
    assert "no email notifier sends to nobody@example.com" in missing.message


def exported(*jobs: dict[str, object]) -> tuple[list[str], list[tuple[str, str]]]:
    """The lines (after the header) of the crontab ``jobctl export --format crontab`` writes for ``jobs``."""
    result = crontab_export([dict(job) for job in jobs], mail_routes={}, now=NOW)
    return result.text.splitlines()[1:], result.refused


def test_blanks_at_a_line_s_end_stay_and_keep_the_job_s_name() -> None:
    [blanks] = tables("0 4 * * * cat -A%hello   \n")
    [plain] = tables("0 4 * * * cat -A%hello\n")
    assert blanks["stdin"] == "hello   \n" and blanks["name"] == plain["name"]
    assert tables("0 5 * * * echo hi  \n")[0]["command"] == "echo hi  "
    lines, refused = exported({"name": "padded", "cron": "0 5 * * *", "command": "echo a\\ "})
    assert (lines, refused) == (["# name: padded", "0 5 * * * echo a\\ "], [])  # reads back as it is
    _, refused = exported({"name": "indented", "cron": "0 5 * * *", "command": " echo a"})
    assert refused == [("indented", "a command with blanks at its start (cron skips those after the schedule)")]


def test_a_job_s_tz_variable_exports_as_tz_and_reads_back_as_it_is() -> None:
    """Read as the zone, ``TZ=`` gave the job a zone it did not have, and such a job was refused."""
    job = {"name": "tokyo-clock", "cron": "0 9 * * *", "command": "date", "env": {"TZ": "Asia/Tokyo"}}
    assert exported(job) == (["TZ=Asia/Tokyo", "# name: tokyo-clock", "0 9 * * * date"], [])


def test_logname_and_user_are_left_out_as_cron_sets_them_to_the_owner() -> None:
    text = "LOGNAME=bob\nUSER=bob\nPATH=/bin\n@daily id\n"
    crontab = parse_crontab(text, system=False, default_timezone="UTC", now=NOW)
    assert [(issue.line, issue.severity, issue.code) for issue in crontab.issues] == [
        (1, "warning", "user_variable"), (2, "warning", "user_variable"),
    ]  # fmt: skip
    [job], _ = crontab_jobs(crontab)
    assert job.table["env"] == {"PATH": "/bin"}
    _, refused = exported({"name": "as-bob", "cron": "@daily", "command": "id", "env": {"LOGNAME": "bob"}})
    assert refused == [("as-bob", "variable LOGNAME (cron sets it to the crontab's owner over a LOGNAME= line)")]


def test_home_is_where_runs_start_and_exports_as_one_home_line() -> None:
    """cron starts a run in its HOME (cronie's cron_change_user_permanently), the crontab's when it
    sets one: so does the job, and a crontab says a job's directory only as that HOME."""
    [table] = tables("HOME=/srv/app\n@daily make\n")
    assert table["working_directory"] == "/srv/app" and table["env"] == {"HOME": "/srv/app"}
    job = {"name": "build", "cron": "@daily", "command": "make", "working_directory": "/srv/app"}
    assert exported({**job, "env": {"HOME": "/srv/app"}}) == (["HOME=/srv/app", "# name: build", "@daily make"], [])
    _, refused = exported(job)
    assert refused == [("build", "working_directory = /srv/app and no HOME variable (cron starts a run in HOME: a "
                                 "crontab's HOME= line sets both)")]  # fmt: skip


ROUTES = {"ops@example.com": ["ops-mail"]}
_COMMAND_TEXT = st.text(alphabet="ab %\\\"'\t-", max_size=24)
_SETTING_LINES = st.sampled_from(
    ["RANDOM_DELAY=15", "RANDOM_DELAY=0", "CRON_TZ=Europe/Berlin", "CRON_TZ=UTC", "SHELL=/bin/bash", "SHELL=/bin/sh",
     "MAILTO=ops@example.com", 'MAILTO=""', "A=one", 'A="  two words  "', "B=%\\"]
)  # fmt: skip


@st.composite
def crontab_lines(draw: st.DrawFn) -> str:
    """A crontab cron reads without complaint: settings and variables between job lines, each job
    line with or without ``-``, ``-n``, a name, ``%``, ``\\%``, backslash pairs and blanks at its end."""
    lines = ["A=zero", "B=zero"]  # every job names both: the export need not refuse any for its variables
    for number in range(draw(st.integers(min_value=1, max_value=6))):
        lines += draw(st.lists(_SETTING_LINES, max_size=2))
        if draw(st.booleans()):
            lines.append(f"# name: job-{number}")
        mark = draw(st.sampled_from(["", "-"]))
        schedule = draw(st.sampled_from(["0 5 * * *", "*/10  *  * * *", "@daily", "@Weekly", "30 2 * * mon-fri"]))
        option = draw(st.sampled_from(["", "-n ", "-n \t "]))
        command = draw(st.sampled_from("abc")) + draw(_COMMAND_TEXT)
        blanks = draw(st.sampled_from(["", " ", " \t "]))
        lines.append(f"{mark}{schedule} {option}{command}{blanks}")
    return "\n".join(lines) + "\n"


def imported(text: str) -> dict[str, dict[str, object]]:
    crontab = parse_crontab(text, system=False, default_timezone="UTC", now=NOW)
    jobs, issues = crontab_jobs(crontab, mail_routes=ROUTES)
    assume(not crontab.errors and not [issue for issue in issues if issue.severity == "error"])
    return {str(job.table["name"]): job.table for job in jobs}


@settings(max_examples=150, deadline=None)
@given(crontab_lines())
def test_an_imported_crontab_exports_to_lines_that_import_to_the_very_same_jobs(text: str) -> None:
    """Import, export, import: the same jobs, descriptions included (the plan says "no changes")."""
    jobs = imported(text)
    result = crontab_export(list(jobs.values()), mail_routes=ROUTES, now=NOW)
    assert result.refused == []
    assert imported(result.text) == jobs


@settings(max_examples=150, deadline=None)
@given(
    command=st.sampled_from("abx"),
    rest=_COMMAND_TEXT,
    stdin=st.none() | st.text(alphabet="ab %\\\n\t", max_size=12),
    description=st.none() | st.just("nightly") | _COMMAND_TEXT.map(lambda text: f"crontab: 0 5 * * * a{text}"),
)
def test_any_job_a_line_holds_exports_to_a_line_that_describes_itself(
    command: str, rest: str, stdin: str | None, description: str | None
) -> None:
    """A job made otherwise (its own description, or one naming another line) is written in the
    canonical form; read back, it is the same job described by that line, and exports to it again."""
    job = {"name": "made", "cron": "0 5 * * *", "command": command + rest}
    job |= {"stdin": stdin} if stdin is not None else {}
    job |= {"description": description} if description is not None else {}
    first = crontab_export([job], mail_routes={}, now=NOW)
    if first.refused:
        event("refused")
        return  # refused with why, never written wrong
    [line] = [line for line in first.text.splitlines() if line.startswith("0 5 ")]
    [back] = imported(first.text).values()
    assert {**back, "description": None} == {**job, "description": None}
    assert back["description"] == f"crontab: {line.rstrip()}"
    assert crontab_export([back], mail_routes={}, now=NOW).text == first.text
