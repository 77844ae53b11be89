"""What a job's free-form JSON fields may hold, whoever sends them (docs/free-form-json.md).

``taskArgs`` and ``scheduleConfig`` take any JSON object, so their types alone do not keep out
two values that break every reader of the job later:

- **A number that is not finite** (NaN, Infinity, -Infinity). JSON has none, but ``1e999``
  reads as infinity, a body read by the CLI (``jobs create --from-json``, which Python's decoder
  reads with ``NaN``) or a jobs file (TOML has ``nan`` and ``inf``) carried one into the store,
  and every answer holding it then failed to encode (a 500 for ``GET /jobs`` and ``GET
  /audit``, a literal ``NaN`` in ``--json`` output).
- **Nesting deeper than** :data:`MAX_DEPTH` levels. The code that reads a job's values back
  (masking secrets for the audit log, comparing, encoding) walks them by recursion; about 500
  levels, a 2 KB body, ended in a RecursionError: a 500 from the API, an internal error from the
  CLI. No task needs arguments nested anywhere near 64 levels.

Both are refused by :func:`free_json_errors`, called by
:func:`jobctl.wire.requests.parse_body` for every body of a job, so the API, the CLI on the store
and ``apply`` refuse them alike. The walk uses a stack of its own, not recursion.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from jobctl.shown import shown

MAX_DEPTH = 64
"""Objects and arrays one within another in a free-form field, the field's own object the first."""

NOT_FINITE = "must be a finite number: JSON has no NaN or Infinity"
TOO_DEEP = f"is nested more than {MAX_DEPTH} levels deep (objects and arrays within one another)"

Loc = list[str | int]


def too_deep_to_read(source: str) -> str:
    """What a file or input nested beyond what the parser itself reads is told (the parsers
    recurse, and give up some hundreds of levels down, far past :data:`MAX_DEPTH`)."""
    return f"{source}: nested too deeply to read: a job's values may nest at most {MAX_DEPTH} levels"


def free_json_errors(body: Mapping[str, Any], fields: Iterable[str]) -> list[dict[str, Any]]:
    """The body's errors for each of ``fields`` it holds: the first number that is not finite, at
    its own ``loc`` (``["body", "taskArgs", "x"]``), and nesting too deep, at the field's."""
    errors: list[dict[str, Any]] = []
    for field in fields:
        if field in body:
            errors.extend(_field_errors(body[field], ["body", field]))
    return errors


def _field_errors(root: Any, root_loc: Loc) -> list[dict[str, Any]]:
    """One field's errors: its first non-finite number (in document order) and its depth."""
    errors: list[dict[str, Any]] = []
    not_finite: tuple[Loc, float] | None = None
    too_deep = False
    pending: list[tuple[Any, Loc, int]] = [(root, root_loc, 0)]
    while pending and not (too_deep and not_finite):
        value, loc, depth = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            not_finite = not_finite or (loc, value)
        elif isinstance(value, dict | list):
            if depth + 1 > MAX_DEPTH:
                too_deep = True
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            pending.extend(reversed([(item, [*loc, key], depth + 1) for key, item in items]))
    if not_finite is not None:
        errors.append(_error(not_finite[0], f"{NOT_FINITE}, got {shown(not_finite[1])}"))
    if too_deep:
        errors.append(_error(root_loc, TOO_DEEP))
    return errors


def _error(loc: Loc, msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": "value_error"}
