"""The notification endpoints over the real app (in-process HTTP) and the CLI in both modes:
notifiers listed with secrets masked, test sends (operator), deliveries paged, pause reasons, and
the same answers from the local service and the remote client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jobctl.api import create_app
from jobctl.client import RemoteService
from jobctl.config import config_from_dict
from jobctl.models import Caller, Role
from jobctl.notifier_config import NotifySettings
from jobctl.service import Service
from jobctl.service.settings import ServiceSettings
from jobctl.service.tokens import create_token
from jobctl.store import Store
from jobctl.store.deliveries import NewDelivery
from tests.conftest import Cli
from tests.daemon.helpers import free_port
from tests.notify.helpers import SECRET, HttpReceiver

API = "/api/v1/scheduler"
SMTP_SECRET = "Sm7p-s3cret-pw"


def settings_for(url: str) -> NotifySettings:
    return config_from_dict({"notifiers": [
        {"name": "hook", "type": "webhook", "url": url + "/T0001/B0002/hidden-path", "secret": SECRET,
         "headers": {"Authorization": "Bearer hdr-secret"}, "timeout": 2},
        {"name": "mail", "type": "email", "to": ["ops@example.com"], "from": "j@example.com",
         "smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none", "smtp_user": "u",
         "smtp_password": SMTP_SECRET, "timeout": 2},
    ]}).notify  # fmt: skip


@dataclass
class Rig:
    client: TestClient
    secrets: dict[str, str]
    local: Service
    remote: RemoteService
    receiver: HttpReceiver
    store: Store

    def call(self, method: str, path: str, role: str = "admin", **kwargs: object) -> object:
        headers = {"Authorization": f"Bearer {self.secrets[role]}"}
        return self.client.request(method, API + path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rig(module_store_url: str) -> Iterator[Rig]:
    """One app, store and receiver for the module's API tests (each uses jobs of its own)."""
    from jobctl.store import open_store

    store = open_store(module_store_url)
    receiver = HttpReceiver().start()
    settings = settings_for(receiver.url)
    secrets = {role.value: create_token(store, f"{role.value}-token", role.value)[0] for role in Role}
    local = Service(store, Caller(user_id="admin-token", role=Role.ADMIN), default_timezone="UTC", notify=settings)
    app = create_app(store, settings=ServiceSettings(default_timezone="UTC", notify=settings))
    with TestClient(app) as client:
        remote = RemoteService("http://testserver", token=secrets["admin"], client=client)
        yield Rig(client, secrets, local, remote, receiver, store)
        remote.close()
    receiver.stop()
    store.close()


def test_notifiers_are_listed_to_viewers_with_secrets_masked(rig: Rig) -> None:
    response = rig.call("GET", "/notifiers", role="viewer")
    assert response.status_code == 200  # type: ignore[attr-defined]
    text = response.text  # type: ignore[attr-defined]
    for secret in (SECRET, SMTP_SECRET, "hdr-secret", "hidden-path", "B0002"):
        assert secret not in text
    hook = {n["name"]: n for n in response.json()["notifiers"]}["hook"]  # type: ignore[attr-defined]
    assert hook["settings"]["secret"] == "***" and hook["target"] == f"{rig.receiver.url}/***"
    assert rig.remote.list_notifiers() == rig.local.list_notifiers()


def test_a_test_send_is_for_operators_and_reports_the_result(rig: Rig) -> None:
    before = len(rig.receiver.received)
    assert rig.call("POST", "/notifiers/hook/test", role="viewer").status_code == 403  # type: ignore[attr-defined]
    assert len(rig.receiver.received) == before
    as_operator = rig.call("POST", "/notifiers/hook/test", role="operator")
    assert as_operator.status_code == 200 and as_operator.json()["ok"] is True  # type: ignore[attr-defined]
    assert rig.remote.test_notifier("hook") == {"notifier": "hook", "ok": True, "error": None}
    [_, got] = rig.receiver.received[before:]
    assert got.signature_ok and got.json()["event"] == "test" and got.json()["job"]["name"] == "jobctl-test-job"
    failed = rig.remote.test_notifier("mail")  # nobody listens on its port
    assert failed["ok"] is False and failed["error"] and SMTP_SECRET not in failed["error"]
    assert rig.call("POST", "/notifiers/nope/test").status_code == 404  # type: ignore[attr-defined]


def test_notifications_are_paged_and_filtered_alike_in_both_modes(rig: Rig) -> None:
    now = datetime.now(UTC)
    job = rig.local.create_job({"name": "j", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
                                "taskArgs": {"command": "true"}})  # fmt: skip
    rig.store.deliveries.insert_many([
        NewDelivery(event="failure", subject=f"e{n}", job_id=job["id"], job_name="j", execution_id=None,
                    notifier="hook", payload={"event": "failure"}, created_at=now)
        for n in range(3)
    ])  # fmt: skip
    page = rig.remote.list_notifications(job_id=job["id"], per_page=2, page=2)
    assert page == rig.local.list_notifications(job_id=job["id"], per_page=2, page=2)
    assert page["total"] == 3 and len(page["notifications"]) == 1
    assert rig.remote.list_notifications(status="sent")["total"] == 0
    bad = rig.call("GET", "/notifications?status=lost", role="viewer")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "status"]  # type: ignore[attr-defined]


def test_pause_reason_and_bad_bodies_over_the_api(rig: Rig) -> None:
    body = {"name": "p", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"}}  # fmt: skip
    bad = rig.call("POST", "/jobs", json={**body, "notify": [{"notifier": "ghost", "on": ["failure"]}]})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert bad.json()["detail"][0]["loc"] == ["body", "notify", 0, "notifier"]  # type: ignore[attr-defined]
    job = rig.call("POST", "/jobs", json=body).json()  # type: ignore[attr-defined]
    paused = rig.call("PUT", f"/jobs/{job['id']}/status", role="operator",
                      json={"isPaused": True, "reason": "disk swap"}).json()  # type: ignore[attr-defined]  # fmt: skip
    assert (paused["pausedReason"], paused["pausedBy"]) == ("disk swap", "operator-token")
    refused = rig.call("PUT", f"/jobs/{job['id']}/status", json={"isEnabled": True, "reason": "x"})
    assert refused.status_code == 422  # type: ignore[attr-defined]


def notifying_cli(cli: Cli, url: str) -> Cli:
    config = Path(cli.env["JOBCTL_CONFIG"])
    config.write_text(
        config.read_text() + f'[[notifiers]]\nname = "hook"\ntype = "webhook"\nurl = "{url}/x"\nsecret = "{SECRET}"\n'
    )
    config.chmod(0o600)  # it holds a secret now: a wider mode makes every command warn
    return cli


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the service tests above cover both stores
def test_cli_notifications_and_pause_reason(cli: Cli) -> None:
    receiver = HttpReceiver().start()
    try:
        notifying_cli(cli, receiver.url)
        assert cli("notifications", "test", "hook").code == 0 and receiver.received[0].signature_ok
        missing = cli("notifications", "test", "nope")
        assert missing.code == 3 and missing.stderr.count("\n") == 1
        assert cli("notifications", "list", "--status", "lost").code == 2
        assert cli("notifications", "list", "--job", "").code == 3, "an unset $JOB is no job, not every job"
        assert cli("jobs", "create", "nightly", "--every", "1h", "--command", "true").code == 0
        assert cli("jobs", "pause", "nightly", "--reason", "disk swap until Friday").code == 0
        listed = cli("jobs", "list")
        assert "paused: disk swap until Friday" in listed.stdout
        assert "disk swap until Friday" in cli("jobs", "show", "nightly").stdout
        assert cli("notifications", "list", "--json").stdout.strip().startswith("{")
        assert SECRET not in cli("notifications", "notifiers").stdout
    finally:
        receiver.stop()
    down = cli("notifications", "test", "hook")
    assert down.code == 1 and "failed" in down.stderr and SECRET not in down.stderr
    assert down.stderr.startswith("jobctl: test notification through hook failed: ") and "warning" not in down.stderr


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_cli_notify_option_sets_replaces_and_clears_rules(cli: Cli) -> None:
    import json

    notifying_cli(cli, "http://127.0.0.1:9")
    created = cli("jobs", "create", "n", "--every", "1h", "--command", "true", "--notify", "hook:failure,timeout",
                  "--notify", "hook:start:each-attempt", "--pause-after-failures", "3", "--expect-success-within",
                  "1d", "--json")  # fmt: skip
    assert created.code == 0, created.stderr
    job = json.loads(created.stdout)
    assert job["notify"] == [{"notifier": "hook", "on": ["failure", "timeout"], "eachAttempt": False},
                             {"notifier": "hook", "on": ["start"], "eachAttempt": True}]  # fmt: skip
    assert (job["pauseAfterFailures"], job["expectSuccessWithinSeconds"]) == (3, 86400)
    cleared = json.loads(cli("jobs", "update", "n", "--clear-notify", "--json").stdout)
    assert cleared["notify"] is None
    for bad, message in (
        (["--notify", "hook"], "--notify takes NOTIFIER:EVENT"),
        (["--notify", "ghost:failure"], "unknown notifier 'ghost'"),
        (["--notify", "hook:explosion"], "notify.0.on.0: Input should be"),
        (["--start-grace", "-5"], "start-grace"),
    ):
        result = cli("jobs", "update", "n", *bad)
        assert result.code == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert json.loads(cli("jobs", "show", "n", "--json").stdout)["notify"] is None, "nothing written"
