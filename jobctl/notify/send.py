"""One entry point for every notifier type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobctl.notifier_config import NotifierSpec


def send(spec: NotifierSpec, payload: dict[str, Any], *, base_env: Mapping[str, str]) -> None:
    """Deliver ``payload`` through ``spec``. :raises DeliveryFailed: with a message free of secrets."""
    if spec.type == "webhook":
        from jobctl.notify.webhook import send_webhook

        send_webhook(spec, payload)
    elif spec.type == "email":
        from jobctl.notify.email import send_email

        send_email(spec, payload)
    else:
        from jobctl.notify.command import send_command

        send_command(spec, payload, base_env=base_env)


def prepare(spec: NotifierSpec) -> None:
    """Load and build ahead what sending through ``spec`` needs (a webhook's HTTP client)."""
    if spec.type == "webhook":
        from jobctl.notify.webhook import prepare_webhook

        prepare_webhook(spec)
