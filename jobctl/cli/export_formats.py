"""``jobctl export`` formats: the jobs file as TOML or JSON, and a crontab of what cron can do.

TOML and JSON hold ``{"jobs": [table, ...]}`` (tables from :mod:`jobctl.wire.job_tables`,
sorted by name), which ``jobctl apply`` reads back: export, apply on an empty store and export
again gives the same bytes. The crontab holds one line per job cron can run the same way (a
five-field schedule or ``@daily`` and friends, a shell command, a zone as ``CRON_TZ``, standard
input as ``%`` lines), each under a ``# name:`` comment that ``jobctl import crontab`` reads;
every other job is listed as a comment saying which of its settings cron has no way to hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

CRONTAB_KEYS = frozenset({"name", "cron", "timezone", "command", "stdin", "description", "labels"})
"""Keys a crontab line can hold (description and labels are only jobctl's notes, and dropped)."""

_WHY = {
    "every": "an interval schedule (cron has only calendar schedules)",
    "at": "a one-time run (use at(1))",
    "task": "a task function other than a shell command",
    "args": "task arguments (a shell other than /bin/sh: cron's SHELL applies to every later line)",
    "env": "variables (a crontab variable applies to every later line)",
    "enabled": "disabled",
    "paused": "paused",
    "start_date": "a start date",
    "end_date": "an end date",
    "jitter": "jitter",
}


def toml_text(tables: Sequence[dict[str, Any]]) -> str:
    from jobctl.cli.toml_out import dumps

    return dumps({"jobs": list(tables)})


def json_text(tables: Sequence[dict[str, Any]]) -> str:
    return json.dumps({"jobs": list(tables)}, indent=2, ensure_ascii=False) + "\n"


def crontab_text(tables: Sequence[dict[str, Any]], *, skipped: Sequence[tuple[str, str]] = ()) -> str:
    """A crontab of the jobs cron can run as jobctl does, and a comment for each other job
    (``skipped``: jobs without a table, and why)."""
    lines = ["# jobs exported by jobctl; read back with: jobctl import crontab FILE"]
    comments = [f"# not exported: {name}: {why}" for name, why in skipped]
    zone: str | None = None
    for table in tables:
        why = crontab_obstacles(table)
        if why:
            comments.append(f"# not exported: {table['name']}: {'; '.join(why)}")
            continue
        if table.get("timezone") != zone:
            zone = table.get("timezone")
            lines.append(f"CRON_TZ={zone}")
        lines.append(f"# name: {table['name']}")
        lines.append(f"{table['cron']} {crontab_command(table['command'], table.get('stdin'))}")
    return "\n".join([*lines, *sorted(comments)]) + "\n"


def crontab_obstacles(table: dict[str, Any]) -> list[str]:
    """Why ``table`` cannot be a crontab line as it is (empty: it can)."""
    why = []
    for key in table:
        if key in CRONTAB_KEYS:
            continue
        why.append(_WHY.get(key, f"{key} = {_short(table[key])} (cron has no such setting)"))
    cron = table.get("cron")
    if isinstance(cron, str) and not cron.startswith("@") and len(cron.split()) != 5:
        why.append("a schedule with seconds (cron has minutes)")
    command = table.get("command")
    if isinstance(command, str) and "\n" in command:
        why.append("a command of several lines")
    stdin = table.get("stdin")
    if isinstance(stdin, str) and "%" in stdin:
        why.append("standard input holding '%' (cron reads it as a line break)")
    return why


def crontab_command(command: str, stdin: str | None) -> str:
    """The command part of a crontab line: ``%`` escaped, standard input after a ``%`` with its
    line breaks as further ``%``."""
    text = command.replace("%", "\\%")
    if stdin:
        text += "%" + stdin.removesuffix("\n").replace("\n", "%")
    return text


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"
