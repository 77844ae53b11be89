"""Webhook notifiers: the event JSON (or Slack's ``{"text"}``) POSTed to a URL, optionally signed.

The only module here that imports httpx. The URL may hold ``{job_name}``, ``{job_id}``,
``{event}`` and ``{execution_id}`` (any other name in braces is refused when the config loads),
filled in URL-encoded, so one notifier can ping a
Healthchecks-style ``/start`` and ``/fail`` endpoint per job. With a ``secret`` the raw body is
signed: ``X-Jobctl-Signature: sha256=HEX`` (HMAC-SHA256), so the receiver can check it came
from us. Errors name the host only, never the path or query (a Slack or Healthchecks URL is
itself the credential).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any
from urllib.parse import quote, urlsplit

from jobctl.notifier_config import NotifierSpec
from jobctl.notify import DeliveryFailed

SIGNATURE_HEADER = "X-Jobctl-Signature"
USER_AGENT = "jobctl-notify"


def expand_url(template: str, payload: dict[str, Any]) -> str:
    """``template`` with its placeholders filled in, each value URL-encoded: those of
    :data:`~jobctl.notifier_config.URL_PLACEHOLDERS`, the only ones a config may hold."""
    job = payload.get("job") or {}
    execution = payload.get("execution") or {}
    values = {
        "job_name": job.get("name") or "",
        "job_id": job.get("id") or "",
        "event": payload.get("event") or "",
        "execution_id": execution.get("id") or "",
    }
    url = template
    for key, value in values.items():
        url = url.replace("{" + key + "}", quote(str(value), safe=""))
    return url


def body_of(spec: NotifierSpec, payload: dict[str, Any]) -> bytes:
    if spec.settings.get("format", "json") == "slack":
        return json.dumps({"text": slack_text(payload)}).encode()
    return json.dumps(payload, separators=(",", ":")).encode()


def slack_text(payload: dict[str, Any]) -> str:
    execution = payload.get("execution") or {}
    lines = [f"*{payload['message']}* on {payload['host']}"]
    if execution.get("errorMessage"):
        lines.append(str(execution["errorMessage"])[:500])
    if payload.get("outputTail"):
        lines.append("```" + str(payload["outputTail"])[-1500:] + "```")
    return "\n".join(lines)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def where(url: str) -> str:
    """The part of a URL safe to show: scheme, host and port."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a port that is no number: the host alone still says where
        port = ""
    return f"{parts.scheme}://{parts.hostname}{port}"


_clients: dict[float, Any] = {}
_clients_lock = threading.Lock()


def _client(timeout: float) -> Any:
    """One ``httpx.Client`` per timeout, shared by every thread (it is thread-safe): connections to
    a receiver are kept alive and reused instead of opened per event."""
    import httpx

    with _clients_lock:
        client = _clients.get(timeout)
        if client is None:
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
            client = _clients[timeout] = httpx.Client(timeout=timeout, limits=limits)
        return client


def prepare_webhook(spec: NotifierSpec) -> None:
    """Build the shared client of ``spec``'s timeout now (importing httpx, creating its TLS context)."""
    _client(spec.timeout)


def send_webhook(spec: NotifierSpec, payload: dict[str, Any]) -> None:
    """POST the event. :raises DeliveryFailed: on a network error, a timeout or a non-2xx answer."""
    import httpx

    url = expand_url(spec.settings["url"], payload)
    body = body_of(spec, payload)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **spec.settings.get("headers", {})}
    if spec.settings.get("secret"):
        headers[SIGNATURE_HEADER] = signature(spec.settings["secret"], body)
    try:
        response = _client(spec.timeout).post(url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"no answer from {where(url)} within {spec.timeout:g}s") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:  # their messages may quote the URL: the type only
        raise DeliveryFailed(f"cannot reach {where(url)}: {type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"{where(url)} answered {response.status_code}")
