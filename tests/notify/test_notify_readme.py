"""The README's "Getting told" examples, run against real servers on 127.0.0.1: its mail, Slack
and Healthchecks-style notifiers (hosts pointed at the test servers) deliver, and the rules of its
``curl`` example are accepted by the service."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobctl.config import config_from_dict
from jobctl.notifier_config import NotifySettings
from jobctl.notify.payload import event_payload
from jobctl.notify.send import send
from jobctl.service import Service
from jobctl.store import Store
from tests.conftest import ADMIN
from tests.notify.helpers import HttpReceiver, SmtpServer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
SECTION = README.split("## Getting told", 1)[1].split("\n## ", 1)[0]


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[HttpReceiver, SmtpServer]]:
    receiver, smtp = HttpReceiver().start(), SmtpServer(require_auth=False).start()
    yield receiver, smtp
    receiver.stop()
    smtp.stop()


def readme_config(receiver: HttpReceiver, smtp: SmtpServer) -> NotifySettings:
    """Every TOML block of the section, merged, with its hosts pointed at the test servers."""
    text = "\n".join(re.findall(r"```toml\n(.*?)```", SECTION, flags=re.S))
    text = text.replace("smtp_port = 25", f"smtp_port = {smtp.port}")
    text = re.sub(r"https://[a-z.]+(?=/)", receiver.url, text)
    return config_from_dict(tomllib.loads(text)).notify


def failure_event(job: str = "nightly backup") -> dict[str, Any]:
    payload = event_payload("failure", occurred_at=datetime.now(UTC), host="box", job=None, execution=None)
    payload.update(job={"id": "j-1", "name": job}, message=f"{job} failed", outputTail="disk full\n")
    payload["execution"] = {"id": "e-1", "status": "failed", "exitCode": 1, "errorMessage": "exit code 1"}
    return payload


def test_the_readme_notifiers_deliver_to_real_servers(servers: tuple[HttpReceiver, SmtpServer]) -> None:
    receiver, smtp = servers
    settings = readme_config(receiver, smtp)
    assert sorted(settings.names) == ["hc", "ops-mail", "slack"]
    assert [(r.notifier, r.on) for r in settings.default_rules] == [("ops-mail", ("failure", "timeout"))]
    for name in ("ops-mail", "slack", "hc"):
        spec = settings.notifier(name)
        assert spec is not None
        send(spec, failure_event(), base_env={})
    [mail] = smtp.messages
    assert mail["Subject"] == "[jobctl] nightly backup failed on box (exit 1)" and mail["To"] == "ops@example.com"
    slack, ping = receiver.received[-2:]
    assert slack.path == "/services/T000/B000/XXXX" and "nightly backup failed" in slack.json()["text"]
    assert ping.path == "/ping/nightly%20backup/failure"


def test_the_readme_rules_are_accepted(servers: tuple[HttpReceiver, SmtpServer], store: Store) -> None:
    settings = readme_config(*servers)
    body = json.loads(re.search(r"-d '(\{\"notify\".*?\})'", SECTION, flags=re.S).group(1))  # type: ignore[union-attr]
    service = Service(store, ADMIN, default_timezone="UTC", notify=settings)
    job = service.create_job({"name": "backup", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
                              "taskArgs": {"command": "true"}, **body})  # fmt: skip
    assert [rule["notifier"] for rule in job["notify"]] == ["hc", "slack"]
