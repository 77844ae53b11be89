"""``executions export``: every execution matching the filters, written as it is read.

The rows come through the service interface's stream (``JobService.stream_executions``: a
keyset walk of the store locally, one chunked answer of ``GET /executions/stream`` through
``--api``), a page at a time, and each page is written before the next is read: memory stays
that of one page however many millions of rows there are (docs/keyset-paging.md).

``-o FILE`` is written only once the export is known to start (:class:`Destination`): a bad
job, range or store leaves FILE as it was, and so does an export that fails midway. A new FILE
is its owner's alone from the moment it exists (run output, like a jobs export, can hold
secrets: docs/export-files.md); ``jobctl export`` writes its jobs file through the same class.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from jobctl.cli.stop_request import end_on_termination, restore_handlers
from jobctl.errors import UsageError
from jobctl.wire.responses import ExecutionOut

FORMATS = ("csv", "json", "ndjson")

_FIRST_COLUMNS = (
    "id", "jobId", "status", "scheduledFor", "startedAt", "completedAt", "durationSeconds", "attempt", "triggeredBy",
    "triggeredByUserId", "instanceId", "celeryTaskId", "errorMessage", "result", "outputDroppedBytes",
    "outputPruned",
)  # fmt: skip
"""The order of the CSV's first columns, as the export has always written them."""
_KEYS = tuple(ExecutionOut.__annotations__)
"""The keys of the API's execution, in its order: :class:`~jobctl.wire.responses.ExecutionOut`
declares them for the service, the API's OpenAPI document and the remote client alike."""
CSV_COLUMNS = tuple(key for key in _FIRST_COLUMNS if key in _KEYS) + tuple(
    key for key in _KEYS if key not in _FIRST_COLUMNS
)
"""One CSV column per key of the API's execution, every one of them and no other: those of
``_FIRST_COLUMNS`` in that order, then any other in the execution's order (a key added to
:class:`~jobctl.wire.responses.ExecutionOut` becomes the last column)."""
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
"""What ``json.dumps(row, ensure_ascii=False)`` gives, by one encoder for every row instead of one per call."""


def walk(pages: Iterable[list[ExecutionOut]]) -> Iterator[ExecutionOut]:
    """Every execution of a stream of pages, one by one.

    The first page is read at once, so a bad filter or an API that cannot be reached fails
    before anything is written (a remote stream asks for its answer on its first page).
    """
    rest = iter(pages)
    return _rows(next(rest, []), rest)


def _rows(first: list[ExecutionOut], rest: Iterator[list[ExecutionOut]]) -> Iterator[ExecutionOut]:
    yield from first
    for page in rest:
        yield from page


def write(rows: Iterator[ExecutionOut], out: TextIO, fmt: str) -> int:
    """Write ``rows`` to ``out`` in ``fmt``; how many were written."""
    writer = {"csv": _csv, "json": _json, "ndjson": _ndjson}[fmt]
    return writer(rows, out)


JSON_TEXT_COLUMNS = frozenset({"result"})
"""Columns whose value is any JSON value: a cell of JSON text whatever it is (a string in quotes)."""


def _csv(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    table = csv.writer(out)
    table.writerow(CSV_COLUMNS)
    columns = [(column, column in JSON_TEXT_COLUMNS) for column in CSV_COLUMNS]
    count = 0
    for row in rows:
        table.writerow([_cell(row.get(column), json_text) for column, json_text in columns])
        count += 1
    return count


def _cell(value: Any, json_text: bool) -> Any:
    """A value as JSON spells it: null an empty cell, ``true``/``false``, an object or array (and
    any value of a ``json_text`` column) as JSON text; strings and numbers as they are."""
    if value is None:
        return ""
    if json_text or isinstance(value, (bool, dict, list)):
        return _ENCODE(value)
    return value


def _json(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    out.write("[")
    count = 0
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(_ENCODE(row))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _ndjson(rows: Iterator[ExecutionOut], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(_ENCODE(row) + "\n")
        count += 1
    return count


def refuse_the_store(path: str | None, store_file: Path | None) -> None:
    """Refuse an ``-o FILE`` that is the SQLite store being exported (``store_file``, None when
    it is not known here: through ``--api``) or one of SQLite's files beside it, by name or
    through a link: the export would be renamed over it, and the store, or the writes its log
    holds, replaced by the export of its own history; and, in either mode, any other SQLite
    file (:func:`_refuse_a_sqlite_file`).

    :raises UsageError:
    """
    if path is None:
        return
    if store_file is not None:
        from jobctl.store.sqlite_file import store_file_named

        name = store_file_named(path, store_file, including_itself=True)
        if name is not None:
            raise UsageError(f"-o {path} is the store's own file {name}; give another file to write the export to")
    _refuse_a_sqlite_file(path)


def _refuse_a_sqlite_file(path: str) -> None:
    """Refuse an ``-o FILE`` that is a SQLite file (:func:`jobctl.store.sqlite_file.sqlite_file_at`:
    a database, its log or journal, by content or by name), whichever store it belongs to. An
    export is never SQLite, so writing one over such a file is always a mistake, and one that
    destroys it: through ``--api`` the store's own path is not known here, and an export given
    the daemon's store file replaced the live store with CSV.

    :raises UsageError:
    """
    from jobctl.store.sqlite_file import sqlite_file_at

    what = sqlite_file_at(path)
    if what is not None:
        raise UsageError(f"-o {path} is {what}: an export is never SQLite, and writing it there would "
                         "destroy that file; give another file to write the export to")  # fmt: skip


NEW_FILE_MODE = 0o600
"""The mode of a file an export creates: owner-only, as ``store backup`` makes its copy. An
export holds what a job hands its runs (environment values, stdin, task arguments) or what its
runs printed, and a umask of 022 would make it readable by every user of the host; an existing
FILE keeps its own mode, which its owner chose (docs/export-files.md)."""


def open_for_writing(path: str) -> TextIO:
    """``path`` opened for writing in place, truncated: created :data:`NEW_FILE_MODE` from its first
    moment (the mode is given to ``open(2)`` itself, so no other user can open it in between),
    an existing file with its mode kept. For FILEs that are not replaced (a FIFO, a device, a
    symlink, a file with other hard links). :raises OSError:"""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, NEW_FILE_MODE)
    try:
        return open(descriptor, "w", encoding="utf-8", newline="")
    except BaseException:
        os.close(descriptor)
        raise


class Destination:
    """Where an export goes: stdout, or ``-o FILE``.

    A FILE that is a regular file (with no other hard link) or does not exist yet is written
    under a temporary name in its folder and renamed over FILE by :meth:`finish`, with FILE's
    permissions (a new one: :data:`NEW_FILE_MODE`, whatever the umask): until then FILE is as it
    was, and an export that fails, midway or before it starts, only removes the temporary file. Anything else at
    FILE (a FIFO, a device, a symlink such as ``/dev/stdout``), and a FILE this user may write
    in a folder he may not, is opened by :meth:`open`, once the export starts, and written as
    the runs come. Memory stays that of one page either way.

    Use as a context manager: leaving it without :meth:`finish` discards what was written.
    """

    def __init__(self, path: str | None) -> None:
        """Check ``path`` (and make the temporary file) without changing what is at ``path``.

        :raises UsageError: for an empty path, a folder or a file that cannot be written.
        """
        self.path = path
        self._temp: str | None = None
        self._stream: TextIO | None = None
        self._previous_handlers: dict[int, Any] = {}
        if path is None:
            return
        if not path:  # open('') would say "No such file or directory" about a name nobody sees
            raise UsageError("-o is empty: give a file to write the export to, or - for standard output")
        from jobctl.store.file_names import too_long

        why = too_long(path)
        if why is not None:
            raise UsageError(f"cannot write {path}: {why}")
        if os.path.isdir(path):
            raise UsageError(f"-o {path} is a folder; give a file to write the export to")
        try:
            info: os.stat_result | None = os.lstat(path)
        except FileNotFoundError:
            info = None
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        if info is None or (stat.S_ISREG(info.st_mode) and info.st_nlink == 1):
            try:
                self._stream = self._beside(path, info)
                return
            except OSError as exc:
                if info is None or not os.access(path, os.W_OK):
                    raise _cannot_write(path, exc) from None
        elif os.path.exists(path) and not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {path}: Permission denied")

    def _beside(self, path: str, info: os.stat_result | None) -> TextIO:
        """A new temporary file in ``path``'s folder, with ``path``'s mode (and owner, if allowed):
        ``.FILE.XXXXXXXX.part``, FILE cut short when that name would be over the file system's limit."""
        from jobctl.store.file_names import PART_SUFFIX, part_prefix

        folder, name = os.path.split(path)
        folder = folder or "."
        descriptor, self._temp = tempfile.mkstemp(prefix=part_prefix(name, folder), suffix=PART_SUFFIX, dir=folder)
        try:
            if info is None:
                os.fchmod(descriptor, NEW_FILE_MODE)  # mkstemp's own, unless a umask such as 0277 took from it
            else:
                os.fchmod(descriptor, stat.S_IMODE(info.st_mode))
                if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(descriptor, info.st_uid, info.st_gid)
                    except OSError:
                        pass  # not allowed (not root): the file becomes this user's, as cp would make it
            return open(descriptor, "w", encoding="utf-8", newline="")
        except BaseException:
            os.close(descriptor)
            self._discard_temp()
            raise

    def open(self) -> TextIO:
        """The stream to write the export to: call once it is known to start. :raises UsageError:"""
        if self.path is None:
            from jobctl.cli.output import data_stream

            return data_stream()
        if self._stream is None:
            try:
                self._stream = open_for_writing(self.path)
            except OSError as exc:
                raise _cannot_write(self.path, exc) from None
        return self._stream

    def write(self, rows: Iterator[ExecutionOut], fmt: str) -> int:
        """:func:`write` to :meth:`open`'s stream. :raises UsageError: when FILE cannot take it (a full disk)."""
        out = self.open()
        if self.path is None:
            return write(rows, out, fmt)
        try:
            return write(rows, out, fmt)
        except BrokenPipeError:
            raise  # FILE is a pipe or FIFO whose reader left: as on stdout (jobctl.cli.main)
        except OSError as exc:
            raise _cannot_write(self.path, exc) from None

    def write_text(self, text: str) -> None:
        """Write ``text`` whole to :meth:`open`'s stream (a jobs file). :raises UsageError: as :meth:`write`."""
        out = self.open()
        try:
            out.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _cannot_write(self.path or "-", exc) from None

    def finish(self) -> None:
        """The export is whole: flush it, and rename the temporary file over FILE. :raises UsageError:"""
        if self.path is None:
            sys.stdout.flush()
            return
        try:
            if self._stream is not None:
                self._stream.flush()
                if self._temp is not None:
                    os.fsync(self._stream.fileno())
                stream, self._stream = self._stream, None
                stream.close()
            if self._temp is not None:
                os.replace(self._temp, self.path)
                self._temp = None
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _cannot_write(self.path, exc) from None

    def discard(self) -> None:
        """After a failure: close the stream and remove the temporary file (FILE stays as it was)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except OSError:
                pass  # a FIFO whose reader left, a full disk: what was written is discarded anyway
        self._discard_temp()

    def _discard_temp(self) -> None:
        temp, self._temp = self._temp, None
        if temp is not None:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass

    def __enter__(self) -> Destination:
        self._previous_handlers = end_on_termination()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            self.discard()
        finally:
            restore_handlers(self._previous_handlers)


def _cannot_write(path: str, exc: OSError) -> UsageError:
    return UsageError(f"cannot write {path}: {exc.strerror or exc}")
