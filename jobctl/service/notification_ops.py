"""The notification endpoints: deliveries listed, notifiers listed (secrets masked) and tested."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jobctl.errors import NotFound, ValidationFailed
from jobctl.models import DeliveryStatus
from jobctl.notifier_config import NotifySettings, masked_settings, target_of
from jobctl.notify import DeliveryFailed
from jobctl.notify.payload import sample_test_event
from jobctl.store import Store
from jobctl.wire import responses
from jobctl.wire.responses import NotificationList, NotifierList, NotifierTestResult

DELIVERY_STATUSES = frozenset(status.value for status in DeliveryStatus)


def list_notifications(
    store: Store, *, job_id: str | None, status: str | None, limit: int, offset: int
) -> NotificationList:
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValidationFailed.field(["query", "status"], f"must be one of {', '.join(sorted(DELIVERY_STATUSES))}")
    items, total = store.deliveries.list(job_id=job_id, status=status, limit=limit, offset=offset)
    return responses.notification_list(items, total)


def list_notifiers(settings: NotifySettings) -> NotifierList:
    return {
        "notifiers": [
            {"name": spec.name, "type": spec.type, "target": target_of(spec), "settings": masked_settings(spec)}
            for spec in settings.notifiers
        ]
    }


def test_notifier(settings: NotifySettings, name: str, *, base_env: Mapping[str, str]) -> NotifierTestResult:
    """Send a ``test`` event (a sample job and run, see :func:`sample_test_event`) through notifier
    ``name`` now and say how it went. :raises NotFound:"""
    from jobctl.notify.send import send
    from jobctl.service.notifications import host_name

    spec = settings.notifier(name)
    if spec is None:
        raise NotFound("notifier", name)
    payload: dict[str, Any] = sample_test_event(occurred_at=datetime.now(UTC), host=host_name())
    try:
        send(spec, payload, base_env=base_env)
    except DeliveryFailed as exc:
        return {"notifier": name, "ok": False, "error": exc.message}
    return {"notifier": name, "ok": True, "error": None}
