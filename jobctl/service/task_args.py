"""What ``taskArgs`` may hold: only what every run of the job can actually be given.

A command run gets each argument as ``JOBCTL_ARG_<KEY>`` and all of them as JSON in
``JOBCTL_TASK_ARGS``, in the environment of ``execve``. A job whose arguments cannot get there
would be accepted and then fail every single run, so such arguments are refused when the job
is created or changed, at the location of the culprit:

- **NUL** (``\\u0000``) in a key or in any string, at any depth: a C string ends at NUL, so the
  environment cannot carry it (and nested values reach Celery and Python callables, which
  should see the same arguments as commands do).
- **Size**: ``JOBCTL_TASK_ARGS`` (the arguments as JSON, non-ASCII escaped) at most
  :data:`TASK_ARGS_MAX_BYTES`, 64 KiB. Linux refuses any single environment string over
  ``MAX_ARG_STRLEN`` (128 KiB) with "Argument list too long", and every other variable made
  from the arguments is shorter than that JSON, so 64 KiB keeps each well under it and their
  total (at most about three copies of the arguments, with the shell's command line) far
  under the 2 MiB that ``execve`` takes in all with the default 8 MiB stack limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

TASK_ARGS_MAX_BYTES = 64 * 1024
"""Largest ``taskArgs`` as ``JOBCTL_TASK_ARGS`` holds them (``json.dumps``, ASCII), in bytes."""

Loc = list[str | int]


def task_args_errors(task_args: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Field errors (``loc`` from ``["body", "taskArgs"]``) for arguments no run could be given."""
    if not task_args:
        return []
    errors = [_error(loc, msg) for loc, msg in _nul_problems(dict(task_args), ["body", "taskArgs"])]
    if not errors:
        size = len(json.dumps(task_args))
        if size > TASK_ARGS_MAX_BYTES:
            errors.append(
                _error(
                    ["body", "taskArgs"],
                    f"is {size} bytes as JSON; at most {TASK_ARGS_MAX_BYTES} fit in a run's environment",
                )
            )
    return errors


def _nul_problems(root: Any, root_loc: Loc) -> list[tuple[Loc, str]]:
    """Where NUL occurs under ``root``: in a key (located at the key) or a string (at the string).

    Walked with a stack of its own, not by recursion: the body reader accepts JSON nested
    nearly as deep as Python's recursion limit, and a request must not fail on that.
    """
    found: list[tuple[Loc, str]] = []
    pending: list[tuple[Any, Loc]] = [(root, root_loc)]
    while pending:
        value, loc = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            found.append((loc, "must not contain NUL characters: a run's environment cannot carry them"))
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    found.append(([*loc, key], "key must not contain NUL characters"))
                else:
                    pending.append((item, [*loc, key]))
        elif isinstance(value, list):
            pending.extend((item, [*loc, index]) for index, item in enumerate(value))
    return sorted(found, key=lambda problem: [str(part) for part in problem[0]])


def _error(loc: Loc, msg: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": "value_error"}
