"""An apply plan for people: ``+ create NAME``, ``~ update NAME: timeout 30s -> 1m``, ``- delete NAME``.

Shared by ``jobctl apply`` and ``jobctl import crontab``, which apply through the same service
call and answer the same plan (:class:`~jobctl.wire.responses.ApplyPlan`).
"""

from __future__ import annotations

import json
from typing import Any

from jobctl.cli import output
from jobctl.wire.responses import ApplyPlan

VALUE_MAX = 60
"""Characters of a changed value shown; longer ones are cut with an ellipsis."""


def print_plan(plan: ApplyPlan, *, dry_run: bool) -> None:
    """The plan on stdout, one line per job changed, then what stayed."""
    for name in plan["created"]:
        output.print_line(f"+ create {name}")
    for change in plan["updated"]:
        parts = [
            f"{key} {value_text(old, cut=key != 'source')} -> {value_text(new, cut=key != 'source')}"
            for key, (old, new) in change["changes"].items()
        ]
        output.print_line(f"~ update {change['name']}: {', '.join(parts)}")
    for name in plan["deleted"]:
        output.print_line(f"- delete {name}")
    changed = plan["created"] or plan["updated"] or plan["deleted"]
    unchanged = plan["unchanged"]
    if not changed:
        output.print_line(f"no changes ({unchanged} unchanged)")
    else:
        output.print_line(f"{unchanged} unchanged")
        if dry_run:
            output.print_line("dry run: nothing was written")


def value_text(value: Any, *, cut: bool = True) -> str:
    """A value as the jobs file writes it, briefly: ``30s``, ``"tar czf ..."``, ``{"team":"ops"}``.
    ``cut=False`` keeps it whole: a source is a file's path, told apart by its end."""
    if value is None:
        text = "(none)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = value if value and not any(ch.isspace() for ch in value) else json.dumps(value, ensure_ascii=False)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= VALUE_MAX or not cut else text[: VALUE_MAX - 1] + "…"
