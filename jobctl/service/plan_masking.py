"""An apply plan's changes as they may be shown: secrets masked by the audit log's rules.

A plan is printed by ``jobctl apply`` (into deploy logs, CI output) and answered by ``POST
/apply``, so it follows the rules of the audit log (docs/audit-log.md) rather than those of a
job's own JSON: a job's environment values and its standard input are masked whole, values
under secret-looking keys (``args = { password = ... }``) are masked, and every string goes
through :func:`jobctl.redaction.redact` (passwords in URLs, ``password=``). Names stay visible.

An environment is shown per variable (``env.PGPASSWORD: ["***", "***"]``, ``env.NEW: [null,
"***"]``, ``env.OLD: ["***", null]``): masked whole as one value, two environments that differ
in a value would read the same, and the plan could not say which variable changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobctl.redaction import MASK
from jobctl.service import audit
from jobctl.wire.job_tables import ENV_KEY, ENV_PREFIX

_WHOLE = {"stdin": "stdin"}
"""File keys masked whole, and the job field whose rule (:func:`audit.masked`) they follow."""


def shown_changes(changes: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    """``changes`` (file key -> ``[old, new]``) with every value masked, the environment's as
    one change per variable that was added, removed or changed."""
    shown: dict[str, list[Any]] = {}
    for key, (old, new) in changes.items():
        if key == ENV_KEY:
            shown.update(_variable_changes(old or {}, new or {}))
        else:
            field = _WHOLE.get(key, key)
            shown[key] = [audit.masked(field, old), audit.masked(field, new)]
    return shown


def _variable_changes(old: Mapping[str, str], new: Mapping[str, str]) -> dict[str, list[Any]]:
    """``env.NAME -> [old, new]`` for each variable set, unset or given another value, sorted
    by name, a value as ``***`` and a variable not set as None."""
    return {
        f"{ENV_PREFIX}{name}": [MASK if name in old else None, MASK if name in new else None]
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    }
