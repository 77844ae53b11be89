"""Everything the CLI prints: exact JSON for scripts, rich tables for people.

rich is imported only when a table is drawn, so ``--json`` calls stay fast. Nothing decorative
goes to a pipe: without a terminal, rich prints plain text with no colour.

Every string given to the functions here is data and is shown with its control characters
escaped (:mod:`jobctl.cli.terminal`); only a :class:`Markup` string is read as rich markup.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

from jobctl.cli.terminal import printable
from jobctl.times import localized, span

if TYPE_CHECKING:
    from jobctl.cli.tables import Column

STATUS_STYLES = {
    "success": "green",
    "failed": "red",
    "timeout": "red",
    "running": "cyan",
    "pending": "yellow",
    "skipped": "dim",
    "cancelled": "magenta",
    "missed": "yellow",
}


class Markup(str):
    """Text written by jobctl itself, whose ``[style]...[/style]`` rich markup is meant."""

    __slots__ = ()


def print_json(data: Any) -> None:
    """The API's JSON, as is, on stdout, indented by two spaces.

    orjson writes the same bytes as ``json.dumps(data, indent=2, ensure_ascii=False)`` about 30
    times faster: ``jobs list --json --all`` of 100,000 jobs prints 137 MB, 11 s with the
    standard library's indenting encoder (written in Python), 0.4 s with orjson. What orjson
    refuses (an integer over 64 bits) is printed by the standard library. The
    one difference is the spelling of some small floats (``0.00001`` for ``1e-05``): the same
    number to any JSON reader.

    JSON is UTF-8 whatever the locale (as jq writes it, and as RFC 8259 has it between
    systems): orjson's bytes go to stdout's byte stream as they are. Decoding 137 MB to text for
    the text layer to encode it again also took longer than writing the JSON.
    """
    import orjson

    try:
        encoded = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        data_stream().write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    binary = cast(BinaryIO | None, getattr(sys.stdout, "buffer", None))
    if binary is None:  # a stream of text only (a test's capture)
        sys.stdout.write(encoded.decode())
        return
    sys.stdout.flush()
    binary.write(encoded)
    binary.flush()


def data_stream() -> TextIO:
    """stdout for what other programs read (JSON lines, an export, a jobs file, a job's own
    output into a pipe): UTF-8 whatever the locale, since that is how jobctl stores the text
    and how a file written with ``-o`` is encoded. A stdout that encodes otherwise (a terminal
    or a pipe under ``LANG=en_US.ISO-8859-1``) is switched to UTF-8; one that cannot switch is
    written as it is."""
    stream = sys.stdout
    if not _encodes_utf8(stream) and hasattr(stream, "reconfigure"):
        stream.flush()
        stream.reconfigure(encoding="utf-8", errors="strict")
    return stream


class WholeWrites(io.RawIOBase):
    """stdout's descriptor for the CLI, each write whole or an error.

    Python's own stdout returns a short count when a pipe's reader leaves during a write larger
    than the pipe holds, and its text layer ignores that count: the rest of the write was lost
    without an error, and ``jobctl export | head -c 10`` of a long file exited 0 instead of 141
    (docs/terminal-output.md). Here the write goes on until every byte is written, so the reader
    that left is met as ``BrokenPipeError``; any other error (a full disk, a closed stdout, an
    I/O error) is :class:`~jobctl.errors.OutputUnwritable`, one line and exit 2 instead of an
    "internal error".
    """

    def __init__(self, fd: int, *, closed: bool = False) -> None:
        super().__init__()
        self._fd = fd
        self.was_closed = closed
        """stdout was closed when the command started (``jobctl ... >&-``): descriptor 1 is held
        by /dev/null opened for reading, so that nothing the command opens takes its place and
        every write fails."""

    @property
    def name(self) -> str:
        return "<stdout>"

    def fileno(self) -> int:
        return self._fd

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return not self.was_closed and os.isatty(self._fd)

    def write(self, data: Any) -> int:
        from jobctl.errors import OutputUnwritable

        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                try:
                    done += os.write(self._fd, view[done:])
                except BlockingIOError:  # a stdout shared with a program that made it non-blocking
                    import select

                    select.select([], [self._fd], [])
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputUnwritable("it is closed" if self.was_closed else exc.strerror or str(exc)) from None
        return done


def write_stdout_whole() -> None:
    """Put stdout on :class:`WholeWrites` (its encoding and buffering kept); called once as the
    CLI starts. A stdout replaced by someone else (a test capturing it) is left alone."""
    stream = sys.stdout
    if stream is not None and stream is not sys.__stdout__:
        return
    closed = stream is None or not _descriptor_open(1)
    if closed:
        _hold_closed_stdout()
    text = io.TextIOWrapper(
        io.BufferedWriter(WholeWrites(1, closed=closed)),
        encoding=stream.encoding if stream is not None else "utf-8",
        errors=stream.errors if stream is not None else "strict",
        newline="\n",
        line_buffering=stream.line_buffering if stream is not None else False,
        write_through=stream.write_through if stream is not None else False,
    )
    if stream is not None:
        stream.flush()
    sys.stdout = text


def _descriptor_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _hold_closed_stdout() -> None:
    """Descriptor 1 on /dev/null opened for reading: the next file the command opens (the
    SQLite store) would otherwise get descriptor 1, and what is printed would be written into it."""
    held = os.open(os.devnull, os.O_RDONLY)
    if held != 1:
        os.dup2(held, 1)
        os.close(held)


def stdout_closed() -> bool:
    """Whether stdout was closed when the command started (``jobctl ... >&-``)."""
    raw = getattr(getattr(sys.stdout, "buffer", None), "raw", None)
    return isinstance(raw, WholeWrites) and raw.was_closed


def abandon_stdout() -> None:
    """What is still buffered for stdout goes nowhere: its reader left or it cannot be written,
    and the flush at exit must not fail again (Python would print "Exception ignored" and exit 120)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno() if sys.stdout is not None else 1)
    os.close(null)


def escape_what_stdout_cannot_show() -> None:
    """Text for people on a stdout whose encoding is not UTF-8 shows each character it cannot
    encode as ``\\u20ac`` instead of failing the command half way through a table (Python's
    own stderr does the same). Called once as the CLI starts; a UTF-8 stdout is left alone."""
    stream = sys.stdout
    if not _encodes_utf8(stream) and hasattr(stream, "reconfigure"):
        stream.reconfigure(errors="backslashreplace")


def _encodes_utf8(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


def print_line(text: str) -> None:
    """One line for people, its control characters escaped."""
    sys.stdout.write(printable(text) + "\n")


def warn(text: str) -> None:
    """A warning on stderr, terminal or not (a script's log should keep it); never changes the exit code."""
    sys.stderr.write(printable(f"jobctl: warning: {text}") + "\n")


def print_diagnostic(text: str) -> None:
    """One line on stderr as given (a compiler-style ``FILE:LINE: error: ...``), control characters escaped."""
    sys.stderr.write(printable(text) + "\n")


def note(text: str) -> None:
    """A message for a person, on stderr, only when stderr is a terminal."""
    if sys.stderr.isatty():
        sys.stderr.write(printable(text) + "\n")


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def relative(value: str | None, *, now: datetime | None = None) -> str:
    """``"in 4m"``, ``"3h ago"``, ``"now"`` or ``"-"`` for an API timestamp."""
    moment = parse_time(value)
    if moment is None:
        return "-"
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    if abs(seconds) < 1:
        return "now"
    text = span(abs(seconds))
    return f"in {text}" if seconds > 0 else f"{text} ago"


def local_time(value: str | None) -> str:
    """An API timestamp in the viewer's local zone, to the second."""
    moment = parse_time(value)
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def local_seconds(value: str | None) -> str:
    """Like :func:`local_time` without the zone's name, for tables (the viewer's own zone)."""
    moment = parse_time(value)
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def local_instants(text: str, *, with_zone: bool = False) -> str:
    """``text`` with the UTC instants a stored reason holds (``2026-12-07T14:50:14Z``: a missed
    range's, an auto-pause's, a retry's) in the viewer's zone, as the view shows its other times:
    a table's (:func:`local_seconds`), or with ``with_zone`` a detail block's (:func:`local_time`)."""
    form = "%Y-%m-%d %H:%M:%S %Z" if with_zone else "%Y-%m-%d %H:%M:%S"
    return localized(text, lambda moment: moment.astimezone().strftime(form))


def local_minute(value: str | None) -> str:
    """Like :func:`local_time`, to the minute, for tables."""
    moment = parse_time(value)
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def styled_status(status: str | None) -> str:
    if not status:
        return "-"
    style = STATUS_STYLES.get(status)
    return Markup(f"[{style}]{status}[/{style}]") if style else status


def cell(text: str) -> str:
    """Rich markup for ``text``: a :class:`Markup` as is, anything else escaped and made printable."""
    if isinstance(text, Markup):
        return str(text)
    if text.isascii() and text.isprintable() and "[" not in text and not text.endswith("\\"):
        return text  # nothing to escape: most cells of a long listing
    from rich.markup import escape

    return escape(printable(text))


def print_table(
    title: str | None, columns: Sequence[str | Column], rows: Sequence[Sequence[str]], *, footer: str | None = None
) -> None:
    """A table for people, fitted to the width (:mod:`jobctl.cli.tables`); plain text into a pipe."""
    from jobctl.cli import tables

    console = _console()
    box = _box() if console.is_terminal else None
    cells = [[cell(value) for value in row] for row in rows]
    tables.print_table(console, cell(title) if title else None, columns, cells, box=box)
    for line in (footer or "").splitlines():
        # A word wider than the terminal (a cursor to pass back with --after) is not broken into
        # lines, which would break it when copied: the terminal wraps that line itself.
        unbreakable = any(len(word) > console.width for word in line.split())
        console.print(cell(line), soft_wrap=unbreakable)


def print_fields(title: str, fields: Sequence[tuple[str, str]]) -> None:
    """A ``name: value`` block for one record."""

    console = _console()
    console.print(f"[bold]{cell(title)}[/bold]")
    width = max((len(name) for name, _ in fields), default=0)
    for name, value in fields:
        console.print(f"  {name.ljust(width)}  {cell(value)}")


class JobOutput:
    """A job's own output on stdout: exact into a pipe or file, made safe on a terminal.

    On a terminal its colours stay and every other control character is shown escaped
    (:class:`jobctl.cli.terminal.OutputFilter`); redirected, the bytes are the job's own.
    """

    def __init__(self) -> None:
        from jobctl.cli.terminal import OutputFilter

        self._filter = OutputFilter() if sys.stdout.isatty() else None
        self._last = "\n"

    def write(self, chunk: str) -> None:
        text = chunk if self._filter is None else self._filter.feed(chunk)
        self._emit(text)

    def end(self, *, newline: bool = False) -> None:
        """The output is over: write what was held back, and a final newline if asked and missing."""
        if self._filter is not None:
            self._emit(self._filter.flush())
        if newline and self._last != "\n":
            self._emit("\n")

    def _emit(self, text: str) -> None:
        if text:
            stream = sys.stdout if self._filter is not None else data_stream()
            stream.write(text)
            stream.flush()
            self._last = text[-1]


def print_output(text: str) -> None:
    """A whole piece of a job's output (see :class:`JobOutput`), ending with a newline."""
    writer = JobOutput()
    writer.write(text)
    writer.end(newline=True)


def _console() -> Any:
    """A console as wide as the terminal; into a pipe, ``$COLUMNS`` wide when set, else unlimited."""
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=_columns() or PIPE_WIDTH, no_color=True)
    return console


PIPE_WIDTH = 1000
"""The width of human output into a pipe when ``$COLUMNS`` does not say: in effect, no limit."""


def _columns() -> int | None:
    import os

    text = os.environ.get("COLUMNS", "")
    return int(text) if text.isdigit() and int(text) > 0 else None


def _box() -> Any:
    from rich import box

    return box.SIMPLE_HEAD
