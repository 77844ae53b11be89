"""Values of the API's JSON written into a line for people: audit entries, a timeline's changes,
``jobs show``.

The spelling is the API's, so what a person reads matches what ``--json`` and the API hold:
``null``, ``true``, ``false``, numbers as they are, lists and objects as compact JSON. A string
stands between double quotes **as written**: JSON's escaping would double every backslash and
escape every quote (``echo "it's"`` read as ``\\"it's\\"``), and Python's ``repr`` switched
quotes with the content and wrote ``None``/``True``. Control characters are left to the printer,
which shows them escaped (docs/terminal-output.md).

Below the service and the CLI alike: the timeline's texts are made in the service (the same
words in local and remote mode) and ``jobctl audit`` renders the API's entries in the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

VALUE_MAX = 60
"""Characters of a changed value shown; longer ones are cut with an ellipsis."""
BEFORE_CHANGE = 20
"""Characters shown before where two long values first differ, when that is past the cut."""
WHOLE = frozenset({"source"})
"""Fields whose values are never cut: a source is a file's path, told apart by its end."""


def quoted(text: str) -> str:
    """``text`` between double quotes, each character as written."""
    return f'"{text}"'


def json_text(value: Any) -> str:
    """``value`` in the API's spelling: ``null``, ``true``, ``3``, ``"a string"``, ``{"team":"ops"}``."""
    if isinstance(value, str):
        return quoted(value)
    # ``default=str``: a view must not fail on a value JSON cannot hold (none comes from the API)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def cut_alike(old_text: str, new_text: str) -> tuple[str, str]:
    """Both sides of a change at most :data:`VALUE_MAX` long, cut alike so they are seen to differ.

    Two long values that differ past the cut (a command and the same command with one more
    argument) would read as the same text twice; they are shown from a little before where
    they first differ, with an ellipsis in front.
    """
    if max(len(old_text), len(new_text)) <= VALUE_MAX:
        return old_text, new_text
    pairs = zip(old_text, new_text, strict=False)
    same = next((index for index, (one, other) in enumerate(pairs) if one != other), min(len(old_text), len(new_text)))
    start = 0 if same + BEFORE_CHANGE // 2 < VALUE_MAX - 1 else same - BEFORE_CHANGE
    return _window(old_text, start), _window(new_text, start)


def _window(text: str, start: int) -> str:
    """At most :data:`VALUE_MAX` characters of ``text`` from ``start``, an ellipsis where cut."""
    head = "…" if start else ""
    rest = text[start:]
    room = VALUE_MAX - len(head)
    return head + (rest if len(rest) <= room else rest[: room - 1] + "…")


def change_text(field: str, change: Mapping[str, Any]) -> str:
    """One field of an audit entry's ``changes``: ``maxInstances 1 -> 3``, ``description null ->
    "nightly"``, ``environment: +NEW, -OLD, PGDATABASE changed``.

    Secrets are masked in the log, so two sides can read the same though the value changed (a
    new standard input, a password in a URL): that reads ``stdin changed`` rather than ``***
    -> ***``, as an apply plan words it.
    """
    if field == "environment":
        return _environment_text(change)
    old, new = json_text(change.get("old")), json_text(change.get("new"))
    if old == new:
        return f"{field} changed"
    if field not in WHOLE:
        old, new = cut_alike(old, new)
    return f"{field} {old} -> {new}"


def _environment_text(change: Mapping[str, Any]) -> str:
    """The variables added, removed and changed; never a value (they are masked in the log).

    An entry names them in ``added``, ``removed`` and ``changed``. Older entries have only the
    masked ``old`` and ``new`` maps: the names added and removed are told by comparing them,
    but not which kept names had their value changed, so when no name came or went the kept
    ones are named as ``A or B changed``.
    """
    old, new = _names(change.get("old")), _names(change.get("new"))
    lists = [change.get(key) for key in ("added", "removed", "changed")]
    if all(isinstance(names, list) for names in lists):
        added, removed, changed = (sorted(str(name) for name in names or ()) for names in lists)
        kept = [f"{name} changed" for name in changed]
    else:
        added, removed = sorted(new - old), sorted(old - new)
        common = sorted(old & new)
        kept = [" or ".join(common) + " changed"] if common and not added and not removed else []
    parts = [f"+{name}" for name in added] + [f"-{name}" for name in removed] + kept
    return "environment: " + ", ".join(parts) if parts else "environment changed"


def _names(value: Any) -> set[str]:
    return {str(name) for name in value} if isinstance(value, Mapping) else set()


def environment_change(old: Mapping[str, str] | None, new: Mapping[str, str] | None) -> dict[str, list[str]]:
    """``added``, ``removed`` and ``changed``: the variable names an environment change touched
    (what the audit log keeps of it beside the masked maps; the values never go in)."""
    before, after = old or {}, new or {}
    return {
        "added": sorted(set(after) - set(before)),
        "removed": sorted(set(before) - set(after)),
        "changed": sorted(name for name in set(before) & set(after) if before[name] != after[name]),
    }
