"""The CLI through a real ``jobctl daemon`` over HTTP prints what it prints on the store.

Real processes end to end: the daemon serves the API on a free port, and ``python -m jobctl
--api URL --token T ...`` must give the same stdout, stderr and exit code as the same command
run on the store, and exit 5 for a bad token, too low a role, or an API that is down. One
daemon per module and backend keeps this affordable. The core comparison and the failures run
on both stores; the comparisons of single features' rendering (labels, next runs, imports,
apply, why, top) run on SQLite only: what they compare is the CLI's rendering of what the
service returns, and tests/remote/test_remote_contract.py holds the local service and the
remote client to one contract on both stores.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


@dataclass
class Daemon:
    """A running daemon, the environment of CLI calls on its store, and tokens for its API."""

    url: str
    env: dict[str, str]
    on_sqlite: bool
    admin: str = ""
    viewer: str = ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "jobctl", *args], capture_output=True, text=True, env=self.env, timeout=60
        )

    def remote(self, *args: str, token: str | None = None, url: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.cli("--api", url or self.url, "--token", token or self.admin, *args)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def daemon(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """``jobctl daemon`` on the module's store, on a free port, with an admin and a viewer token."""
    workdir = tmp_path_factory.mktemp("daemon")
    (workdir / "jobctl.toml").write_text('[scheduler]\ntimezone = "Europe/Berlin"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_") or "_TEST_" in key}
    env.update({"JOBCTL_DB": module_store_url, "JOBCTL_CONFIG": str(workdir / "jobctl.toml"), "COLUMNS": "200"})
    port = _free_port()
    running = Daemon(url=f"http://127.0.0.1:{port}", env=env, on_sqlite=module_store_url.startswith("sqlite"))
    log_path = workdir / "daemon.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jobctl", "daemon", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_healthy(running.url, proc, log_path)
        running.admin = running.cli("token", "create", "ops", "--role", "admin").stdout.strip()
        running.viewer = running.cli("token", "create", "reader", "--role", "viewer").stdout.strip()
        yield running
    finally:
        _stop(proc)


def _wait_until_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text(errors="replace")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError(f"daemon not healthy: {log_path.read_text(errors='replace')}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


RELATIVE_TIME = re.compile(r"\b(in )?\d+[smhd](\d+[smhd])?( ago)?\b")
"""``in 59m``, ``16s ago``: human tables say how far off a time is, which can tick between two calls."""


def _same(daemon: Daemon, *args: str) -> None:
    """``args`` on the store and through the API (run side by side) must agree exactly
    (up to relative times in human output, which depend on the second each call ran in)."""
    with ThreadPoolExecutor(2) as pool:
        local_call, remote_call = pool.submit(daemon.cli, *args), pool.submit(daemon.remote, *args)
        local, remote = local_call.result(), remote_call.result()
    outputs = [(r.returncode, r.stdout, r.stderr) for r in (remote, local)]
    if "--json" not in args:
        outputs = [(code, RELATIVE_TIME.sub("T", out), err) for code, out, err in outputs]
    assert outputs[0] == outputs[1], args


def _wait_for_runs_to_finish(daemon: Daemon) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = daemon.cli("executions", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        runs = json.loads(listed.stdout)["executions"]
        if runs and all(run["status"] not in ("pending", "running") for run in runs):
            return dict(runs[0])
        time.sleep(0.2)
    raise AssertionError("the triggered run did not finish")


def _rendering_only(daemon: Daemon) -> None:
    """Skip on Postgres a comparison of rendering only (the contract tests cover both stores)."""
    if not daemon.on_sqlite:
        pytest.skip("the CLI's rendering of the service's answers, the same on either store: compared on SQLite")


def test_remote_mode_prints_what_local_mode_prints(daemon: Daemon) -> None:
    assert daemon.cli("jobs", "create", "backup", "--every", "1h", "--command", "echo done").returncode == 0
    created = daemon.remote("jobs", "create", "nightly", "--cron", "0 3 * * *", "--command", "true", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["createdBy"] == "ops"
    assert daemon.remote("jobs", "disable", "nightly").returncode == 0
    assert daemon.remote("jobs", "trigger", "backup").returncode == 0
    run = _wait_for_runs_to_finish(daemon)
    assert (run["status"], run["triggeredBy"], run["triggeredByUserId"]) == ("success", "manual", "ops")
    for args in (["jobs", "list", "--json"], ["jobs", "show", "backup", "--json"], ["job-types", "--json"],
                 ["task-functions", "list", "--json"], ["executions", "list", "--job", "backup", "--json"],
                 ["jobs", "show", "missing"], ["jobs", "trigger", "nightly"]):  # fmt: skip
        _same(daemon, *args)
    short_run, short_job = str(run["id"])[:8], str(created.stdout and json.loads(created.stdout)["id"])[:8]
    for args in (["jobs", "list"], ["executions", "list"], ["jobs", "list", "--json", "--all"],
                 ["executions", "list", "--json", "--all"], ["executions", "list", "--limit", "1"],
                 ["jobs", "show", short_job], ["executions", "show", short_run], ["executions", "tail", short_run],
                 ["executions", "tail", "backup", "-n", "2"], ["jobs", "show", short_job[:3]]):  # fmt: skip
        _same(daemon, *args)


@pytest.mark.parametrize("problem", ["bad-token", "viewer-writes", "api-down"])
def test_remote_failures_exit_5(daemon: Daemon, problem: str) -> None:
    if problem == "viewer-writes":
        result = daemon.remote("jobs", "create", "x", "--every", "1h", "--command", "true", token=daemon.viewer)
    elif problem == "bad-token":
        result = daemon.remote("jobs", "list", token="jobctl_not-a-token")
    else:
        result = daemon.remote("jobs", "list", url=f"http://127.0.0.1:{_free_port()}")
    assert (result.returncode, result.stdout) == (5, "")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_labels_work_alike_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    _rendering_only(daemon)
    created = daemon.remote("jobs", "create", "lab-a", "--every", "1h", "--command", "true",
                            "--label", "e1-team=ops", "--label", "e1-tier=gold", "--json")  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["labels"] == {"e1-team": "ops", "e1-tier": "gold"}
    local = daemon.cli("jobs", "create", "lab-b", "--every", "1h", "--command", "true", "--label", "e1-team=ops")
    assert local.returncode == 0, local.stderr
    updated = daemon.remote("jobs", "update", "lab-b", "--label", "e1-tier=silver", "--unlabel", "e1-team",
                            "--unlabel", "absent", "--json")  # fmt: skip
    assert json.loads(updated.stdout)["labels"] == {"e1-tier": "silver"}
    changed = daemon.cli("jobs", "update", "lab-a", "--label", "e1-team=dev", "--json")
    assert json.loads(changed.stdout)["labels"] == {"e1-team": "dev", "e1-tier": "gold"}
    listed = daemon.remote("jobs", "list", "--label", "e1-tier=gold", "--label", "e1-team=dev", "--json")
    assert [job["name"] for job in json.loads(listed.stdout)["jobs"]] == ["lab-a"]
    for args in (["jobs", "list", "--label", "e1-tier=silver", "--json"], ["jobs", "list", "--label", "e1-tier=gold"],
                 ["jobs", "show", "lab-a"], ["jobs", "list", "--label", "e1-tier"],
                 ["jobs", "update", "lab-a", "--label", "Bad=1"],
                 ["jobs", "update", "lab-a", "--label", "novalue"]):  # fmt: skip
        _same(daemon, *args)
    bad = daemon.remote("jobs", "list", "--label", "e1-tier")
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr.count("\n") == 1 and bad.stderr == "jobctl: --label: give key=value; got 'e1-tier'\n"
    assert daemon.cli("jobs", "update", "lab-a", "--label", "novalue").stderr.startswith(
        "jobctl: --label takes KEY=VALUE"
    )


def test_jobs_next_works_alike_on_the_store_and_through_the_api(daemon: Daemon, tmp_path: Path) -> None:
    _rendering_only(daemon)
    body = {"name": "nx-interval", "taskFunctionId": 1, "jobTypeId": 1, "taskArgs": {"command": "true"},
            "scheduleConfig": {"minutes": 30, "start_date": "2027-05-01T10:00:00Z", "jitter": 90}}  # fmt: skip
    (tmp_path / "job.json").write_text(json.dumps(body))
    assert daemon.cli("jobs", "create", "--from-json", str(tmp_path / "job.json")).returncode == 0
    assert daemon.cli("jobs", "pause", "nx-interval").returncode == 0
    dst = {
        **body,
        "name": "nx-dst",
        "jobTypeId": 2,
        "scheduleConfig": {"expression": "30 2 * * *", "timezone": "Europe/Berlin", "start_date": "2027-03-27"},
    }
    (tmp_path / "dst.json").write_text(json.dumps(dst))
    assert daemon.cli("jobs", "create", "--from-json", str(tmp_path / "dst.json")).returncode == 0
    cron = daemon.cli("jobs", "create", "nx-cron", "--cron", "30 2 * * *", "--timezone", "Europe/Berlin",
                      "--command", "true")  # fmt: skip
    assert cron.returncode == 0, cron.stderr
    for args in (["jobs", "next", "nx-cron", "--json"], ["jobs", "next", "nx-cron", "-n", "3"],
                 ["jobs", "next", "nx-interval"], ["jobs", "next", "nx-interval", "--json", "-n", "2"],
                 ["jobs", "next", "missing"], ["jobs", "next", "nx-cron", "-n", "0"],
                 ["jobs", "next", "nx-cron", "-n", "101"], ["jobs", "next", "nx-dst", "-n", "3"]):  # fmt: skip
        _same(daemon, *args)
    shown = daemon.remote("jobs", "next", "nx-interval", "-n", "2", token=daemon.viewer)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "nx-interval: next runs (Europe/Berlin)"
    assert "Sat 2027-05-01 12:00:00 to 12:01:30 CEST (jitter 90s)" in lines[1] and "2027-05-01T10:00:00Z" in lines[1]
    assert "Sat 2027-05-01 12:30:00 to 12:31:30 CEST (jitter 90s)" in lines[2] and "2027-05-01T10:30:00Z" in lines[2]
    assert lines[3] == "note: the job is paused: these runs happen only after 'jobctl jobs resume nx-interval'"


def test_import_crontab_works_alike_on_the_store_and_through_the_api(daemon: Daemon, tmp_path: Path) -> None:
    _rendering_only(daemon)
    crontab = tmp_path / "crontab"
    crontab.write_text("PATH=/usr/bin:/bin\nMAILTO=ops@example.com\n# name: ic-backup\n15 3 * * * backup --full\n"
                       "*/35 * * * * often\n")  # fmt: skip
    bad = tmp_path / "bad"
    bad.write_text("@daily root true\n@hourly no-such-user-here true\n")  # refused by apply, at line 2
    for args in (["import", "crontab", str(crontab), "--dry-run"], ["import", "crontab", str(crontab), "--dry-run",
                 "--json"], ["import", "crontab", str(bad), "--system"],
                 ["import", "crontab", str(crontab), "--strict"]):  # fmt: skip
        _same(daemon, *args)
    refused = daemon.remote("import", "crontab", str(bad), "--system")
    assert refused.returncode == 2 and f"{bad}:2: error: job '" in refused.stderr
    assert "': run_as_user: no user 'no-such-user-here' on this host" in refused.stderr
    imported = daemon.remote("import", "crontab", str(crontab), "--json")
    assert imported.returncode == 0, imported.stderr
    plan = json.loads(imported.stdout)["plan"]
    assert sorted(plan["created"])[0] == "ic-backup" and len(plan["created"]) == 2
    mailto = [issue for issue in json.loads(imported.stdout)["issues"] if issue["code"] == "mailto"]
    assert "MAILTO=ops@example.com (line 2): no email notifier sends to" in mailto[0]["message"]  # the daemon's
    assert imported.stderr == ""  # --json: the lint is in the JSON only
    again = daemon.cli("import", "crontab", str(crontab))  # the store sees the same source: nothing to do
    assert (again.returncode, again.stdout) == (0, "no changes (2 unchanged)\n")
    denied = daemon.remote("import", "crontab", str(crontab), token=daemon.viewer)
    assert denied.returncode == 5 and "Traceback" not in denied.stderr


def test_updates_keep_the_rest_copies_take_options_and_deletes_say_so_alike_through_the_api(
    daemon: Daemon, tmp_path: Path
) -> None:
    """``jobs update --cron/--command/--timezone``, ``jobs create --from-json`` with options and
    ``jobs delete`` (docs/updating-jobs.md) do the same on the store and through the API."""
    crontab = tmp_path / "crontab"
    crontab.write_text("SHELL=/bin/bash\nCRON_TZ=Asia/Tokyo\nRANDOM_DELAY=5\n# name: pu-api\n0 6 1 1 * echo a\n"
                       "# name: pu-store\n0 6 1 1 * echo s\n")  # fmt: skip
    assert daemon.cli("import", "crontab", str(crontab)).returncode == 0
    for call, name in ((daemon.remote, "pu-api"), (daemon.cli, "pu-store")):
        result = call("jobs", "update", name, "--cron", "30 7 1 1 *", "--command", "echo $0", "--env", "A=1", "--json")
        assert result.returncode == 0, result.stderr
        job = json.loads(result.stdout)
        assert job["scheduleConfig"] == {"expression": "30 7 1 1 *", "timezone": "Asia/Tokyo", "jitter": 300}, name
        assert job["taskArgs"] == {"command": "echo $0", "shell": "/bin/bash"}, name
        moved = call("jobs", "update", name, "--timezone", "America/Chicago")
        assert moved.returncode == 0, moved.stderr
        assert ": cron 30 7 1 1 * (America/Chicago) (+0-300s jitter), next run" in moved.stdout, moved.stdout

        shown = tmp_path / f"{name}.json"
        shown.write_text(call("jobs", "show", name, "--json").stdout)
        copy = call("jobs", "create", f"{name}-copy", "--from-json", str(shown), "--cron", "0 9 1 1 *", "--env", "Q=1",
                    "--retries", "5", "--disabled", "--json")  # fmt: skip
        assert copy.returncode == 0, copy.stderr
        copied = json.loads(copy.stdout)
        assert copied["scheduleConfig"] == {"expression": "0 9 1 1 *", "timezone": "America/Chicago", "jitter": 300}
        assert (copied["environment"], copied["retryCount"], copied["isEnabled"]) == ({"A": "1", "Q": "1"}, 5, False)
        deleted = call("jobs", "delete", f"{name}-copy")
        assert (deleted.returncode, deleted.stdout) == (0, f"deleted job '{name}-copy' ({copied['id']})\n")
    _same(daemon, "jobs", "update", "pu-store", "--timezone", "Mars/Base")


def test_apply_and_export_through_the_daemon_match_the_store(daemon: Daemon, tmp_path: Path) -> None:
    """``jobctl apply`` / ``export`` (POST /apply and the reads) print what they print on the store."""
    _rendering_only(daemon)
    path = tmp_path / "team.toml"
    path.write_text('[[jobs]]\nname = "r-nightly"\ncron = "0 3 * * *"\ncommand = "true"\ntimeout = "30s"\n')
    remote = daemon.remote("apply", "-f", str(path))
    assert (remote.returncode, remote.stdout, remote.stderr) == (0, "+ create r-nightly\n0 unchanged\n", "")
    shown = json.loads(daemon.cli("jobs", "show", "r-nightly", "--json").stdout)
    assert shown["source"] == str(path.resolve())  # the client's path, as the CLI on the store records it
    assert daemon.cli("apply", "-f", str(path)).stdout == "no changes (1 unchanged)\n"
    bad = tmp_path / "bad.toml"
    bad.write_text(path.read_text().replace('"30s"', '"1m"') + "colour = 1\n")
    path.write_text(path.read_text().replace('"30s"', '"1m"'))
    crontab = ["export", "r-nightly", "--format", "crontab"]  # refused (a timeout): exit 1, its line on stderr
    for args in (["apply", "-f", str(bad)], ["apply", "-f", str(path), "--dry-run"], ["export", "r-nightly"], crontab):
        _same(daemon, *args)  # the refused file: one line per error, FILE:LINE: error: job 'r-nightly': colour: ...
    viewer = daemon.remote("apply", "-f", str(path), token=daemon.viewer)
    assert viewer.returncode == 5 and "admin" in viewer.stderr


def test_apply_plans_and_refusals_through_the_daemon_match_the_store(daemon: Daemon, tmp_path: Path) -> None:
    """The masked environment, a kept pause and the refusal of a file of no jobs with --prune
    print through the API (POST /apply's answer and 422) what they print on the store."""
    _rendering_only(daemon)
    path = tmp_path / "kept.toml"
    path.write_text(
        '[[jobs]]\nname = "k-dump"\nevery = "1h"\ncommand = "true"\nenv = { PGPASSWORD = "s3cret-one" }\n\n'
        '[[jobs]]\nname = "k-report"\nevery = "1h"\ncommand = "true"\n'
    )
    assert daemon.remote("apply", "-f", str(path)).returncode == 0
    assert daemon.remote("jobs", "pause", "k-report", "--reason", "disk swap until Friday").returncode == 0
    path.write_text(path.read_text().replace("s3cret-one", "s3cret-two"))
    for args in (["apply", "-f", str(path), "--dry-run"], ["apply", "-f", str(path), "--dry-run", "--json"]):
        _same(daemon, *args)
    plan = daemon.remote("apply", "-f", str(path), "--dry-run").stdout.splitlines()
    assert plan[0] == "~ update k-dump: env PGPASSWORD changed" and "s3cret" not in "".join(plan)
    assert re.fullmatch(r'= k-report: stays paused \(by ops at [-0-9]+ [0-9:]+ \S+: "disk swap until Friday"\); '
                        r"the file does not say paused", plan[1]), plan  # fmt: skip
    path.write_text("# nothing rendered\n")
    refused = daemon.remote("apply", "-f", str(path), "--prune")
    assert refused.returncode == 2 and "--prune would delete all 2 jobs" in refused.stderr, refused.stderr
    assert "give --allow-empty to delete them" in refused.stderr
    _same(daemon, "apply", "-f", str(path), "--prune", "--dry-run")
    assert daemon.remote("apply", "-f", str(path), "--prune", "--allow-empty").stdout == (
        "- delete k-dump\n- delete k-report\n0 unchanged\n"
    )


def test_an_export_through_the_api_onto_the_daemons_store_is_refused(
    module_store_url: str, request: pytest.FixtureRequest
) -> None:
    """``executions export -o`` through the API naming the daemon's own SQLite store, or its
    log: the CLI cannot know the daemon's store, and replaced the live store with CSV (exit 0).
    Refused, exit 2, and the store still serves what it held."""
    if not module_store_url.startswith("sqlite"):
        pytest.skip("a daemon's SQLite file: there is none on Postgres")
    daemon: Daemon = request.getfixturevalue("daemon")
    store_file = Path(module_store_url.removeprefix("sqlite:///"))
    listed = daemon.remote("jobs", "list", "--json")
    assert listed.returncode == 0, listed
    for name in (str(store_file), f"{store_file}-wal", f"{store_file}-shm"):
        done = daemon.remote("executions", "export", "-o", name)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done
        assert done.stderr.startswith(f"jobctl: -o {name} is ") and "SQLite" in done.stderr, done
    assert store_file.read_bytes()[:16] == b"SQLite format 3\x00"
    again = daemon.remote("jobs", "list", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == json.loads(listed.stdout), again


def test_why_and_audit_work_alike_and_name_both_kinds_of_actor(daemon: Daemon) -> None:
    _rendering_only(daemon)
    import os
    import pwd
    from datetime import UTC, datetime, timedelta

    local = f"local:{pwd.getpwuid(os.getuid()).pw_name}"
    assert daemon.cli("jobs", "create", "au-job", "--every", "1h", "--command", "true").returncode == 0
    assert daemon.remote("jobs", "pause", "au-job", "--reason", "disk full").returncode == 0
    assert daemon.cli("jobs", "resume", "au-job").returncode == 0
    listed = daemon.remote("audit", "--job", "au-job", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = list(reversed(json.loads(listed.stdout)["entries"]))
    assert [(e["action"], e["actor"], e["reason"]) for e in entries] == [
        ("job.created", local, None), ("job.paused", "ops", "disk full"), ("job.resumed", local, None)
    ]  # fmt: skip
    assert daemon.remote("jobs", "update", "au-job", "--env", "PGDATABASE=app", "--description", "x").returncode == 0
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for args in (["audit", "--job", "au-job", "--actor", "ops", "--json"], ["audit", "--job", "au-job"],
                 ["jobs", "why", "au-job", "--since", since, "--until", until],
                 ["jobs", "why", "au-job", "--since", since, "--until", until, "--json"],
                 ["jobs", "why", "au-job", "--since", "1h", "--until", "2h"]):  # fmt: skip
        _same(daemon, *args)
    why = daemon.remote("jobs", "why", "au-job", "--since", since, "--until", until).stdout.splitlines()
    assert any('paused by ops with reason "disk full"' in line for line in why), why
    assert any('updated by ops: description null -> "x"; environment: +PGDATABASE' in line for line in why), why
    assert why[-1].startswith("verdict"), why
    bad = daemon.remote("jobs", "why", "au-job", "--since", "400d")
    too_long = "jobctl: --since: the window may span at most 366 days\n"
    assert (bad.returncode, bad.stdout, bad.stderr) == (2, "", too_long)
    refused = daemon.remote("audit", token=daemon.viewer)
    assert (refused.returncode, refused.stdout) == (5, "") and "admin" in refused.stderr


def test_a_time_without_an_offset_names_one_moment_in_audit_and_export_in_both_modes(daemon: Daemon) -> None:
    """With ``[scheduler] timezone = "Europe/Berlin"``, ``audit --since "2026-12-07 16:01"`` read
    the time as UTC and ``executions export --since`` as Berlin time: an hour or two apart. Both
    read it in the zone, on the store and through the API alike (docs/time-input.md)."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    name = f"tz-{os.urandom(4).hex()}"
    assert daemon.cli("jobs", "create", name, "--every", "1h", "--command", "true").returncode == 0
    assert daemon.cli("jobs", "trigger", name).returncode == 0
    half_an_hour_ago = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    for call in (daemon.cli, daemon.remote):
        audit = call("audit", "--job", name, "--since", half_an_hour_ago, "--json")
        assert audit.returncode == 0, audit.stderr
        assert {entry["action"] for entry in json.loads(audit.stdout)["entries"]} == {"job.created", "job.triggered"}
        export = call("executions", "export", "--job", name, "--since", half_an_hour_ago, "--format", "ndjson")
        assert export.returncode == 0, export.stderr
        assert len(export.stdout.splitlines()) == 1, export.stdout


def test_a_bad_option_is_named_as_typed_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    """The service and the daemon's 422 name query parameters (``query.until``); the CLI names
    the options the user typed, alike in both modes (jobctl/cli/option_terms.py)."""
    _rendering_only(daemon)
    assert daemon.cli("jobs", "create", "terms-job", "--every", "1h", "--command", "true").returncode == 0
    forms = "give an ISO 8601 date or date-time (2026-12-04, 2026-12-04T02:00:00Z), a duration ago (24h, 7d) or now"
    expected = {
        ("jobs", "why", "terms-job", "--since", "1h", "--until", "2h"): "--until must be later than --since",
        ("jobs", "why", "terms-job", "--since", "now", "--until", "now"): "--until must be later than --since",
        ("jobs", "why", "terms-job", "--since", "soon"): f"--since: 'soon' is not a time: {forms}",
        ("jobs", "why", "terms-job", "--until", "since"): f"--until: 'since' is not a time: {forms}",
        ("jobs", "why", "terms-job", "--since", "400d"): "--since: the window may span at most 366 days",
        ("audit", "--since", "soon"): f"--since: 'soon' is not a time: {forms}",
        ("executions", "export", "--until", "soon"): f"--until: 'soon' is not a time: {forms}",
        ("jobs", "list", "--label", "=x"): "--label: a label key is 1 to 63 of a-z, 0-9, '.', '_', '/', '-', "
                                          "starting with a letter or digit; got '=x'",
        ("executions", "export", "--since", "1h", "--until", "2h"): "--until must be later than --since",
        ("executions", "export", "--since", "now", "--until", "now"): "--until must be later than --since",
        ("executions", "list", "--per-page", "0"): "--per-page must be between 1 and 100",
        ("executions", "list", "--per-page", "101"): "--per-page must be between 1 and 100",
        ("executions", "list", "--page", "0"): "--page must be between 1 and 2147483647",
        ("executions", "list", "--status", "bogus"):
            "--status must be one of cancelled, failed, missed, pending, running, skipped, success, timeout",
        ("jobs", "list", "--per-page", "0"): "--per-page must be between 1 and 100",
    }  # fmt: skip
    for args, message in expected.items():
        local, remote = daemon.cli(*args), daemon.remote(*args)
        for result in (local, remote):
            assert (result.returncode, result.stdout, result.stderr) == (2, "", f"jobctl: {message}\n"), args
    # the API refuses a status before the service does, in its own words: still named as typed
    for args in (["executions", "list", "--status", "bogus"], ["notifications", "list", "--status", "bogus"]):
        for result in (daemon.cli(*args), daemon.remote(*args)):
            assert result.returncode == 2 and result.stderr.startswith("jobctl: --status"), result.stderr


def test_a_refused_job_option_is_named_as_typed_in_words_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    """The service's error locally and the daemon's 422 through ``--api`` give the same line: the
    option typed and the rule in words (docs/error-words.md)."""
    _rendering_only(daemon)
    assert daemon.cli("jobs", "create", "words-job", "--every", "1h", "--command", "true").returncode == 0
    create = ("jobs", "create", "words-new", "--every", "1h", "--command", "true")
    expected = {
        (*create, "--umask", "8"): "--umask: must be an octal mode such as 022 or 0027, got '8'",
        (*create, "--label", "Team=ops"): "--label: key must be lowercase letters, digits and . _ / -, starting "
                                          "with a letter or digit, got 'Team'",
        (*create, "--timeout", "0s"): "--timeout: must be more than 0s, got '0s'",
        ("jobs", "update", "words-job", "--overlap", "wait"): "--overlap: must be skip, queue or replace, got 'wait'",
        ("jobs", "update", "words-job", "--retries", "-1"): "--retries: must be 0 or more, got -1",
        ("jobs", "update", "words-job", "--env", "1X=a"): "--env: name must be a shell variable name (letters, "
                                                          "digits, _; not starting with a digit), got '1X'",
    }  # fmt: skip
    for args, message in expected.items():
        for result in (daemon.cli(*args), daemon.remote(*args)):
            assert (result.returncode, result.stdout, result.stderr) == (2, "", f"jobctl: {message}\n"), args


def test_an_unknown_task_is_bad_input_in_the_words_of_apply_on_the_store_and_through_the_api(
    daemon: Daemon, tmp_path: Path
) -> None:
    """``--task NAME`` naming no task function is exit 2 (bad input), as the API's 422 for an
    unknown ``taskFunctionId`` and ``apply`` are; it was exit 3, "not found", which is for the
    job or run a command is about."""
    _rendering_only(daemon)
    assert daemon.cli("jobs", "create", "task-job", "--every", "1h", "--command", "true").returncode == 0
    unknown = "no task function named 'nosuchtask'"
    body = {"name": "from-json", "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskFunction": {"name": "nosuchtask"}}  # fmt: skip
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    expected = {
        ("jobs", "create", "task-new", "--every", "1h", "--task", "nosuchtask"): f"--task: {unknown}",
        ("jobs", "update", "task-job", "--task", "nosuchtask"): f"--task: {unknown}",
        ("jobs", "create", "--from-json", str(path)): f"taskFunction.name: {unknown}",
    }
    for args, message in expected.items():
        for result in (daemon.cli(*args), daemon.remote(*args)):
            assert (result.returncode, result.stdout, result.stderr) == (2, "", f"jobctl: {message}\n"), args
    jobs_file = tmp_path / "jobs.toml"
    jobs_file.write_text('[[jobs]]\nname = "task-new"\nevery = "1h"\ntask = "nosuchtask"\n')
    for result in (daemon.cli("apply", "-f", str(jobs_file)), daemon.remote("apply", "-f", str(jobs_file))):
        assert result.returncode == 2 and result.stderr.endswith(f"task: {unknown}\n"), result.stderr
    for result in (daemon.cli("jobs", "update", "no-such-job", "--task", "shell"),
                   daemon.remote("jobs", "update", "no-such-job", "--task", "shell")):  # fmt: skip
        assert (result.returncode, result.stderr) == (3, "jobctl: no job 'no-such-job'\n")


def test_nan_and_deep_nesting_are_refused_alike_on_the_store_and_through_the_api(
    daemon: Daemon, tmp_path: Path
) -> None:
    """A ``--from-json`` body's ``NaN`` and a jobs file's ``nan`` failed to encode through ``--api``
    (an internal error), and 495 levels of nesting was an internal error on the store and a 500
    through the API: the same one line, exit 2, in both modes (docs/free-form-json.md)."""
    _rendering_only(daemon)
    finite = "must be a finite number: JSON has no NaN or Infinity, got nan"
    body = tmp_path / "nan.json"
    body.write_text('{"name": "nan-job", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},'
                    ' "taskArgs": {"command": "true", "x": NaN}}')  # fmt: skip
    jobs_file = tmp_path / "nan.toml"
    jobs_file.write_text('[[jobs]]\nname = "nan-job"\nevery = "5m"\ncommand = "true"\nargs = {a = nan}\n')
    deep: dict[str, object] = {"command": "true"}
    inner = deep
    for _ in range(494):
        inner["a"] = {}
        inner = inner["a"]  # type: ignore[assignment]
    deep_body = tmp_path / "deep.json"
    deep_body.write_text(json.dumps({"name": "deep-job", "taskFunctionId": 1, "jobTypeId": 1,
                                     "scheduleConfig": {"minutes": 5}, "taskArgs": deep}))  # fmt: skip
    expected = {
        ("jobs", "create", "--from-json", str(body)): f"jobctl: taskArgs.x: {finite}\n",
        ("apply", "-f", str(jobs_file)): f"{jobs_file}:5: error: job 'nan-job': args.a: {finite}\n",
        ("jobs", "create", "--from-json", str(deep_body)):
            "jobctl: taskArgs: is nested more than 64 levels deep (objects and arrays within one another)\n",
    }  # fmt: skip
    for args, line in expected.items():
        for result in (daemon.cli(*args), daemon.remote(*args)):
            assert (result.returncode, result.stdout, result.stderr) == (2, "", line), args
    listed = json.loads(daemon.remote("jobs", "list", "--json", "--all").stdout)["jobs"]
    assert not {"nan-job", "deep-job"} & {job["name"] for job in listed}


def test_an_update_that_changes_nothing_says_so_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    _rendering_only(daemon)
    created = daemon.cli("jobs", "create", "same-job", "--every", "1h", "--command", "true", "--json")
    job = json.loads(created.stdout)
    for result in (daemon.cli("jobs", "update", "same-job", "--retries", "0"),
                   daemon.remote("jobs", "update", "same-job", "--every", "1h")):  # fmt: skip
        assert (result.returncode, result.stdout) == (0, f"no changes to job 'same-job' ({job['id']})\n")
    shown = json.loads(daemon.remote("jobs", "show", "same-job", "--json").stdout)
    assert (shown["updatedAt"], shown["updatedBy"]) == (job["updatedAt"], job["updatedBy"])


def test_top_snapshot_through_the_api_is_the_one_on_the_store(daemon: Daemon) -> None:
    _rendering_only(daemon)
    assert daemon.cli("jobs", "create", "watched", "--every", "1h", "--command", "true").returncode == 0
    local, remote = daemon.cli("top"), daemon.remote("top", token=daemon.viewer)
    assert (local.returncode, remote.returncode) == (0, 0), remote.stderr

    def without_clock(out: str) -> list[str]:  # the header's time and the heartbeats' ages may tick between calls
        text = re.sub(r"\bnow\b", "T", RELATIVE_TIME.sub("T", out))
        return [" ".join(line.split()) for line in text.splitlines()[1:]]

    assert without_clock(remote.stdout) == without_clock(local.stdout)
    assert "scheduler: running" in remote.stdout and "  watched" in remote.stdout


def test_jobs_list_all_walks_every_page_by_cursor_alike_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    from jobctl.store import open_store
    from tests.store.helpers import add_job

    store = open_store(daemon.env["JOBCTL_DB"])
    try:
        bulk = {add_job(store.db, f"bulk-{n:03d}") for n in range(230)}  # created at one instant: by id
    finally:
        store.close()
    local, remote = daemon.cli("jobs", "list", "--json", "--all"), daemon.remote("jobs", "list", "--json", "--all")
    assert (local.returncode, local.stderr) == (0, "") and remote.stdout == local.stdout
    every = json.loads(local.stdout)
    listed = [job["id"] for job in every["jobs"]]
    assert len(listed) == len(set(listed)) == every["total"] >= 230 and bulk <= set(listed)
    assert set(every) == {"jobs", "total", "enabledCount", "disabledCount", "runningCount"}
    first = json.loads(daemon.remote("jobs", "list", "--json", "--per-page", "100").stdout)
    resumed = daemon.remote("jobs", "list", "--json", "--per-page", "100", "--after", first["nextCursor"])
    second = json.loads(resumed.stdout)
    assert [job["id"] for job in second["jobs"]] == listed[100:200] and second["total"] is None
    _same(daemon, "jobs", "list", "--json", "--per-page", "100", "--after", first["nextCursor"])
    for bad in (daemon.remote("jobs", "list", "--after", "nope"), daemon.cli("jobs", "list", "--after", "nope")):
        assert (bad.returncode, bad.stdout) == (2, "")
        assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("jobctl: --after: not a cursor")


def test_every_listing_pages_alike_on_the_store_and_through_the_api(daemon: Daemon) -> None:
    """--all, --limit, --page/--per-page of the listings read by page number, in both modes."""
    _rendering_only(daemon)
    assert daemon.cli("jobs", "create", "paged-job", "--every", "1h", "--command", "true").returncode == 0
    for command in (["audit"], ["notifications", "list"], ["task-functions", "list"]):
        assert daemon.remote(*command, "--json", "--all").returncode == 0
        for options in (["--json", "--all"], ["--all"], ["--limit", "2"], ["--json", "--page", "2", "--per-page", "1"],
                        ["--page", "1", "--per-page", "1"], ["--json", "--limit", "2"]):  # fmt: skip
            _same(daemon, *command, *options)
    for options in (["--limit", "1"], ["--limit", "1", "--json"], ["--limit", "1", "--all"]):
        _same(daemon, "jobs", "list", *options)
