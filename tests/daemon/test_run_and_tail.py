"""``jobctl run`` and ``jobctl executions tail -f``, as a user runs them, with and without a daemon."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import (
    DaemonFactory,
    DaemonProcess,
    executions,
    group_alive,
    parse,
    shell_job,
    wait_for,
    with_default_action,
    write_config,
)


@dataclass
class Running:
    """A daemon leading on a store shared by this module's daemon tests (each uses jobs of its own)."""

    store_url: str
    service: Service
    daemon: DaemonProcess


@pytest.fixture(scope="module")
def running(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("daemon")
    daemons = DaemonFactory(module_store_url, write_config(workdir / "jobctl.toml"), workdir)
    store = open_store(module_store_url)
    try:
        service = Service(store, ADMIN, default_timezone=TEST_ZONE)
        daemon = daemons.start()
        wait_for(lambda: service.get_status()["isRunning"], timeout=5, what="a leader")
        yield Running(module_store_url, service, daemon)
    finally:
        daemons.stop_all()
        store.close()


def jobctl(store_url: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jobctl", "--db", store_url, *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    "command,timeout,code,status",
    [
        ("echo out; echo err >&2; exit 0", None, 0, "success"),
        ("echo partial; exit 3", None, 3, "failed"),
        ("""echo '{"rows": 12}'; exit 7""", None, 7, "failed"),
        ("echo going; kill -KILL $$", None, 137, "failed"),
        ("sleep 30", 1, 124, "timeout"),
    ],
    ids=["success", "exit-3", "exit-7-after-a-json-line", "killed-by-sigkill", "timeout"],
)
def test_run_without_a_daemon_runs_in_the_foreground(
    service: Service, store_url: str, command: str, timeout: int | None, code: int, status: str
) -> None:
    job = shell_job(service, "fg", command, scheduleConfig={"hours": 1}, timeoutSeconds=timeout)
    result = jobctl(store_url, "run", "fg")
    assert result.returncode == code, result.stderr
    [run] = executions(service, job["id"])
    assert run["status"] == status and run["triggeredBy"] == "manual"
    assert service.get_execution_log(run["id"])["data"] == result.stdout, "streamed exactly the recorded output"
    if status == "success":
        assert result.stdout == "out\nerr\n" or sorted(result.stdout.splitlines()) == ["err", "out"]
        assert result.stderr == ""
    else:
        assert result.stderr.startswith(f"jobctl: run {status}:") and len(result.stderr.splitlines()) == 1
    assert service.get_status()["instances"] == [], "the foreground run left the instance list"


def test_run_with_a_daemon_is_run_by_the_daemon(running: Running) -> None:
    service = running.service
    job = shell_job(service, "via-daemon", "echo from daemon; exit 5", scheduleConfig={"hours": 1})
    result = jobctl(running.store_url, "run", "via-daemon")
    assert result.returncode == 5
    assert result.stdout == "from daemon\n"
    [run] = executions(service, job["id"])
    assert run["instanceId"] == service.get_status()["leaderInstance"]["id"]
    assert running.daemon.alive()


def test_run_by_the_daemon_exits_with_the_code_of_a_job_whose_last_line_is_json(running: Running) -> None:
    """The run's ``result`` is then that JSON object, which holds no exit code: the command used
    to exit 1 for it, whatever the job's code was."""
    service = running.service
    job = shell_job(service, "json-then-6", """echo '{"copied": 3}'; exit 6""", scheduleConfig={"hours": 1})
    result = jobctl(running.store_url, "run", "json-then-6")
    assert result.returncode == 6, result.stderr
    [run] = executions(service, job["id"])
    assert (run["status"], run["result"]) == ("failed", {"copied": 3})
    shown = jobctl(running.store_url, "executions", "show", run["id"])
    assert ["result", '{"copied": 3}'] in [line.split(None, 1) for line in shown.stdout.splitlines()], shown.stdout


def run_into_a_closed_pipe(store_url: str, job: str) -> tuple[int, str, float]:
    """``jobctl run JOB`` with stdout a pipe whose reader has gone (``| head`` once it has its
    lines): exit status, stderr and seconds taken."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "jobctl", "--db", store_url, "run", job],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)  # fmt: skip
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr, time.monotonic() - started


def test_run_whose_reader_left_cancels_the_run_in_the_foreground(service: Service, store_url: str) -> None:
    """Before, the command ended there: the run, in this process, was killed with it and stayed
    ``running`` in the store, holding the job's one instance until a daemon reaped it."""
    job = shell_job(service, "spam", "echo first; sleep 30; echo never", scheduleConfig={"hours": 1})
    code, stderr, took = run_into_a_closed_pipe(store_url, "spam")
    assert code == 141, stderr
    assert took < 25, "the run was stopped, not waited for"
    [run] = executions(service, job["id"])
    assert run["status"] == "cancelled", run
    assert f"stdout's reader left: execution {run['id']} cancelled" in stderr
    assert service.get_status()["instances"] == [], "the foreground run left the instance list"


def test_run_whose_reader_left_cancels_the_run_in_the_daemon(running: Running) -> None:
    service = running.service
    job = shell_job(service, "spam-daemon", "echo first; sleep 30; echo never", scheduleConfig={"hours": 1})
    code, stderr, took = run_into_a_closed_pipe(running.store_url, "spam-daemon")
    assert code == 141, stderr
    assert took < 25
    [run] = executions(service, job["id"])
    assert run["status"] == "cancelled" and run["instanceId"] == service.get_status()["leaderInstance"]["id"], run
    assert running.daemon.alive()


def test_executions_tail_follows_new_runs_live(running: Running, tmp_path: Path) -> None:
    service, store_url = running.service, running.store_url
    job = shell_job(
        service, "chatty", "echo start-$JOBCTL_EXECUTION_ID; sleep 0.6; echo end", scheduleConfig={"hours": 1}
    )
    with following(store_url, tmp_path, "chatty", "-f") as (out, err):
        time.sleep(1.0)  # the tail is following (no output to tell) before the run starts
        execution_id = service.trigger_job(job["id"])["executionId"]
        wait_for(lambda: "<== " in err.read_text(), timeout=10, what="the run's result line from the tail")
    assert f"start-{execution_id}\nend\n" in out.read_text()
    assert service.get_execution(execution_id)["status"] == "success"
    assert f"==> {execution_id[:8]} chatty (manual) started " in err.read_text()
    assert "<== success in " in err.read_text()
    snapshot = jobctl(store_url, "executions", "tail", execution_id)
    assert snapshot.stdout == f"start-{execution_id}\nend\n"


@contextmanager
def following(store_url: str, tmp_path: Path, *args: str) -> Iterator[tuple[Path, Path]]:
    """``jobctl executions tail ARGS`` writing to two files read while it runs; interrupted (Ctrl-C) at the end."""
    out, err = tmp_path / "tail.out", tmp_path / "tail.err"
    with out.open("w") as out_file, err.open("w") as err_file:
        tail = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", store_url, "executions", "tail", *args],
                                stdout=out_file, stderr=err_file, text=True)  # fmt: skip
    try:
        yield out, err
    finally:
        os.kill(tail.pid, signal.SIGINT)
        tail.wait(timeout=10)


def test_tail_follow_of_a_busy_job_starts_at_its_latest_runs(running: Running, tmp_path: Path) -> None:
    """``tail JOB -f -n 2`` shows the two latest runs, then only runs that start later: never the
    older history again as if it were new."""
    service, store_url = running.service, running.store_url
    job = shell_job(service, "busy", "echo run-$JOBCTL_EXECUTION_ID", scheduleConfig={"seconds": 1})
    wait_for(lambda: len(executions(service, job["id"])) >= 4, timeout=20, what="four runs of the busy job")
    began = datetime.now(UTC)

    def headers(err: Path) -> list[str]:
        return [line.split()[1] for line in err.read_text().splitlines() if line.startswith("==> ")]

    def started() -> dict[str, dict[str, Any]]:
        return {run["id"][:8]: run for run in executions(service, job["id"]) if run["startedAt"]}

    def unshown_since(ready: datetime, err: Path) -> list[str] | None:
        """Runs that started while following (from ``ready`` to 1.5 s ago: time to be picked up)
        and are not shown; None until there is one such run."""
        settled = datetime.now(UTC) - timedelta(seconds=1.5)
        window = [short for short, run in started().items() if ready < parse(run["startedAt"]) < settled]
        return [short for short in window if short not in headers(err)] if window else None

    with following(store_url, tmp_path, "busy", "-f", "-n", "2") as (out, err):
        wait_for(lambda: headers(err), timeout=20, what="the tail's first header")
        ready = datetime.now(UTC)  # the tail has read the runs it starts from: later runs are new
        wait_for(lambda: unshown_since(ready, err) is not None, timeout=20, what="a run started while following")
        missed = unshown_since(ready, err)
        runs, shown = started(), headers(err)
    assert missed == [], f"runs that started while following were missed: {missed}\n{err.read_text()}"
    assert len(shown) == len(set(shown)), f"a run was shown twice: {err.read_text()}"
    older = [short for short in shown if parse(runs[short]["startedAt"]) < began]
    assert len(older) <= 2, f"replayed {len(older)} runs that started before tail -f:\n{err.read_text()}"
    assert shown == sorted(shown, key=lambda short: runs[short]["startedAt"]), "in the order they started"
    for short in shown:
        assert f"run-{runs[short]['id']}" in out.read_text()


def test_tail_of_a_job_that_overruns_its_interval_shows_its_run_not_a_skipped_slot(
    running: Running, tmp_path: Path
) -> None:
    """A job whose run outlasts its interval records a skipped slot at each one. ``tail JOB``
    took the newest of them for "the job's latest run": it printed nothing and exited 0 while
    the run printed, ``-n 2`` showed ``started -`` and ``<== skipped: skipped: ...``, and ``-f``
    never showed the run going on."""
    service, store_url = running.service, running.store_url
    job = shell_job(service, "overrun", "echo hello-$JOBCTL_EXECUTION_ID; sleep 30", scheduleConfig={"seconds": 1})

    def overrun() -> list[dict[str, Any]] | None:
        runs = executions(service, job["id"])
        statuses = [run["status"] for run in runs]
        return runs if statuses[:1] == ["running"] and statuses[-3:] == ["skipped"] * 3 else None

    first, *skipped = wait_for(overrun, timeout=20, what="a run going on and three skipped slots after it")
    try:
        plain = jobctl(store_url, "executions", "tail", "overrun")
        assert (plain.returncode, plain.stdout) == (0, f"hello-{first['id']}\n"), plain
        latest = jobctl(store_url, "executions", "tail", "overrun", "-n", "2")
        assert latest.returncode == 0 and latest.stdout == f"hello-{first['id']}\n", latest
        assert latest.stderr.startswith(f"==> {first['id'][:8]} overrun (scheduler) started 2"), latest.stderr
        assert "skipped" not in latest.stderr and "started -" not in latest.stderr, latest.stderr
        with following(store_url, tmp_path, "overrun", "-f") as (out, err):
            wait_for(lambda: f"hello-{first['id']}" in out.read_text(), timeout=10, what="the run's output, followed")
        assert err.read_text().startswith(f"==> {first['id'][:8]} overrun (scheduler) started 2"), err.read_text()
        assert "skipped" not in err.read_text()
    finally:
        service.set_job_status(job["id"], {"isPaused": True})
        service.cancel_execution(first["id"])
    assert all(run["status"] == "skipped" for run in skipped)


def test_a_result_line_says_skipped_once() -> None:
    """A skipped slot's stored reason begins with "skipped: " itself (the API's wording)."""
    from jobctl.cli.follow import footer

    slot = {"status": "skipped", "errorMessage": "skipped: 1 run(s) still active and maxInstances is 1",
            "durationSeconds": None}  # fmt: skip
    assert footer(slot) == "<== skipped: 1 run(s) still active and maxInstances is 1"  # type: ignore[arg-type]
    disabled = {"status": "skipped", "errorMessage": "job disabled before the run started", "durationSeconds": None}
    assert footer(disabled) == "<== skipped: job disabled before the run started"  # type: ignore[arg-type]
    failed = {"status": "failed", "errorMessage": "skipped: not a slot's reason", "durationSeconds": 1.0}
    assert footer(failed) == "<== failed: skipped: not a slot's reason"  # type: ignore[arg-type]


def test_a_foreground_run_heartbeats_often_enough_for_the_shortest_lease(service: Service, store_url: str) -> None:
    """A daemon reaps the runs of an instance whose heartbeat is older than its lease TTL, which
    may be as short as 2 s: a foreground run beating every 2 s could be taken for dead by it."""
    shell_job(service, "fgbeat", "sleep 4", scheduleConfig={"hours": 1})
    run = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", store_url, "run", "fgbeat"])
    oldest = 0.0
    try:
        deadline = time.monotonic() + 30
        while run.poll() is None and time.monotonic() < deadline:
            for instance in service.get_status()["instances"]:
                age = datetime.now(UTC) - parse(instance["lastHeartbeat"])
                oldest = max(oldest, age.total_seconds())
            time.sleep(0.05)
        assert run.wait(timeout=30) == 0
    finally:
        if run.poll() is None:
            run.kill()
    assert 0 < oldest < 1.0, f"a heartbeat {oldest:.2f}s old; a daemon with a 2 s lease reaps at 2 s"


# -- as a script runs it, with no daemon (tests/daemon/test_run_in_scripts.py has the daemon's modes)


def foreground_env(store_url: str, tmp_path: Path) -> dict[str, str]:
    config = write_config(tmp_path / "jobctl.toml", kill_grace_seconds=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    env.update({"JOBCTL_DB": store_url, "JOBCTL_CONFIG": str(config)})
    return env


SIGNALS = [(signal.SIGTERM, 143, "terminated (SIGTERM)"), (signal.SIGHUP, 129, "hung up (SIGHUP)")]


@pytest.mark.parametrize(("signum", "code", "said"), SIGNALS, ids=["TERM", "HUP"])
def test_sigterm_or_sighup_cancels_a_foreground_run(
    service: Service, store_url: str, tmp_path: Path, signum: int, code: int, said: str
) -> None:
    """``kill -TERM`` of ``jobctl run`` used to end the command (143, nothing said) and leave
    its job's shell running, and the run ``running`` in the store."""
    pidfile = tmp_path / "run.pid"
    job = shell_job(service, "fgsig", f"echo $$ > {pidfile}; sleep 600", scheduleConfig={"hours": 1})
    proc = subprocess.Popen([sys.executable, "-m", "jobctl", "run", "fgsig"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=foreground_env(store_url, tmp_path),
                            preexec_fn=with_default_action(signum))  # fmt: skip
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=10, what="the run to start")
    pgid = int(pidfile.read_text())
    os.kill(proc.pid, signum)
    try:
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    [run] = executions(service, job["id"])
    assert f"jobctl: {said}: cancelling execution {run['id']}" in err and "Traceback" not in err, err
    assert run["status"] == "cancelled", run
    wait_for(lambda: not group_alive(pgid), timeout=2, what="the run's process group to go")
    assert service.get_status()["instances"] == [], "the foreground run left the instance list"


def test_timeout_around_a_foreground_run_cancels_it(service: Service, store_url: str, tmp_path: Path) -> None:
    """``timeout 2 jobctl run JOB``: timeout's SIGTERM cancels the run; timeout exits 124."""
    job = shell_job(service, "fgtimeout", "i=0; while [ $i -lt 50 ]; do echo tick $i; i=$((i+1)); sleep 0.2; done",
                    scheduleConfig={"hours": 1})  # fmt: skip
    result = subprocess.run(["timeout", "2", sys.executable, "-m", "jobctl", "run", "fgtimeout"], capture_output=True,
                            text=True, env=foreground_env(store_url, tmp_path), timeout=60)  # fmt: skip
    assert result.returncode == 124, result.stderr
    [run] = executions(service, job["id"])
    assert run["status"] == "cancelled", run
    assert f"jobctl: execution {run['id']} cancelled" in result.stderr


def test_a_foreground_run_into_a_full_disk_is_cancelled(service: Service, store_url: str, tmp_path: Path) -> None:
    job = shell_job(service, "fgfull", "echo first; sleep 30; echo never", scheduleConfig={"hours": 1})
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "jobctl", "run", "fgfull"], stdout=full, stderr=subprocess.PIPE,
                                text=True, env=foreground_env(store_url, tmp_path), timeout=60)  # fmt: skip
    [run] = executions(service, job["id"])
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith(
        f"jobctl: cannot write to stdout: No space left on device: execution {run['id']} cancelled\n"
    ), result.stderr
    assert run["status"] == "cancelled", run
    assert service.get_status()["instances"] == [], "the foreground run left the instance list"


def test_a_foreground_run_with_stdout_closed_is_refused_before_it_starts(
    service: Service, store_url: str, tmp_path: Path
) -> None:
    """It used to trigger and run the job, then fail with "internal error: AttributeError"."""
    job = shell_job(service, "fgclosed", "echo ok", scheduleConfig={"hours": 1})
    closed = ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "jobctl", "run", "fgclosed"]
    result = subprocess.run(closed, capture_output=True, text=True, env=foreground_env(store_url, tmp_path), timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("jobctl: cannot write to stdout: it is closed; nothing was run"), result.stderr
    assert executions(service, job["id"]) == []


def test_a_foreground_run_follows_its_retries(service: Service, store_url: str, tmp_path: Path) -> None:
    """No daemon runs the retry: ``jobctl run`` runs it itself once it is due."""
    job = shell_job(service, "fgretry", "echo attempt-$JOBCTL_EXECUTION_ID; exit 5", scheduleConfig={"hours": 1},
                    retryCount=1, retryDelaySeconds=1)  # fmt: skip
    env = foreground_env(store_url, tmp_path)
    result = subprocess.run([sys.executable, "-m", "jobctl", "run", "fgretry"], capture_output=True, text=True,
                            env=env, timeout=60)  # fmt: skip
    first, second = executions(service, job["id"])
    assert result.returncode == 5, result.stderr
    assert result.stdout == f"attempt-{first['id']}\nattempt-{second['id']}\n"
    assert re.fullmatch(
        r"jobctl: attempt 1 of 2 failed \(exit code 5\); retry at \d\d:\d\d:\d\d\njobctl: run failed: exit code 5\n",
        result.stderr,
    ), result.stderr
    assert (second["attempt"], second["triggeredBy"], second["status"]) == (2, "retry", "failed")
    again = subprocess.run([sys.executable, "-m", "jobctl", "run", "fgretry"], capture_output=True, text=True,
                           env=env, timeout=60)  # fmt: skip
    assert again.returncode == 5, "no retry was left queued to block it"
    assert service.get_status()["instances"] == [], "the foreground runs left the instance list"


def test_a_reader_that_leaves_a_big_foreground_run_ends_it_with_141(service: Service, store_url: str) -> None:
    """A write larger than the pipe holds was cut short without an error when the reader left:
    ``jobctl run chatty | head -1`` of a run whose output came in one read exited 0."""
    job = shell_job(service, "fgbig", "seq 1 200000", scheduleConfig={"hours": 1})
    proc = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", store_url, "run", "fgbig"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141, err
    [run] = executions(service, job["id"])
    if run["status"] == "cancelled":  # still going when the reader left
        assert err == f"jobctl: stdout's reader left: execution {run['id']} cancelled\n"
    else:
        assert (run["status"], err) == ("success", "")
