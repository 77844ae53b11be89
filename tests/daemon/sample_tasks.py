"""Python task functions used by the daemon tests."""

from __future__ import annotations

import json
import os
import sys
import time


def add(a: int, b: int) -> dict[str, object]:
    return {"sum": a + b, "args": {"a": a, "b": b}}


def boom() -> None:
    raise RuntimeError(f"the task broke (pid {os.getpid()})")


def where() -> dict[str, object]:
    """Where the run started and what it imports from (for the isolation tests)."""
    return {"cwd": os.getcwd(), "json": json.__file__, "path": sys.path}


def nul_error() -> None:
    raise ValueError("bad\0byte")


def nul_result() -> dict[str, str]:
    return {"text": "a\0b"}


def print_lines(count: int) -> None:
    """Print ``count`` numbered lines of 8 characters in one write (3 MB for 375,000)."""
    sys.stdout.write("".join(f"{n:07d}\n" for n in range(count)))


def environment() -> dict[str, object]:
    """The run's whole environment, as its interpreter sees it (for the environment tests)."""
    return {"environ": dict(os.environ)}


def exits(code: object = None) -> None:
    """``sys.exit(code)``, as a script ends itself."""
    sys.exit(code)


def returns_a_datetime() -> dict[str, object]:
    from datetime import UTC, datetime

    return {"when": datetime.now(UTC)}


def returns_an_object() -> object:
    return object()


def returns_nan() -> float:
    return float("nan")


def kaput() -> None:
    raise ValueError("kaput ü")


def fails_deep_down(depth: int) -> None:
    """Raise from ``depth`` calls down (two functions in turn: Python folds a frame repeated in a
    row): a traceback longer than the error keeps of it."""
    if depth > 0:
        _deeper(depth - 1)
        return
    raise ValueError("deep down")


def _deeper(depth: int) -> None:
    fails_deep_down(depth)


def prints_then_sleeps(seconds: float) -> None:
    """Say that it started (with print, as a callable does), then work for ``seconds``."""
    print("started")
    time.sleep(seconds)


def says_in_turn(pause: float) -> None:
    """A line on stdout, one on stderr, one on stdout again, ``pause`` seconds apart."""
    print("one")
    time.sleep(pause)
    sys.stderr.write("two\n")
    time.sleep(pause)
    print("three")
