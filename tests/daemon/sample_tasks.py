"""Python task functions used by the daemon tests."""

from __future__ import annotations

import os


def add(a: int, b: int) -> dict[str, object]:
    return {"sum": a + b, "args": {"a": a, "b": b}}


def boom() -> None:
    raise RuntimeError(f"the task broke (pid {os.getpid()})")
