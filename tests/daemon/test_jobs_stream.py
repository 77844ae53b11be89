"""``GET /jobs/stream`` and ``jobs list --json --all`` through a real daemon over HTTP: the
whole listing in one chunked answer, the same as on the store, and an answer cut short is an
error, never a shorter list."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from jobctl.client.session import ApiSession
from jobctl.errors import ApiUnreachable
from jobctl.service.job_listing import STREAM_PAGE
from jobctl.store import open_store
from tests.daemon.helpers import DaemonFactory
from tests.daemon.helpers import cli as jobctl
from tests.store.helpers import add_job

JOBS = 2 * STREAM_PAGE + 37
"""More than two of the stream's store pages."""


@pytest.fixture
def filled(daemons: DaemonFactory) -> DaemonFactory:
    store = open_store(daemons.store_url)
    try:
        for n in range(JOBS):
            add_job(store.db, f"job-{n:05d}")
    finally:
        store.close()
    return daemons


def test_jobs_list_all_through_the_api_equals_the_store_and_reads_one_stream(filled: DaemonFactory) -> None:
    daemon = filled.start(api=True)
    token = jobctl(filled, "token", "create", "reader", "--role", "viewer").stdout.strip()
    local = jobctl(filled, "jobs", "list", "--json", "--all")
    remote = jobctl(filled, "--api", f"http://127.0.0.1:{daemon.port}", "jobs", "list", "--json", "--all", token=token)
    assert local.returncode == 0 and remote.returncode == 0, local.stderr + remote.stderr
    assert json.loads(remote.stdout) == json.loads(local.stdout)
    listed = json.loads(remote.stdout)
    assert len(listed["jobs"]) == JOBS == listed["total"]
    assert len({job["id"] for job in listed["jobs"]}) == JOBS

    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{daemon.port}/api/v1/scheduler"
    first = httpx.get(f"{base}/jobs", params={"per_page": 100}, headers=headers).json()
    chunks = 0
    body = b""
    with httpx.stream("GET", f"{base}/jobs/stream", params={"after": first["nextCursor"]}, headers=headers) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/x-ndjson")
        assert answer.headers.get("transfer-encoding") == "chunked"
        for chunk in answer.iter_bytes():
            chunks += 1
            body += chunk
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [job["id"] for job in first["jobs"] + lines] == [job["id"] for job in listed["jobs"]]
    assert lines[0] == listed["jobs"][100], "each line is the listing's item"
    assert chunks >= 1

    bad = httpx.get(f"{base}/jobs/stream", params={"after": "nope"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "after"]
    assert httpx.get(f"{base}/jobs/stream").status_code == 401


@pytest.fixture
def cut_short_server() -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 that starts a chunked NDJSON answer and closes the
    connection before its last chunk, as a daemon does when its store fails midway."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            line = b'{"id": "a"}\n'
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
                + f"{len(line):x}\r\n".encode()
                + line
                + b"\r\n"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield port
    thread.join(timeout=5)
    listener.close()


def test_an_answer_cut_short_is_an_error_not_a_shorter_list(cut_short_server: int) -> None:
    session = ApiSession(f"http://127.0.0.1:{cut_short_server}", token="t", timeout=10)
    try:
        with pytest.raises(ApiUnreachable, match="broke off its answer"):
            list(session.stream_lines("/jobs/stream"))
    finally:
        session.close()
