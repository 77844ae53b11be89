"""``GET /executions/stream``, ``executions export`` and ``executions list --json --all``
through a real daemon over HTTP: the same bytes as on the store for more than two of the
stream's store pages, each run once while new runs are recorded, and an answer cut short is an
error (exit 5), never an export that looks whole."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from jobctl.service.execution_listing import STREAM_PAGE
from jobctl.store import open_store
from tests.daemon.helpers import DaemonFactory
from tests.daemon.helpers import cli as jobctl
from tests.daemon.test_jobs_stream import cut_short_server  # noqa: F401  (a fixture)
from tests.store.helpers import add_executions, add_job

RUNS = 2 * STREAM_PAGE + 137
"""More than two of the stream's store pages, some of them at the same instant."""
BURST = 300


@pytest.fixture
def filled(daemons: DaemonFactory) -> tuple[DaemonFactory, str]:
    """Runs of two disabled jobs (the daemon records none of its own while the test reads), one
    with output; the id of the first job. Retention keeps more than ``keep_per_job``'s default
    of 1,000 runs a job, so the daemon's pruner takes none away."""
    with daemons.config_path.open("a") as config:
        config.write("[history]\nkeep_per_job = 100000\n")
    store = open_store(daemons.store_url)
    try:
        job, other = add_job(store.db, "backup"), add_job(store.db, "other")
        store.db.execute("UPDATE jobs SET is_enabled = :off", {"off": False})
        add_executions(store.db, job, [timedelta(minutes=n) for n in range(RUNS - 100)], output="x")
        add_executions(store.db, job, [timedelta(days=3)] * 60, manual=True, status="failed")
        add_executions(store.db, other, [timedelta(minutes=n, seconds=7) for n in range(40)])
    finally:
        store.close()
    return daemons, job


def test_export_through_the_api_equals_the_local_export(filled: tuple[DaemonFactory, str], tmp_path: Path) -> None:
    factory, _ = filled
    daemon = factory.start(api=True)
    token = jobctl(factory, "token", "create", "reader", "--role", "viewer").stdout.strip()
    api = ("--api", f"http://127.0.0.1:{daemon.port}")
    for fmt in ("ndjson", "csv", "json"):
        local, remote = tmp_path / f"local.{fmt}", tmp_path / f"remote.{fmt}"
        done = jobctl(factory, "executions", "export", "--format", fmt, "-o", str(local))
        through = jobctl(factory, *api, "executions", "export", "--format", fmt, "-o", str(remote), token=token)
        assert done.returncode == 0 and through.returncode == 0, done.stderr + through.stderr
        assert through.stdout == through.stderr == "", through.stderr  # the count is noted on a terminal only
        assert remote.read_bytes() == local.read_bytes(), fmt
    lines = [json.loads(line) for line in (tmp_path / "remote.ndjson").read_text().splitlines()]
    assert len(lines) == len({row["id"] for row in lines}) == RUNS

    since = ("--job", "backup", "--since", lines[700]["startedAt"], "--until", lines[20]["startedAt"])
    local = jobctl(factory, "executions", "export", "--format", "ndjson", *since)
    remote = jobctl(factory, *api, "executions", "export", "--format", "ndjson", *since, token=token)
    assert remote.returncode == 0 and remote.stdout == local.stdout and remote.stdout.count("\n") > 600

    bad = jobctl(factory, *api, "executions", "export", "--since", "2026-02-01", "--until", "2026-01-01", token=token)
    assert bad.returncode == 2 and bad.stdout == "" and bad.stderr.count("\n") == 1, bad
    assert bad.stderr == "jobctl: --until must be later than --since\n"

    every_local = jobctl(factory, "executions", "list", "--json", "--all")
    every_remote = jobctl(factory, *api, "executions", "list", "--json", "--all", token=token)
    assert every_remote.returncode == 0, every_remote.stderr
    assert json.loads(every_remote.stdout) == json.loads(every_local.stdout)
    assert json.loads(every_remote.stdout)["total"] == RUNS


def test_the_stream_is_chunked_and_sees_each_run_once_during_a_burst(filled: tuple[DaemonFactory, str]) -> None:
    """New runs recorded after the first chunk arrived are newer than the walk's position: the
    rest of the answer is every older run, each once, as the listing had them before."""
    factory, job = filled
    daemon = factory.start(api=True)
    token = jobctl(factory, "token", "create", "reader", "--role", "viewer").stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{daemon.port}/api/v1/scheduler"
    before = _ids(httpx.get(f"{base}/executions/stream", headers=headers).text)
    assert len(before) == RUNS

    store = open_store(factory.store_url)
    body, chunks = b"", 0
    try:
        with httpx.stream("GET", f"{base}/executions/stream", headers=headers, timeout=60) as answer:
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("application/x-ndjson")
            assert answer.headers.get("transfer-encoding") == "chunked"
            for chunk in answer.iter_bytes():
                if not chunks:  # a burst of runs, newer than any before, recorded during the walk
                    add_executions(store.db, job, [timedelta(seconds=-(n + 1)) for n in range(BURST)])
                chunks += 1
                body += chunk
    finally:
        store.close()
    streamed = _ids(body.decode())
    assert streamed == before, "each run once, in the listing's order; none of the burst"
    assert chunks >= 2
    again = _ids(httpx.get(f"{base}/executions/stream", headers=headers).text)
    assert len(again) == RUNS + BURST and again[BURST:] == before, "the burst was recorded, for the next walk"

    bad = httpx.get(f"{base}/executions/stream", params={"after": "0" * 36}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "after"]


def _ids(text: str) -> list[str]:
    return [json.loads(line)["id"] for line in text.splitlines()]


def test_an_export_cut_short_fails_with_exit_5(daemons: DaemonFactory, cut_short_server: int) -> None:  # noqa: F811
    done = jobctl(daemons, "--api", f"http://127.0.0.1:{cut_short_server}", "executions", "export", "--format",
                  "ndjson", token="t")  # fmt: skip
    assert done.returncode == 5, done
    assert "broke off its answer" in done.stderr and "exported" not in done.stderr
    assert done.stderr.count("\n") == 1


def _ndjson_server_after_700_lines(then: threading.Event | None) -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 that sends 700 NDJSON lines in a chunked answer, more than
    the client's first batch of 500, and then either breaks off (``then`` None) or holds the
    connection open, sending neither more nor the end, until ``then`` is set."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            body = b"".join(b'{"id": "%d"}\n' % n for n in range(700))
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                + f"{len(body):x}\r\n".encode()
                + body
                + b"\r\n"
            )
            if then is not None:
                then.wait(60)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    if then is not None:
        then.set()
    thread.join(timeout=5)
    listener.close()


@pytest.fixture
def cut_after_a_batch_server() -> Iterator[int]:
    """The answer breaks off after 700 lines: the export has started writing when it fails."""
    yield from _ndjson_server_after_700_lines(None)


def _precious_target_and_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An export target that already holds something, alone in its folder, and the environment
    of a CLI with an empty config and a token."""
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "runs.ndjson"
    target.write_text("precious\n")
    config = tmp_path / "jobctl.toml"
    config.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOBCTL_")}
    env.update({"JOBCTL_CONFIG": str(config), "JOBCTL_TOKEN": "t"})
    return target, env


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "stdout"])
def test_an_export_cut_after_it_started_leaves_the_file_as_it_was(
    cut_after_a_batch_server: int, tmp_path: Path, to_file: bool
) -> None:
    """To -o FILE the runs go to a temporary file that is dropped: FILE keeps what it held. To
    stdout they are written as they come, and the exit status says the export is not whole."""
    target, env = _precious_target_and_env(tmp_path)
    args = ["--api", f"http://127.0.0.1:{cut_after_a_batch_server}", "executions", "export", "--format", "ndjson"]
    done = subprocess.run([sys.executable, "-m", "jobctl", *args, *(["-o", str(target)] if to_file else [])],
                          capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert done.returncode == 5 and "broke off its answer" in done.stderr, done
    assert target.read_text() == "precious\n" and [path.name for path in target.parent.iterdir()] == ["runs.ndjson"]
    assert len(done.stdout.splitlines()) == (0 if to_file else 700)  # those that came


@pytest.fixture
def stalled_after_a_batch_server() -> Iterator[int]:
    """700 lines, then nothing: the export has written its first batch to its temporary file and waits."""
    yield from _ndjson_server_after_700_lines(threading.Event())


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_an_export_to_a_file_ended_by_a_signal_leaves_nothing_behind(
    stalled_after_a_batch_server: int, tmp_path: Path, signum: int
) -> None:
    """``kill`` of an export to -o FILE: FILE keeps what it held and the temporary file goes."""
    target, env = _precious_target_and_env(tmp_path)
    args = ["--api", f"http://127.0.0.1:{stalled_after_a_batch_server}", "executions", "export", "--format", "ndjson"]
    export = subprocess.Popen([sys.executable, "-m", "jobctl", *args, "-o", str(target)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the first batch is in the temporary file: the export waits for more
            parts = [path for path in target.parent.iterdir() if path.name.endswith(".part")]
            if parts and parts[0].stat().st_size > 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the export never wrote its first batch")
        export.send_signal(signum)
        _, stderr = export.communicate(timeout=30)
    finally:
        if export.poll() is None:
            export.kill()
            export.wait()
    assert export.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    assert target.read_text() == "precious\n" and [path.name for path in target.parent.iterdir()] == ["runs.ndjson"]
