"""Sending the notifications of a run made by ``jobctl run`` with no daemon leading.

With no leader there is no sender to take the deliveries its outcome wrote, and a host that
keeps its own crontab calling ``jobctl run backup`` still wants the failure mail. So the
command sends them itself once the run is recorded, before it exits: it claims the run's due
deliveries as a leader's sender would (one claim at a time, lasting the notifier's timeout plus
a margin, so a daemon that starts meanwhile cannot send them too), sends each one, and records
the result. A failed attempt stays pending with the sender's backoff, for the next leader to
retry within ``[notify] retry_for_seconds`` (docs/notifications.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from jobctl.notifier_config import NotifySettings
from jobctl.notify import DeliveryFailed
from jobctl.notify.send import send
from jobctl.scheduler.notify_sender import CLAIM_MARGIN_SECONDS, record_result
from jobctl.store import Store


def send_run_notifications(
    store: Store, settings: NotifySettings, execution_id: str, *, instance_id: str, base_env: Mapping[str, str]
) -> list[tuple[str, str, str | None]]:
    """Send the due deliveries of ``execution_id``; (event, notifier, error or None) for each sent or tried."""
    tried: list[tuple[str, str, str | None]] = []
    for spec in settings.notifiers:
        now = datetime.now(UTC)
        until = now + timedelta(seconds=spec.timeout + CLAIM_MARGIN_SECONDS)
        with store.transaction():
            claimed = store.deliveries.claim_of_execution(
                execution_id, notifier=spec.name, now=now, until=until, instance_id=instance_id
            )
        for delivery in claimed:
            try:
                send(spec, delivery.payload, base_env=base_env)
                error = None
            except DeliveryFailed as exc:
                error = exc.message
            record_result(store, settings, delivery, error, instance_id=instance_id)
            tried.append((delivery.event, spec.name, error))
    return tried
