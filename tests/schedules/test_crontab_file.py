"""Reading crontab files as cron(5) defines them, and the lint that names each problem's line."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from jobctl.schedules.cronfields import crontab_spec
from jobctl.schedules.cronlint import dst_findings, first_match, zone_transitions
from jobctl.schedules.crontab_file import Crontab, parse_crontab, split_percent

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def read(text: str, *, system: bool = False, zone: str = "UTC", skip: bool = False) -> Crontab:
    return parse_crontab(text, system=system, default_timezone=zone, now=NOW, skip_unsupported=skip)


def codes(crontab: Crontab) -> list[tuple[int, str, str]]:
    return [(issue.line, issue.severity, issue.code) for issue in crontab.issues]


def test_comments_blank_lines_variables_and_jobs() -> None:
    crontab = read(
        "# a comment\n"
        "\n"
        "   # indented comment\n"
        "PATH = /usr/local/bin:/usr/bin\n"
        "GREETING='  hi there  '\n"
        '"QUOTED"="x"\n'
        "EMPTY=\n"
        "0 2 * * * /usr/local/bin/backup.sh --full\n"
        "PATH=/opt/bin\n"
        "\t*/15  *  *  *  mon-fri   run  two   spaces\n"
    )
    assert crontab.issues == []
    first, second = crontab.entries
    assert (first.line, first.expression, first.command, first.stdin) == (
        8, "0 2 * * *", "/usr/local/bin/backup.sh --full", None,
    )  # fmt: skip
    assert [(v.name, v.value) for v in first.variables] == [
        ("PATH", "/usr/local/bin:/usr/bin"), ("GREETING", "  hi there  "), ("QUOTED", "x"), ("EMPTY", ""),
    ]  # fmt: skip
    assert second.expression == "*/15 * * * mon-fri"
    assert second.command == "run  two   spaces"  # the command's own blanks are kept
    assert {v.name: v.value for v in second.variables}["PATH"] == "/opt/bin"  # applies to the lines after it


@pytest.mark.parametrize("macro", ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"])
def test_every_macro_is_read(macro: str) -> None:
    crontab = read(f"{macro} echo hi\n{macro.upper()} echo upper\n")
    assert crontab.errors == []
    assert [entry.expression for entry in crontab.entries] == [macro, macro]
    assert [entry.command for entry in crontab.entries] == ["echo hi", "echo upper"]


def test_l_for_the_last_day_of_the_month_is_read_as_the_cron_option_reads_it() -> None:
    crontab = read("0 0 L * * last-day\n0 0 1,L * * first-and-last\n0 0 * * 5L last-friday\n")
    assert crontab.errors == [], crontab.issues
    assert [entry.command for entry in crontab.entries] == ["last-day", "first-and-last", "last-friday"]


def test_names_ranges_lists_and_steps_are_accepted() -> None:
    crontab = read("0 9-17/2 1,15 jan-jun,DEC sun,Sat cmd\n5 0 * * 7 sunday-as-seven\n0 0 1 */3 * quarterly\n")
    assert crontab.errors == [] and len(crontab.entries) == 3


def test_percent_makes_stdin_and_escaped_percent_is_literal() -> None:
    assert split_percent("mail -s hi root%line one%line two") == ("mail -s hi root", "line one\nline two\n")
    assert split_percent(r"date +\%Y-\%m-\%d") == ("date +%Y-%m-%d", None)
    assert split_percent(r"cat%50\% done%") == ("cat", "50% done\n")
    assert split_percent(r"echo a\b") == (r"echo a\b", None)  # other backslashes stay
    crontab = read("0 0 * * * date +%Y-%m-%d\n0 1 * * * date +\\%F\n")
    assert codes(crontab) == [(1, "warning", "stdin")]
    assert '"date +"' in crontab.issues[0].message and "\\%" in crontab.issues[0].message
    assert [(entry.command, entry.stdin) for entry in crontab.entries] == [
        ("date +", "Y-\nm-\nd\n"), ("date +%F", None),
    ]  # fmt: skip


def test_a_backslash_pair_in_the_command_is_a_pair_as_in_cron() -> None:
    """cron's loop (do_command.c) takes ``\\\\`` as a pair, kept as written, so the ``%`` after it
    is unescaped and starts the standard input; the input part knows no such pairs."""
    [entry] = read("0 5 * * * echo a\\\\%b\n").entries
    assert (entry.command, entry.stdin) == ("echo a\\\\", "b\n")
    assert split_percent(r"printf '\\\%d'") == (r"printf '\\%d'", None)  # a pair, then an escaped %
    # in the input, a backslash escapes only a % right after it; every other backslash stays
    assert split_percent("x\\a%in\\\\%\\%\\") == ("x\\a", "in\\%%\\\n")


@pytest.mark.parametrize(
    "line,code,shown",
    [
        ('0 4 * * * echo "a\\%b"\\\\%in', "stdin", '\'%\' ends the command at "echo "a%b"\\\\" and sends'),
        ("0 4 * * * printf '\\t'%x", "stdin", "'%' ends the command at \"printf '\\t'\" and sends"),
        ("0 4 * * * -x\\y run", "bad_option", '"-x\\y" before the command'),
        ("@every\\day run", "unknown_macro", 'unknown macro "@every\\day"'),
        ("0 1 * * \\sun run", "field_count", '4 time fields before "\\sun"'),
        ("SHELL=bin\\sh", "bad_shell", 'SHELL="bin\\sh": the shell'),
        ("HOME=C:\\srv", "bad_home", 'HOME="C:\\srv": cron'),
        ("CRON_TZ=Europe\\Berlin", "unknown_zone", 'CRON_TZ="Europe\\Berlin": unknown'),
        ("A\\B=1", "bad_variable", 'variable "A\\B": not a valid name'),
    ],
)
def test_a_message_quotes_the_line_s_text_as_written_backslashes_not_doubled(line: str, code: str, shown: str) -> None:
    """``repr`` showed ``echo "a%b"\\\\`` (two backslashes, the command cron runs) with four:
    the very characters a message about ``\\%`` is about were doubled."""
    [issue] = [issue for issue in read(f"{line}\n").issues if issue.code == code]
    assert shown in issue.message


def test_the_input_ends_with_a_newline_as_cron_writes_it() -> None:
    """cron adds a newline after the input when the last character it wrote was not one (so a
    ``read`` loop sees the last line); a final ``%`` is that newline already."""
    assert [entry.stdin for entry in read("0 4 * * * cat%hello\n0 5 * * * cat%hello%\n").entries] == ["hello\n"] * 2
    assert split_percent("cat%a%%") == ("cat", "a\n\n")
    assert split_percent("cat%") == ("cat", "")  # nothing written: an empty input
    assert split_percent("cat%a\\") == ("cat", "a\\\n")
    assert split_percent("cat%\\") == ("cat", "\\")  # cronie's loop writes a final backslash after the check


def test_blanks_at_the_end_of_a_line_belong_to_its_command_or_input_as_in_cron() -> None:
    """cron reads the command to the line's end (cronie's get_string up to the newline): blanks
    there stay, in the standard input as in the command; those after the schedule do not."""
    first, second = read("0 4 * * * cat -A%hello   \n0 5 * * *   echo a\\ \t\n").entries
    assert (first.command, first.stdin) == ("cat -A", "hello   \n")
    assert (second.command, second.stdin) == ("echo a\\ \t", None)
    assert (first.raw, second.raw) == ("cat -A%hello", "echo a\\")  # the identity ignores them


def test_a_leading_dash_is_cron_s_do_not_log_mark_left_out_with_a_warning() -> None:
    crontab = read("-0 5 * * * echo quiet\n-@daily date\n- 0 5 * * * spaced\n0 6 * * * loud\n")
    assert codes(crontab) == [(1, "warning", "dont_log"), (2, "warning", "dont_log"), (3, "error", "not_a_job")]
    assert "jobctl records every run" in crontab.issues[0].message
    assert [(entry.expression, entry.command) for entry in crontab.entries] == [
        ("0 5 * * *", "echo quiet"), ("@daily", "date"), ("0 6 * * *", "loud"),
    ]  # fmt: skip
    assert read("-0 5 * * * root run\n", system=True).entries[0].user == "root"


def test_name_comment_names_the_job_on_the_next_line_only() -> None:
    crontab = read("# name: nightly-backup\n0 2 * * * backup\n\n# name: lost\n\n0 3 * * * other\n")
    assert [entry.name for entry in crontab.entries] == ["nightly-backup", None]


def test_system_format_reads_the_user() -> None:
    crontab = read("17 * * * * root cd / && run-parts --report /etc/cron.hourly\n@daily www-data php cron.php\n",
                   system=True)  # fmt: skip
    assert crontab.errors == []
    assert [(entry.user, entry.command) for entry in crontab.entries] == [
        ("root", "cd / && run-parts --report /etc/cron.hourly"), ("www-data", "php cron.php"),
    ]  # fmt: skip
    assert codes(read("0 0 * * * root\n", system=True)) == [(1, "error", "empty_command")]
    assert codes(read("0 0 * * *\n", system=True)) == [(1, "error", "missing_user")]
    assert codes(read("0 0 * * * * root cmd\n", system=True)) == [(1, "error", "field_count")]


@pytest.mark.parametrize(
    "line,code,words",
    [
        ("0 2 * * backup.sh", "field_count", "4 time fields"),
        ("0 1 * * blursday echo d", "field_count", 'before "blursday" (not a weekday name: sun..sat)'),
        ("0 1 * smarch * echo d", "field_count", 'before "smarch" (not a month name: jan..dec)'),
        ("0 2 * *", "field_count", "nothing after them"),
        ("0 0 2 * * * cmd", "field_count", "6 time fields"),
        ("61 * * * * cmd", "out_of_range", "61 is out of range 0-59"),
        ("0 24 * * * cmd", "out_of_range", "hour"),
        ("0 0 32 * * cmd", "out_of_range", "day"),
        ("0 0 * 13 * cmd", "out_of_range", "month"),
        ("0 0 * * 8 cmd", "out_of_range", "weekday field '8'"),
        ("0 0 LW * * cmd", "bad_field", "W (nearest weekday) is not supported"),
        ("0 0 * jan-foo * cmd", "unknown_name", "'foo'"),
        ("0 0 * * mon-funday cmd", "unknown_name", "'funday'"),
        ("*/0 * * * * cmd", "step_zero", "step 0"),
        ("0 0 30 2 * cmd", "never_fires", "never fires"),
        ("0 0 31 4,6,9,11 * cmd", "never_fires", "never fires"),
        ("0 0 * * *", "empty_command", "no command"),
        ("0 0 * * * %only stdin", "empty_command", "no command"),
        ("@reboot /usr/bin/start", "reboot", "@reboot"),
        ("@fortnightly cmd", "unknown_macro", "@fortnightly"),
        ("hello world", "not_a_job", "not a job"),
        ("0 0 5-1 * * cmd", "bad_field", "backwards"),
        ("JOBCTL_X=1", "bad_variable", "JOBCTL_"),
        ("'BAD-NAME'=1", "bad_variable", "not a valid name"),
        ("CRON_TZ=Mars/Olympus", "unknown_zone", "Mars/Olympus"),
        ("SHELL=bash", "bad_shell", "absolute"),
        ("HOME=srv", "bad_home", "absolute directory"),
        ('HOME=""', "bad_home", 'HOME=""'),
    ],
    ids=lambda value: value if isinstance(value, str) and " " not in value else None,
)
def test_each_error_has_its_code_and_line(line: str, code: str, words: str) -> None:
    crontab = read(f"# first line\n{line}\n")
    [issue] = crontab.issues
    assert (issue.line, issue.severity, issue.code) == (2, "error", code)
    assert words in issue.message


def test_reboot_is_skipped_with_a_warning_when_asked() -> None:
    crontab = read("@reboot start\n0 0 * * * daily\n", skip=True)
    assert codes(crontab) == [(1, "warning", "reboot")]
    assert "skipped" in crontab.issues[0].message
    assert [entry.command for entry in crontab.entries] == ["daily"]


def test_warnings_step_either_day_and_dst() -> None:
    crontab = read("*/35 * * * * a\n0 0 1,15 * 5 b\n30 2 * * * c\n", zone="Europe/Berlin")
    assert codes(crontab) == [
        (1, "warning", "step"), (1, "warning", "dst_gap"), (1, "warning", "dst_fold"),
        (2, "warning", "day_or_weekday"),
        (3, "warning", "dst_gap"), (3, "warning", "dst_fold"),
    ]  # fmt: skip
    gap = next(issue for issue in crontab.issues if issue.line == 3 and issue.code == "dst_gap")
    assert gap.message.startswith("2026-03-29 02:30:00 does not exist in Europe/Berlin")


def test_cron_tz_sets_the_zone_of_the_lines_after_it() -> None:
    crontab = read("30 2 * * * utc\nCRON_TZ=America/New_York\n30 2 * * * ny\nCRON_TZ=UTC\n30 2 * * * utc-again\n",
                   zone="UTC")  # fmt: skip
    assert codes(crontab) == [(3, "warning", "dst_gap")]  # New York skips 02:00-03:00 on 2026-03-08
    assert "2026-03-08 02:30:00 does not exist in America/New_York" in crontab.issues[0].message


def test_tz_is_the_command_s_variable_and_a_line_with_it_but_no_cron_tz_is_warned_about() -> None:
    """crontab(5): TZ affects only the commands, not when they run; cronie schedules in CRON_TZ."""
    crontab = read(
        "TZ=America/New_York\n30 2 * * * ny-tz\nCRON_TZ=Asia/Tokyo\n30 2 * * * tokyo\nCRON_TZ=\n30 2 * * * back\n"
        "TZ=Not/A_Zone\n0 1 * * * odd\n",
        zone="UTC",
    )
    assert codes(crontab) == [(line, "warning", "tz_variable") for line in (2, 6, 8)]
    assert "TZ=America/New_York (line 1) sets TZ for the command only" in crontab.issues[0].message
    assert "add CRON_TZ=America/New_York" in crontab.issues[0].message  # no dst_gap: the schedule is UTC's


def test_dst_lint_finds_half_hour_shifts_and_only_matching_times() -> None:
    transitions = zone_transitions("Australia/Lord_Howe", date(2026, 1, 1))
    assert len(transitions) == 2 and {abs(t.after - t.before).seconds for t in transitions} == {1800}
    assert dst_findings(crontab_spec("15 2 * * *"), "Australia/Lord_Howe", after=NOW) != []
    assert dst_findings(crontab_spec("45 2 * * *"), "Australia/Lord_Howe", after=NOW) == []
    assert dst_findings(crontab_spec("30 2 * * 1"), "Europe/Berlin", after=NOW) == []  # both changes are Sundays
    assert dst_findings(crontab_spec("30 2 * * *"), "UTC", after=NOW) == []
    span = (datetime(2026, 3, 29, 2, 0), datetime(2026, 3, 29, 3, 0))
    assert first_match(crontab_spec("59 2 * * *"), *span) == datetime(2026, 3, 29, 2, 59)
    assert first_match(crontab_spec("0 3 * * *"), *span) is None  # the end is not in the span


def test_a_large_crontab_lints_fast() -> None:
    import time

    text = "".join(f"{i % 60} {i % 24} * * * /usr/bin/job{i} --flag\n" for i in range(1000))
    started = time.perf_counter()
    crontab = read(text, zone="Europe/Berlin")
    assert len(crontab.entries) == 1000
    assert time.perf_counter() - started < 2.0


def test_a_day_field_starting_with_a_star_is_where_cron_and_jobctl_differ() -> None:
    crontab = read("0 0 */2 * 1 a\n0 0 1,15 * */2 b\n0 0 */10 * * c\n")
    assert [(issue.line, issue.code) for issue in crontab.issues if issue.code.startswith("day_")] == [
        (1, "day_star_step"), (2, "day_star_step"),
    ]  # fmt: skip
    assert "only on days matching both" in crontab.issues[1].message
