"""A webhook URL's path is a credential (Slack's, Healthchecks'): a real daemon that delivers to
one, after a failed attempt and a successful one, has no line in its log that holds the path, not
even the HTTP client library's own request log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobctl.config import config_from_dict, load_config
from jobctl.notify import DeliveryFailed
from jobctl.notify.payload import event_payload
from jobctl.notify.send import send
from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config
from tests.notify.helpers import HttpReceiver

SECRET_PATH = "services/T000/B000/SECRETPATH"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver(status=503).start()
    yield server
    server.stop()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_daemon_log_never_holds_a_webhook_urls_path(
    store_url: str, tmp_path: Path, receiver: HttpReceiver, log_format: str
) -> None:
    config = write_config(tmp_path / "jobctl.toml", lease_ttl_seconds=2, shutdown_grace_seconds=1,
                          log_format=log_format)  # fmt: skip
    with config.open("a") as file:
        file.write(
            f'[[notifiers]]\nname = "slack"\ntype = "webhook"\nurl = "{receiver.url}/{SECRET_PATH}"\n'
            'format = "slack"\ntimeout = 2\n[notify]\nretry_for_seconds = 60\n'
        )
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone="UTC", notify=load_config(str(config)).notify)
    factory = DaemonFactory(store_url, config, tmp_path)
    try:
        job = shell_job(service, "fails", "exit 4", scheduleConfig={"hours": 1},
                        notify=[{"notifier": "slack", "on": ["failure"]}])  # fmt: skip
        daemon = factory.start()
        service.trigger_job(job["id"])
        listed = lambda: service.list_notifications(job_id=job["id"])["notifications"]  # noqa: E731
        wait_for(lambda: listed() and listed()[0]["attempts"] >= 1, timeout=15, what="a failed attempt (503)")
        receiver.status = 200
        wait_for(lambda: listed()[0]["status"] == "sent", timeout=15, what="the retry to deliver it")
        assert [r.path for r in receiver.received][-1] == "/" + SECRET_PATH
        assert daemon.stop() == 0
        log = daemon.log()
        assert "answered 503" in log, "the failed attempt is logged, naming the host"
        assert "SECRETPATH" not in log and "/services/" not in log, log
    finally:
        factory.stop_all()
        store.close()


def test_a_url_the_http_client_refuses_fails_the_delivery_naming_the_host_only(receiver: HttpReceiver) -> None:
    """httpx refuses a URL with a control character (TOML's ``\\u0000``) by an exception of its own,
    not an ``HTTPError``: it went to the sender's "failed unexpectedly" traceback instead of being a
    failed attempt that names the host."""
    hook = config_from_dict({"notifiers": [{"name": "n", "type": "webhook", "url": f"{receiver.url}/{SECRET_PATH}\0"}]})
    payload = event_payload("failure", occurred_at=datetime.now(UTC), host="box", job=None, execution=None)
    with pytest.raises(DeliveryFailed) as caught:
        send(hook.notify.notifiers[0], payload, base_env={})
    assert caught.value.message == f"cannot reach {receiver.url}: InvalidURL"
    assert not receiver.received
