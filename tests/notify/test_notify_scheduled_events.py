"""Events that come from the scheduler and from time: start, late, skipped and missed written with the
claim (a fake clock, a real store), and the long_running and no_success checks, which are worked
out from stored times and so also catch what happened while no daemon ran."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobctl.config import config_from_dict
from jobctl.models import ExecutionStatus
from jobctl.notifier_config import NotifySettings
from jobctl.service import Service
from jobctl.service.job_checks import check_deliveries
from jobctl.store import Store
from jobctl.store.executions import FinishedRun
from tests.conftest import ADMIN, TEST_ZONE
from tests.scheduler.helpers import Rig, S, iso

SETTINGS: NotifySettings = config_from_dict(
    {"notifiers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/{event}"}]}
).notify
MINUTE = timedelta(minutes=1)


def events(store: Store, job_id: str) -> list[str]:
    items, _ = store.deliveries.list(job_id=job_id, status=None, limit=100, offset=0)
    return sorted(d.event for d in items)


def noticing(rig: Rig) -> Rig:
    rig.service = Service(rig.store, ADMIN, default_timezone=TEST_ZONE, notify=SETTINGS)
    rig.scheduler.notify = SETTINGS
    return rig


def test_start_late_and_skipped_are_written_with_the_claim(rig: Rig) -> None:
    noticing(rig)
    rules = [{"notifier": "hook", "on": ["start", "late", "skipped"]}]
    single = rig.job("single", {"minutes": 1, "start_date": iso(S)}, notify=rules, startGraceSeconds=3)
    double = rig.job("double", {"minutes": 1, "start_date": iso(S)}, notify=rules, startGraceSeconds=3,
                     maxInstances=2)  # fmt: skip
    rig.tick(S)
    assert events(rig.store, single["id"]) == ["start"] == events(rig.store, double["id"])
    rig.tick(S + MINUTE + timedelta(seconds=5))  # both first runs are still running; 5 s past the slot
    assert events(rig.store, single["id"]) == ["skipped", "start"], "maxInstances 1: the slot is skipped"
    assert events(rig.store, double["id"]) == ["late", "start", "start"], "5 s late with a 3 s grace"


def test_a_missed_range_is_one_missed_event_written_with_the_claim(rig: Rig) -> None:
    noticing(rig)
    job = rig.job("gappy", {"minutes": 1, "start_date": iso(S)}, notify=[{"notifier": "hook", "on": ["missed"]}],
                  misfirePolicy="skip")  # fmt: skip
    rig.tick(S)
    rig.tick(S + timedelta(hours=1, seconds=7))  # 60 slots passed while nothing claimed them
    [missed] = [e for e in rig.runs(job["id"]) if e["status"] == "missed"]
    [delivery], _ = rig.store.deliveries.list(job_id=job["id"], status=None, limit=10, offset=0)
    assert (delivery.event, delivery.execution_id) == ("missed", missed["id"])
    first, last = (datetime.fromisoformat(missed[key]).astimezone(ZoneInfo(TEST_ZONE)) for key in
                   ("scheduledFor", "missedUntil"))  # fmt: skip
    slots = f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} {TEST_ZONE}"  # the job's zone: the default
    assert delivery.payload["message"].startswith(f"gappy missed {missed['missedCount']} slots, {slots}: ")


def test_a_job_without_rules_for_an_event_gets_no_delivery(rig: Rig) -> None:
    noticing(rig)
    job = rig.job("quiet", {"minutes": 1, "start_date": iso(S)}, notify=[{"notifier": "hook", "on": ["failure"]}])
    rig.tick(S)
    assert events(rig.store, job["id"]) == []


def create(service: Service, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
            "taskArgs": {"command": "true"}, **fields}  # fmt: skip
    return service.create_job(body)


@pytest.fixture
def noticed(store: Store) -> Service:
    return Service(store, ADMIN, default_timezone=TEST_ZONE, notify=SETTINGS)


def test_no_success_fires_once_per_deadline_from_stored_times(store: Store, noticed: Service) -> None:
    job = create(noticed, "deadman", expectSuccessWithinSeconds=60, notify=[{"notifier": "hook", "on": ["no_success"]}])
    created = store.jobs.get(job["id"])
    assert created is not None
    seen: set[str] = set()
    assert check_deliveries(store, SETTINGS, now=created.created_at + timedelta(seconds=59), seen=seen) == 0
    # a first look long after the deadline (no daemon ran meanwhile) fires at once, and once
    later = created.created_at + timedelta(hours=5)
    assert check_deliveries(store, SETTINGS, now=later, seen=seen) == 1
    assert check_deliveries(store, SETTINGS, now=later + timedelta(hours=1), seen=set()) == 0, "another leader"
    [delivery], _ = store.deliveries.list(job_id=job["id"], status=None, limit=10, offset=0)
    assert delivery.payload["execution"] is None and "no success since it was created" in delivery.payload["message"]
    execution_id = noticed.trigger_job(job["id"])["executionId"]
    store.executions.mark_running(execution_id, instance_id="i", started_at=later)
    store.executions.finish_run(FinishedRun(execution_id=execution_id, status=ExecutionStatus.SUCCESS.value,
                                            started_at=later, completed_at=later, duration_seconds=0.0, result=None,
                                            error_message=None))  # fmt: skip
    assert check_deliveries(store, SETTINGS, now=later + timedelta(seconds=30), seen=seen) == 0
    assert check_deliveries(store, SETTINGS, now=later + timedelta(seconds=61), seen=seen) == 1, "a new silence"


def test_long_running_alerts_once_and_does_not_stop_the_run(store: Store, noticed: Service) -> None:
    job = create(noticed, "slow", maxRuntimeAlertSeconds=30,
                 notify=[{"notifier": "hook", "on": ["long_running"]}])  # fmt: skip
    created = store.jobs.get(job["id"])
    assert created is not None
    execution_id = noticed.trigger_job(job["id"])["executionId"]
    started = created.created_at
    store.executions.mark_running(execution_id, instance_id="i", started_at=started)
    assert check_deliveries(store, SETTINGS, now=started + timedelta(seconds=29), seen=set()) == 0
    assert check_deliveries(store, SETTINGS, now=started + timedelta(seconds=31), seen=set()) == 1
    assert check_deliveries(store, SETTINGS, now=started + timedelta(seconds=90), seen=set()) == 0
    assert noticed.get_execution(execution_id)["status"] == "running"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the body's rules, the same on both stores
@pytest.mark.parametrize("field", ["startGraceSeconds", "maxRuntimeAlertSeconds", "expectSuccessWithinSeconds"])
def test_bad_check_seconds_are_422_at_the_field(noticed: Service, field: str) -> None:
    from jobctl.errors import ValidationFailed

    for value in (-5, 0, "60", 10**9):  # negative, zero, text, more than 360 days
        with pytest.raises(ValidationFailed) as caught:
            create(noticed, "bad", **{field: value})
        assert caught.value.errors[0]["loc"][:2] == ["body", field], value
    assert noticed.list_jobs()["total"] == 0
