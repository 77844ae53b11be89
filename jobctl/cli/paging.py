"""The paging options of the listings read by page number (``audit``, ``notifications list``,
``task-functions list``), with the meaning they have in ``executions list`` (docs/listings.md):

- nothing: people see the first 50, with a footer when there are more; ``--json`` prints page 1;
- ``--limit N``: people see the first N, however many pages that takes (refused with ``--json``);
- ``--page``/``--per-page``: that page only (the API's answer with ``--json``);
- ``--all``: every item; with ``--json`` one answer of the API's shape, ``total`` its length.

Only the service interface is called, so both CLI modes behave alike. The options themselves
are declared in each command module (typer lives there only).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobctl.errors import UsageError

DEFAULT_LIMIT = 50
"""Items shown to people unless --limit says otherwise (and the API's default page size)."""
PAGE = 100
"""Items per request when reading past one page: the API's maximum ``per_page``."""

Fetch = Callable[[int, int], Any]
"""``fetch(page, per_page)``: one page of a listing, ``{key: [items], "total": n, ...}``."""


@dataclass(frozen=True, kw_only=True)
class Choice:
    """How the user chose the items of a listing, checked."""

    limit: int | None
    page: int | None
    per_page: int | None
    every: bool
    as_json: bool

    @property
    def paged(self) -> bool:
        return self.page is not None or self.per_page is not None

    @property
    def shown_page(self) -> tuple[int, int] | None:
        """``(page, per_page)`` for a footer, when one page was asked for."""
        return (self.page or 1, self.per_page or DEFAULT_LIMIT) if self.paged else None

    def check(self) -> Choice:
        """:raises UsageError: for two ways of choosing at once, or --limit with --json."""
        check_choice(limit=self.limit is not None, paged=self.paged, every=self.every, as_json=self.as_json)
        return self


def at_least_one(option: str) -> Callable[[int | None], int | None]:
    """An option callback refusing a count below 1 in jobctl's words (``--limit must be at least
    1, got 0``, exit 2), as ``--page`` is refused, instead of click's ``Invalid value for
    '--limit': 0 is not in the range x>=1.``"""

    def check(value: int | None) -> int | None:
        if value is not None and value < 1:
            raise UsageError(f"{option} must be at least 1, got {value}")
        return value

    return check


def check_choice(*, limit: bool, paged: bool, every: bool, as_json: bool) -> None:
    """One way of choosing items: --limit (people), --page/--per-page, or --all.

    :raises UsageError:
    """
    if sum((limit, paged, every)) > 1:
        raise UsageError("give one of --limit, --page/--per-page and --all")
    if limit and as_json:
        raise UsageError("--limit is for people; with --json use --page/--per-page or --all")


def read(fetch: Fetch, key: str, choice: Choice) -> dict[str, Any]:
    """The items ``choice`` asks for, in the listing's own shape."""
    if choice.every:
        return every_item(fetch, key)
    if choice.paged or choice.as_json:
        return dict(fetch(choice.page or 1, choice.per_page or DEFAULT_LIMIT))
    return first_items(fetch, key, choice.limit or DEFAULT_LIMIT)


def first_items(fetch: Fetch, key: str, limit: int) -> dict[str, Any]:
    """The first ``limit`` items (as many pages as that takes), with the first page's total."""
    if limit <= PAGE:
        return dict(fetch(1, limit))
    first = dict(fetch(1, PAGE))
    items = _walk(fetch, key, first, stop_at=limit)
    return {**first, key: items[:limit]}


def every_item(fetch: Fetch, key: str) -> dict[str, Any]:
    """Every item, page after page of 100, in the listing's shape; ``total`` is the number in it.

    These listings have no cursor, so an item recorded during the walk (they are newest first)
    pushes the rest one place down and the last item of a page comes again at the start of the
    next: items are kept once by id. Pruning removes the oldest, at the end, which moves nothing
    that is still to be read.
    """
    first = dict(fetch(1, PAGE))
    items = _walk(fetch, key, first, stop_at=None)
    return {**first, key: items, "total": len(items)}


def _walk(fetch: Fetch, key: str, first: dict[str, Any], *, stop_at: int | None) -> list[Any]:
    """The items of ``first`` and the pages after it, each once, until a short page (the end)
    or ``stop_at`` items."""
    items: list[Any] = []
    seen: set[Any] = set()
    page, number = first, 1
    while True:
        for item in page[key]:
            if item["id"] not in seen:
                seen.add(item["id"])
                items.append(item)
        if len(page[key]) < PAGE or (stop_at is not None and len(items) >= stop_at):
            return items
        number += 1
        page = fetch(number, PAGE)
