"""The ``missed`` and ``late`` events name the slot they are about, in the job's zone and saying
which: a real daemon (its ``[scheduler] timezone`` in New York) records a range of slots missed
while it was not running and a queued slot that starts late, and mails them through a real SMTP
server (aiosmtpd) and posts them to a Slack-format webhook receiver."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobctl.config import load_config
from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for, write_config
from tests.notify.helpers import SMTP_PASSWORD, SMTP_USER, HttpReceiver, SmtpServer

ZONE = "America/New_York"


def notifiers(smtp: SmtpServer, receiver: HttpReceiver) -> str:
    return (
        f'[[notifiers]]\nname = "mail"\ntype = "email"\nto = ["ops@example.com"]\nfrom = "jobctl@example.com"\n'
        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsmtp_security = "none"\nsmtp_user = "{SMTP_USER}"\n'
        f'smtp_password = "{SMTP_PASSWORD}"\ntimeout = 5\n'
        f'[[notifiers]]\nname = "slack"\ntype = "webhook"\nurl = "{receiver.url}/slack"\nformat = "slack"\n'
    )


def local(value: Any) -> str:
    """A stored instant as the mail names a slot: the job's zone, to the second, the zone named."""
    return f"{datetime.fromisoformat(str(value)).astimezone(ZoneInfo(ZONE)):%Y-%m-%d %H:%M:%S}"


def sent(service: Service, job_id: str, event: str) -> str | None:
    """The execution of the job's first ``event`` once both its mail and its Slack post were sent."""
    found = [d for d in service.list_notifications(job_id=job_id, per_page=100)["notifications"] if d["event"] == event]
    first = found[-1]["executionId"] if found else None  # the list is newest first
    of_first = [d for d in found if d["executionId"] == first]
    return first if len(of_first) == 2 and all(d["status"] == "sent" for d in of_first) else None


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_missed_and_late_mails_and_slack_texts_name_the_slot_in_the_jobs_zone(
    store_url: str, tmp_path: Path, smtp: SmtpServer, receiver: HttpReceiver
) -> None:
    config = write_config(tmp_path / "jobctl.toml", lease_ttl_seconds=2, shutdown_grace_seconds=1)
    config.write_text(config.read_text().replace('timezone = "UTC"', f'timezone = "{ZONE}"')
                      + notifiers(smtp, receiver))  # fmt: skip
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone=ZONE, notify=load_config(str(config)).notify)
    factory = DaemonFactory(store_url, config, tmp_path)
    rules = lambda event: [{"notifier": "mail", "on": [event]}, {"notifier": "slack", "on": [event]}]  # noqa: E731
    try:
        gappy = shell_job(service, "gappy", "true", scheduleConfig={"seconds": 1}, misfirePolicy="skip",
                          notify=rules("missed"))  # fmt: skip
        time.sleep(3.5)
        factory.start()  # the slots of the last 3.5 s were due while no daemon ran: one missed range
        queued = shell_job(service, "queued", "sleep 4", scheduleConfig={"seconds": 2}, overlapPolicy="queue",
                           startGraceSeconds=1, notify=rules("late"))  # fmt: skip
        missed_sent = wait_for(lambda: sent(service, gappy["id"], "missed"), timeout=30, what="the missed event")
        late_sent = wait_for(lambda: sent(service, queued["id"], "late"), timeout=30, what="the late event")
        missed = service.get_execution(missed_sent)
        assert missed["missedCount"] >= 2, missed
        first, last = local(missed["scheduledFor"]), local(missed["missedUntil"])
        slots = f"{missed['missedCount']} slots, {first} to {last} {ZONE}"
        late = service.get_execution(late_sent)
        slot = f"after its slot, {local(late['scheduledFor'])} {ZONE} (grace 1s)"

        mails = [m.get_payload(decode=True).decode() for m in smtp.messages]  # no soft line breaks
        assert any(f"gappy missed {slots}: " in body for body in mails), mails
        assert any("queued started " in body and slot in body for body in mails), mails
        texts = [r.json()["text"] for r in receiver.received]
        assert any(f"gappy missed {slots}: " in text for text in texts), texts
        assert any(text.startswith("*queued started ") and slot in text for text in texts), texts
    finally:
        factory.stop_all()
        store.close()
