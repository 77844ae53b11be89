"""The checks that fire on time rather than on an outcome: ``long_running`` and ``no_success``.

Both are worked out from what the store holds (when a run started, when the job last
succeeded), not from what a daemon saw, so a deadline that passed while no daemon ran fires as
soon as a leader looks (the dead-man check cannot be fooled by downtime). Each fires once: the
delivery's key is the execution (``long_running``) or the job and its deadline
(``no_success``; a new success moves the deadline, so a later silence fires again).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from jobctl.notifier_config import NotifySettings
from jobctl.service.notifications import event_deliveries, write_deliveries
from jobctl.store import Store
from jobctl.store.deliveries import NewDelivery


def check_deliveries(store: Store, settings: NotifySettings, *, now: datetime, seen: set[str]) -> int:
    """Write the deliveries of checks that are due at ``now``; how many were new.

    ``seen`` holds the keys this process already handled (spares re-reading output tails).
    """
    found: list[NewDelivery] = []
    for job, execution in store.job_health.running_with_runtime_alert():
        limit = job.max_runtime_alert_seconds
        key = f"long_running:{execution.id}"
        if limit is None or execution.started_at is None or key in seen:
            continue
        if now - execution.started_at >= timedelta(seconds=limit):
            seen.add(key)
            message = f"{job.name} has been running for more than {limit}s (still running)"
            found += event_deliveries(store, settings, job, "long_running", execution=execution, now=now,
                                      message=message)  # fmt: skip
    for job, last_success in store.job_health.expecting_success():
        within = job.expect_success_within_seconds
        if within is None:
            continue
        since = last_success or job.created_at
        deadline = since + timedelta(seconds=within)
        key = f"no_success:{job.id}:{deadline.isoformat()}"
        if now < deadline or key in seen:
            continue
        seen.add(key)
        what = f"last success {last_success.isoformat()}" if last_success else "no success since it was created"
        message = f"{job.name}: no successful run for {within}s ({what})"
        found += event_deliveries(store, settings, job, "no_success", execution=None, now=now,
                                  subject=f"{job.id}:{deadline.isoformat()}", message=message)  # fmt: skip
    return write_deliveries(store, found)
