"""A request waiting on a locked store holds one worker thread, not the daemon's event loop:
``/healthz`` (and any request that needs no locked row) answers meanwhile, on a real daemon
over real HTTP, with the lock taken by another connection to the real store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

import httpx

from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store.url import parse_store_url
from tests.daemon.helpers import DaemonFactory, shell_job

REACH_THE_LOCK = 0.5
"""Time for the locked request to get to its statement; checked, not assumed (it must still wait)."""


@contextmanager
def store_locked(store_url: str) -> Iterator[None]:
    """Another connection holding a lock that every write to ``jobs`` has to wait for."""
    url = parse_store_url(store_url)
    if url.sqlite_path is not None:
        conn = sqlite3.connect(url.sqlite_path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    with psycopg.connect(**(url.pg_conninfo or {})) as pg:
        pg.execute("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            pg.rollback()


def test_healthz_answers_while_a_request_waits_on_a_locked_store(
    service: Service, daemons: DaemonFactory, store_url: str
) -> None:
    job = shell_job(service, "locked-out", "true", scheduleConfig={"hours": 1}, maxInstances=10)
    secret, _ = create_token(service.store, "operator-token", "operator")
    daemon = daemons.start(api=True)
    base = f"http://127.0.0.1:{daemon.port}"
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=base, timeout=60) as client, ThreadPoolExecutor(1) as pool:
        assert client.get("/healthz").status_code == 200
        with store_locked(store_url):
            waiting: Future[httpx.Response] = pool.submit(
                client.post, f"/api/v1/scheduler/jobs/{job['id']}/trigger", headers=headers
            )
            time.sleep(REACH_THE_LOCK)
            assert not waiting.done(), "the trigger should be waiting for the lock"
            started = time.monotonic()
            health = client.get("/healthz")
            answered_in = time.monotonic() - started
            assert health.status_code == 200
            assert not waiting.done(), "/healthz answered only after the locked request ended"
        assert waiting.result().status_code == 200, waiting.result().text
    print(f"/healthz answered in {answered_in * 1000:.1f} ms while the store was locked")
