"""Checking the values of a schedule config, collecting every problem before failing.

A user fixing a config wants to hear about all bad fields at once, so the parsers record
each problem in :class:`Problems` and raise a single :class:`~jobctl.errors.ValidationFailed`
at the end. Every ``loc`` starts with the name of the object being checked (normally
``"scheduleConfig"``); the API layer puts ``"body"`` in front.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from jobctl.errors import ValidationFailed
from jobctl.schedules.durations import MAX_SECONDS
from jobctl.schedules.iso_times import not_a_time
from jobctl.schedules.zones import UnknownZone, load_zone, parse_iso

CONFIG = "scheduleConfig"


class Problems:
    """Field errors found so far, each located relative to one root name."""

    def __init__(self, root: str = CONFIG) -> None:
        self.root = root
        self.errors: list[dict[str, Any]] = []

    def add(self, key: str | None, msg: str, type_: str = "value_error") -> None:
        """Record that ``key`` (or the whole object, for None) is invalid."""
        loc = [self.root] if key is None else [self.root, key]
        self.errors.append({"loc": loc, "msg": msg, "type": type_})

    def has(self, key: str) -> bool:
        """Whether ``key`` already has an error, so later checks need not pile on."""
        return any(error["loc"][1:] == [key] for error in self.errors)

    def raise_if_any(self) -> None:
        """:raises ValidationFailed: with every recorded error, if there is one."""
        if self.errors:
            raise ValidationFailed(self.errors)


def as_mapping(config: object, problems: Problems) -> Mapping[str, Any]:
    """``config`` itself if it is a JSON object.

    :raises ValidationFailed: at once, with the errors so far, if it is not: none of its
        fields can be checked.
    """
    if isinstance(config, Mapping):
        return config
    problems.add(None, "must be an object", "type_error.dict")
    raise ValidationFailed(problems.errors)


def present(config: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` holds a value; JSON null counts as absent, like an omitted key."""
    return config.get(key) is not None


def check_keys(config: Mapping[str, Any], allowed: Collection[str], problems: Problems) -> None:
    """Record every key not in ``allowed``: a typo must not silently become a default."""
    for key in config:
        if key not in allowed:
            problems.add(str(key), "unknown field", "value_error.extra")


def take_count(config: Mapping[str, Any], key: str, problems: Problems, *, limit: int = MAX_SECONDS) -> int:
    """The non-negative integer at ``key`` (0 when absent); bools and floats are rejected."""
    value = config.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(key, "value is not a valid integer", "type_error.integer")
        return 0
    if value < 0:
        problems.add(key, "must not be negative")
        return 0
    if value > limit:
        problems.add(key, f"must be at most {limit}")
        return 0
    return value


def take_text(config: Mapping[str, Any], key: str, problems: Problems) -> str | None:
    """The string at ``key``, or None when absent or not a string (the latter recorded)."""
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(key, "value is not a valid string", "type_error.str")
        return None
    return value


def take_zone(config: Mapping[str, Any], key: str, default: str | None, problems: Problems) -> tzinfo | None:
    """The zone named at ``key`` (or ``default`` when absent); None after recording an error."""
    name = take_text(config, key, problems)
    if name is None and (problems.has(key) or default is None):
        return None
    try:
        return load_zone(name if name is not None else str(default))
    except UnknownZone:
        shown = name if name is not None else default
        problems.add(key, f"unknown time zone {shown!r}: use an IANA name such as 'Europe/Berlin'")
        return None


def take_instant(config: Mapping[str, Any], key: str, zone: tzinfo | None, problems: Problems) -> datetime | None:
    """The ISO 8601 date-time at ``key`` as aware UTC; naive values are read in ``zone``.

    Returns None when absent or invalid (recorded). When ``zone`` is None because the zone
    itself was invalid (recorded under its own key), the syntax is still checked, reading
    naive values as UTC; the caller raises anyway, so that reading is never used.
    """
    text = take_text(config, key, problems)
    if text is None:
        return None
    try:
        return parse_iso(text, zone or UTC)
    except ValueError:
        problems.add(key, not_a_time(text))
        return None
