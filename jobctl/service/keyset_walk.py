"""The walk the streams share (``GET /jobs/stream``, ``GET /executions/stream``): one keyset
query per page, each after the last row of the one before, so rows written or deleted during
the walk neither repeat nor push others out (docs/keyset-paging.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

from jobctl.store.database import Row, to_utc

Key = TypeVar("Key")
Item = TypeVar("Item")


def walk_pages(
    read: Callable[[Key | None], tuple[list[Row], bool]],
    start: Key | None,
    key_of: Callable[[Row], Key],
    shape: Callable[[Row], Item],
) -> Iterator[list[Item]]:
    """Pages of ``shape(row)``: ``read(key)`` gives the rows after ``key`` (from the first with
    None) and whether more follow; ``key_of`` the key of a page's last row."""
    key = start
    while True:
        rows, more = read(key)
        if rows:
            yield [shape(row) for row in rows]
        if not more or not rows:
            return
        key = key_of(rows[-1])


def created_key(row: Row) -> tuple[datetime, str]:
    """``(created_at, id)`` of a stored row: the order of both listings."""
    created_at = to_utc(row["created_at"])
    assert created_at is not None, "created_at is NOT NULL"
    return created_at, str(row["id"])
