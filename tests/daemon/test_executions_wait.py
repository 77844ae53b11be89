"""``jobctl executions wait ID``: a script that triggered a run waits for its end and gets the
exit code ``jobctl run`` would give, on the store and through ``--api``; ``tail -f`` exits 0
whatever the run did."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from jobctl.api import API_PREFIX
from tests.daemon.helpers import DaemonFactory, cli, wait_for, write_config


@pytest.fixture
def factory(store_url: str, tmp_path: Path) -> Iterator[DaemonFactory]:
    made = DaemonFactory(store_url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    yield made
    made.stop_all()


def _env(factory: DaemonFactory, token: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_") or k.startswith("JOBCTL_TEST_")}
    env.update({"JOBCTL_DB": factory.store_url, "JOBCTL_CONFIG": str(factory.config_path)})
    if token is not None:
        env["JOBCTL_TOKEN"] = token
    return env


@pytest.mark.parametrize("through_api", [False, True], ids=["store", "api"])
def test_wait_exits_as_the_run_ended(factory: DaemonFactory, through_api: bool) -> None:
    daemon = factory.start(api=True)
    api: tuple[str, ...] = ("--api", f"http://127.0.0.1:{daemon.port}") if through_api else ()
    token = cli(factory, "token", "create", "waiter", "--role", "admin").stdout.strip() if through_api else None
    for name, command in (("ok", "sleep 1"), ("seven", "sleep 1; echo why >&2; exit 7"), ("slow", "sleep 30")):
        created = cli(factory, *api, "jobs", "create", name, "--every", "1d", "--command", command, token=token)
        assert created.returncode == 0, created.stderr
    assert cli(factory, *api, "jobs", "update", "slow", "--timeout", "1s", token=token).returncode == 0

    for name, code, line in (
        ("ok", 0, ""),
        ("seven", 7, "jobctl: run failed: exit code 7: why\n"),
        ("slow", 124, None),
    ):
        run_id = cli(factory, *api, "jobs", "trigger", name, token=token).stdout.strip()
        waited = cli(factory, *api, "executions", "wait", run_id[:8], token=token)
        assert waited.returncode == code, (name, waited.stderr)
        assert waited.stdout == ""
        if line is not None:
            assert waited.stderr == line, waited.stderr
        else:
            assert waited.stderr.startswith("jobctl: run timeout: "), waited.stderr
        shown = json.loads(cli(factory, *api, "executions", "wait", run_id, "--json", token=token).stdout)
        assert shown["id"] == run_id and shown["status"] in ("success", "failed", "timeout")

    missing = cli(factory, *api, "executions", "wait", "00000000", token=token)
    assert missing.returncode == 3 and missing.stderr == "jobctl: no execution '00000000'\n", missing.stderr


PRUNED_NOTE = "(it may have been pruned: [history] keep_days / keep_per_job)"


@pytest.mark.parametrize("through_api", [False, True], ids=["store", "api"])
def test_a_whole_id_of_a_pruned_run_says_it_may_have_been_pruned(
    factory: DaemonFactory, tmp_path: Path, through_api: bool
) -> None:
    """``store prune`` with ``keep_per_job = 1`` removed the older of two runs: ``executions
    show`` and ``wait`` of its whole id (and ``GET /executions/{id}``) say it may have been
    pruned, exit 3 / 404 as before; a prefix, which never named one run for sure, does not."""
    daemon = factory.start(api=True)
    url = f"http://127.0.0.1:{daemon.port}"
    api: tuple[str, ...] = ("--api", url) if through_api else ()
    token = cli(factory, "token", "create", "pruner", "--role", "admin").stdout.strip()
    assert cli(factory, "jobs", "create", "p", "--every", "1d", "--command", "true").returncode == 0
    runs = []
    for _ in range(2):  # one at a time: a second trigger while the first runs meets maxInstances 1
        runs.append(cli(factory, "jobs", "trigger", "p").stdout.strip())
        assert cli(factory, "executions", "wait", runs[-1]).returncode == 0
    gone, kept = runs
    keep_one = tmp_path / "keep-one.toml"
    keep_one.write_text(factory.config_path.read_text() + "[history]\nkeep_per_job = 1\n")
    assert cli(factory, "--config", str(keep_one), "store", "prune").returncode == 0

    for command in ("show", "wait"):
        missing = cli(factory, *api, "executions", command, gone, token=token)
        assert (missing.returncode, missing.stdout) == (3, ""), missing.stderr
        assert missing.stderr == f"jobctl: no execution '{gone}' {PRUNED_NOTE}\n", missing.stderr
    prefix = cli(factory, *api, "executions", "show", gone[:8], token=token)
    assert (prefix.returncode, prefix.stderr) == (3, f"jobctl: no execution '{gone[:8]}'\n"), prefix.stderr
    assert cli(factory, *api, "executions", "show", kept, token=token).returncode == 0
    if through_api:
        answer = httpx.get(f"{url}{API_PREFIX}/executions/{gone}", headers={"Authorization": f"Bearer {token}"})
        assert (answer.status_code, answer.json()["detail"]) == (404, f"no execution '{gone}' {PRUNED_NOTE}")


def _reads_the_store(pid: int) -> bool:
    """Whether the process has the store open (the SQLite file, or a socket: a local ``wait`` opens
    no other): past its start-up, in the command itself."""
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:
        return False
    return any(t.endswith(".db") or t.startswith("socket:[") for t in targets)


def test_ctrl_c_stops_waiting_and_leaves_the_run_alone(factory: DaemonFactory) -> None:
    factory.start()
    assert cli(factory, "jobs", "create", "long", "--every", "1d", "--command", "sleep 20").returncode == 0
    run_id = cli(factory, "jobs", "trigger", "long").stdout.strip()
    waiter = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "executions", "wait", run_id],
        env=_env(factory), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(
        lambda: json.loads(cli(factory, "executions", "show", run_id, "--json").stdout)["status"] == "running",
        timeout=20, what="the run to start",
    )  # fmt: skip
    wait_for(lambda: _reads_the_store(waiter.pid), timeout=20, what="the waiter to ask the store")
    waiter.send_signal(signal.SIGINT)  # now in the wait, not still importing its modules
    _, stderr = waiter.communicate(timeout=30)
    assert waiter.returncode == 130 and "Traceback" not in stderr, stderr
    assert json.loads(cli(factory, "executions", "show", run_id, "--json").stdout)["status"] == "running"
    assert cli(factory, "executions", "cancel", run_id).returncode == 0
