"""File names at the file system's limits, for the commands that write a file of their own
(``store backup PATH``, ``executions export -o FILE``).

Both write to a hidden part file beside the name they are given, ``.NAME.XXXXXXXX.part``, and
give it that name only once it is whole. The part's name is 15 bytes longer than NAME, so a
NAME near the limit on a name's length (255 bytes on ext4, XFS, Btrfs, tmpfs) made a part
file the file system refused: a name ``touch`` takes was refused as "File name too long".
:func:`part_prefix` keeps the part's name within the limit by cutting NAME inside it to a
prefix, still recognisable. A name that is itself over the limit is said to be so, with the
limit, by :func:`too_long`, before anything is made: ``pathlib`` raised the kernel's
``ENAMETOOLONG`` from a mere ``is_dir()`` as an internal error.
"""

from __future__ import annotations

import os
from pathlib import Path

NAME_MAX = 255
"""Bytes in one name (one part of a path between slashes), encoded: Linux's ``NAME_MAX``, the
limit of ext4, XFS, Btrfs and tmpfs; used where the folder cannot say (:func:`name_limit`)."""
PATH_MAX = 4096
"""Bytes in a whole path, encoded, that the kernel takes (Linux's ``PATH_MAX``, with its NUL)."""
PART_SUFFIX = ".part"
"""The end of a part file's name."""
RANDOM_CHARACTERS = 8
"""The random characters in a part file's name (``tempfile`` makes 8, as ``token_hex(4)`` does)."""


def name_limit(folder: str | Path) -> int:
    """The most bytes a name in ``folder`` may have, as its file system says (``NAME_MAX`` when
    it cannot say, or ``folder`` does not exist)."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return NAME_MAX
    return limit if limit > 0 else NAME_MAX


def part_prefix(name: str, folder: str | Path, *, beside: str = "") -> str:
    """The start of the hidden part file's name for ``name`` in ``folder``: ``.NAME.``, NAME cut
    to the longest prefix (whole characters) with which ``.NAME.XXXXXXXX.part`` stays within the
    folder's limit on a name's length, and so does that name followed by ``beside`` (SQLite's
    ``-journal`` for a part file SQLite writes)."""
    room = name_limit(folder) - len(f"..{PART_SUFFIX}{beside}") - RANDOM_CHARACTERS
    kept, used = [], 0
    for character in name:
        size = len(os.fsencode(character))
        if used + size > room:
            break
        kept.append(character)
        used += size
    return f".{''.join(kept)}."


def too_long(path: str | Path) -> str | None:
    """Why the file system refuses ``path`` as too long, naming the limit (its last name over the
    limit of its folder's file system, another name over ``NAME_MAX``, or the whole path over
    ``PATH_MAX``); None when no length is over its limit."""
    encoded = os.fsencode(os.path.abspath(path))
    if len(encoded) >= PATH_MAX:
        return f"the path is {len(encoded)} bytes long, over the limit of {PATH_MAX - 1} bytes a path can have"
    folder, name = os.path.split(encoded)
    limit = name_limit(os.fsdecode(folder))
    if len(name) > limit:
        return f"its name is {len(name)} bytes long, over the limit of {limit} bytes a file name can have there"
    for part in folder.split(b"/"):
        if len(part) > NAME_MAX:
            shown = part[:16].decode("utf-8", "replace")
            return (f"the folder name {shown}... is {len(part)} bytes long, over the limit of {NAME_MAX} bytes "
                    "a file name can have")  # fmt: skip
    return None
