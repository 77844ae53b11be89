"""Long tables: the rows after the first are written as text in rich's layout, and must read
exactly as rich would have drawn them (:class:`jobctl.cli.tables.RowWriter`).

Each case prints the same table twice on the same kind of console, once the usual way and once
with rich drawing every row, and compares the bytes: pipes (no colour, any width) and terminals
(colour, a header rule), with or without a title; cells of plain, accented, wide and control
characters, markup, styled status words, text long enough to be cut; and widths that make
columns shrink or go.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box as boxes
from rich.console import Console

from jobctl.cli import tables
from jobctl.cli.output import cell
from jobctl.cli.tables import Column

WORDS = st.sampled_from([
    "job-000001", "backup", "every 1h", "cron 0 2 * * * (Europe/Berlin)", "-", "in 59m", "2026-12-06 12:28 UTC",
    "sauvegarde nocturne é", "日本語のジョブ", "emoji 🚀 run", "a[b]c", "path\\", "tab\there", "cr\rlf", "x" * 70,
    "ends with ellipsis…", "",
])  # fmt: skip
STYLED = st.sampled_from([
    "[red]failed[/red]", "[green]success[/green]", "[dim]disabled[/dim]", "[yellow]paused[/yellow]",
    "[bold red]timed out[/bold red]",
])  # fmt: skip
CELLS = st.one_of(WORDS.map(cell), STYLED, st.text(max_size=30).map(cell))
COLUMNS = st.lists(
    st.builds(
        Column,
        header=st.sampled_from(["NAME", "ID", "SCHEDULE", "STATE", "NEXT RUN", "AT", "RESULT", "ERROR"]),
        keep=st.integers(min_value=1, max_value=tables.ALWAYS),
        shrink=st.booleans(),
        min_width=st.integers(min_value=3, max_value=12),
        comfortable_width=st.integers(min_value=12, max_value=30),
    ),
    min_size=1,
    max_size=6,
)


def printed(
    rows: list[list[str]],
    columns: list[Column],
    *,
    terminal: bool,
    width: int,
    rich_rows: bool,
    title: str | None = None,
) -> str:
    out = io.StringIO()
    if terminal:
        console = Console(file=out, force_terminal=True, color_system="standard", width=width, highlight=False)
    else:
        console = Console(file=out, force_terminal=False, width=width, highlight=False, no_color=True)
    box: Any = boxes.SIMPLE_HEAD if terminal else None
    tables.print_table(console, title, columns, rows, box=box, rich_rows=rich_rows)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    columns=COLUMNS,
    data=st.data(),
    terminal=st.booleans(),
    width=st.one_of(st.just(1000), st.integers(min_value=10, max_value=140)),
    title=st.one_of(st.none(), WORDS.map(cell)),
)
def test_rows_written_as_text_read_as_rich_draws_them(
    columns: list[Column], data: st.DataObject, terminal: bool, width: int, title: str | None
) -> None:
    rows = data.draw(st.lists(st.lists(CELLS, min_size=len(columns), max_size=len(columns)), min_size=2, max_size=12))
    expected = printed(rows, columns, terminal=terminal, width=width, rich_rows=True, title=title)
    assert printed(rows, columns, terminal=terminal, width=width, rich_rows=False, title=title) == expected


def test_a_long_listing_is_written_as_text_after_its_first_row() -> None:
    """The row writer is what draws a long table (not only a path the property test reaches):
    it renders each distinct styled cell once, so 5,000 rows of three status words cost three
    renders."""
    rows = [[f"job-{k:06d}", ["[red]failed[/red]", "[green]success[/green]", "-"][k % 3]] for k in range(5000)]
    rendered: list[tuple[int, str]] = []
    original = tables.RowWriter._cell

    def counting(self: tables.RowWriter, index: int, text: str) -> str | None:
        rendered.append((index, text))
        return original(self, index, text)

    tables.RowWriter._cell = counting  # type: ignore[method-assign]
    try:
        fast = printed(rows, [Column("NAME"), Column("RESULT")], terminal=True, width=80, rich_rows=False)
    finally:
        tables.RowWriter._cell = original  # type: ignore[method-assign]
    assert fast == printed(rows, [Column("NAME"), Column("RESULT")], terminal=True, width=80, rich_rows=True)
    assert fast.count("\n") == 5000 + 2  # header, its rule, the rows
    assert len(set(rendered)) == 2 and len(rendered) == 4999 - 1666  # styled cells after the first row
