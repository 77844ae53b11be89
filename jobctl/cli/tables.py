"""Tables that fit the width they are shown in (``COLUMNS``, the terminal's, else unlimited).

A table too wide for its width first cuts the long text of shrinkable columns (names,
schedules, errors) down to a comfortable width, then loses its least needed columns, then
cuts shrinkable ones further, each time with an ellipsis; a row is never folded over lines.
Into a pipe the width is ``$COLUMNS`` when set, else unlimited, so a script reading a table
gets whole rows (``--json`` is the stable interface).

rich lays the table out and draws its title, header and first row; the other rows of a table
that fits are written as text in the same layout (:class:`RowWriter`), which rich's table would
take about a millisecond a row for: 100,000 jobs took minutes to list (docs/cli-tables.md).
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
    rich_rows: bool = False,
) -> None:
    """Print ``rows`` (rich markup cells) under ``columns``, fitted to ``console.width``.

    ``rich_rows``: rich draws every row (the reference :class:`RowWriter` is tested against).
    """
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
    if rich_rows or excess() > 0 or len(rows) < 2 or not shown:  # what does not fit is rich's to fold or squeeze
        _print(console, _table(title, specs, rows, shown, limits, box), plain=box is None)
        return
    widths = [min(naturals[index], limits.get(index, naturals[index])) for index in shown]
    writer = RowWriter(console, widths, limits=[limits.get(index) for index in shown], box=box)
    lines = writer.lines([[row[index] for index in shown] for row in rows[1:]])
    if lines is None:  # a cell that would take more than one line: rich folds it
        _print(console, _table(title, specs, rows, shown, limits, box), plain=box is None)
        return
    _print(console, _table(title, specs, rows[:1], shown, limits, box, widths=widths), plain=box is None)
    console.file.write("".join(_unpadded(line) for line in lines) if box is None else "".join(lines))
    console.file.flush()


def _print(console: Any, table: Any, *, plain: bool) -> None:
    """Print a rich table; ``plain`` (no box: into a pipe or file) without the blanks that pad
    each line's last cell to the column's width: a listing whose widest error is 300 characters
    ended every other line with up to 300 spaces, which ``grep``, ``diff`` and ``cut`` carry along."""
    if not plain:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    console.file.write("".join(_unpadded(line) for line in captured.get().splitlines(keepends=True)))


def _unpadded(line: str) -> str:
    """``line`` without the blanks before its end (its newline kept)."""
    body = line.rstrip("\n")
    return body.rstrip(" ") + line[len(body) :]


class RowWriter:
    """Body rows of a rich table as text, in a layout already known: the columns' widths, their
    limits and the box.

    A cell of plain printable text is padded (or cut with an ellipsis) by its width in cells,
    as rich would; any other cell (markup, styles, text to cut that is not ASCII) is rendered
    by rich once, alone in a column of the same width and settings, and reused: in a listing
    those are mostly the few status words.
    """

    def __init__(self, console: Any, widths: Sequence[int], *, limits: Sequence[int | None], box: Any) -> None:
        self._console = console
        self._widths = list(widths)
        self._limits = list(limits)
        self._separator = " " + (box.mid_vertical if box is not None else "") + " "
        self._rendered: dict[tuple[int, str], str | None] = {}

    def lines(self, rows: Sequence[Sequence[str]]) -> list[str] | None:
        """Each row as its line (newline included); None when a cell would take more than one line."""
        from rich.cells import cell_len

        widths = self._widths
        out: list[str] = []
        for row in rows:
            parts: list[str] = []
            for index, text in enumerate(row):
                width = widths[index]
                if "[" not in text and text.isprintable():
                    length = len(text) if text.isascii() else cell_len(text)
                    if length <= width:
                        parts.append(text + " " * (width - length))
                        continue
                    if text.isascii():
                        parts.append(text[: width - 1] + "…")
                        continue
                rendered = self._cell(index, text)
                if rendered is None:
                    return None
                parts.append(rendered)
            out.append(self._separator.join(parts) + "\n")
        return out

    def _cell(self, index: int, text: str) -> str | None:
        """One cell as rich renders it in its column (styles included), or None if not one line."""
        key = (index, text)
        if key not in self._rendered:
            from rich.table import Table

            table = Table(box=None, show_header=False, pad_edge=False, show_edge=False, padding=0)
            _add_column(table, "", self._limits[index], width=self._widths[index])
            table.add_row(text)
            with self._console.capture() as captured:
                self._console.print(table)
            lines = captured.get().split("\n")
            self._rendered[key] = lines[0] if len(lines) == 2 and lines[1] == "" else None
        return self._rendered[key]


def _table(
    title: str | None, specs: list[Column], rows: Sequence[Sequence[str]], shown: list[int],
    limits: dict[int, int], box: Any, widths: Sequence[int] | None = None,
) -> Any:  # fmt: skip
    from rich.table import Table

    table = Table(title=title, box=box, header_style="bold", pad_edge=False, show_edge=False)
    for position, index in enumerate(shown):
        _add_column(table, specs[index].header, limits.get(index), width=widths[position] if widths else None)
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    return table


def _add_column(table: Any, header: str, limit: int | None, *, width: int | None) -> None:
    """A column that folds its text (no limit) or cuts it with an ellipsis at ``limit``."""
    if limit is None:
        table.add_column(header, overflow="fold", width=width)
    else:
        table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=limit, width=width)


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

    marked: dict[str, int] = {}  # markup repeats (status words): parsed once each

    def width(cell: str) -> int:
        if "[" not in cell:
            return len(cell) if cell.isascii() else cell_len(cell)
        if cell not in marked:
            marked[cell] = Text.from_markup(cell).cell_len
        return marked[cell]

    return max([cell_len(spec.header), *(width(row[index]) for row in rows)])
