"""Telling people: the event JSON and the three ways to send it (mail, webhook, command).

Exceptions: every transport raises :class:`DeliveryFailed` with a message that
holds no secret (passwords, webhook secrets and URLs with credentials are masked).
"""

from __future__ import annotations


class DeliveryFailed(Exception):
    """A notifier could not deliver; the message says why and holds no secret."""

    def __init__(self, message: str) -> None:
        from jobctl.redaction import redact

        super().__init__(redact(message))
        self.message = redact(message)
