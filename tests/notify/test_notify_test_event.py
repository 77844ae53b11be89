"""``jobctl notifications test`` fills every placeholder a real event fills, with sample values that
say they are samples: a real webhook, a real SMTP server (aiosmtpd) and a real command, through
the real command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.notify.helpers import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # no store is involved

TEST_JOB_NAME = "jobctl-test-job"  # the samples docs/notifications.md documents
TEST_JOB_ID = "00000000-0000-0000-0000-000000000000"
TEST_EXECUTION_ID = "00000000-0000-0000-0000-000000000001"


def add_notifier(cli: Cli, toml: str) -> None:
    config = Path(cli.env["JOBCTL_CONFIG"])
    config.write_text(config.read_text() + toml)
    config.chmod(0o600)


def test_a_webhook_url_gets_every_placeholder_filled_with_a_sample(cli: Cli, receiver: HttpReceiver) -> None:
    url = receiver.url + "/ping/{job_name}/{event}?job={job_id}&run={execution_id}"
    add_notifier(cli, f'[[notifiers]]\nname = "hc"\ntype = "webhook"\nurl = "{url}"\n')
    assert cli("notifications", "test", "hc").code == 0
    assert cli("notifications", "test", "hc").code == 0
    first, second = receiver.received
    assert first.path == f"/ping/{TEST_JOB_NAME}/test?job={TEST_JOB_ID}&run={TEST_EXECUTION_ID}"
    event = first.json()
    assert event["event"] == "test" and "sample" in event["message"]
    assert event["job"] == {"id": TEST_JOB_ID, "name": TEST_JOB_NAME}
    assert event["execution"]["id"] == TEST_EXECUTION_ID and event["execution"]["exitCode"] == 0
    assert event["outputTail"] and event["host"]
    assert event["deliveryId"] and event["deliveryId"] != second.json()["deliveryId"], "a receiver dedupes by it"


def test_a_mail_names_the_sample_job_and_points_at_no_run(cli: Cli, smtp: SmtpServer) -> None:
    add_notifier(cli, '[[notifiers]]\nname = "mail"\ntype = "email"\nto = ["ops@example.com"]\n'
                 f'from = "jobctl@example.com"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
                 f'smtp_security = "none"\nsmtp_user = "{SMTP_USER}"\nsmtp_password = "{SMTP_PASSWORD}"\n')  # fmt: skip
    assert cli("notifications", "test", "mail").code == 0
    [message] = smtp.messages
    assert message["Subject"].startswith(f"[jobctl] {TEST_JOB_NAME} test notification on ")
    body = message.get_payload()
    assert "samples, nothing ran" in body and TEST_EXECUTION_ID in body
    assert "jobctl executions show" not in body, "the sample run is not in any store"


def test_a_command_gets_the_sample_job_in_its_environment(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    script = f"import json,os; json.dump(dict(os.environ), open({str(out)!r}, 'w'))"
    argv = json.dumps([sys.executable, "-c", script])
    add_notifier(cli, f'[[notifiers]]\nname = "cmd"\ntype = "command"\nargv = {argv}\n')
    assert cli("notifications", "test", "cmd").code == 0
    env = json.loads(out.read_text())
    assert (env["JOBCTL_EVENT"], env["JOBCTL_JOB_NAME"], env["JOBCTL_EXECUTION_ID"]) == (
        "test", TEST_JOB_NAME, TEST_EXECUTION_ID,
    )  # fmt: skip
