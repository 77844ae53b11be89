"""From an outcome to a delivery on real stores: rows written with the outcome, sent once by the
leader's sender, retried while the receiver is down, auto-pause, recovery, and each attempt."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from jobctl.config import config_from_dict
from jobctl.errors import ValidationFailed
from jobctl.models import Caller, Role
from jobctl.notifier_config import NotifySettings
from jobctl.scheduler import notify_sender
from jobctl.scheduler.leadership import Leadership
from jobctl.scheduler.notify_sender import NotificationSender
from jobctl.scheduler.runner import Runner
from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import wait_for
from tests.notify.helpers import SECRET, HttpReceiver


def settings_for(receiver: HttpReceiver, **notify: Any) -> NotifySettings:
    return config_from_dict({
        "notifiers": [{"name": "hook", "type": "webhook", "url": receiver.url + "/{event}", "secret": SECRET,
                       "timeout": 2}],
        "notify": {"retry_for_seconds": 60, **notify},
    }).notify  # fmt: skip


@dataclass
class Rig:
    store: Store
    service: Service
    runner: Runner
    sender: NotificationSender

    def job(self, name: str, command: str, **fields: Any) -> dict[str, Any]:
        body = {"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
                "taskArgs": {"command": command}, **fields}  # fmt: skip
        return self.service.create_job(body)

    def run(self, job_id: str) -> dict[str, Any]:
        """Run the job once through the runner and wait for its outcome (and its retries)."""
        executions_before = self.service.list_executions(job_id=job_id)["total"]
        self.service.trigger_job(job_id)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for execution in self.store.executions.startable(datetime.now(UTC), limit=10):
                job = self.store.jobs.get(execution.job_id)
                assert job is not None
                if self.store.executions.mark_running(execution.id, instance_id="i", started_at=datetime.now(UTC)):
                    started = self.store.executions.get(execution.id)
                    assert started is not None
                    self.runner.submit(job, started)
            listed = self.service.list_executions(job_id=job_id)["executions"]
            if len(listed) > executions_before and not any(e["status"] in ("pending", "running") for e in listed):
                return listed[0]
            time.sleep(0.05)
        raise AssertionError("the run did not finish")

    def deliveries(self, job_id: str | None = None) -> list[dict[str, Any]]:
        return self.service.list_notifications(job_id=job_id, per_page=100)["notifications"]

    def send_all(self) -> None:
        """One round of the sender: claim and send what is due, then record the results."""
        self.sender.step(datetime.now(UTC))
        deadline = time.monotonic() + 5
        while self.sender.in_flight() and time.monotonic() < deadline:
            time.sleep(0.02)
            self.sender.record_results()


def make_rig(store: Store, settings: NotifySettings) -> Iterator[Rig]:
    leadership = Leadership(store, ttl_seconds=5)
    leadership.register()
    assert leadership.beat()
    service = Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone="UTC", notify=settings)
    runner = Runner(store, max_workers=4, notify=settings)
    sender = NotificationSender(store, leadership=leadership, settings=settings, base_env={})
    try:
        yield Rig(store, service, runner, sender)
    finally:
        runner.shutdown(5)


@pytest.fixture
def rig(store: Store, receiver: HttpReceiver) -> Iterator[Rig]:
    yield from make_rig(store, settings_for(receiver))


def test_a_failure_writes_its_delivery_with_the_outcome_and_the_sender_delivers_it_once(
    rig: Rig, receiver: HttpReceiver
) -> None:
    job = rig.job("nightly", "echo out; echo err >&2; exit 3", notify=[{"notifier": "hook", "on": ["failure"]}])
    execution = rig.run(job["id"])
    [delivery] = rig.deliveries(job["id"])  # there as soon as the outcome is: same transaction
    assert (delivery["event"], delivery["status"], delivery["executionId"]) == ("failure", "pending", execution["id"])
    rig.send_all()
    wait_for(lambda: rig.deliveries()[0]["status"] == "sent", timeout=5, what="sent")
    rig.send_all()
    time.sleep(0.2)
    [got] = receiver.received
    event = got.json()
    assert got.signature_ok and got.path == "/failure"
    assert set(event) == {"event", "occurredAt", "deliveryId", "host", "job", "execution", "outputTail", "message"}
    assert event["deliveryId"] == delivery["id"] and event["job"] == {"id": job["id"], "name": "nightly"}
    assert event["execution"]["exitCode"] == 3 and event["execution"]["status"] == "failed"
    assert "out" in event["outputTail"] and "err" in event["outputTail"]


def test_a_receiver_down_then_up_gets_it_once_after_recorded_retries(rig: Rig, receiver: HttpReceiver) -> None:
    job = rig.job("flaky", "exit 1", notify=[{"notifier": "hook", "on": ["failure"]}])
    rig.run(job["id"])
    receiver.status = 503
    rig.send_all()
    wait_for(lambda: rig.deliveries()[0]["attempts"] == 1, timeout=5, what="first failed attempt")
    failed = rig.deliveries()[0]
    assert failed["status"] == "pending" and "answered 503" in failed["lastError"] and failed["nextAttemptAt"]
    receiver.status = 200
    wait_for(lambda: rig.send_all() or rig.deliveries()[0]["status"] == "sent", timeout=8, what="retry", interval=0.2)
    assert rig.deliveries()[0]["attempts"] == 2
    assert receiver.received[0].body == receiver.received[1].body, "the same event both times"
    assert len(receiver.received) == 2  # the 503 and the one delivery


def test_success_is_final_only_and_each_attempt_sends_every_try(rig: Rig) -> None:
    rules = [{"notifier": "hook", "on": ["failure"], "eachAttempt": True}, {"notifier": "hook", "on": ["timeout"]}]
    job = rig.job("retried", "exit 1", retryCount=1, retryDelaySeconds=0, notify=rules)
    rig.run(job["id"])
    events = sorted((d["event"], d["executionId"]) for d in rig.deliveries(job["id"]))
    assert [event for event, _ in events] == ["failure", "failure"] and len({e for _, e in events}) == 2
    only_final = rig.job("final-only", "exit 1", retryCount=1, retryDelaySeconds=0,
                         notify=[{"notifier": "hook", "on": ["failure"]}])  # fmt: skip
    rig.run(only_final["id"])
    [delivery] = rig.deliveries(only_final["id"])
    runs = rig.service.list_executions(job_id=only_final["id"])["executions"]
    assert delivery["executionId"] == runs[0]["id"] and runs[0]["attempt"] == 2


def test_recovery_and_output_events(rig: Rig) -> None:
    rules = [{"notifier": "hook", "on": ["recovery", "output"]}]
    job = rig.job("mend", "test -e /nonexistent-flag-file", notify=rules)
    rig.run(job["id"])
    assert rig.deliveries(job["id"]) == []  # failed silently: not an event it asked for
    rig.service.update_job(job["id"], {"taskArgs": {"command": "echo fixed"}})
    rig.run(job["id"])
    assert sorted(d["event"] for d in rig.deliveries(job["id"])) == ["output", "recovery"]
    rig.run(job["id"])
    assert sorted(d["event"] for d in rig.deliveries(job["id"])) == ["output", "output", "recovery"]


def test_default_rules_apply_to_jobs_without_their_own(store: Store, receiver: HttpReceiver) -> None:
    settings = settings_for(receiver, default=[{"notifier": "hook", "on": ["failure"]}])
    for rig in make_rig(store, settings):
        plain = rig.job("plain", "exit 1")
        opted_out = rig.job("quiet", "exit 1", notify=[])
        rig.run(plain["id"])
        rig.run(opted_out["id"])
        assert [d["jobName"] for d in rig.deliveries()] == ["plain"]


def test_auto_pause_after_n_failures_and_resume(rig: Rig) -> None:
    job = rig.job("breaking", "exit 2", pauseAfterFailures=2, notify=[{"notifier": "hook", "on": ["paused"]}])
    rig.run(job["id"])
    assert rig.service.get_job(job["id"])["isPaused"] is False
    rig.run(job["id"])
    paused = rig.service.get_job(job["id"])
    assert paused["isPaused"] and paused["nextRunTime"] is None and paused["pausedBy"] == "jobctl"
    assert paused["pausedReason"].startswith("paused after 2 consecutive failures, last at 20")
    [event] = rig.deliveries(job["id"])
    assert event["event"] == "paused"
    resumed = rig.service.set_job_status(job["id"], {"isPaused": False})
    assert (resumed["isPaused"], resumed["pausedReason"], resumed["pausedBy"]) == (False, None, None)
    rig.run(job["id"])
    assert rig.service.get_job(job["id"])["isPaused"] is False, "the streak starts again after a resume"


def test_an_auto_pause_is_a_change_by_jobctl_as_a_manual_pause_is_by_its_caller(rig: Rig) -> None:
    """``updatedAt``/``updatedBy`` say who last changed the job (README): a manual pause sets both
    to the pause and its caller, so the auto-pause sets them to the pause and ``jobctl``, the
    actor of its ``job.paused`` entry, not the time alone beside the name of who changed it before."""
    manual = rig.job("manual-pause", "true")
    Service(rig.store, Caller(user_id="ops-token", role=Role.OPERATOR), default_timezone="UTC").set_job_status(
        manual["id"], {"isPaused": True}
    )
    by_hand = rig.service.get_job(manual["id"])
    assert (by_hand["updatedAt"], by_hand["updatedBy"]) == (by_hand["pausedAt"], "ops-token")

    job = rig.job("auto-pause", "exit 2", pauseAfterFailures=1)
    assert rig.service.get_job(job["id"])["updatedBy"] == "tester"
    rig.run(job["id"])
    paused = rig.service.get_job(job["id"])
    assert paused["isPaused"] and paused["pausedBy"] == "jobctl"
    assert (paused["updatedAt"], paused["updatedBy"]) == (paused["pausedAt"], "jobctl")
    [entry] = [e for e in rig.service.list_audit(job_id=job["id"])["entries"] if e["action"] == "job.paused"]
    assert entry["actor"] == paused["updatedBy"]


def test_manual_pause_with_a_reason(rig: Rig) -> None:
    job = rig.job("manual", "true")
    paused = rig.service.set_job_status(job["id"], {"isPaused": True, "reason": "disk swap until Friday"})
    assert (paused["pausedReason"], paused["pausedBy"]) == ("disk swap until Friday", "tester")
    assert paused["pausedAt"] is not None
    with pytest.raises(ValidationFailed):
        rig.service.set_job_status(job["id"], {"isPaused": False, "reason": "why not"})


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)  # the body's rules, the same on both stores
@pytest.mark.parametrize(
    ("rules", "loc"),
    [
        ([{"notifier": "ghost", "on": ["failure"]}], ["body", "notify", 0, "notifier"]),
        ([{"notifier": "hook", "on": ["explosion"]}], ["body", "notify", 0, "on", 0]),
        ([{"notifier": "hook", "on": []}], ["body", "notify", 0, "on"]),
        ([{"notifier": "hook", "on": ["failure"], "when": "always"}], ["body", "notify", 0, "when"]),
    ],
    ids=["unknown-notifier", "unknown-event", "no-events", "unknown-key"],
)
def test_bad_rules_are_422_at_their_loc_and_nothing_is_written(rig: Rig, rules: list[Any], loc: list[Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rig.job("bad", "true", notify=rules)
    assert caught.value.errors[0]["loc"] == loc
    assert rig.service.list_jobs()["total"] == 0
    with pytest.raises(ValidationFailed):
        rig.job("bad", "true", pauseAfterFailures=-1)


def test_old_deliveries_give_up_after_retry_for_seconds(store: Store, receiver: HttpReceiver) -> None:
    settings = settings_for(receiver, retry_for_seconds=0)
    for doomed in make_rig(store, settings):
        job = doomed.job("doomed", "exit 1", notify=[{"notifier": "hook", "on": ["failure"]}])
        doomed.run(job["id"])
        receiver.status = 500
        doomed.send_all()
        wait_for(lambda rig=doomed: rig.deliveries()[0]["status"] == "failed", timeout=5, what="given up")
        assert doomed.service.list_notifications(status="failed")["total"] == 1
        assert doomed.deliveries()[0]["nextAttemptAt"] is None


def test_a_cancelled_pending_run_notifies_cancelled(rig: Rig) -> None:
    job = rig.job("stoppable", "true", notify=[{"notifier": "hook", "on": ["cancelled"]}])
    execution_id = rig.service.trigger_job(job["id"])["executionId"]
    assert rig.service.cancel_execution(execution_id)["status"] == "cancelled"
    [delivery] = rig.deliveries(job["id"])
    assert (delivery["event"], delivery["executionId"]) == ("cancelled", execution_id)


def test_the_sender_claims_nothing_until_the_scheduler_leaves_it_a_gap(rig: Rig, receiver: HttpReceiver) -> None:
    """While slots are due (``quiet_for`` 0), the sender's thread takes neither the store nor the
    receiver; once the scheduler says it will be quiet, the pending delivery goes out."""
    quiet = {"seconds": 0.0}
    asked = threading.Event()

    def quiet_for() -> float:
        asked.set()
        return quiet["seconds"]

    rig.sender.quiet_for = quiet_for
    job = rig.job("busy-night", "exit 1", notify=[{"notifier": "hook", "on": ["failure"]}])
    rig.run(job["id"])
    stop = threading.Event()
    thread = threading.Thread(target=rig.sender.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert asked.wait(5), "the sender asks before its first round"
        time.sleep(0.3)
        [waiting] = rig.deliveries(job["id"])
        assert waiting["status"] == "pending" and waiting["attempts"] == 0 and receiver.received == []
        assert rig.store.db.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE claimed_by IS NOT NULL") == 0
        quiet["seconds"] = 1.0
        wait_for(lambda: rig.deliveries(job["id"])[0]["status"] == "sent", timeout=5, what="sent once quiet")
    finally:
        stop.set()
        thread.join(5)
    assert len(receiver.received) == 1


def test_a_scheduler_that_is_never_quiet_still_gets_a_round_after_the_longest_wait(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(notify_sender, "MAX_DEFER_SECONDS", 0.2)
    calls: list[float] = []
    rig.sender.quiet_for = lambda: calls.append(time.monotonic()) or 0.0
    waited = rig.sender.wait_for_quiet(threading.Event())
    assert waited >= 0.2 and len(calls) >= 2, "it kept asking, then gave up waiting"
    rig.sender.quiet_for = lambda: 0.5
    assert rig.sender.wait_for_quiet(threading.Event()) < 0.2, "a quiet scheduler is not waited for"
