"""Real daemons: a leader killed between an outcome and its delivery leaves it to the next
leader, which delivers it once; the dead-man check fires for time no daemon was running."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobctl.config import load_config
from jobctl.service import Service
from jobctl.store import Store, open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, cli, free_port, shell_job, wait_for, write_config
from tests.notify.helpers import SECRET, HttpReceiver


def notifying_config(path: Path, port: int) -> Path:
    write_config(path, lease_ttl_seconds=2, shutdown_grace_seconds=1)
    with path.open("a") as config:
        config.write(
            f'[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:{port}/{{event}}"\n'
            f'secret = "{SECRET}"\ntimeout = 1\n[notify]\nretry_for_seconds = 120\n'
        )
    return path


@pytest.fixture
def setting(store_url: str, tmp_path: Path) -> Iterator[tuple[Store, Service, DaemonFactory, int]]:
    port = free_port()
    config = notifying_config(tmp_path / "jobctl.toml", port)
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone="UTC", notify=load_config(str(config)).notify)
    factory = DaemonFactory(store_url, config, tmp_path)
    yield store, service, factory, port
    factory.stop_all()
    store.close()


def deliveries(service: Service) -> dict[str, dict[str, Any]]:
    return {d["event"]: d for d in service.list_notifications(per_page=100)["notifications"]}


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_leader_killed_before_delivering_leaves_it_to_the_next_leader(
    setting: tuple[Store, Service, DaemonFactory, int],
) -> None:
    _store, service, factory, port = setting
    failing = shell_job(service, "fails", "exit 4", scheduleConfig={"hours": 1},
                        notify=[{"notifier": "hook", "on": ["failure"]}])  # fmt: skip
    hanging = shell_job(service, "hangs", "sleep 60", scheduleConfig={"hours": 1},
                        notify=[{"notifier": "hook", "on": ["abandoned"]}])  # fmt: skip
    first = factory.start()
    service.trigger_job(failing["id"])
    service.trigger_job(hanging["id"])
    wait_for(lambda: deliveries(service).get("failure", {}).get("attempts", 0) >= 1, timeout=15,
             what="a failed attempt: nobody listens yet")  # fmt: skip
    wait_for(lambda: service.list_executions(job_id=hanging["id"])["executions"][0]["status"] == "running",
             timeout=10, what="the long run")  # fmt: skip
    first.signal(signal.SIGKILL)
    first.proc.wait(timeout=10)
    receiver = HttpReceiver(port=port).start()
    try:
        factory.start()
        wait_for(lambda: {d["status"] for d in deliveries(service).values()} == {"sent"} and len(deliveries(service))
                 == 2, timeout=30, what="both delivered by the next leader", interval=0.2)  # fmt: skip
        time.sleep(1.5)  # anything sent twice would arrive meanwhile
        assert sorted(r.path for r in receiver.received) == ["/abandoned", "/failure"]
        assert all(r.signature_ok for r in receiver.received)
        assert deliveries(service)["failure"]["attempts"] >= 2
    finally:
        receiver.stop()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_no_success_fires_for_time_no_daemon_was_running(setting: tuple[Store, Service, DaemonFactory, int]) -> None:
    _store, service, factory, port = setting
    job = shell_job(service, "deadman", "true", scheduleConfig={"hours": 1}, expectSuccessWithinSeconds=1,
                    notify=[{"notifier": "hook", "on": ["no_success"]}])  # fmt: skip
    time.sleep(1.2)  # the deadline passes with no daemon running
    receiver = HttpReceiver(port=port).start()
    try:
        factory.start()
        wait_for(lambda: receiver.received, timeout=10, what="the no_success event")
        time.sleep(1.5)
        [got] = receiver.received
        assert got.path == "/no_success" and got.json()["job"]["id"] == job["id"]
    finally:
        receiver.stop()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_delivery_sent_after_failed_attempts_shows_no_error_but_keeps_the_last_failure(
    setting: tuple[Store, Service, DaemonFactory, int],
) -> None:
    _store, service, factory, port = setting
    job = shell_job(service, "flaky", "exit 3", scheduleConfig={"hours": 1},
                    notify=[{"notifier": "hook", "on": ["failure"]}])  # fmt: skip
    receiver = HttpReceiver(port=port, status=503).start()
    try:
        daemon = factory.start(api=True)
        service.trigger_job(job["id"])
        wait_for(lambda: deliveries(service).get("failure", {}).get("attempts", 0) >= 1, timeout=15,
                 what="a failed attempt: the receiver answers 503")  # fmt: skip
        assert "answered 503" in deliveries(service)["failure"]["lastError"]
        receiver.status = 200
        wait_for(lambda: deliveries(service)["failure"]["status"] == "sent", timeout=15, what="the retry sent it")
    finally:
        receiver.stop()
    table = cli(factory, "notifications", "list")
    assert table.returncode == 0, table.stderr
    [row] = [line for line in table.stdout.splitlines() if " flaky " in line]
    assert " sent " in row and "503" not in row, "a sent delivery has no error to show"
    token = cli(factory, "token", "create", "viewer", "--role", "viewer").stdout.strip()
    api = f"http://127.0.0.1:{daemon.port}"
    for argv in (["notifications", "list", "--json"], ["--api", api, "notifications", "list", "--json"]):
        listed = cli(factory, *argv, token=token)
        assert listed.returncode == 0, listed.stderr
        [sent] = json.loads(listed.stdout)["notifications"]
        assert sent["status"] == "sent" and sent["attempts"] >= 2 and sent["lastError"] is None
        assert "answered 503" in sent["lastFailedAttemptError"], "the history of its attempts stays"
