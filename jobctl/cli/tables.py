"""Tables that fit the width they are shown in (``COLUMNS``, the terminal's, else unlimited).

A table too wide for its width first cuts the long text of shrinkable columns (names,
schedules, errors) down to a comfortable width, then loses its least needed columns, then
cuts shrinkable ones further, each time with an ellipsis; a row is never folded over lines.
Into a pipe the width is ``$COLUMNS`` when set, else unlimited, so a script reading a table
gets whole rows (``--json`` is the stable interface).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

ALWAYS = 9
"""The ``keep`` of a column that is never dropped."""


@dataclass(frozen=True)
class Column:
    """How a column behaves when its table is too wide.

    Columns with the lowest ``keep`` are dropped first (ties: the rightmost); a column with
    ``shrink`` may be cut to ``comfortable_width`` characters before any column is dropped,
    and down to ``min_width`` after, ending in an ellipsis.
    """

    header: str
    keep: int = ALWAYS
    shrink: bool = False
    min_width: int = 8
    comfortable_width: int = 20


def print_table(
    console: Any,
    title: str | None,
    columns: Sequence[str | Column],
    rows: Sequence[Sequence[str]],
    *,
    box: Any,
) -> None:
    """Print ``rows`` (rich markup cells) under ``columns``, fitted to ``console.width``."""
    specs = [column if isinstance(column, Column) else Column(column) for column in columns]
    naturals = [_natural(spec, rows, index) for index, spec in enumerate(specs)]
    shown = list(range(len(specs)))
    limits: dict[int, int] = {}

    def excess() -> int:
        widths = sum(min(naturals[index], limits.get(index, naturals[index])) for index in shown)
        return widths + _overhead(console, len(shown), box) - int(console.width)

    for floor in ("comfortable", "drop", "min"):
        if excess() <= 0:
            break
        if floor == "drop":
            while excess() > 0 and any(specs[index].keep < ALWAYS for index in shown):
                droppable = [index for index in shown if specs[index].keep < ALWAYS]
                shown.remove(min(reversed(droppable), key=lambda index: specs[index].keep))
            continue
        limits = _shrunk(specs, naturals, shown, excess(), comfortable=floor == "comfortable", start=limits)
    console.print(_table(title, specs, rows, shown, limits, box))


def _table(
    title: str | None, specs: list[Column], rows: Sequence[Sequence[str]], shown: list[int],
    limits: dict[int, int], box: Any,
) -> Any:  # fmt: skip
    from rich.table import Table

    table = Table(title=title, box=box, header_style="bold", pad_edge=False, show_edge=False)
    for index in shown:
        limit = limits.get(index)
        if limit is None:
            table.add_column(specs[index].header, overflow="fold")
        else:
            table.add_column(specs[index].header, no_wrap=True, overflow="ellipsis", max_width=limit)
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    return table


def _overhead(console: Any, count: int, box: Any) -> int:
    """What a table of ``count`` columns adds to its cells' widths (padding, separators)."""
    from rich.measure import Measurement
    from rich.table import Table

    if count == 0:
        return 0
    table = Table(box=box, pad_edge=False, show_edge=False)
    for _ in range(count):
        table.add_column("x")
    table.add_row(*("x" * count))
    return int(Measurement.get(console, console.options.update(width=10_000), table).maximum) - count


def _shrunk(
    specs: list[Column], naturals: list[int], shown: list[int], excess: int, *, comfortable: bool,
    start: dict[int, int],
) -> dict[int, int]:  # fmt: skip
    """Widths for the shrinkable columns that take ``excess`` off, widest first, none below its floor."""
    widths = {index: start.get(index, naturals[index]) for index in shown if specs[index].shrink}

    def floor(index: int) -> int:
        return specs[index].comfortable_width if comfortable else specs[index].min_width

    while excess > 0:
        candidates = [index for index, width in widths.items() if width > floor(index)]
        if not candidates:
            break
        widest = max(candidates, key=lambda index: widths[index])
        widths[widest] -= 1
        excess -= 1
    return widths


def _natural(spec: Column, rows: Sequence[Sequence[str]], index: int) -> int:
    """The width of a column's widest cell or header (cells without markup are measured as they are)."""
    from rich.cells import cell_len
    from rich.text import Text

    def width(cell: str) -> int:
        return cell_len(cell) if "[" not in cell else Text.from_markup(cell).cell_len

    return max([cell_len(spec.header), *(width(row[index]) for row in rows)])
