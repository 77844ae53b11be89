"""An apply plan for people: ``+ create NAME``, ``~ update NAME: timeout 30s -> 1m``, ``- delete NAME``,
and ``= NAME: stays paused (...)`` for a paused job the file does not say is paused.

Shared by ``jobctl apply`` and ``jobctl import crontab``, which apply through the same service
call and answer the same plan (:class:`~jobctl.wire.responses.ApplyPlan`).
"""

from __future__ import annotations

import json
from typing import Any

from jobctl.cli import output
from jobctl.cli.terminal import UNSAFE
from jobctl.wire.job_tables import ENV_KEY, ENV_PREFIX
from jobctl.wire.responses import ApplyPlan, StaysPausedOut
from jobctl.wire.values import VALUE_MAX, cut_alike


def print_plan(plan: ApplyPlan, *, dry_run: bool) -> None:
    """The plan on stdout, one line per job changed, then what stayed."""
    for name in plan["created"]:
        output.print_line(f"+ create {name}")
    for change in plan["updated"]:
        parts = [change_text(key, old, new) for key, (old, new) in change["changes"].items()]
        output.print_line(f"~ update {change['name']}: {', '.join(parts)}")
    for name in plan["deleted"]:
        output.print_line(f"- delete {name}")
    for job in plan["staysPaused"]:
        output.print_line(f"= {job['name']}: stays paused{_pause_note(job)}; the file does not say paused")
    changed = plan["created"] or plan["updated"] or plan["deleted"]
    unchanged = plan["unchanged"]
    if not changed:
        output.print_line(f"no changes ({unchanged} unchanged)")
    else:
        output.print_line(f"{unchanged} unchanged")
        if dry_run:
            output.print_line("dry run: nothing was written")


def _pause_note(job: StaysPausedOut) -> str:
    """`` (by local:ops at TIME: "disk swap")``: who paused the job, when (the viewer's zone, as
    ``jobs show`` says it) and why, each when known."""
    when = " ".join(
        part for part in (f"by {job['pausedBy']}" if job["pausedBy"] else "",
                          f"at {output.local_time(job['pausedAt'])}" if job["pausedAt"] else "") if part
    )  # fmt: skip
    reason = f'"{job["pausedReason"]}"' if job["pausedReason"] else ""
    note = f"{when}: {reason}" if when and reason else when or reason
    return f" ({note})" if note else ""


def change_text(key: str, old: Any, new: Any) -> str:
    """One change: ``timeout 30s -> 1m``. The plan's values come with secrets masked
    (docs/jobs-files.md): a variable of the environment is ``env +NAME`` (set), ``env -NAME``
    (unset) or ``env NAME changed``, and a change the masking leaves alike on both sides (a
    password in a URL, the standard input) is ``KEY changed``."""
    if key.startswith(ENV_PREFIX):
        name = key.removeprefix(ENV_PREFIX)
        if old is None:
            return f"{ENV_KEY} +{name}"
        return f"{ENV_KEY} -{name}" if new is None else f"{ENV_KEY} {name} changed"
    old_text, new_text = change_texts(old, new, cut=key != "source")
    return f"{key} changed" if old_text == new_text else f"{key} {old_text} -> {new_text}"


def change_texts(old: Any, new: Any, *, cut: bool = True) -> tuple[str, str]:
    """Both values of a change (:func:`value_text`), cut alike so that they are seen to differ
    (:func:`jobctl.wire.values.cut_alike`, as the audit log's changes are): a crontab line and
    the same line with a final ``%`` were shown as the same text twice."""
    old_text, new_text = value_text(old, cut=False), value_text(new, cut=False)
    return cut_alike(old_text, new_text) if cut else (old_text, new_text)


def value_text(value: Any, *, cut: bool = True) -> str:
    """A value briefly: ``30s``, ``"tar czf ..."``, ``{"team":"ops"}``. ``cut=False`` keeps it
    whole: a source is a file's path, told apart by its end.

    A string with blanks (or empty, or with a control character) is shown as written between
    double quotes, as lint messages quote a crontab line (``quoted`` in
    :mod:`jobctl.schedules.crontab_file`): JSON's escaping doubled every backslash and escaped
    every quote, so ``echo "a\\%b"`` read as ``echo \\"a\\\\%b\\"``, not what the file or
    the crontab says. Control characters are escaped once, by the printer
    (docs/terminal-output.md); ``--json`` has the values exactly."""
    if value is None:
        text = "(none)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        bare = value and not any(ch.isspace() for ch in value) and not UNSAFE.search(value)
        text = value if bare else f'"{value}"'
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_MAX or not cut else text[: VALUE_MAX - 1] + "…"
