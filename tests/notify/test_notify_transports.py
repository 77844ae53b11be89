"""Each notifier type against a real receiver on 127.0.0.1: mail with AUTH, signed webhooks, commands."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobctl.config import config_from_dict
from jobctl.errors import UsageError
from jobctl.notifier_config import NotifierSpec
from jobctl.notify import DeliveryFailed
from jobctl.notify.payload import event_payload
from jobctl.notify.send import send
from tests.notify.helpers import SECRET, SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer


@pytest.fixture(scope="module")
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def payload(event: str = "failure") -> dict[str, object]:
    data = event_payload("test", occurred_at=datetime.now(UTC), host="box", job=None, execution=None)
    data.update(
        event=event, deliveryId="d-1", job={"id": "j-1", "name": "back up/db"},
        execution={"id": "e-1", "status": "failed", "exitCode": 2, "errorMessage": "exit code 2"},
        outputTail="disk full\n", message="back up/db failed",
    )  # fmt: skip
    return data


def spec(kind: str, **settings: object) -> NotifierSpec:
    config = config_from_dict({"notifiers": [{"name": "n", "type": kind, **settings}]})
    return config.notify.notifiers[0]


def test_webhook_posts_the_event_signed_with_placeholders_filled(receiver: HttpReceiver) -> None:
    hook = spec("webhook", url=receiver.url + "/ping/{job_name}/{event}?e={execution_id}", secret=SECRET,
                headers={"X-Team": "ops"})  # fmt: skip
    send(hook, payload(), base_env={})
    got = receiver.received[-1]
    assert got.path == "/ping/back%20up%2Fdb/failure?e=e-1"
    assert got.signature_ok and got.headers["X-Team"] == "ops"
    assert got.json()["execution"]["exitCode"] == 2 and got.json()["deliveryId"] == "d-1"


def test_slack_format_sends_text(receiver: HttpReceiver) -> None:
    send(spec("webhook", url=receiver.url + "/slack", format="slack"), payload(), base_env={})
    body = receiver.received[-1].json()
    assert list(body) == ["text"] and "back up/db failed" in body["text"] and "disk full" in body["text"]


def test_webhook_errors_name_the_host_never_the_path(receiver: HttpReceiver) -> None:
    receiver.status = 500
    try:
        with pytest.raises(DeliveryFailed) as caught:
            send(spec("webhook", url=receiver.url + "/T000/SECRETPATH"), payload(), base_env={})
    finally:
        receiver.status = 200
    assert "answered 500" in caught.value.message and "SECRETPATH" not in caught.value.message


def test_email_over_smtp_with_auth(smtp: SmtpServer, tmp_path: Path) -> None:
    password_file = tmp_path / "pw"
    password_file.write_text(SMTP_PASSWORD + "\n")
    mail = spec("email", to=["ops@example.com"], **{"from": "jobctl@example.com"}, smtp_host="127.0.0.1",
                smtp_port=smtp.port, smtp_security="none", smtp_user=SMTP_USER,
                smtp_password_file=str(password_file))  # fmt: skip
    send(mail, payload(), base_env={})
    message = smtp.messages[-1]
    assert message["Subject"] == "[jobctl] back up/db failed on box (exit 2)"
    body = message.get_payload()
    assert "disk full" in body and "jobctl executions show e-1" in body
    assert "--- the output's last lines ---\r\ndisk full\r\n--- end ---" in body, "the tail is labelled above it"
    assert not message["Date"].endswith("-0000"), "a known zone: -0000 says it is unknown"
    assert smtp.logins


def test_email_wrong_password_fails_without_showing_it(smtp: SmtpServer) -> None:
    mail = spec("email", to=["ops@example.com"], **{"from": "jobctl@example.com"}, smtp_host="127.0.0.1",
                smtp_port=smtp.port, smtp_security="none", smtp_user=SMTP_USER, smtp_password="wrong-Pa55",
                timeout=2)  # fmt: skip
    sent_before = len(smtp.messages)
    with pytest.raises(DeliveryFailed) as caught:
        send(mail, payload(), base_env={})
    assert caught.value.message.startswith(f"SMTP 127.0.0.1:{smtp.port}") and "wrong-Pa55" not in caught.value.message
    assert len(smtp.messages) == sent_before


def test_command_gets_the_event_on_stdin_and_a_clean_environment(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = (
        "import json,os,sys; "
        f"json.dump({{'stdin': json.load(sys.stdin), 'env': dict(os.environ)}}, open({str(out)!r}, 'w'))"
    )
    os.environ["JOBCTL_TEST_DAEMON_SECRET"] = "hunter2"
    try:
        send(spec("command", argv=[sys.executable, "-c", script]), payload(), base_env={"PATH": "/usr/bin:/bin"})
    finally:
        del os.environ["JOBCTL_TEST_DAEMON_SECRET"]
    got = json.loads(out.read_text())
    assert got["stdin"]["event"] == "failure"
    assert got["env"]["JOBCTL_EVENT"] == "failure" and got["env"]["JOBCTL_JOB_NAME"] == "back up/db"
    assert got["env"]["JOBCTL_EXECUTION_ID"] == "e-1" and "JOBCTL_TEST_DAEMON_SECRET" not in got["env"]


def test_command_failure_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DeliveryFailed, match="exited 3: nope"):
        send(spec("command", argv=["/bin/sh", "-c", "echo nope >&2; exit 3"]), payload(), base_env={})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "webhook", "url": "ftp://x"}, "url must be an http"),
        ({"type": "webhook", "url": "http://x:99999/p"}, "url has a bad port: Port out of range 0-65535"),
        ({"type": "webhook", "url": "http://x", "timeout": -1}, "timeout must be more than 0"),
        ({"type": "webhook", "url": "http://x", "format": "xml"}, "format must be one of"),
        ({"type": "email", "to": ["a@b"], "from": "c@d"}, "needs either smtp_host or sendmail"),
        ({"type": "email", "to": ["nobody"], "from": "c@d", "smtp_host": "h"}, "to must list mail addresses"),
        ({"type": "command", "argv": ["relative"]}, "argv must be a list of strings starting with an absolute"),
        ({"type": "pager"}, "type must be one of"),
        ({"type": "webhook", "url": "http://x", "colour": "red"}, "unknown key 'colour'"),
    ],
    ids=[
        "bad-url",
        "bad-port",
        "negative-timeout",
        "format",
        "no-transport",
        "bad-address",
        "argv",
        "type",
        "unknown-key",
    ],
)
def test_bad_notifier_config_is_a_clear_error(entry: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        config_from_dict({"notifiers": [{"name": "n", **entry}]})


@pytest.mark.parametrize(
    ("notify", "message"),
    [
        ({"default": [{"notifier": "ghost", "on": ["failure"]}]}, "unknown notifier 'ghost'"),
        ({"default": [{"notifier": "n", "on": ["explosion"]}]}, "unknown event 'explosion'"),
        ({"retry_for_seconds": -5}, "retry_for_seconds must be between"),
        ({"output_tail_bytes": -1}, "output_tail_bytes must be between"),
    ],
    ids=["unknown-notifier", "unknown-event", "negative-retry", "negative-tail"],
)
def test_bad_notify_table_is_a_clear_error(notify: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        config_from_dict({"notifiers": [{"name": "n", "type": "webhook", "url": "http://x"}], "notify": notify})


def test_email_through_a_local_sendmail(tmp_path: Path) -> None:
    """A sendmail stand-in (a real script) gets the message on stdin with -t -i, as cron hands it."""
    spool = tmp_path / "spool"
    sendmail = tmp_path / "sendmail"
    sendmail.write_text(f'#!/bin/sh\necho "$@" > {spool}.args\ncat > {spool}\n')
    sendmail.chmod(0o755)
    send(spec("email", to=["root@localhost"], **{"from": "jobctl@localhost"}, sendmail=str(sendmail)),
         payload(), base_env={})  # fmt: skip
    assert Path(f"{spool}.args").read_text().split() == ["-t", "-i"]
    message = spool.read_text()
    assert "Subject: [jobctl] back up/db failed on box (exit 2)" in message and "To: root@localhost" in message
