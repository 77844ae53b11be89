"""Job and execution ids as people type them: whole, or a unique prefix (see ``docs/id-prefixes.md``).

Tables show the first 8 characters of an id; every command that takes an id takes such a
prefix back. The rules live here once, for the local service and the remote client alike:
a prefix is at least :data:`MIN_PREFIX` hex digits (dashes where a UUID has them allowed, any
case); it must match exactly one id; an ambiguous one is a usage error listing the matches.
Names come before prefixes: a job called ``cafe`` is that job, whatever ids start with it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from jobctl.errors import AmbiguousId, NotFound, ValidationFailed

MIN_PREFIX = 4
"""Fewer hex digits than this are never taken as an id prefix (1 in 65,536 ids share 4)."""


def is_uuid(text: str) -> bool:
    """A whole id: a UUID in its 36-character form with dashes, in any case, and no other
    (braces, ``urn:uuid:`` and 32 digits without dashes are not ids). The one rule for ids in
    paths, query parameters and the CLI (docs/api.md, "Ids"); the local service and the remote
    client both tell a whole id from a name or a prefix with it."""
    try:
        uuid.UUID(text)
    except (ValueError, TypeError):
        return False
    return len(text) == 36


MAY_BE_PRUNED = "it may have been pruned: [history] keep_days / keep_per_job"
"""Why a whole execution id may name no execution: retention deleted the run (docs/retention.md)."""


def execution_not_found(ref: str) -> NotFound:
    """The error for ``ref``, which names no execution: a whole id says it may have been pruned,
    since retention removes runs and keeps no record of which (``executions show`` of a run from
    last month said only "no execution 'ID'"); a prefix matched none that are there now."""
    return NotFound("execution", ref, note=MAY_BE_PRUNED if is_uuid(ref) else None)


NOT_A_UUID = "must be a UUID, 36 characters with dashes (8-4-4-4-12 hex digits)"
UUID_ERROR_TYPE = "uuid_parsing"
"""The ``type`` of every refused id in a query (``job_id``, ``after``, ``before``): pydantic's name."""


def query_uuid(text: str, loc: Sequence[str | int]) -> str:
    """``text``, an id given in a query, in lower case (as ids are stored).

    :raises ValidationFailed: at ``loc`` when it is not :func:`is_uuid`.
    """
    if not is_uuid(text):
        raise ValidationFailed.field(loc, NOT_A_UUID, UUID_ERROR_TYPE)
    return text.lower()


SHORT_ID = 8
"""How many characters of an id tables show."""

LISTED = 10
"""At most this many matches are named in the error for an ambiguous prefix."""

ID_PREFIX_PATTERN = r"^[0-9a-fA-F][0-9a-fA-F-]{0,35}$"
"""What the ``id_prefix`` filter of the API accepts: the start of a UUID in its usual form."""

_PREFIX = re.compile(ID_PREFIX_PATTERN)


def short_id(ident: str) -> str:
    """The first :data:`SHORT_ID` characters of an id, as tables show it."""
    return ident[:SHORT_ID]


def as_prefix(ref: str) -> str | None:
    """``ref`` in lower case when it can be an id prefix, else None (too short, not hex)."""
    if not _PREFIX.match(ref):
        return None
    if sum(char != "-" for char in ref) < MIN_PREFIX:
        return None
    return ref.lower()


def is_id_prefix_filter(text: str) -> bool:
    """Whether ``text`` is a valid value for the ``id_prefix`` filter (any length from 1)."""
    return bool(_PREFIX.match(text))


def unique_match(kind: str, ref: str, matches: Sequence[tuple[str, str]]) -> str | None:
    """The one id of ``matches`` (``(id, label)`` pairs, up to ``LISTED + 1``), None when there is none.

    :raises AmbiguousId: when there are several, naming up to :data:`LISTED` of them.
    """
    if len(matches) <= 1:
        return matches[0][0] if matches else None
    count = f"more than {LISTED}" if len(matches) > LISTED else str(len(matches))
    named = ", ".join(f"{ident} ({label})" for ident, label in matches[:LISTED])
    raise AmbiguousId(f"{kind} id prefix {ref!r} matches {count} {kind}s: {named}; give more of the id")
