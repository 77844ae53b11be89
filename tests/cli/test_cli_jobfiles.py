"""``jobctl apply`` and ``jobctl export`` as real subprocesses: plans, errors with their lines,
limits, the export formats and the round trip export -> apply -> export (SQLite and Postgres)."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobctl.store import open_store
from tests.cli.helpers import OneStoreCli, but_the_no_daemon_warning, check_error, check_ok

JOBS_TOML = """\
# jobs of the ops team
[[jobs]]
name = "backup"
cron = "0 2 * * *"
command = "tar czf /tmp/etc.tgz /etc"
timeout = "30s"
labels = { team = "ops" }

[[jobs]]
name = "ping"
every = "90s"
command = "curl -fsS https://example.org/health"
retries = 2
retry_delay = 0
env = { A = "1" }

[[jobs]]
name = "once"
at = 2030-01-01T09:00:00Z
command = "cat"
stdin = "first\\nsecond"
paused = true

[[jobs]]
name = "weekly"
cron = "@weekly"
timezone = "UTC"
task = "shell"
args = { command = "echo hi", shell = "/bin/bash" }
description = "weekly \\"hi\\""
"""


def write(tmp_path: Path, text: str, name: str = "jobs.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def second_store_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """Another empty store on the backend of ``store_url``."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    from tests.conftest import _fresh_pg_schema

    schema = _fresh_pg_schema()
    yield next(schema)
    next(schema, None)


def test_round_trip_export_apply_export_is_byte_for_byte(cli: Any, tmp_path: Path, second_store_url: str) -> None:
    """Export from the backend under test, apply on an empty store of the same backend, export again."""
    check_ok(cli("apply", "-f", write(tmp_path, JOBS_TOML)))
    first = check_ok(cli("export")).stdout
    assert 'every = "90s"' in first  # as written, not recomputed
    assert '\nretry_delay = "0"\n' in first and '[jobs.env]\nA = "1"\n' in first
    other = dict(cli.env, JOBCTL_DB=second_store_url)
    check_ok(cli("apply", "-f", write(tmp_path, first, "exported.toml"), env=other))
    assert check_ok(cli("export", env=other)).stdout == first


def test_a_json_export_applies_back_through_standard_input(cli: Any, tmp_path: Path, second_store_url: str) -> None:
    """``export --format json | apply -f - --source NAME``: standard input was read as TOML only
    ("not valid TOML"), a ``.json`` file name being the only way to say JSON."""
    check_ok(cli("apply", "-f", write(tmp_path, JOBS_TOML)))
    exported = check_ok(cli("export", "--format", "json")).stdout
    other = dict(cli.env, JOBCTL_DB=second_store_url)
    open_store(second_store_url).close()
    check_ok(cli("apply", "-f", "-", "--source", "copied", input=exported, env=other))
    assert check_ok(cli("export", "--format", "json", env=other)).stdout == exported
    assert check_ok(cli("apply", "-f", "-", "--source", "copied", input=exported, env=other)).stdout.startswith(
        "no changes"
    )
    line = check_error(cli("apply", "-f", "-", "--source", "x", input='{"jobs": [', env=other), 2)
    assert line.startswith("jobctl: -: not valid JSON"), line


def test_plan_then_no_changes_then_a_change(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    cli = sqlite_only_cli
    path = write(tmp_path, JOBS_TOML)
    dry = check_ok(cli("apply", "-f", path, "--dry-run"))
    assert dry.stdout.splitlines() == [
        "+ create backup", "+ create ping", "+ create once", "+ create weekly", "0 unchanged",
        "dry run: nothing was written",
    ]  # fmt: skip
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 0
    check_ok(cli("apply", "-f", path))
    assert check_ok(cli("apply", "-f", path)).stdout == "no changes (4 unchanged)\n"
    Path(path).write_text(JOBS_TOML.replace('timeout = "30s"', 'timeout = "1m"').replace("retries = 2\n", ""))
    assert check_ok(cli("apply", "-f", path)).stdout.splitlines() == [
        "~ update backup: timeout 30s -> 1m",
        "~ update ping: retries 2 -> 0",
        "2 unchanged",
    ]
    plan = json.loads(check_ok(cli("apply", "-f", path, "--json")).stdout)
    assert plan == {"created": [], "updated": [], "deleted": [], "unchanged": 4, "staysPaused": []}
    shown = json.loads(cli("jobs", "show", "backup", "--json").stdout)
    assert (shown["timeoutSeconds"], shown["source"]) == (60, str(Path(path).resolve()))


def test_prune_and_source(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    cli = sqlite_only_cli
    path = write(tmp_path, JOBS_TOML)
    check_ok(cli("apply", "-f", path, "--source", "team-ops"))
    check_ok(cli("jobs", "create", "by-hand", "--every", "1h", "--command", "true"))
    only_ping = JOBS_TOML.split("[[jobs]]")[2]
    Path(path).write_text("[[jobs]]" + only_ping)
    assert check_ok(cli("apply", "-f", path, "--source", "team-ops", "--prune")).stdout.splitlines() == [
        "- delete backup", "- delete once", "- delete weekly", "1 unchanged",
    ]  # fmt: skip
    names = sorted(job["name"] for job in json.loads(cli("jobs", "list", "--json").stdout)["jobs"])
    assert names == ["by-hand", "ping"]
    emptied = "# the jobs of team ops\n"  # no jobs: --prune deletes them only when told to
    check_error(cli("apply", "-f", "-", "--source", "team-ops", "--prune", input=emptied), 2, "--allow-empty")
    plan = check_ok(cli("apply", "-f", "-", "--source", "team-ops", "--prune", "--allow-empty", input=emptied)).stdout
    assert plan.splitlines() == ["- delete ping", "0 unchanged"]


def test_a_dry_run_prune_of_a_job_with_a_waiting_run_exits_4_as_the_apply(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    cli = sqlite_only_cli
    path = write(tmp_path, JOBS_TOML)
    check_ok(cli("apply", "-f", path))
    check_ok(cli("jobs", "trigger", "backup"))
    Path(path).write_text("[[jobs]]" + JOBS_TOML.split("[[jobs]]")[2])
    message = "cannot prune job(s) with pending or running runs: 'backup'"
    dry = check_error(cli("apply", "-f", path, "--prune", "--dry-run"), 4, message)
    assert dry == check_error(cli("apply", "-f", path, "--prune"), 4, message)
    assert len(json.loads(cli("jobs", "list", "--json").stdout)["jobs"]) == 4


def one_job(name: str) -> str:
    return f'[[jobs]]\nname = "{name}"\nevery = "1h"\ncommand = "echo {name}"\n'


def test_the_default_source_is_the_files_path_so_a_same_named_file_elsewhere_prunes_only_its_own(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """Two directories' jobs.toml are two sources: --prune of one never deletes the other's jobs.
    The path is absolute and resolved: the same file by another path (.., a link) is the same source."""
    cli = sqlite_only_cli
    for app in ("app1", "app2"):
        (tmp_path / app).mkdir()
    app1 = write(tmp_path / "app1", one_job("app1-clean"))
    app2 = write(tmp_path / "app2", one_job("app2-clean"))
    check_ok(cli("apply", "-f", app1))
    dry = check_ok(cli("apply", "-f", app2, "--prune", "--dry-run"))
    assert dry.stdout.splitlines() == ["+ create app2-clean", "0 unchanged", "dry run: nothing was written"]
    check_ok(cli("apply", "-f", app2, "--prune"))
    jobs = {job["name"]: job["source"] for job in json.loads(cli("jobs", "list", "--json").stdout)["jobs"]}
    assert jobs == {"app1-clean": str((tmp_path / "app1/jobs.toml").resolve()),
                    "app2-clean": str((tmp_path / "app2/jobs.toml").resolve())}  # fmt: skip
    (tmp_path / "link.toml").symlink_to(tmp_path / "app1/jobs.toml")
    for same_file in (str(tmp_path / "app2/../app1/jobs.toml"), str(tmp_path / "link.toml")):
        assert check_ok(cli("apply", "-f", same_file, "--prune")).stdout == "no changes (1 unchanged)\n"
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 2
    check_error(cli("apply", "-f", write(tmp_path, one_job("x"), "y" * 201 + ".toml")), 2, "give --source NAME")


def test_jobs_applied_under_the_files_name_are_adopted_by_name_and_never_pruned(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """A store whose jobs carry a file's name as their source (what apply recorded before it
    recorded the path): applying the file again adopts the jobs it names, as any job of that name
    (the plan says so), and --prune leaves the others with a warning, as another directory's
    file of that name may hold them."""
    cli = sqlite_only_cli
    (tmp_path / "app2").mkdir()
    check_ok(cli("apply", "-f", "-", "--source", "jobs.toml", input=one_job("app1-clean")))
    check_ok(cli("apply", "-f", "-", "--source", "jobs.toml", input=one_job("app2-clean") + one_job("app2-gone")))
    path = write(tmp_path / "app2", one_job("app2-clean"))
    source = str(Path(path).resolve())
    result = cli("apply", "-f", path, "--prune")
    assert result.code == 0, result
    assert result.stdout.splitlines() == [f"~ update app2-clean: source jobs.toml -> {source}", "0 unchanged"]
    assert but_the_no_daemon_warning(result.stderr).splitlines() == [
        "jobctl: warning: not pruned: 'app1-clean', 'app2-gone': source 'jobs.toml', a file's name as apply recorded"
        " it before it recorded the path, so another directory's jobs.toml may hold them: apply that file, or delete"
        " them with jobctl jobs delete"
    ]
    jobs = {job["name"]: job["source"] for job in json.loads(cli("jobs", "list", "--json").stdout)["jobs"]}
    assert jobs == {"app1-clean": "jobs.toml", "app2-clean": source, "app2-gone": "jobs.toml"}
    assert check_ok(cli("apply", "-f", path)).stdout == "no changes (1 unchanged)\n"
    check_ok(cli("jobs", "delete", "app2-gone"))
    Path(path).write_text(one_job("app2-clean") + one_job("app2-new"))
    again = cli("apply", "-f", path, "--prune", "--dry-run")
    assert (again.code, again.stdout.splitlines()) == (
        0,
        ["+ create app2-new", "1 unchanged", "dry run: nothing was written"],
    )
    assert again.stderr.count("warning: not pruned: 'app1-clean': source 'jobs.toml'") == 1


def test_every_error_is_reported_with_its_line_and_nothing_is_applied(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    cli = sqlite_only_cli
    bad = JOBS_TOML.replace('timeout = "30s"', 'timeout = "soon"').replace("retries = 2", "retries = 2\ncolour = 1")
    result = cli("apply", "-f", write(tmp_path, bad))
    assert result.code == 2 and result.stdout == ""
    path = str(tmp_path / "jobs.toml")
    assert result.stderr.splitlines() == [
        f"{path}:6: error: job 'backup': timeout: takes seconds or a duration like 90s, 5m, 1h30m; got 'soon'",
        f"{path}:14: error: job 'ping': colour: unknown key 'colour' (keys are the long options of jobs create)",
    ]
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 0


REFUSED_KEYS = """\
[[jobs]]
name = "mixed"
every = "1h"
command = "true"
timeout = true
umask = "8"
retries = -1
retry_delay = "-1s"
labels = { Team = "ops" }
start_grace = "0s"
"""


def test_a_job_s_errors_come_in_line_order_in_words_with_values_as_toml_writes_them(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """The keys apply reads itself were reported before the ones the API's model checks (line 8
    before line 6), a boolean as Python writes it (``True``), a zero duration as no duration,
    and a pattern as a regular expression."""
    path = write(tmp_path, REFUSED_KEYS)
    result = sqlite_only_cli("apply", "-f", path)
    assert (result.code, result.stdout) == (2, "")
    job = f"{path}:{{}}: error: job 'mixed'"
    assert result.stderr.splitlines() == [
        f"{job.format(5)}: timeout: takes seconds or a duration like 90s, 5m, 1h30m; got true",
        f"{job.format(6)}: umask: must be an octal mode such as 022 or 0027, got '8'",
        f"{job.format(7)}: retries: must be 0 or more, got -1",
        f"{job.format(8)}: retry_delay: must be 0s or more, got '-1s'",
        f"{job.format(9)}: labels.Team.[key]: must be lowercase letters, digits and . _ / -, starting with a letter"
        " or digit, got 'Team'",
        f"{job.format(10)}: start_grace: must be more than 0s, got '0s'",
    ]


def test_a_zero_retry_delay_may_be_written_as_a_duration_in_a_jobs_file(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """``retry_delay = 0`` was taken and ``"0s"`` refused as no duration: both are zero."""
    path = write(tmp_path, '[[jobs]]\nname = "now"\nevery = "1h"\ncommand = "true"\nretry_delay = "0s"\n')
    check_ok(sqlite_only_cli("apply", "-f", path))
    shown = json.loads(check_ok(sqlite_only_cli("jobs", "show", "now", "--json")).stdout)
    assert shown["retryDelaySeconds"] == 0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[jobs]\nname = 1", "not valid TOML"),
        ('title = "x"\n', "unknown top-level key(s) title"),
        ('jobs = "x"\n', "jobs must be an array of tables"),
        ('[[jobs]]\nname = "a"\nevery = "1h"\ncommand = "true"\n[[jobs]]\nname = "a"\nevery = "2h"\ncommand = "x"\n',
         "jobs.toml:6: error: job 'a': name: the name is already used by job #1"),
    ],
)  # fmt: skip
def test_bad_files_are_one_line_and_exit_2(
    sqlite_only_cli: OneStoreCli, tmp_path: Path, text: str, fragment: str
) -> None:
    check_error(sqlite_only_cli("apply", "-f", write(tmp_path, text)), 2, fragment)


def test_limits_and_usage(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    cli = sqlite_only_cli
    big = write(tmp_path, "# " + "x" * (1024 * 1024) + "\n", "big.toml")
    check_error(cli("apply", "-f", big), 2, "larger than 1048576 bytes")
    check_error(cli("apply", "-f", str(tmp_path / "missing.toml")), 2, "cannot read")
    check_error(cli("apply", "-f", "-", input="[[jobs]]\n"), 2, "--source")
    check_error(cli("export", "--format", "yaml"), 2, "yaml")
    check_error(cli("export", "no-such-job"), 3, "no-such-job")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text().split("## Jobs in git", 1)[1]
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    plan = check_ok(cli("apply", "-f", write(tmp_path, example, "readme.toml"), "--dry-run")).stdout
    assert plan.splitlines()[:2] == ["+ create backup", "+ create ping"]  # the README's example is a valid file


def test_export_formats(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    cli = sqlite_only_cli
    check_ok(cli("apply", "-f", write(tmp_path, JOBS_TOML)))
    check_ok(cli("jobs", "create", "fields", "--every", "1h", "--command", "x"))
    out = tmp_path / "one.toml"
    check_ok(cli("export", "backup", "-o", str(out)))
    assert out.read_text() == (
        '[[jobs]]\nname = "backup"\ncron = "0 2 * * *"\ntimezone = "Europe/Berlin"\n'
        'command = "tar czf /tmp/etc.tgz /etc"\ntimeout = "30s"\n\n[jobs.labels]\nteam = "ops"\n'
    )
    backup_id = json.loads(check_ok(cli("jobs", "show", "backup", "--json")).stdout)["id"]
    named_thrice = check_ok(cli("export", "backup", backup_id, backup_id[:8])).stdout  # one job, three names
    assert named_thrice == out.read_text()  # once: apply refuses a file naming a job twice
    as_json = write(tmp_path, check_ok(cli("export", "--format", "json")).stdout, "jobs.json")
    assert json.loads(Path(as_json).read_text())["jobs"][0]["name"] == "backup"
    toml_source = str((tmp_path / "jobs.toml").resolve())
    check_ok(cli("apply", "-f", as_json, "--source", toml_source))  # JSON reads back: nothing to change
    assert check_ok(cli("apply", "-f", as_json, "--source", toml_source)).stdout == "no changes (5 unchanged)\n"
    crontab = cli("export", "--format", "crontab")
    not_exported = [
        "not exported: backup: timeout = 30s (cron has no such setting)",
        "not exported: fields: an interval schedule (cron has only calendar schedules)",
        "not exported: once: a one-time run (use at(1)); paused",
        "not exported: ping: an interval schedule (cron has only calendar schedules); retries = 2 (cron has no such"
        " setting); retry_delay = 0 (cron has no such setting)",
    ]
    assert crontab.stdout.splitlines() == [
        "# jobs exported by jobctl; read back with: jobctl import crontab FILE",
        "CRON_TZ=UTC",
        "SHELL=/bin/bash",
        "# name: weekly",
        "@weekly echo hi",
        *(f"# {line}" for line in not_exported),
    ]
    assert (crontab.code, crontab.stderr.splitlines()) == (1, [f"jobctl: {line}" for line in not_exported])
    Path(tmp_path / "cron.toml").write_text(
        '[[jobs]]\nname = "nightly"\ncron = "30 1 * * *"\ncommand = "date +%F"\nstdin = "a\\nb\\n"\n'
    )
    check_ok(cli("apply", "-f", str(tmp_path / "cron.toml")))
    crontab = check_ok(cli("export", "nightly", "--format", "crontab")).stdout
    assert crontab.splitlines()[1:] == ["CRON_TZ=Europe/Berlin", "# name: nightly", "30 1 * * * date +\\%F%a%b%"]


def test_export_output_dash_empty_and_the_store_itself(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """``-o -`` is standard output (as for ``executions export``); an empty ``-o`` and ``-o`` naming
    the SQLite store (or SQLite's files beside it) are exit 2 with the store as it was."""
    cli = sqlite_only_cli
    check_ok(cli("apply", "-f", write(tmp_path, JOBS_TOML)))
    to_stdout = check_ok(cli("export", "backup", "-o", "-")).stdout
    assert to_stdout == check_ok(cli("export", "backup")).stdout and 'name = "backup"' in to_stdout
    check_error(cli("export", "-o", ""), 2, "-o is empty")
    store_file = tmp_path / "one-store.db"
    before = store_file.read_bytes()
    for name in (str(store_file), f"{store_file}-wal"):
        check_error(cli("export", "-o", name), 2, "is the store's own file")
    assert store_file.read_bytes() == before
    assert "backup" in check_ok(cli("jobs", "list")).stdout


def test_export_through_the_api_onto_a_sqlite_file_is_refused(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """Through an API the store's path is not known: ``-o`` naming a SQLite database, or its
    -wal, -shm or -journal, is refused all the same (exit 2), before the API is asked (none
    answers at this port: exit 5 for any other file)."""
    cli = sqlite_only_cli
    check_ok(cli("apply", "-f", write(tmp_path, JOBS_TOML)))
    store_file = tmp_path / "one-store.db"
    before = store_file.read_bytes()
    remote = ("--api", "http://127.0.0.1:1", "--token", "t")
    check_error(cli(*remote, "export", "-o", str(store_file)), 2, "is a SQLite database: an export is never SQLite")
    for ending in ("-wal", "-shm", "-journal"):
        check_error(cli(*remote, "export", "-o", f"{store_file}{ending}"), 2, f"of the SQLite database {store_file}:")
    assert store_file.read_bytes() == before and sorted(path.name for path in tmp_path.glob("one-store.db*")) == [
        "one-store.db"
    ]
    check_error(cli(*remote, "export", "-o", str(tmp_path / "jobs.toml")), 5, "cannot reach the jobctl API")


def test_a_byte_order_mark_at_the_start_of_a_jobs_file_is_no_part_of_it(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """A jobs file saved by a Windows editor starts with U+FEFF: it reads as without it, TOML or
    JSON, and an error still names its line."""
    bom = "\ufeff".encode()
    toml_text = '[[jobs]]\nname = "marked"\ncron = "0 2 * * *"\ncommand = "true"\n'
    json_text = '{"jobs": [{"name": "marked-json", "cron": "0 3 * * *", "command": "true"}]}'
    for name, text in (("jobs.toml", toml_text), ("jobs.json", json_text)):
        path = tmp_path / name
        path.write_bytes(bom + text.encode())
        check_ok(sqlite_only_cli("apply", "-f", str(path)))
    assert check_ok(sqlite_only_cli("apply", "-f", str(tmp_path / "jobs.toml"))).stdout == "no changes (1 unchanged)\n"
    (tmp_path / "bad.toml").write_bytes(bom + toml_text.replace('cron = "0 2 * * *"', 'cron = "0 25 * * *"').encode())
    check_error(sqlite_only_cli("apply", "-f", str(tmp_path / "bad.toml")), 2, "bad.toml:3")


def test_a_plan_names_environment_variables_without_their_values(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """The plan, text and --json, says which variables are set, unset or changed, never their
    values (nor stdin, nor a password in a URL), as jobs show and the audit log; export still
    writes the values, and reads back."""
    cli = sqlite_only_cli
    path = write(tmp_path, '[[jobs]]\nname = "dump"\nevery = "1h"\ncommand = "pg_dump app"\n'
                           'env = { PGPASSWORD = "s3cret-one", OLD = "gone-one" }\n')  # fmt: skip
    check_ok(cli("apply", "-f", path))
    Path(path).write_text(Path(path).read_text().replace("s3cret-one", "s3cret-two").replace("OLD", "NEW"))
    dry = check_ok(cli("apply", "-f", path, "--dry-run"))
    assert dry.stdout.splitlines() == [
        "~ update dump: env +NEW, env -OLD, env PGPASSWORD changed", "0 unchanged", "dry run: nothing was written"
    ]  # fmt: skip
    as_json = check_ok(cli("apply", "-f", path, "--dry-run", "--json")).stdout
    variables = {"env.NEW": [None, "***"], "env.OLD": ["***", None], "env.PGPASSWORD": ["***", "***"]}
    assert json.loads(as_json)["updated"] == [{"name": "dump", "changes": variables}]
    assert "-one" not in dry.stdout + as_json and "-two" not in dry.stdout + as_json
    Path(path).write_text(Path(path).read_text().replace("pg_dump app", "pg_dump postgres://app:url-pw@127.0.0.1/app"))
    applied = check_ok(cli("apply", "-f", path))
    assert applied.stdout.splitlines()[0] == (
        '~ update dump: command "pg_dump app" -> "pg_dump postgres://app:***@127.0.0.1/app", env +NEW, env -OLD,'
        " env PGPASSWORD changed"
    )
    exported = check_ok(cli("export", "dump")).stdout
    assert 'PGPASSWORD = "s3cret-two"' in exported and "url-pw" in exported  # the values, to apply elsewhere
    again = cli("apply", "-f", write(tmp_path, exported, "exported.toml"), "--source", str(Path(path).resolve()))
    assert check_ok(again).stdout == "no changes (1 unchanged)\n"


def test_reapplying_a_file_keeps_the_pauses_it_does_not_declare(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """The auto-pause (two failed runs, ``jobctl run`` on the store) and an operator's pause
    with a reason survive applying the unchanged file, and the plan says so once per job, text
    and JSON; the export round trip still changes nothing and reads back to the same bytes."""
    cli = sqlite_only_cli
    path = write(tmp_path, '[[jobs]]\nname = "sync"\nevery = "1h"\ncommand = "exit 1"\npause_after_failures = 2\n\n'
                           '[[jobs]]\nname = "report"\nevery = "1h"\ncommand = "true"\n')  # fmt: skip
    check_ok(cli("apply", "-f", path))
    for _ in range(2):
        assert cli("run", "sync").code == 1
    check_ok(cli("jobs", "pause", "report", "--reason", "disk swap until Friday"))
    shown = {name: json.loads(check_ok(cli("jobs", "show", name, "--json")).stdout) for name in ("sync", "report")}
    assert shown["sync"]["isPaused"] and shown["sync"]["pausedBy"] == "jobctl"

    applied = check_ok(cli("apply", "-f", path))
    lines = applied.stdout.splitlines()
    assert lines[-1] == "no changes (2 unchanged)" and len(lines) == 3
    assert (
        lines[0].startswith("= sync: stays paused (by jobctl at ")
        and ': "paused after 2 consecutive failures' in lines[0]
    )
    assert re.fullmatch(
        r'= report: stays paused \(by local:\S+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+: "disk swap until Friday"\); '
        r"the file does not say paused",
        lines[1],
    ), lines[1]
    plan = json.loads(check_ok(cli("apply", "-f", path, "--json")).stdout)
    assert plan["staysPaused"] == [
        {key: shown[name][key] for key in ("name", "pausedBy", "pausedAt", "pausedReason")}
        for name in ("sync", "report")
    ]
    listed = {job["name"]: job for job in json.loads(cli("jobs", "list", "--json").stdout)["jobs"]}
    assert {name: (job["isPaused"], job["pausedReason"]) for name, job in listed.items()} == {
        name: (True, shown[name]["pausedReason"]) for name in shown
    }

    exported = check_ok(cli("export")).stdout
    assert exported.count("paused = true") == 2
    source = str(Path(path).resolve())
    again = check_ok(cli("apply", "-f", write(tmp_path, exported, "exported.toml"), "--source", source))
    assert again.stdout == "no changes (2 unchanged)\n"  # the export says paused: no note
    other = {"JOBCTL_DB": f"sqlite:///{tmp_path / 'other.db'}"}
    check_ok(cli("apply", "-f", str(tmp_path / "exported.toml"), env=other))
    assert check_ok(cli("export", env=other)).stdout == exported


def test_an_empty_file_with_prune_is_refused_unless_allowed(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """A file of no jobs (or of comments only) with --prune would delete every job of its
    source: one line, exit 2, nothing deleted, the dry run too; --allow-empty lets it."""
    cli = sqlite_only_cli
    path = write(tmp_path, JOBS_TOML)
    check_ok(cli("apply", "-f", path))
    source = str(Path(path).resolve())
    message = (
        f"{path}: error: the file declares no jobs, and --prune would delete all 4 jobs of source {source!r}; "
        "nothing was applied (give --allow-empty to delete them)"
    )
    for text in ("", "# rendered by deploy.sh\n\n"):
        Path(path).write_text(text)
        for dry_run in ([], ["--dry-run"]):
            assert check_error(cli("apply", "-f", path, "--prune", *dry_run), 2) == message
    assert check_error(cli("apply", "-f", path, "--prune", "--json"), 2) == message
    assert check_ok(cli("apply", "-f", path)).stdout == "no changes (0 unchanged)\n"  # no --prune: nothing to do
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 4
    allowed = check_ok(cli("apply", "-f", path, "--prune", "--allow-empty"))
    assert allowed.stdout.splitlines() == [
        "- delete backup", "- delete once", "- delete ping", "- delete weekly", "0 unchanged"
    ]  # fmt: skip
    assert check_ok(cli("apply", "-f", path, "--prune")).stdout == "no changes (0 unchanged)\n"  # none left to lose


def _export_under_umask(cli: OneStoreCli, mask: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``jobctl export ARGS`` started by a shell whose umask is ``mask``, as a user's would be."""
    return subprocess.run(
        ["sh", "-c", f'umask {mask} && exec "$0" -m jobctl export "$@"', sys.executable, *args],
        capture_output=True, text=True, env=cli.env, timeout=60,
    )  # fmt: skip


def test_a_new_export_file_is_its_owners_alone_and_an_existing_one_keeps_its_mode(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """``export -o jobs.toml`` wrote the jobs' environment values, stdin and task arguments to a
    new file of mode 0644 (the umask's): any user of the host could read them. A new file is now
    0600, as ``store backup`` makes its copy, whatever the umask; a file that exists keeps the
    mode its owner gave it."""
    cli = sqlite_only_cli
    check_ok(cli("jobs", "create", "argsec", "--cron", "0 2 * * *", "--command", "echo $JOBCTL_ARG_PASSWORD",
                 "--arg", "password=topsecret", "--stdin", "pw=abc", "--env", "DB_PASSWORD=hunter2"))  # fmt: skip
    for fmt, mask in (("toml", "022"), ("json", "000"), ("crontab", "022"), ("toml", "0277")):
        new = tmp_path / f"new-{mask}.{fmt}"
        done = _export_under_umask(cli, mask, "--format", fmt, "-o", str(new))
        assert done.returncode in (0, 1), done  # 1: a job a crontab cannot hold, still written as a comment
        assert stat.S_IMODE(new.stat().st_mode) == 0o600, (fmt, mask, oct(new.stat().st_mode))
        assert "hunter2" in new.read_text() or fmt == "crontab"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == [], "no part file left"
    existing = tmp_path / "shared.toml"
    existing.write_text("old\n")
    existing.chmod(0o644)
    done = _export_under_umask(cli, "077", "-o", str(existing))
    assert done.returncode == 0, done
    assert stat.S_IMODE(existing.stat().st_mode) == 0o644 and 'name = "argsec"' in existing.read_text()


def test_a_umask_written_as_a_toml_number_says_to_quote_it_and_22_is_022(
    sqlite_only_cli: OneStoreCli, tmp_path: Path
) -> None:
    """``umask = 0o27`` in a jobs file said "umask: takes text, got 23" (TOML's octal 27 is 23)
    and ``--umask 22`` was refused, though the shell's umask takes 22: the number is told to be
    written as text, and 22 is taken, kept as written, as the shell reads it."""
    cli = sqlite_only_cli
    path = write(tmp_path, '[[jobs]]\nname = "octal"\nevery = "1h"\ncommand = "umask"\numask = 0o27\n')
    check_error(
        cli("apply", "-f", path), 2, f"{path}:5: error: job 'octal': umask: write the mode as text, such as \"027\""
    )
    created = json.loads(check_ok(cli("jobs", "create", "short", "--every", "1h", "--command", "umask",
                                      "--umask", "22", "--json")).stdout)  # fmt: skip
    assert created["umask"] == "22"
    quoted = write(tmp_path, '[[jobs]]\nname = "quoted"\nevery = "1h"\ncommand = "umask"\numask = "27"\n', "q.toml")
    check_ok(cli("apply", "-f", quoted))
    assert check_ok(cli("apply", "-f", quoted)).stdout == "no changes (1 unchanged)\n"
