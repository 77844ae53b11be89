"""A misspelt placeholder in a webhook URL (``{evnt}``) is refused when the config loads, naming the
notifier, the bad placeholder and the valid ones, rather than sent as ``%7Bevnt%7D`` at 3 a.m.; a
reload with one fails and keeps the old config, as any other bad value does. Real CLI processes,
a real daemon and a real receiver."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from jobctl.config import load_config
from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config
from tests.notify.helpers import HttpReceiver

VALID = "{job_name}, {job_id}, {event}, {execution_id}"


def webhook(url: str) -> str:
    return f'[[notifiers]]\nname = "hc"\ntype = "webhook"\nurl = "{url}"\ntimeout = 2\n'


def test_a_config_with_an_unknown_placeholder_is_refused_in_one_line(tmp_path: Path) -> None:
    config = write_config(tmp_path / "jobctl.toml")
    config.write_text(config.read_text() + webhook("https://hc.example.com/ping/{job}/{evnt}?x={job_id}"))
    store_url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    open_store(store_url).close()  # the store is there: only the config can be wrong
    done = subprocess.run(
        [sys.executable, "-m", "jobctl", "--config", str(config), "--db", store_url, "jobs", "list"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, (done.stdout, done.stderr)
    [line] = done.stderr.splitlines()
    assert "notifiers[0] (hc)" in line and "{job}, {evnt}" in line and VALID in line, line
    assert "{job_id}" not in line.replace(VALID, ""), "a valid placeholder is not named as unknown"
    assert "hc.example.com/ping" not in line, "the URL's path (a credential) is not shown"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_reload_with_an_unknown_placeholder_fails_and_keeps_the_old_url(
    store_url: str, tmp_path: Path, receiver: HttpReceiver
) -> None:
    config = write_config(tmp_path / "jobctl.toml", lease_ttl_seconds=2, shutdown_grace_seconds=1)
    good = config.read_text() + webhook(receiver.url + "/ping/{job_name}/{event}")
    config.write_text(good)
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone="UTC", notify=load_config(str(config)).notify)
    factory = DaemonFactory(store_url, config, tmp_path)
    try:
        job = shell_job(service, "backup", "exit 3", scheduleConfig={"hours": 1},
                        notify=[{"notifier": "hc", "on": ["failure"]}])  # fmt: skip
        daemon = factory.start()
        config.write_text(good.replace("/{event}", "/{evnt}"))
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "config reload failed" in daemon.log(), timeout=10, what="the refused reload")
        [refused] = [line for line in daemon.log().splitlines() if "config reload failed" in line]
        assert "(hc)" in refused and "{evnt}" in refused and VALID in refused, refused
        service.trigger_job(job["id"])
        wait_for(lambda: receiver.received, timeout=15, what="the failure's delivery")
        assert [r.path for r in receiver.received] == ["/ping/backup/failure"], "the old URL is in force"
    finally:
        factory.stop_all()
        store.close()
