"""Mail notifiers: SMTP (STARTTLS, TLS or plain, with AUTH) or a local ``sendmail``, as cron's MAILTO.

Standard library only (``smtplib``, ``email``). The subject says what happened where, like
``[jobctl] backup failed on HOST (exit 2)``; the body has the summary, the output tail and the
command that shows the rest. The SMTP password is read from ``smtp_password`` or, at each send,
from ``smtp_password_file``, and never appears in an error.
"""

from __future__ import annotations

import smtplib
import ssl
import subprocess
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jobctl.notifier_config import NotifierSpec
from jobctl.notify import DeliveryFailed
from jobctl.times import localized

SUMMARY_WORDS = {
    "failure": "failed", "timeout": "timed out", "success": "succeeded", "start": "started",
    "recovery": "recovered", "output": "printed output", "skipped": "skipped a run", "missed": "missed a run",
    "abandoned": "was abandoned", "cancelled": "was cancelled", "paused": "was paused",
    "late": "started late", "long_running": "is still running", "no_success": "has not succeeded in time",
    "test": "test notification",
}  # fmt: skip


def subject_of(payload: dict[str, Any]) -> str:
    job = (payload.get("job") or {}).get("name") or "jobctl"
    execution = payload.get("execution") or {}
    words = SUMMARY_WORDS.get(payload["event"], payload["event"])
    exit_code = execution.get("exitCode")
    tail = f" (exit {exit_code})" if exit_code not in (None, 0) else ""
    return f"[jobctl] {job} {words} on {payload['host']}{tail}"


def body_of(payload: dict[str, Any]) -> str:
    """The mail's text: the message, the run's facts, the output's tail. Its times, those inside
    the message and the error included (an auto-pause's "last at", a missed range's window), read
    ``2026-12-07 14:50:14 UTC``: the mail goes to people in any zone, and says which."""
    execution = payload.get("execution") or {}
    lines = [_times(payload["message"]), "", f"event:      {payload['event']}", f"host:       {payload['host']}"]
    for label, key in (("execution", "id"), ("status", "status"), ("attempt", "attempt"),
                       ("started", "startedAt"), ("finished", "completedAt"), ("exit code", "exitCode"),
                       ("error", "errorMessage")):  # fmt: skip
        value = execution.get(key)
        if value is None:
            continue
        if key in ("startedAt", "completedAt"):
            value = _moment(datetime.fromisoformat(str(value)))
        elif key == "errorMessage":
            value = _times(str(value))
        lines.append(f"{label + ':':<11} {value}")
    if payload.get("outputTail"):
        lines += ["", "--- the output's last lines ---", str(payload["outputTail"]).rstrip("\n"), "--- end ---"]
    if execution.get("id") and payload["event"] != "test":  # a test's run is a sample: nothing to show
        lines += ["", f"All of it: jobctl executions show {execution['id']}"]
    return "\n".join(lines) + "\n"


def _moment(value: datetime) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def _times(text: str) -> str:
    """``text`` with the UTC instants a stored reason holds (``2026-12-07T14:50:14Z``) as the mail
    shows its times."""
    return localized(text, _moment)


def message_of(spec: NotifierSpec, payload: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = spec.settings["from"]
    message["To"] = ", ".join(spec.settings["to"])
    message["Subject"] = subject_of(payload)
    message["Date"] = formatdate(usegmt=True)  # "GMT": RFC 5322's "-0000" says the zone is unknown
    message["Message-ID"] = make_msgid(domain="jobctl")
    if payload.get("deliveryId"):
        message["X-Jobctl-Delivery-Id"] = str(payload["deliveryId"])
    message.set_content(body_of(payload))
    return message


def send_email(spec: NotifierSpec, payload: dict[str, Any]) -> None:
    """Send the mail. :raises DeliveryFailed: with the reason (never the password)."""
    message = message_of(spec, payload)
    if "sendmail" in spec.settings:
        _sendmail(spec, message)
    else:
        _smtp(spec, message)


def _sendmail(spec: NotifierSpec, message: EmailMessage) -> None:
    try:
        done = subprocess.run(
            [spec.settings["sendmail"], "-t", "-i"], input=message.as_bytes(), capture_output=True,
            timeout=spec.timeout, check=False, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DeliveryFailed(f"sendmail failed: {type(exc).__name__}") from exc
    if done.returncode != 0:
        raise DeliveryFailed(f"sendmail exited {done.returncode}: {done.stderr.decode(errors='replace')[:200]}")


def _password(spec: NotifierSpec) -> str | None:
    if "smtp_password_file" in spec.settings:
        try:
            return Path(spec.settings["smtp_password_file"]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise DeliveryFailed(f"cannot read smtp_password_file: {exc.strerror}") from exc
    password = spec.settings.get("smtp_password")
    return password if isinstance(password, str) else None


def _smtp(spec: NotifierSpec, message: EmailMessage) -> None:
    host, security = spec.settings["smtp_host"], spec.settings.get("smtp_security", "starttls")
    port = spec.settings.get("smtp_port", 465 if security == "ssl" else 25 if security == "none" else 587)
    try:
        if security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=spec.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, port, timeout=spec.timeout)
        with client:
            if security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if spec.settings.get("smtp_user"):
                client.login(spec.settings["smtp_user"], _password(spec) or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"SMTP {host}:{port} refused the login ({exc.smtp_code})") from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP {host}:{port} answered {exc.smtp_code}") from exc
    except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise DeliveryFailed(f"SMTP {host}:{port}: {type(exc).__name__}: {str(exc)[:200]}") from exc
