"""The service's and the API's field errors in the terms of the command line.

The service names a bad query parameter as the API does (``query.until: must be later than
since``), in both CLI modes: locally the service raises it, with ``--api`` the daemon's 422
carries it. The user typed ``--until``, so the CLI says ``--until must be later than --since``.
"""

from __future__ import annotations

import re

from jobctl.errors import JobctlError, ValidationFailed

QUERY_OPTIONS = {
    "since": "--since",
    "until": "--until",
    "label": "--label",
    "status": "--status",
    "page": "--page",
    "per_page": "--per-page",
    "after": "--after",
    "count": "--count",
    "name": "--name",
    "task_function_id": "--task-function-id",
}
"""Query parameters and the options that set them (the same in every command that has them)."""

_BOUND = re.compile(r"'[^']*'|\b(since|until)\b")
"""The ends of a time window as messages name them (``must be later than since``), or a quoted
value, which stays as the user gave it."""


def cli_message(exc: JobctlError) -> str:
    """``exc``'s message for the command line: a validation error of query parameters only in
    the options' terms, anything else as it is."""
    if not isinstance(exc, ValidationFailed):
        return exc.message
    parts = [_in_option_terms(error) for error in exc.errors]
    if any(part is None for part in parts):
        return exc.message  # a field no option sets: the API's name is the only one there is
    return "; ".join(part for part in parts if part is not None)


def _in_option_terms(error: dict[str, object]) -> str | None:
    loc = [part for part in error.get("loc") or [] if part != "body"]  # type: ignore[attr-defined]
    if len(loc) != 2 or loc[0] != "query" or loc[1] not in QUERY_OPTIONS:
        return None
    option = QUERY_OPTIONS[str(loc[1])]
    msg = _BOUND.sub(lambda found: QUERY_OPTIONS[found[1]] if found[1] else found[0], str(error.get("msg", "invalid")))
    # a sentence about the option reads on from its name, export's "--until must be later than --since"
    return f"{option} {msg}" if msg.startswith("must ") else f"{option}: {msg}"


def options_message(exc: ValidationFailed, options: dict[str, str]) -> str:
    """``exc``'s message with each field that an option of the command sets named as that option.

    The schedule parsers name what they read by its field (``at: 'x' is not a time``), as a jobs
    file and the API spell it; on the command line the user typed ``--at``, so the line starts
    ``--at:`` as ``--since:`` does. A field no option sets keeps its name.
    """
    parts = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc") or [] if part != "body"]
        where = options.get(loc[0], loc[0]) if len(loc) == 1 else ".".join(loc)
        msg = str(error.get("msg", "invalid"))
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
