"""An outcome the store refuses (not an outage) fails that run alone, with the reason, and is
not retried forever: later runs are still recorded. A trigger in the store plays the refusal."""

from __future__ import annotations

from jobctl.scheduler.runner import OUTCOME_NOT_RECORDED
from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for

SQLITE_TRIGGER = """
CREATE TRIGGER refuse_poison BEFORE UPDATE ON executions
WHEN instr(NEW.error_message, 'poison') > 0
BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END
"""
PG_FUNCTION = """
CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF strpos(NEW.error_message, 'poison') > 0 THEN RAISE EXCEPTION 'refused by a test trigger'; END IF;
    RETURN NEW;
END $body$
"""
PG_TRIGGER = "CREATE TRIGGER refuse_poison BEFORE UPDATE ON executions FOR EACH ROW EXECUTE FUNCTION refuse_poison()"


def refuse_poisoned_outcomes(service: Service) -> None:
    db = service.store.db
    for statement in [SQLITE_TRIGGER] if db.is_sqlite else [PG_FUNCTION, PG_TRIGGER]:
        db.execute(statement)


def test_a_refused_outcome_fails_its_run_with_the_reason_and_recording_goes_on(
    service: Service, daemons: DaemonFactory
) -> None:
    hourly = {"scheduleConfig": {"hours": 1}, "maxInstances": 2}
    poisoned = shell_job(service, "poisoned", "echo poison >&2; exit 3", **hourly)
    fine = shell_job(service, "fine", "exit 0", **hourly)
    refuse_poisoned_outcomes(service)
    daemons.start()
    ids = [service.trigger_job(job["id"])["executionId"] for job in (poisoned, fine, poisoned, fine)]
    wait_for(
        lambda: all(service.get_execution(i)["status"] not in ("pending", "running") for i in ids),
        timeout=20,
        what="every run to be recorded",
    )
    runs = [service.get_execution(i) for i in ids]
    assert [run["status"] for run in runs] == ["failed", "success", "failed", "success"]
    for run in runs[0::2]:
        assert run["errorMessage"].startswith(f"{OUTCOME_NOT_RECORDED}: store "), run["errorMessage"]
        assert "refused by a test trigger" in run["errorMessage"]
