"""Notifiers and notification rules as the config declares them (``[[notifiers]]``, ``[notify]``).

Read on every CLI call with the rest of the config, so standard library only. Each notifier is
checked whole when the config loads: a typo in a key, a bad URL or a negative timeout is an
error at start-up, not a delivery that fails at 3 a.m. (docs/notifications.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jobctl.config_types import BYTES, SECONDS, Bounds, repeated_names, type_problem
from jobctl.errors import UsageError
from jobctl.shown import cut, quoted, shown

EVENTS = (
    "start",
    "success",
    "failure",
    "timeout",
    "recovery",
    "output",
    "skipped",
    "missed",
    "abandoned",
    "cancelled",
    "paused",
    "late",
    "long_running",
    "no_success",
)
"""Every event a rule may name."""

ATTEMPT_EVENTS = frozenset({"start", "success", "failure", "timeout"})
"""Events of an attempt: sent for the final attempt only, unless the rule has ``eachAttempt``."""

NOTIFIER_TYPES = ("email", "webhook", "command")
URL_PLACEHOLDERS = ("job_name", "job_id", "event", "execution_id")
"""What a webhook URL may hold in braces, filled in per event (``jobctl.notify.webhook``)."""
_BRACED = re.compile(r"\{([^{}]*)\}")
SMTP_SECURITY = ("starttls", "ssl", "none")
WEBHOOK_FORMATS = ("json", "slack")
DEFAULT_OUTPUT_TAIL_BYTES = 16 * 1024
DEFAULT_RETRY_FOR_SECONDS = 3600.0
DEFAULT_TIMEOUT_SECONDS = 10.0

_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "email": {
        "to": (list,), "from": (str,), "smtp_host": (str,), "smtp_port": (int,), "smtp_security": (str,),
        "smtp_user": (str,), "smtp_password": (str,), "smtp_password_file": (str,), "sendmail": (str,),
        "timeout": (int, float),
    },
    "webhook": {
        "url": (str,), "headers": (dict,), "secret": (str,), "format": (str,), "timeout": (int, float),
    },
    "command": {"argv": (list,), "timeout": (int, float)},
}  # fmt: skip
"""Keys of each notifier type beside ``name`` and ``type``."""

NOTIFY_KEYS: dict[str, tuple[type, ...]] = {
    "default": (list,),
    "output_tail_bytes": (int,),
    "retry_for_seconds": (int, float),
}

NOTIFIER_RANGES: dict[str, Bounds] = {
    "timeout": Bounds(least=0, least_excluded=True, most=300, unit=SECONDS),
    "smtp_port": Bounds(least=1, most=65535),
}
"""The range of each number a notifier takes (of any type): per delivery attempt; a TCP port."""
NOTIFY_RANGES: dict[str, Bounds] = {
    "output_tail_bytes": Bounds(least=0, most=1_000_000, unit=BYTES),
    "retry_for_seconds": Bounds(least=0, most=30 * 24 * 3600, unit=SECONDS),
}
"""The range of each number of ``[notify]``."""


@dataclass(frozen=True, kw_only=True)
class NotifierSpec:
    """One ``[[notifiers]]`` entry: its ``name``, ``type`` and the checked keys of that type."""

    name: str
    type: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout", DEFAULT_TIMEOUT_SECONDS))


@dataclass(frozen=True, kw_only=True)
class NotifyRule:
    """Send ``on`` events of a job to ``notifier`` (every attempt's with ``each_attempt``)."""

    notifier: str
    on: tuple[str, ...]
    each_attempt: bool = False


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    """Everything about notifications the config holds."""

    notifiers: tuple[NotifierSpec, ...] = ()
    default_rules: tuple[NotifyRule, ...] = ()
    output_tail_bytes: int = DEFAULT_OUTPUT_TAIL_BYTES
    retry_for_seconds: float = DEFAULT_RETRY_FOR_SECONDS

    def notifier(self, name: str) -> NotifierSpec | None:
        return next((spec for spec in self.notifiers if spec.name == name), None)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(spec.name for spec in self.notifiers)


def parse_notifiers(content: Any, where: str) -> tuple[NotifierSpec, ...]:
    """``[[notifiers]]``. :raises UsageError: for any key, type or value that is wrong."""
    if not isinstance(content, list):
        raise UsageError(f"{where}: notifiers must be an array of tables ([[notifiers]])")
    specs = tuple(_notifier(entry, f"{where}: notifiers[{index}]") for index, entry in enumerate(content))
    repeated = repeated_names([spec.name for spec in specs], "notifiers")
    if repeated:
        raise UsageError(f"{where}: notifier names must be unique: {repeated}")
    return specs


def parse_notify(content: Any, notifiers: tuple[NotifierSpec, ...], where: str) -> NotifySettings:
    """``[notify]``, checked against the notifiers it may name."""
    if not isinstance(content, dict):
        raise UsageError(f"{where}: [notify] must be a table")
    for key, value in content.items():
        if key not in NOTIFY_KEYS:
            raise UsageError(f"{where}: unknown key {quoted(key)} in [notify]")
        _check_type(f"[notify] {key}", value, NOTIFY_KEYS[key], where)
    _check_ranges("[notify]", content, NOTIFY_RANGES, where)
    tail = content.get("output_tail_bytes", DEFAULT_OUTPUT_TAIL_BYTES)
    retry_for = float(content.get("retry_for_seconds", DEFAULT_RETRY_FOR_SECONDS))
    names = frozenset(spec.name for spec in notifiers)
    rules = []
    for index, raw in enumerate(content.get("default", [])):
        problem = rule_problem(raw, names)
        if problem is not None:
            raise UsageError(f"{where}: [notify] default[{index}]: {problem[1]}")
        rules.append(rule_from_dict(raw))
    return NotifySettings(
        notifiers=notifiers, default_rules=tuple(rules), output_tail_bytes=tail, retry_for_seconds=retry_for
    )


def rule_problem(raw: Any, names: frozenset[str]) -> tuple[str, str] | None:
    """What is wrong with one rule ``{"notifier", "on", "eachAttempt"}``: (field, message), or None."""
    if not isinstance(raw, dict):
        return "", "a rule must be a table {notifier, on}"
    unknown = set(raw) - {"notifier", "on", "eachAttempt", "each_attempt"}
    if unknown:
        return sorted(unknown)[0], "unknown key in a notification rule"
    notifier = raw.get("notifier")
    if not isinstance(notifier, str) or notifier not in names:
        known = ", ".join(sorted(names)) or "none configured"
        return "notifier", f"unknown notifier {shown(notifier)} (known: {known})"
    on = raw.get("on")
    if not isinstance(on, list) or not on or not all(isinstance(event, str) for event in on):
        return "on", "must be a non-empty list of events"
    bad = [event for event in on if event not in EVENTS]
    if bad:
        return "on", f"unknown event {quoted(bad[0])} (events: {', '.join(EVENTS)})"
    each = raw.get("eachAttempt", raw.get("each_attempt", False))
    if not isinstance(each, bool):
        return "eachAttempt", "must be true or false"
    return None


def rule_from_dict(raw: dict[str, Any]) -> NotifyRule:
    """A rule already checked by :func:`rule_problem`."""
    each = bool(raw.get("eachAttempt", raw.get("each_attempt", False)))
    return NotifyRule(notifier=raw["notifier"], on=tuple(dict.fromkeys(raw["on"])), each_attempt=each)


def _notifier(entry: Any, label: str) -> NotifierSpec:
    if not isinstance(entry, dict):
        raise UsageError(f"{label} must be a table")
    name, kind = entry.get("name"), entry.get("type")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise UsageError(f"{label} needs a name (1 to 100 characters)")
    label = f"{label} ({cut(name)})"
    if kind not in NOTIFIER_TYPES:
        raise UsageError(f"{label} type must be one of {', '.join(NOTIFIER_TYPES)}")
    settings = {key: value for key, value in entry.items() if key not in ("name", "type")}
    for key, value in settings.items():
        if key not in _KEYS[kind]:
            article = "an" if kind[0] in "aeiou" else "a"
            raise UsageError(f"{label}: unknown key {quoted(key)} for {article} {kind} notifier")
        _check_type(f"{label} {key}", value, _KEYS[kind][key], "")
    _check_ranges(label, settings, NOTIFIER_RANGES, "")
    {"email": _check_email, "webhook": _check_webhook, "command": _check_command}[kind](settings, label)
    return NotifierSpec(name=name, type=kind, settings=settings)


def _check_type(label: str, value: Any, types: tuple[type, ...], where: str) -> None:
    problem = type_problem(value, types)
    if problem:
        prefix = f"{where}: " if where else ""
        raise UsageError(f"{prefix}{label} {problem}")


def _check_ranges(label: str, content: dict[str, Any], ranges: dict[str, Bounds], where: str) -> None:
    """:raises UsageError: for a number of ``content`` out of its range in ``ranges``, saying the
    range and the value (:class:`~jobctl.config_types.Bounds`)."""
    for key, bounds in ranges.items():
        problem = bounds.problem(content[key]) if key in content else None
        if problem:
            prefix = f"{where}: " if where else ""
            raise UsageError(f"{prefix}{label} {key} {problem}")


def _check_email(settings: dict[str, Any], label: str) -> None:
    to = settings.get("to")
    if not to or not all(isinstance(address, str) and "@" in address for address in to):
        raise UsageError(f"{label} to must list mail addresses")
    if not isinstance(settings.get("from"), str) or "@" not in settings["from"]:
        raise UsageError(f"{label} needs from (a mail address)")
    has_smtp, has_sendmail = "smtp_host" in settings, "sendmail" in settings
    if has_smtp == has_sendmail:
        raise UsageError(f"{label} needs either smtp_host or sendmail (one of them)")
    if has_sendmail and not settings["sendmail"].startswith("/"):
        raise UsageError(f"{label} sendmail must be an absolute path")
    if settings.get("smtp_security", "starttls") not in SMTP_SECURITY:
        raise UsageError(f"{label} smtp_security must be one of {', '.join(SMTP_SECURITY)}")
    if "smtp_password" in settings and "smtp_password_file" in settings:
        raise UsageError(f"{label} takes smtp_password or smtp_password_file, not both")
    if "smtp_password_file" in settings and not Path(settings["smtp_password_file"]).is_absolute():
        raise UsageError(f"{label} smtp_password_file must be an absolute path")


def _check_webhook(settings: dict[str, Any], label: str) -> None:
    url = settings.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{label} url must be an http:// or https:// URL")
    try:
        parts.port  # noqa: B018 - read for its check: showing the masked URL reads it too
    except ValueError as exc:
        raise UsageError(f"{label} url has a bad port: {exc}") from exc
    unknown = list(dict.fromkeys(name for name in _BRACED.findall(str(url)) if name not in URL_PLACEHOLDERS))
    if unknown:
        raise UsageError(
            f"{label} url has {'an unknown placeholder' if len(unknown) == 1 else 'unknown placeholders'} "
            f"{', '.join('{' + name + '}' for name in unknown)} (placeholders: "
            f"{', '.join('{' + name + '}' for name in URL_PLACEHOLDERS)})"
        )
    if settings.get("format", "json") not in WEBHOOK_FORMATS:
        raise UsageError(f"{label} format must be one of {', '.join(WEBHOOK_FORMATS)}")
    headers = settings.get("headers", {})
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in headers.items()):
        raise UsageError(f"{label} headers must map names to strings")


def _check_command(settings: dict[str, Any], label: str) -> None:
    argv = settings.get("argv")
    if not argv or not all(isinstance(arg, str) for arg in argv) or not argv[0].startswith("/"):
        raise UsageError(f"{label} argv must be a list of strings starting with an absolute path")


SECRET_KEYS = frozenset({"smtp_password", "secret"})
"""Keys whose value is a secret: never shown (``GET /notifiers`` prints them masked)."""


def notifier_holds_secret(spec: NotifierSpec) -> bool:
    """Whether the notifier's entry holds a secret in the config file itself."""
    from jobctl.redaction import holds_password

    url = spec.settings.get("url")
    return bool(SECRET_KEYS & set(spec.settings)) or (isinstance(url, str) and holds_password(url))


def masked_settings(spec: NotifierSpec) -> dict[str, Any]:
    """The notifier's keys as ``GET /notifiers`` shows them: secrets, header values and URL paths masked."""
    from urllib.parse import urlsplit as split

    from jobctl.redaction import MASK

    shown: dict[str, Any] = {}
    for key, value in spec.settings.items():
        if key in SECRET_KEYS:
            shown[key] = MASK
        elif key == "headers":
            shown[key] = dict.fromkeys(value, MASK)
        elif key == "url":
            parts = split(value)
            port = f":{parts.port}" if parts.port else ""
            shown[key] = f"{parts.scheme}://{parts.hostname}{port}/{MASK}"
        else:
            shown[key] = value
    return shown


def target_of(spec: NotifierSpec) -> str:
    """Where the notifier sends, in a few words and without secrets."""
    shown = masked_settings(spec)
    if spec.type == "email":
        via = f"smtp {shown['smtp_host']}" if "smtp_host" in shown else shown["sendmail"]
        return f"{', '.join(shown['to'])} via {via}"
    if spec.type == "webhook":
        return str(shown["url"])
    return " ".join(shown["argv"])
