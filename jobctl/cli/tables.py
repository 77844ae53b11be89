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
    shown = list(range(len(specs)))
    limits: dict[int, int] = {}
    table = _table(title, specs, rows, shown, limits, box)
    for floor in ("comfortable", "drop", "min"):
        excess = _width(console, table) - console.width
        if excess <= 0:
            break
        if floor == "drop":
            while excess > 0 and any(specs[index].keep < ALWAYS for index in shown):
                droppable = [index for index in shown if specs[index].keep < ALWAYS]
                shown.remove(min(reversed(droppable), key=lambda index: specs[index].keep))
                table = _table(title, specs, rows, shown, limits, box)
                excess = _width(console, table) - console.width
            continue
        limits = _shrunk(specs, rows, shown, excess, comfortable=floor == "comfortable", start=limits)
        table = _table(title, specs, rows, shown, limits, box)
    console.print(table)


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


def _width(console: Any, table: Any) -> int:
    from rich.measure import Measurement

    return int(Measurement.get(console, console.options.update(width=10_000), table).maximum)


def _shrunk(
    specs: list[Column], rows: Sequence[Sequence[str]], shown: list[int], excess: int, *, comfortable: bool,
    start: dict[int, int],
) -> dict[int, int]:  # fmt: skip
    """Widths for the shrinkable columns that take ``excess`` off, widest first, none below its floor."""
    widths = {index: start.get(index, _natural(specs[index], rows, index)) for index in shown if specs[index].shrink}

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
    from rich.cells import cell_len
    from rich.text import Text

    return max([cell_len(spec.header), *(Text.from_markup(row[index]).cell_len for row in rows)])
