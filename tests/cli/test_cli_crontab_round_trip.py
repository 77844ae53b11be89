"""``jobctl export --format crontab`` of imported jobs, read back by ``jobctl import crontab``.

A sysadmin's crontab with variables, ``SHELL``, ``MAILTO`` and ``CRON_TZ`` goes in, comes out as
a crontab, and goes in again (on the same store: no changes; on a new one: the same jobs).
Jobs no crontab can hold are each named on one whole line with the reason, exit 1.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.helpers import OneStoreCli, check_ok

CONFIG = """\
[scheduler]
timezone = "UTC"

[[notifiers]]
name = "ops-mail"
type = "email"
to = ["ops@example.com"]
from = "jobctl@example.com"
sendmail = "/usr/sbin/sendmail"

[[notifiers]]
name = "dev-mail"
type = "email"
to = ["Dev@example.com"]
from = "jobctl@example.com"
sendmail = "/usr/sbin/sendmail"
"""

CRONTAB = """\
SHELL=/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
MAILTO=ops@example.com, dev@example.com
CRON_TZ=Europe/Berlin
# name: backup
30 2 * * *      /usr/local/bin/backup.sh --full /srv
*/10 * * * *    curl -fsS https://example.com/health > /dev/null
MAILTO=""
GREETING="  two words  "
# name: report
0 6 * * mon-fri mail -s "daily report" ops%Totals: 100\\% done%bye%
SHELL=/bin/sh
MAILTO=dev@example.com
CRON_TZ=UTC
@weekly date +\\%F
"""

EXPORTED = """\
# jobs exported by jobctl; read back with: jobctl import crontab FILE
CRON_TZ=Europe/Berlin
SHELL=/bin/bash
MAILTO=ops@example.com,dev@example.com
PATH=/usr/local/bin:/usr/bin:/bin
# name: backup
30 2 * * * /usr/local/bin/backup.sh --full /srv
# name: {curl}
*/10 * * * * curl -fsS https://example.com/health > /dev/null
CRON_TZ=UTC
SHELL=/bin/sh
MAILTO=dev@example.com
GREETING="  two words  "
# name: {date}
@weekly date +\\%F
CRON_TZ=Europe/Berlin
SHELL=/bin/bash
MAILTO=""
# name: report
0 6 * * mon-fri mail -s "daily report" ops%Totals: 100\\% done%bye%
"""


def _cli(sqlite_only_cli: OneStoreCli, tmp_path: Path, store: str) -> OneStoreCli:
    config = tmp_path / "mail.toml"
    config.write_text(CONFIG)
    url = f"sqlite:///{tmp_path / store}"
    return OneStoreCli({**sqlite_only_cli.env, "JOBCTL_DB": url, "JOBCTL_CONFIG": str(config)})


def test_an_imported_crontab_exports_as_a_crontab_that_imports_back_to_the_same_jobs(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    here, there = _cli(sqlite_only_cli, tmp_path, "here.db"), _cli(sqlite_only_cli, tmp_path, "there.db")
    original = tmp_path / "crontab"
    original.write_text(CRONTAB)
    assert here("import", "crontab", str(original), "--name", "web1").code == 0
    exported = tmp_path / "exported"
    check_ok(here("export", "--format", "crontab", "-o", str(exported)))
    names = check_ok(here("jobs", "list", "--json", "--all")).stdout
    curl = next(word for word in names.split('"') if word.startswith("curl-fss-"))
    date = next(word for word in names.split('"') if word.startswith("date-f-"))
    assert exported.read_text() == EXPORTED.format(curl=curl, date=date)

    again = here("import", "crontab", str(exported), "--name", "web1")
    assert (again.code, again.stdout) == (0, "no changes (4 unchanged)\n"), again.stderr
    assert there("import", "crontab", str(exported), "--name", "web1").code == 0
    as_toml = [check_ok(cli("export")).stdout for cli in (here, there)]
    assert as_toml[0] == as_toml[1]
    report = json.loads(check_ok(there("jobs", "show", "report", "--json")).stdout)
    assert report["stdin"] == "Totals: 100% done\nbye\n" and report["environment"]["GREETING"] == "  two words  "
    assert report["notify"] is None and report["taskArgs"]["shell"] == "/bin/bash"


def test_each_job_no_crontab_holds_is_one_whole_line_with_why_and_exit_1(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    cli = _cli(sqlite_only_cli, tmp_path, "store.db")
    jobs = tmp_path / "jobs.toml"
    jobs.write_text(
        '[[jobs]]\nname = "fits"\ncron = "0 1 * * *"\ncommand = "true"\nenv = { A = "1" }\n\n'
        '[[jobs]]\nname = "wider"\ncron = "0 2 * * *"\ncommand = "true"\nenv = { A = "2", B = "x" }\n\n'
        '[[jobs]]\nname = "other-vars"\ncron = "0 3 * * *"\ncommand = "true"\nenv = { C = "1" }\n\n'
        '[[jobs]]\nname = "on-failure"\ncron = "0 4 * * *"\ncommand = "true"\nenv = { A = "1" }\n'
        'notify = [{ notifier = "ops-mail", on = ["failure", "timeout"], each_attempt = true }]\n\n'
        '[[jobs]]\nname = "limited"\ncron = "0 5 * * *"\ncommand = "true"\ntimeout = "1h"\n'
        'max_runtime_alert = "30m"\n'
    )
    check_ok(cli("apply", "-f", str(jobs)))
    result = cli("export", "--format", "crontab")
    assert result.code == 1
    assert result.stderr.splitlines() == [
        "jobctl: not exported: limited: timeout = 1h (cron has no such setting); max_runtime_alert = 30m (cron has"
        " no such setting)",
        "jobctl: not exported: on-failure: notify rule ops-mail on failure, timeout, each attempt (cron's MAILTO"
        " mails output, or with -n the output of failed runs, the same for each address: nothing else)",
        "jobctl: not exported: other-vars: its variables (C) do not fit beside the other jobs' (A, B): a crontab"
        " variable holds for every later line and cannot be unset; export it on its own (jobctl export other-vars"
        " --format crontab)",
    ]
    lines = result.stdout.splitlines()
    assert lines[1:9] == [
        "CRON_TZ=UTC", "A=1", "# name: fits", "0 1 * * * true", "A=2", "B=x", "# name: wider", "0 2 * * * true",
    ]  # fmt: skip
    assert lines[9:] == ["# " + line.removeprefix("jobctl: ") for line in result.stderr.splitlines()]
    alone = cli("export", "other-vars", "--format", "crontab")
    assert (alone.code, alone.stderr) == (0, "")
    assert alone.stdout.splitlines()[1:] == ["CRON_TZ=UTC", "C=1", "# name: other-vars", "0 3 * * * true"]


def test_mail_on_failure_only_goes_out_as_cronie_s_n_and_comes_back(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    here, there = _cli(sqlite_only_cli, tmp_path, "here.db"), _cli(sqlite_only_cli, tmp_path, "there.db")
    original = tmp_path / "crontab"
    original.write_text(
        "MAILTO=ops@example.com\n# name: failures\n0 5 * * * -n  /usr/local/bin/sync.sh\n"
        "# name: output\n0 6 * * * /usr/local/bin/report.sh\n"
    )
    check_ok(here("import", "crontab", str(original), "--name", "web1"))
    exported = check_ok(here("export", "--format", "crontab")).stdout
    assert exported.splitlines()[1:] == [
        "CRON_TZ=UTC", "MAILTO=ops@example.com", "# name: failures", "0 5 * * * -n /usr/local/bin/sync.sh",
        "# name: output", "0 6 * * * /usr/local/bin/report.sh",
    ]  # fmt: skip
    again = here("import", "crontab", "-", "--name", "web1", input=exported)
    assert (again.code, again.stdout) == (0, "no changes (2 unchanged)\n"), again.stderr
    check_ok(there("import", "crontab", "-", "--name", "web1", input=exported))
    assert check_ok(here("export")).stdout == check_ok(there("export")).stdout


def test_jitter_goes_out_as_random_delay_and_comes_back(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    here, there = _cli(sqlite_only_cli, tmp_path, "here.db"), _cli(sqlite_only_cli, tmp_path, "there.db")
    original = tmp_path / "crontab"
    original.write_text(
        "RANDOM_DELAY=30\n# name: spread\n*/5 * * * * /usr/local/bin/poll.sh\n"
        "RANDOM_DELAY=0\n# name: sharp\n0 6 * * * /usr/local/bin/report.sh\n"
    )
    check_ok(here("import", "crontab", str(original), "--name", "web1"))
    exported = check_ok(here("export", "--format", "crontab")).stdout
    assert exported.splitlines()[1:] == [
        "CRON_TZ=UTC", "# name: sharp", "0 6 * * * /usr/local/bin/report.sh",
        "RANDOM_DELAY=30", "# name: spread", "*/5 * * * * /usr/local/bin/poll.sh",
    ]  # fmt: skip
    again = here("import", "crontab", "-", "--name", "web1", input=exported)
    assert (again.code, again.stdout) == (0, "no changes (2 unchanged)\n"), again.stderr
    check_ok(there("import", "crontab", "-", "--name", "web1", input=exported))
    assert check_ok(here("export")).stdout == check_ok(there("export")).stdout

    jobs = tmp_path / "jobs.toml"
    jobs.write_text('[[jobs]]\nname = "seconds"\ncron = "0 7 * * *"\ncommand = "true"\njitter = "90s"\n')
    check_ok(here("apply", "-f", str(jobs)))
    refused = here("export", "seconds", "--format", "crontab")
    assert (refused.code, refused.stderr) == (
        1,
        "jobctl: not exported: seconds: jitter other than whole minutes up to 1440 (cronie's RANDOM_DELAY)\n",
    )


AS_CRON_READS_THEM = """\
MAILTO=ops@example.com
A=one
# name: final-percent
0 5 * * * cat%hello%
# name: no-final-percent
0 5 * * * cat%hello
0 4 * * * echo "a\\%b"\\\\%in
# name: trailing
0 3 * * * printf '\\%s|' x > /tmp/out/trail   \n\
# name: trailing-input
0 3 * * * cat%two words \t\n\
# name: empty-input
0 2 * * * cat%
# name: final-backslash
0 2 * * * cat%a\\
# name: pairs
0 1 * * * printf '\\\\\\%d\\n' 5 \\\\%x\\\\%y\\%
RANDOM_DELAY=15
# name: on-failure
-0   6 * * *  -n \t /usr/local/bin/sync.sh%go
A="  two words  "
# name: long
0 7 * * * /usr/local/bin/a-rather-long-command --with --many --options --that --go --on%and input
@daily date +\\%F
"""


def test_every_line_cron_reads_alike_exports_as_written_and_imports_back_with_no_changes(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """``cat%hello`` and ``cat%hello%`` give one job (cron ends standard input with a newline),
    but the import describes a job by its line: written in one canonical form, the export's
    re-import changed the description of every line written the other way."""
    here, there = _cli(sqlite_only_cli, tmp_path, "here.db"), _cli(sqlite_only_cli, tmp_path, "there.db")
    original = tmp_path / "crontab"
    original.write_text(AS_CRON_READS_THEM)
    assert here("import", "crontab", str(original), "--name", "web1").code == 0
    exported = tmp_path / "exported"
    check_ok(here("export", "--format", "crontab", "-o", str(exported)))
    lines = exported.read_text().splitlines()
    for written in (
        "0 5 * * * cat%hello%", "0 5 * * * cat%hello", '0 4 * * * echo "a\\%b"\\\\%in',
        "0 3 * * * printf '\\%s|' x > /tmp/out/trail   ", "0 3 * * * cat%two words \t", "0 2 * * * cat%",
        "0 2 * * * cat%a\\", "0 1 * * * printf '\\\\\\%d\\n' 5 \\\\%x\\\\%y\\%", "RANDOM_DELAY=15",
        "0 6 * * * -n /usr/local/bin/sync.sh%go", "@daily date +\\%F",
    ):  # fmt: skip
        assert written in lines, exported.read_text()
    assert not [line for line in lines if line.startswith("# not exported")]

    again = here("import", "crontab", str(exported), "--name", "web1", "--dry-run")
    assert (again.code, again.stdout) == (0, "no changes (11 unchanged)\n"), again.stderr
    assert there("import", "crontab", str(exported), "--name", "web1").code == 0
    assert check_ok(here("export")).stdout == check_ok(there("export")).stdout  # descriptions included


def test_a_plan_shows_where_two_long_values_differ(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """Both descriptions were cut to their first 59 characters: an update shown as no change."""
    cli = _cli(sqlite_only_cli, tmp_path, "store.db")
    original = tmp_path / "crontab"
    original.write_text(AS_CRON_READS_THEM)
    assert cli("import", "crontab", str(original), "--name", "web1").code == 0  # with its '%' warnings
    edited = tmp_path / "edited"
    edited.write_text(AS_CRON_READS_THEM.replace("--on%and input", "--on%and input%"))
    plan = cli("import", "crontab", str(edited), "--name", "web1", "--dry-run")
    assert plan.stdout.splitlines()[0] == (
        '~ update long: description … --go --on%and input" -> … --go --on%and input%"'
    )  # both cut alike, from a little before where they differ: not twice the same text


def test_a_plan_shows_values_as_written(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """A plan quoted strings as JSON does: every backslash doubled and every quote escaped, so
    the description of ``echo "a\\%b"\\\\%in`` read ``echo \\"a\\\\%b\\"\\\\\\\\%in``. It is shown as
    written, in double quotes; only control characters are escaped, once (a tab as ``\\t``)."""
    cli = _cli(sqlite_only_cli, tmp_path, "store.db")
    crontab = tmp_path / "crontab"
    crontab.write_text('# name: quoting\n0 4 * * * echo "a\\%b"\\\\%in\n')
    assert cli("import", "crontab", str(crontab), "--name", "web1").code == 0  # with its '%' warning
    crontab.write_text('# name: quoting\n0 5 * * * echo "a\\%b"\\\\%in\tx\n')
    plan = cli("import", "crontab", str(crontab), "--name", "web1", "--dry-run")
    assert plan.stdout.splitlines()[0] == (
        '~ update quoting: cron "0 4 * * *" -> "0 5 * * *", '
        'description "crontab: 0 4 * * * echo "a\\%b"\\\\%in" -> "crontab: 0 5 * * * echo "a\\%b"\\\\%in\\tx", '
        "stdin changed"  # masked whole, as in the audit log (docs/jobs-files.md)
    )
