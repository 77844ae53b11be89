"""The service's and the API's field errors in the terms of the command line.

The service names a bad query parameter as the API does (``query.until: must be later than
since``), in both CLI modes: locally the service raises it, with ``--api`` the daemon's 422
carries it. The user typed ``--until``, so the CLI says ``--until must be later than --since``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from jobctl.errors import JobctlError, ValidationFailed
from jobctl.shown import cut

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


def options_message(
    exc: ValidationFailed, options: Mapping[str, str], *, entries: Mapping[str, str] | None = None
) -> str:
    """``exc``'s message with each field that an option of the command sets named as that option.

    The schedule parsers name what they read by its field (``at: 'x' is not a time``), as a jobs
    file and the API spell it; on the command line the user typed ``--at``, so the line starts
    ``--at:`` as ``--since:`` does. A field no option sets keeps its name.

    Below a field the option sets, the message (which ends with the value refused) stands for
    the part: ``retryOnExitCodes.0`` is ``--retry-on-exit-code``, ``notify.0.on.0`` is
    ``--notify``. For a field of ``entries`` (one mapping names to values) a refused name is
    said by its noun, ``labels.Team.[key]`` is ``--label: key must be ...`` (``--env: name
    JOBCTL_X: ...`` for a sentence that is no rule), a refused value by its name,
    ``environment.X`` is ``--env X: ...``.
    """
    parts = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc") or [] if part != "body"]
        msg = str(error.get("msg", "invalid"))
        if loc and loc[0] in options:
            option, rest = options[loc[0]], loc[1:]
            noun = (entries or {}).get(loc[0])
            if noun and rest[-1:] == ["[key]"]:  # a rule reads on from the noun, a sentence follows the name
                parts.append(
                    f"{option}: {noun} {msg}" if msg.startswith("must ") else f"{option}: {noun} {cut(rest[0])}: {msg}"
                )
            elif noun and len(rest) == 1:
                parts.append(f"{option} {cut(rest[0])}: {msg}")
            else:
                parts.append(f"{option}: {msg}")
            continue
        where = ".".join(loc)
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
