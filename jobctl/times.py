"""Times in texts for people: the UTC instants that stored reasons hold, and spans of seconds.

A stored reason (a missed range's, an auto-pause's, a slot skipped until a retry) names its
instants in UTC, ``2026-12-07T14:50:14Z``: the API and the store keep that text as it was
written. A view for people shows each of them the way it shows its other times: ``jobs why`` in
the job's zone, the CLI's tables and detail blocks in the viewer's zone, a mail in UTC
(docs/missed-slots.md). :func:`localized` finds them and lets the view write them.

Standard library only, and in the lowest layer: the service, the CLI and the notifiers use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

ISO_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
"""An instant as reasons hold it: UTC, to the second, with ``Z``."""


def localized(text: str, show: Callable[[datetime], str]) -> str:
    """``text`` with every UTC instant it holds written by ``show`` (given an aware datetime)."""
    return ISO_INSTANT.sub(lambda match: show(datetime.fromisoformat(match.group()[:-1]).replace(tzinfo=UTC)), text)


SPAN_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
"""Units of :func:`span`, largest first; days are the largest (``"in 45d"`` reads fine)."""


def span(seconds: float) -> str:
    """``seconds`` (>= 1) in its largest unit, plus the next smaller one while the first is below 10.

    Truncated, never rounded up: 2 days 14 hours 59 minutes is ``2d14h``; 59.9 s is ``59s``.
    """
    whole_seconds = int(seconds)
    for index, (unit, size) in enumerate(SPAN_UNITS):
        if whole_seconds >= size or unit == "s":
            whole, rest = divmod(whole_seconds, size)
            if whole >= 10 or unit == "s":
                return f"{whole}{unit}"
            minor, minor_size = SPAN_UNITS[index + 1]
            part = rest // minor_size
            return f"{whole}{unit}{part}{minor}" if part else f"{whole}{unit}"
    raise AssertionError("unreachable: the loop ends at seconds")
