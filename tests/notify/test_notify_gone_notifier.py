"""A notifier removed from the config while jobs still name it (a real daemon, a real SIGHUP): each
new event for it is a ``failed`` delivery at once, logged as a WARNING; the start and every
reload say in one warning which jobs name a notifier the config lacks; a delivery already
pending for it fails at once too, and the log says so."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jobctl.config import load_config
from jobctl.service import Service
from jobctl.store import Store, open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, DaemonProcess, free_port, shell_job, wait_for, write_config
from tests.notify.helpers import HttpReceiver

GONE = "no notifier of this name in the daemon's config"


def notifier(name: str, url: str) -> str:
    return f'[[notifiers]]\nname = "{name}"\ntype = "webhook"\nurl = "{url}"\ntimeout = 1\n'


@pytest.fixture
def setting(store_url: str, tmp_path: Path, receiver: HttpReceiver) -> Iterator[tuple[Service, DaemonFactory, Path]]:
    """A config with ``n1`` (the receiver) and ``n2`` (a port nobody listens on), deliveries
    retried for two minutes; the test takes ``n2`` out of it."""
    config = write_config(tmp_path / "jobctl.toml", lease_ttl_seconds=2, shutdown_grace_seconds=1)
    with config.open("a") as file:
        file.write(notifier("n1", receiver.url + "/n1/{event}"))
        file.write(notifier("n2", f"http://127.0.0.1:{free_port()}/n2/{{event}}"))
        file.write("[notify]\nretry_for_seconds = 120\n")
    store: Store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone="UTC", notify=load_config(str(config)).notify)
    factory = DaemonFactory(store_url, config, tmp_path)
    yield service, factory, config
    factory.stop_all()
    store.close()


def without_n2(config: Path) -> None:
    text = config.read_text()
    start = text.index('[[notifiers]]\nname = "n2"')
    end = text.index("[notify]")
    config.write_text(text[:start] + text[end:])


def deliveries(service: Service, job_id: str) -> list[dict[str, Any]]:
    return service.list_notifications(job_id=job_id, per_page=100)["notifications"]


def warnings_about(daemon: DaemonProcess, text: str) -> list[str]:
    return [line for line in daemon.log().splitlines() if " WARNING " in line and text in line]


def reloaded(daemon: DaemonProcess, times: int) -> bool:
    return daemon.log().count("config reloaded") >= times


@pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
def test_an_event_for_a_notifier_gone_from_the_config_is_a_failed_delivery_at_once_and_logged(
    setting: tuple[Service, DaemonFactory, Path], receiver: HttpReceiver
) -> None:
    service, factory, config = setting
    job = shell_job(service, "fails", "exit 4", scheduleConfig={"hours": 1},
                    notify=[{"notifier": "n1", "on": ["failure"]}, {"notifier": "n2", "on": ["failure"]}])  # fmt: skip
    daemon = factory.start()
    without_n2(config)
    daemon.signal(signal.SIGHUP)
    wait_for(lambda: reloaded(daemon, 1), timeout=10, what="the reload")
    service.trigger_job(job["id"])
    wait_for(lambda: len(deliveries(service, job["id"])) == 2, timeout=15, what="the failure's deliveries")
    by_notifier = {d["notifier"]: d for d in deliveries(service, job["id"])}
    gone = by_notifier["n2"]
    assert (gone["status"], gone["lastError"], gone["attempts"]) == ("failed", GONE, 0), gone
    wait_for(lambda: [r for r in receiver.received if r.path == "/n1/failure"], timeout=15,
             what="the notifier still in the config to get it")  # fmt: skip
    [logged] = wait_for(lambda: warnings_about(daemon, gone["id"]), timeout=5, what="the failure's log line")
    assert "failure of job fails" in logged and "to n2" in logged and GONE in logged, logged


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_start_and_a_reload_name_the_jobs_whose_notifier_is_gone_and_a_pending_delivery_fails_logged(
    setting: tuple[Service, DaemonFactory, Path],
) -> None:
    service, factory, config = setting
    failing = shell_job(service, "fails", "exit 4", scheduleConfig={"hours": 1},
                        notify=[{"notifier": "n2", "on": ["failure"]}])  # fmt: skip
    shell_job(service, "fine", "true", scheduleConfig={"hours": 1}, notify=[{"notifier": "n1", "on": ["failure"]}])
    daemon = factory.start()
    service.trigger_job(failing["id"])
    wait_for(lambda: [d for d in deliveries(service, failing["id"]) if d["attempts"] >= 1], timeout=15,
             what="a failed attempt: nobody listens on n2's port")  # fmt: skip
    [pending] = deliveries(service, failing["id"])
    assert pending["status"] == "pending"
    assert not warnings_about(daemon, "a notifier the config lacks"), "n2 is still in the config"

    without_n2(config)
    daemon.signal(signal.SIGHUP)
    [named] = wait_for(
        lambda: warnings_about(daemon, "a notifier the config lacks"), timeout=10, what="the reload's warning"
    )
    assert "fails (n2)" in named and "fine" not in named, named
    # Failed well before its next try (backoff) and the 30 s orphan check: at once, and logged.
    wait_for(lambda: deliveries(service, failing["id"])[0]["status"] == "failed", timeout=5,
             what="the pending delivery to fail")  # fmt: skip
    assert deliveries(service, failing["id"])[0]["lastError"] == GONE
    given_up = lambda: [line for line in warnings_about(daemon, pending["id"]) if GONE in line]  # noqa: E731
    [logged] = wait_for(given_up, timeout=5, what="its log line (after those of its failed attempts)")
    assert "failure of job fails" in logged and "to n2" in logged, logged

    daemon.signal(signal.SIGHUP)  # a second reload says it again, once
    wait_for(lambda: reloaded(daemon, 2), timeout=10, what="the second reload")
    wait_for(lambda: len(warnings_about(daemon, "a notifier the config lacks")) == 2, timeout=5, what="its warning")
    assert daemon.stop() == 0
    restarted = factory.start()
    wait_for(
        lambda: warnings_about(restarted, "a notifier the config lacks"), timeout=5, what="the warning at the start"
    )
    [named] = warnings_about(restarted, "a notifier the config lacks")
    assert "fails (n2)" in named and "fine" not in named, named


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_with_no_notifier_left_in_the_config_the_checks_events_are_failed_deliveries_too(
    setting: tuple[Service, DaemonFactory, Path],
) -> None:
    """The time-based checks ran only while the config had a notifier; with every notifier
    removed, a ``long_running`` of a job still naming one is a failed delivery like an outcome's."""
    service, factory, config = setting
    slow = shell_job(service, "slow", "sleep 30", scheduleConfig={"hours": 1}, maxRuntimeAlertSeconds=1,
                     notify=[{"notifier": "n1", "on": ["long_running", "output"]}])  # fmt: skip
    noisy = shell_job(service, "noisy", "echo hello", scheduleConfig={"hours": 1},
                      notify=[{"notifier": "n2", "on": ["output"]}])  # fmt: skip
    text = config.read_text()
    config.write_text(text[: text.index("[[notifiers]]")] + text[text.index("[notify]") :])
    daemon = factory.start()
    [named] = warnings_about(daemon, "a notifier the config lacks")
    assert "2 jobs name" in named and "noisy (n2), slow (n1)" in named, named
    service.trigger_job(slow["id"])
    service.trigger_job(noisy["id"])
    for job, event in ((slow, "long_running"), (noisy, "output")):
        [delivery] = wait_for(lambda job=job: deliveries(service, job["id"]), timeout=15, what=f"the {event} event")
        assert (delivery["event"], delivery["status"], delivery["lastError"]) == (event, "failed", GONE), delivery
        wait_for(lambda d=delivery: warnings_about(daemon, d["id"]), timeout=5, what="its log line")
