"""``jobctl run`` and the commands that print much, as a script runs them: under ``timeout`` or
``kill`` (SIGTERM, SIGHUP), into a pipe whose reader leaves after a few bytes, into a stdout that
cannot be written (a full disk, a closed descriptor), and on a job with retries.

Each test runs in both modes against one leading daemon on a SQLite store: the CLI on the store
(``--db``; the daemon runs the run) and through the daemon's REST API on 127.0.0.1 (``--api``).
Runs with no daemon at all are in tests/daemon/test_run_and_tail.py. ``[daemon]
kill_grace_seconds`` is 1. See docs/terminal-output.md, docs/cancelling-runs.md, docs/retry-backoff.md.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store import Store, open_store
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import (
    DaemonFactory,
    DaemonProcess,
    executions,
    group_alive,
    shell_job,
    wait_for,
    with_default_action,
    write_config,
)

KILL_GRACE = 1
BIG_OUTPUT = "seq 1 200000"
"""About 1.2 MB of output, of which a run keeps the last 1,000,000 characters: far more than a pipe holds."""


@dataclass
class Daemon:
    store: Store
    service: Service
    daemon: DaemonProcess
    env: dict[str, str]
    api_args: list[str]
    big_job: dict[str, Any]
    big_run: str


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    workdir = tmp_path_factory.mktemp("scripts")
    store_url = f"sqlite:///{workdir / 'jobctl.db'}"
    config = write_config(workdir / "jobctl.toml", kill_grace_seconds=KILL_GRACE)
    factory = DaemonFactory(store_url, config, workdir)
    store = open_store(store_url)
    try:
        service = Service(store, ADMIN, default_timezone=TEST_ZONE)
        for number in range(150):  # a listing of about 300 KB, a jobs file of about 300 KB
            service.create_job({"name": f"listed-{number:03d}", "taskFunctionId": 1, "jobTypeId": 1,
                                "scheduleConfig": {"days": 1}, "taskArgs": {"command": "true"},
                                "description": "d" * 1900})  # fmt: skip
        leader = factory.start(api=True)
        wait_for(lambda: service.get_status()["isRunning"], timeout=10, what="a leader")
        big = shell_job(service, "big", BIG_OUTPUT, scheduleConfig={"days": 1})
        big_run = service.trigger_job(big["id"])["executionId"]
        wait_for(lambda: service.get_execution(big_run)["status"] == "success", timeout=20, what="the big run")
        secret, _ = create_token(store, "scripts", "operator")
        env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
        env.update({"JOBCTL_DB": store_url, "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
        api_args = ["--api", f"http://127.0.0.1:{leader.port}", "--token", secret]
        yield Daemon(store, service, leader, env, api_args, big, big_run)
    finally:
        factory.stop_all()
        store.close()


@pytest.fixture(params=["store", "api"])
def mode(request: pytest.FixtureRequest, daemon: Daemon) -> list[str]:
    """The global options of the mode: none (the store, as ``$JOBCTL_DB`` names it) or ``--api URL --token T``."""
    return [] if request.param == "store" else daemon.api_args


def argv(mode: list[str], *args: str) -> list[str]:
    return [sys.executable, "-m", "jobctl", *mode, *args]


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def sleeper(daemon: Daemon, tmp_path: Path, **fields: Any) -> tuple[dict[str, Any], Path]:
    """A job whose run prints a line, writes its process group id to a file, then sleeps."""
    pidfile = tmp_path / f"{uuid.uuid4().hex}.pid"
    job = shell_job(daemon.service, unique("sleeper"), f"echo started; echo $$ > {pidfile}; sleep 600",
                    scheduleConfig={"days": 1}, **fields)  # fmt: skip
    return job, pidfile


def started(pidfile: Path) -> int:
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10, what="the run to start")
    return int(pidfile.read_text())


# -- SIGTERM and SIGHUP ------------------------------------------------------------------------


SIGNALS = [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGHUP, 129, "hung up (SIGHUP)")]


@pytest.mark.parametrize(("signum", "code", "said"), SIGNALS, ids=["TERM", "HUP"])
def test_sigterm_or_sighup_cancels_the_run_as_ctrl_c_does(
    daemon: Daemon, mode: list[str], tmp_path: Path, signum: int, code: int, said: str
) -> None:
    """``timeout 2 jobctl run JOB`` used to exit 124 with the run going on, recorded ``running``."""
    job, pidfile = sleeper(daemon, tmp_path)
    proc = subprocess.Popen(argv(mode, "run", job["name"]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=daemon.env, preexec_fn=with_default_action(signum))  # fmt: skip
    pgid = started(pidfile)
    [run] = executions(daemon.service, job["id"])
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == code, err
    assert f"jobctl: {said}: cancelling execution {run['id']}" in err, err
    assert f"jobctl: execution {run['id']} cancelled" in err and "Traceback" not in err, err
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the run's process group to go")
    final = daemon.service.get_execution(run["id"])
    assert final["status"] == "cancelled" and final["cancelledBy"], final


# -- a reader that leaves after a few bytes ------------------------------------------------------


def read_then_leave(daemon: Daemon, command: list[str], size: int = 10) -> tuple[int, str]:
    """Run ``command`` into a pipe, read ``size`` bytes of it and close the pipe (``| head -c``);
    its exit status and stderr."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=daemon.env)
    assert proc.stdout is not None and proc.stderr is not None
    assert len(proc.stdout.read(size)) == size
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err


@pytest.mark.parametrize(
    "args",
    [["jobs", "list", "--json", "--all"], ["export"], ["executions", "tail", "{big_run}"], ["run", "big"]],
    ids=["jobs-list-json-all", "export", "executions-tail-ID", "run-of-a-big-job"],
)
def test_a_reader_that_leaves_during_a_long_write_ends_the_command_with_141(
    daemon: Daemon, mode: list[str], args: list[str]
) -> None:
    """A write larger than the pipe holds was cut short when the reader left, and the rest
    dropped without an error: these exited 0, as if all had been read."""
    command = argv(mode, *(arg.format(big_run=daemon.big_run) for arg in args))
    code, err = read_then_leave(daemon, command)
    assert code == 141, err
    if args[0] == "run":  # the run may still have been going: then it was cancelled, and said so
        assert err == "" or re.fullmatch(r"jobctl: stdout's reader left: execution \S+ cancelled\n", err), err
    else:
        assert err == ""


def test_tail_of_two_runs_says_nothing_more_once_its_reader_left(daemon: Daemon, mode: list[str]) -> None:
    """``executions tail JOB -n 2 | head -c 5`` went on to print the first run's result line and
    the next run's header on stderr."""
    job = shell_job(daemon.service, unique("big-twice"), BIG_OUTPUT, scheduleConfig={"days": 1})
    for _ in range(2):  # two runs each printing more than a pipe holds
        run = daemon.service.trigger_job(job["id"])["executionId"]
        wait_for(lambda run=run: daemon.service.get_execution(run)["status"] == "success", timeout=20, what="a run")
    code, err = read_then_leave(daemon, argv(mode, "executions", "tail", job["name"], "-n", "2"), size=5)
    assert code == 141, err
    assert len(err.splitlines()) == 1 and err.startswith("==> "), err


# -- a stdout that cannot be written -------------------------------------------------------------


def into_full_disk(daemon: Daemon, command: list[str]) -> subprocess.CompletedProcess[str]:
    with open("/dev/full", "w") as full:
        return subprocess.run(command, stdout=full, stderr=subprocess.PIPE, text=True, env=daemon.env, timeout=60)


def with_stdout_closed(daemon: Daemon, command: list[str]) -> subprocess.CompletedProcess[str]:
    """``COMMAND >&-``, as a shell runs it."""
    return subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *command], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, env=daemon.env, timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "closed"),
    [
        (["jobs", "list", "--json"], False),
        (["jobs", "list"], False),
        (["executions", "export"], False),
        (["export"], False),
        (["jobs", "list", "--json"], True),
        (["jobs", "list"], True),
    ],
    ids=["jobs-list-json-full", "jobs-list-full", "executions-export-full", "export-full",
         "jobs-list-json-closed", "jobs-list-closed"],
)  # fmt: skip
def test_a_stdout_that_cannot_be_written_is_one_line_and_exit_2(
    daemon: Daemon, mode: list[str], args: list[str], closed: bool
) -> None:
    """They said "internal error: OSError: [Errno 28] ..." or "AttributeError: 'NoneType' object
    has no attribute 'write'", exit 1."""
    command = argv(mode, *args)
    result = with_stdout_closed(daemon, command) if closed else into_full_disk(daemon, command)
    why = "it is closed" if closed else "No space left on device"
    assert (result.returncode, result.stderr) == (2, f"jobctl: cannot write to stdout: {why}\n")


def test_run_into_a_full_disk_cancels_its_run(daemon: Daemon, mode: list[str], tmp_path: Path) -> None:
    job, _ = sleeper(daemon, tmp_path)
    result = into_full_disk(daemon, argv(mode, "run", job["name"]))
    [run] = executions(daemon.service, job["id"])
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(
        f"jobctl: cannot write to stdout: No space left on device: execution {run['id']} cancelled\n"
    ), result.stderr
    assert "internal error" not in result.stderr
    assert daemon.service.get_execution(run["id"])["status"] == "cancelled"


def test_run_with_stdout_closed_is_refused_before_anything_runs(daemon: Daemon, mode: list[str]) -> None:
    job = shell_job(daemon.service, unique("ok"), "echo ok", scheduleConfig={"days": 1})
    result = with_stdout_closed(daemon, argv(mode, "run", job["name"]))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("jobctl: cannot write to stdout: it is closed; nothing was run"), result.stderr
    assert executions(daemon.service, job["id"]) == [], "nothing was triggered"


# -- retries -------------------------------------------------------------------------------------

RETRY_LINE = re.compile(r"jobctl: attempt 1 of 2 failed \(exit code 5\); retry at \d\d:\d\d:\d\d\n")


def test_run_follows_the_jobs_retries_to_the_last_attempt(daemon: Daemon, mode: list[str]) -> None:
    """It used to exit after the first attempt, saying nothing of the retry, which then made an
    immediate second ``jobctl run`` fail with "already has 1 active run(s)" (exit 4)."""
    job = shell_job(daemon.service, unique("retr"), "echo attempt-$JOBCTL_EXECUTION_ID; exit 5",
                    scheduleConfig={"days": 1}, retryCount=1, retryDelaySeconds=1)  # fmt: skip
    begun = time.monotonic()
    result = subprocess.run(argv(mode, "run", job["name"]), capture_output=True, text=True, env=daemon.env, timeout=60)
    took = time.monotonic() - begun
    first, second = executions(daemon.service, job["id"])
    assert result.returncode == 5, result.stderr
    assert result.stdout == f"attempt-{first['id']}\nattempt-{second['id']}\n", "both attempts' output"
    lines = result.stderr.splitlines(keepends=True)
    assert RETRY_LINE.fullmatch(lines[0]) and lines[-1] == "jobctl: run failed: exit code 5\n", result.stderr
    assert (first["attempt"], second["attempt"], second["status"]) == (1, 2, "failed")
    assert took >= 1.0, "the retry ran after its delay"
    again = subprocess.run(argv(mode, "run", job["name"]), capture_output=True, text=True, env=daemon.env, timeout=60)
    assert again.returncode == 5, again.stderr


def test_run_of_a_job_whose_retry_succeeds_exits_0(daemon: Daemon, mode: list[str], tmp_path: Path) -> None:
    marker = tmp_path / f"{uuid.uuid4().hex}.tried"
    command = f"if [ -e {marker} ]; then echo second; exit 0; fi; touch {marker}; echo first; exit 5"
    job = shell_job(daemon.service, unique("flaky"), command, scheduleConfig={"days": 1},
                    retryCount=2, retryDelaySeconds=1)  # fmt: skip
    result = subprocess.run(argv(mode, "run", job["name"]), capture_output=True, text=True, env=daemon.env, timeout=60)
    assert (result.returncode, result.stdout) == (0, "first\nsecond\n"), result.stderr
    assert re.fullmatch(r"jobctl: attempt 1 of 3 failed \(exit code 5\); retry at \d\d:\d\d:\d\d\n", result.stderr)


def test_sigterm_while_a_retry_waits_cancels_the_retry(daemon: Daemon, mode: list[str], tmp_path: Path) -> None:
    job = shell_job(daemon.service, unique("slow-retry"), "exit 5", scheduleConfig={"days": 1},
                    retryCount=1, retryDelaySeconds=600)  # fmt: skip
    err_path = tmp_path / "err"
    with err_path.open("w") as err_file:
        proc = subprocess.Popen(argv(mode, "run", job["name"]), stdout=subprocess.DEVNULL, stderr=err_file,
                                env=daemon.env)  # fmt: skip
    try:
        wait_for(lambda: "retry at" in err_path.read_text(), timeout=20, what="the retry to be said")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=15) == 143, err_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    first, retry = executions(daemon.service, job["id"])
    assert (first["status"], retry["status"], retry["attempt"]) == ("failed", "cancelled", 2)
    assert f"jobctl: execution {retry['id']} cancelled" in err_path.read_text()
