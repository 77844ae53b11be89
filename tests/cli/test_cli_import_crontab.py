"""``jobctl import crontab``: a real crontab in, jobs out; re-import, prune, lint, limits.

Real subprocesses on a real store: the full round trip (import, ``jobs list``, re-import with
"no changes", prune) runs on every backend; the lint and bad-input cases, which stop before the
store is written, run on SQLite only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tests.cli.helpers import OneStoreCli, but_the_no_daemon_warning, check_error, check_ok

CRONTAB = """\
# m h  dom mon dow   command
SHELL=/bin/bash
PATH=/usr/local/bin:/usr/bin:/bin
MAILTO=""

# name: nightly-backup
15 3 * * *      /usr/local/bin/backup.sh --full /srv
*/15 9-17 * * mon-fri  curl -fsS https://example.com/ping > /dev/null
CRON_TZ=America/New_York
0 12 1 * *      mail -s "monthly report" ops%Report attached\\%%Regards
"""


def write(tmp_path: Path, text: str, name: str = "crontab") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def jobs_json(cli: Any) -> dict[str, Any]:
    document = json.loads(check_ok(cli("jobs", "list", "--json", "--all")).stdout)
    return {job["name"]: job for job in document["jobs"]}


def test_import_reimport_and_prune(cli: Any, tmp_path: Path) -> None:
    path = write(tmp_path, CRONTAB)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    check_ok(cli("jobs", "create", "by-hand", "--every", "1h", "--command", "true"))
    first = cli("import", "crontab", str(path))
    assert first.code == 0, first.stderr
    assert f"{path}:10: warning: '%' ends the command" in first.stderr
    created = [line for line in first.stdout.splitlines() if line.startswith("+ create ")]
    assert len(created) == 3 and "+ create nightly-backup" in created
    jobs = jobs_json(cli)
    backup = jobs["nightly-backup"]
    assert backup["scheduleConfig"]["expression"] == "15 3 * * *"
    assert backup["taskArgs"] == {"command": "/usr/local/bin/backup.sh --full /srv", "shell": "/bin/bash"}
    assert backup["environment"] == {"PATH": "/usr/local/bin:/usr/bin:/bin"}
    assert backup["source"] == f"crontab:{path}"
    [report] = [job for name, job in jobs.items() if name.startswith("mail-s-monthly-")]
    assert report["scheduleConfig"]["timezone"] == "America/New_York"
    assert report["stdin"] == "Report attached%\nRegards\n"
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # the source is only read

    again = cli("import", "crontab", str(path))
    assert again.code == 0 and again.stdout.strip() == "no changes (3 unchanged)"

    path.write_text(CRONTAB.replace("15 3 * * *", "30 3 * * *").replace("*/15 9-17", "#*/15 9-17"))
    pruned = cli("import", "crontab", str(path), "--prune", "--json")
    assert pruned.code == 0, pruned.stderr
    plan = json.loads(pruned.stdout)["plan"]
    assert plan["created"] == [] and plan["unchanged"] == 1
    assert [(u["name"], u["changes"].get("cron")) for u in plan["updated"]] == [
        ("nightly-backup", ["15 3 * * *", "30 3 * * *"])
    ]
    assert len(plan["deleted"]) == 1 and plan["deleted"][0].startswith("curl-fss-")  # by-hand stays


def test_dry_run_json_prefix_and_stdin(sqlite_only_cli: OneStoreCli) -> None:
    result = sqlite_only_cli("import", "crontab", "-", "--dry-run", "--json", "--prefix", "web1-", input=CRONTAB)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["file"] == "<stdin>" and document["source"] == "crontab:stdin" and document["dryRun"] is True
    created = document["plan"]["created"]
    assert len(created) == 3 and all(name.startswith("web1-") for name in created)
    assert "web1-nightly-backup" in created and any(name.startswith("web1-curl-fss-ping-") for name in created)
    codes = [(issue["line"], issue["severity"], issue["code"]) for issue in document["issues"]]
    assert codes == [(10, "warning", "stdin")]
    assert result.stderr == ""  # the warning is in the JSON, as cron explain --json keeps its own
    listed = json.loads(check_ok(sqlite_only_cli("jobs", "list", "--json")).stdout)
    assert listed["jobs"] == []  # a dry run writes nothing


def test_lint_errors_write_nothing_and_name_every_line(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """Each error once: in the JSON with ``--json`` (stderr empty, as for every ``--json``
    command whose JSON holds the findings), else on stderr, a line each and the count last."""
    path = write(tmp_path, "@daily fine\n0 0 30 2 * never\n61 * * * * out\n@reboot start\n0 2 * * backup.sh\n")
    result = sqlite_only_cli("import", "crontab", str(path), "--json")
    assert (result.code, result.stderr) == (2, "")
    document = json.loads(result.stdout)
    assert document["plan"] is None
    assert [(i["line"], i["code"]) for i in document["issues"]] == [
        (2, "never_fires"), (3, "out_of_range"), (4, "reboot"), (5, "field_count"),
    ]  # fmt: skip
    result = sqlite_only_cli("import", "crontab", str(path))
    assert (result.code, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    assert len(lines) == 5
    assert lines[0] == f'{path}:2: error: "0 0 30 2 *" never fires'
    assert lines[-1] == f"jobctl: {path}: 4 errors: nothing imported"
    assert "Traceback" not in result.stderr
    assert json.loads(check_ok(sqlite_only_cli("jobs", "list", "--json")).stdout)["jobs"] == []


def test_skip_unsupported_and_strict(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    path = write(tmp_path, "@reboot start\nMAILTO=ops@example.com\n*/35 * * * * often\n")
    strict = sqlite_only_cli("import", "crontab", str(path), "--skip-unsupported", "--strict")
    assert strict.code == 2
    assert f"{path}:1: warning: @reboot runs at boot" in strict.stderr
    assert f"{path}:3: warning: MAILTO=ops@example.com (line 2): no email notifier sends to ops@example.com" in (
        strict.stderr
    )
    assert strict.stderr.splitlines()[-1] == f"jobctl: {path}: 5 warnings (--strict): nothing imported"  # and 2 DST
    loose = sqlite_only_cli("import", "crontab", str(path), "--skip-unsupported")
    assert loose.code == 0 and loose.stdout.startswith("+ create often-")


def test_system_format_runs_as_the_user_and_apply_errors_point_at_the_line(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    path = write(tmp_path, "# name: as-nobody\n17 12 * * * nobody /bin/true\n")
    check_ok(sqlite_only_cli("import", "crontab", str(path), "--system"))
    job = json.loads(check_ok(sqlite_only_cli("jobs", "show", "as-nobody", "--json")).stdout)
    assert job["runAsUser"] == "nobody"
    bad = write(tmp_path, "@daily root true\n@hourly no-such-user-here true\n", "bad")
    as_json = sqlite_only_cli("import", "crontab", str(bad), "--system", "--json")
    assert (as_json.code, as_json.stderr) == (2, "")  # what apply refused, in the JSON only
    [refusal] = [issue for issue in json.loads(as_json.stdout)["issues"] if issue["severity"] == "error"]
    assert (refusal["line"], refusal["code"]) == (2, "invalid_job")
    assert "no user 'no-such-user-here'" in refusal["message"]
    result = sqlite_only_cli("import", "crontab", str(bad), "--system")
    assert result.code == 2
    assert f"{bad}:2: error: job '" in result.stderr
    assert "': run_as_user: no user 'no-such-user-here' on this host" in result.stderr
    assert result.stderr.count("run_as_user") == 1, result.stderr  # said once, not before the job's name too
    assert [j["name"] for j in json.loads(sqlite_only_cli("jobs", "list", "--json").stdout)["jobs"]] == ["as-nobody"]


def test_bad_input_is_one_line_and_exit_2(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    check_error(sqlite_only_cli("import", "crontab", str(tmp_path / "missing")), 2, "cannot read", "missing")
    big = tmp_path / "big"
    big.write_text("@daily true\n" * (1024 * 1024 // 12 + 1))
    assert os.path.getsize(big) > 1024 * 1024
    check_error(sqlite_only_cli("import", "crontab", str(big)), 2, "1 MiB limit")
    binary = tmp_path / "binary"
    binary.write_bytes(b"@daily echo \xff\n")
    check_error(sqlite_only_cli("import", "crontab", str(binary)), 2, "not UTF-8")


def test_mailto_maps_to_the_notifier_that_mails_it(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    config = tmp_path / "with-mail.toml"
    config.write_text(
        '[scheduler]\ntimezone = "UTC"\n\n[[notifiers]]\nname = "ops-mail"\ntype = "email"\n'
        'to = ["ops@example.com"]\nfrom = "jobctl@example.com"\nsendmail = "/usr/sbin/sendmail"\n'
    )
    env = {"JOBCTL_CONFIG": str(config)}
    path = write(tmp_path, "MAILTO=ops@example.com\n# name: mailed\n0 12 * * * echo hi\n")
    first = sqlite_only_cli("import", "crontab", str(path), env=env)
    assert (first.code, but_the_no_daemon_warning(first.stderr), first.stdout) == (
        0,
        "",
        "+ create mailed\n0 unchanged\n",
    )
    job = json.loads(check_ok(sqlite_only_cli("jobs", "show", "mailed", "--json", env=env)).stdout)
    assert job["notify"] == [{"notifier": "ops-mail", "on": ["output"], "eachAttempt": False}]
    again = sqlite_only_cli("import", "crontab", str(path), env=env)
    assert (again.code, again.stdout) == (0, "no changes (1 unchanged)\n")


def test_prune_of_a_job_with_a_waiting_run_is_a_conflict_and_changes_nothing(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    path = write(tmp_path, "# name: keep\n0 12 * * * true\n# name: busy\n0 13 * * * true\n")
    check_ok(sqlite_only_cli("import", "crontab", str(path)))
    check_ok(sqlite_only_cli("jobs", "trigger", "busy"))  # pending: no daemon runs it
    path.write_text("*/35 12 * * * new\n# name: keep\n0 12 * * * true\n")
    result = sqlite_only_cli("import", "crontab", str(path), "--prune")
    assert result.code == 4 and result.stdout == ""
    assert f"{path}:1: warning: '*/35' in the minute field" in result.stderr  # the lint is still shown
    assert "busy" in result.stderr.splitlines()[-1]
    names = [job["name"] for job in json.loads(sqlite_only_cli("jobs", "list", "--json").stdout)["jobs"]]
    assert sorted(names) == ["busy", "keep"]


def test_an_empty_crontab_with_prune_is_refused_unless_allowed(sqlite_only_cli: OneStoreCli) -> None:
    """``crontab -l`` of a user without a crontab prints nothing: with --prune that deleted every
    job of the crontab. Refused (exit 2, nothing written, --json too) until --allow-empty."""
    cli = sqlite_only_cli
    check_ok(cli("import", "crontab", "-", input="# name: keep\n0 12 * * * true\n# name: also\n0 13 * * * true\n"))
    message = (
        "the file declares no jobs, and --prune would delete all 2 jobs of source 'crontab:stdin'; nothing was applied"
        " (give --allow-empty to delete them)"
    )
    for text in ("", "SHELL=/bin/bash\n# every job commented out\n"):
        result = cli("import", "crontab", "-", "--prune", input=text)
        assert (result.code, result.stdout) == (2, "")
        assert result.stderr.splitlines() == [
            f"<stdin>: error: {message}",
            "jobctl: <stdin>: 1 error: nothing imported",
        ]
    as_json = cli("import", "crontab", "-", "--prune", "--dry-run", "--json", input="")
    assert as_json.code == 2 and json.loads(as_json.stdout)["issues"] == [
        {"line": 0, "severity": "error", "code": "no_jobs", "message": message}
    ]
    assert check_ok(cli("import", "crontab", "-", input="")).stdout == "no changes (0 unchanged)\n"
    assert len(jobs_json(cli)) == 2
    allowed = check_ok(cli("import", "crontab", "-", "--prune", "--allow-empty", input=""))
    assert allowed.stdout.splitlines() == ["- delete also", "- delete keep", "0 unchanged"]


def test_a_byte_order_mark_is_not_part_of_the_first_line(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """A crontab saved by a Windows editor starts with U+FEFF: the first line reads as without it,
    whether it is a variable, a ``# name:`` comment or a job, in the lint and in the import."""
    bom = "\ufeff".encode()
    for first, rest in (
        ("SHELL=/bin/bash", "# name: after-a-variable\n0 3 * * * echo hi\n"),
        ("# name: named-on-the-first-line", "@daily true\n"),
        ("@weekly echo first", ""),
    ):
        text = f"{first}\n{rest}"
        plain, marked = tmp_path / "plain", tmp_path / "marked"
        plain.write_text(text)
        marked.write_bytes(bom + text.encode())
        expected = json.loads(sqlite_only_cli("import", "crontab", str(plain), "--dry-run", "--json").stdout)
        linted = sqlite_only_cli("import", "crontab", str(marked), "--dry-run", "--json")
        assert linted.code == 0, linted.stdout
        document = json.loads(linted.stdout)
        assert document["issues"] == expected["issues"] == []
        assert document["plan"]["created"] == expected["plan"]["created"] != []
        assert sqlite_only_cli("import", "crontab", "-", "--dry-run", input=bom.decode() + text).code == 0
    marked.write_bytes(bom + b"SHELL=/bin/bash\n# name: bash-job\n0 3 * * * echo hi\n")
    check_ok(sqlite_only_cli("import", "crontab", str(marked)))
    assert jobs_json(sqlite_only_cli)["bash-job"]["taskArgs"] == {"command": "echo hi", "shell": "/bin/bash"}


def test_a_crontab_s_logname_and_user_do_not_reach_the_run(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """cron sets LOGNAME and USER to the crontab's owner after its variables: a crontab's own
    values never reach a command. They are left out (with a warning), so a run keeps its user's."""
    path = write(tmp_path, "LOGNAME=someone-else\nUSER=someone-else\n# name: who\n0 5 * * * echo $LOGNAME $USER\n")
    imported = sqlite_only_cli("import", "crontab", str(path))
    assert imported.code == 0, imported.stderr
    warned = but_the_no_daemon_warning(imported.stderr).splitlines()
    assert [line.split(": ")[1] for line in warned if ": warning: " in line] == ["warning"] * 2
    assert "LOGNAME=someone-else: cron sets LOGNAME and USER to the crontab's owner" in imported.stderr
    assert jobs_json(sqlite_only_cli)["who"]["environment"] in (None, {})
    ran = sqlite_only_cli("run", "who", env={"LOGNAME": "the-runner", "USER": "the-runner"})
    assert ran.code == 0 and ran.stdout.splitlines()[0] == "the-runner the-runner", ran


def test_a_run_starts_in_the_crontab_s_home(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """cron changes to the job's HOME before it runs the command; a run started in / instead."""
    home = tmp_path / "home"
    home.mkdir()
    path = write(tmp_path, f"HOME={home}\n# name: where\n0 5 * * * pwd; echo $HOME\n")
    check_ok(sqlite_only_cli("import", "crontab", str(path)))
    ran = sqlite_only_cli("run", "where")
    assert ran.code == 0 and ran.stdout.splitlines()[:2] == [str(home), str(home)], ran


MAIL_CONFIG = (
    '[scheduler]\ntimezone = "UTC"\n\n[[notifiers]]\nname = "ops-mail"\ntype = "email"\n'
    'to = ["ops@example.com"]\nfrom = "jobctl@example.com"\nsendmail = "/usr/sbin/sendmail"\n'
)


def test_cronie_s_n_option_is_no_part_of_the_command(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """cronie reads ``-n`` before a command as "mail only when the run fails": kept as the
    command's start, it made ``/bin/sh -c '-n echo hi'`` (Illegal option) of every run."""
    config = tmp_path / "with-mail.toml"
    config.write_text(MAIL_CONFIG)
    env = {"JOBCTL_CONFIG": str(config)}
    path = write(
        tmp_path, "# name: quiet\n0 5 * * * -n echo hi\nMAILTO=ops@example.com\n# name: mailed\n0 6 * * * -n\t true\n"
    )
    imported = sqlite_only_cli("import", "crontab", str(path), env=env)
    assert imported.code == 0, imported.stderr
    assert but_the_no_daemon_warning(imported.stderr).splitlines() == [
        f"{path}:2: warning: '-n' (cron: mail the output only when the run fails) without MAILTO: cron mails the"
        " crontab's owner, and jobctl has no owner to mail; the job follows [notify] default. Set MAILTO to an"
        " address an email notifier sends to, and failed runs are mailed there"
    ]
    jobs = jobs_json(sqlite_only_cli)
    assert jobs["quiet"]["taskArgs"] == {"command": "echo hi"} and jobs["quiet"]["notify"] is None
    assert jobs["mailed"]["taskArgs"] == {"command": "true"}
    assert jobs["mailed"]["notify"] == [{"notifier": "ops-mail", "on": ["failure"], "eachAttempt": False}]
    assert jobs["quiet"]["description"] == "crontab: 0 5 * * * -n echo hi"
    ran = sqlite_only_cli("run", "quiet", env=env)
    assert (ran.code, ran.stdout) == (0, "hi\n"), ran.stderr


def test_any_other_option_before_the_command_is_refused_as_cronie_does(sqlite_only_cli: OneStoreCli) -> None:
    text = "0 5 * * * -x echo\n0 5 * * * -n -n echo\n0 5 * * * -necho\n0 5 * * * -n \n"
    result = sqlite_only_cli("import", "crontab", "-", "--json", input=text)
    assert result.code == 2
    issues = json.loads(result.stdout)["issues"]
    assert [(issue["line"], issue["code"]) for issue in issues] == [
        (1, "bad_option"), (2, "bad_option"), (3, "bad_option"), (4, "empty_command"),
    ]  # fmt: skip


def test_random_delay_is_the_jitter_of_the_lines_after_it(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """cronie delays each job of the lines after ``RANDOM_DELAY=N`` by up to N minutes; it was
    imported as a variable of the jobs' environment, and the jobs ran at their slots."""
    path = write(
        tmp_path,
        "# name: first\n0 5 * * * true\nRANDOM_DELAY=10\n# name: spread\n0 5 * * * true\n"
        "RANDOM_DELAY=5m\n# name: leading\n0 5 * * * true\nRANDOM_DELAY=0\n# name: back\n0 5 * * * true\n"
        "RANDOM_DELAY=1441\n# name: too-long\n0 5 * * * true\nRANDOM_DELAY=soon\n# name: words\n0 5 * * * true\n",
    )
    imported = sqlite_only_cli("import", "crontab", str(path), "--json")
    assert imported.code == 0, imported.stderr
    assert [(issue["line"], issue["code"]) for issue in json.loads(imported.stdout)["issues"]] == [
        (6, "random_delay"), (12, "random_delay"), (15, "random_delay"),
    ]  # fmt: skip
    jobs = jobs_json(sqlite_only_cli)
    jitter = {name: job["scheduleConfig"].get("jitter") for name, job in jobs.items()}
    assert jitter == {"first": None, "spread": 600, "leading": 300, "back": None, "too-long": None, "words": None}
    assert all(not job["environment"] for job in jobs.values())
    strict = sqlite_only_cli("import", "crontab", "-", "--strict", "--dry-run", input="RANDOM_DELAY=-1\n@daily true\n")
    assert strict.code == 2
    assert "<stdin>:1: warning: RANDOM_DELAY=-1: cron takes 0 to 1440 minutes" in strict.stderr


def test_a_lint_message_shows_the_command_as_written(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """Two backslashes in the command are two in the warning (``repr`` showed four); a tab is shown
    as ``\\t`` on stderr, as every control character there, and is itself in the JSON."""
    path = write(tmp_path, '0 4 * * * echo "a\\%b"\\\\%in\n0 5 * * * printf x\ty%in\n')
    result = sqlite_only_cli("import", "crontab", str(path), "--dry-run")
    assert result.code == 0
    assert f'{path}:1: warning: \'%\' ends the command at "echo "a%b"\\\\" and sends' in result.stderr
    assert f"{path}:2: warning: '%' ends the command at \"printf x\\ty\" and sends" in result.stderr
    document = json.loads(check_ok(sqlite_only_cli("import", "crontab", str(path), "--dry-run", "--json")).stdout)
    assert [issue["message"].split(" and sends")[0] for issue in document["issues"]] == [
        "'%' ends the command at \"echo \"a%b\"\\\\\"", "'%' ends the command at \"printf x\ty\"",
    ]  # fmt: skip
