"""``jobctl executions export`` and ``executions list --json --all``: every run, streamed."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from datetime import timedelta
from pathlib import Path

import pytest

from jobctl.cli import export as exporting
from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from tests.conftest import Cli
from tests.store.helpers import NOW, add_executions, add_job


def test_export_writes_each_format_with_the_filters(store: Store, cli: Cli, tmp_path: Path) -> None:
    job, other = add_job(store.db, "backup"), add_job(store.db, "other")
    ids = add_executions(store.db, job, [timedelta(days=n) for n in range(250)], output="o")
    add_executions(store.db, other, [timedelta(days=n) for n in range(5)])
    since = (NOW - timedelta(days=200)).isoformat()
    until = (NOW - timedelta(days=10)).isoformat()
    wanted = ids[11:201]  # since included, until excluded

    rows = json.loads(cli("executions", "export", "--job", "backup", "--since", since, "--until", until,
                          "--format", "json").stdout)  # fmt: skip
    assert [row["id"] for row in rows] == wanted
    assert rows[0]["outputPruned"] is False and rows[0]["result"] == {"exitCode": 0}

    target = tmp_path / "runs.ndjson"
    result = cli("executions", "export", "--job", "backup", "--since", since, "--until", until,
                 "--format", "ndjson", "-o", str(target))  # fmt: skip
    assert result.code == 0 and result.stdout == "", result
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == wanted

    table = list(csv.DictReader(io.StringIO(cli("executions", "export").stdout)))
    assert len(table) == 255 and tuple(table[0]) == exporting.CSV_COLUMNS
    assert json.loads(table[0]["result"]) == {"exitCode": 0}
    assert cli("executions", "export", "--format", "json", "--job", "other", "--since",
               (NOW + timedelta(days=1)).isoformat()).stdout == "[]\n"  # fmt: skip


def test_list_json_all_walks_by_cursor(store: Store, cli: Cli) -> None:
    job = add_job(store.db, "j")
    ids = add_executions(store.db, job, [timedelta(minutes=n) for n in range(230)])
    data = json.loads(cli("executions", "list", "--json", "--all").stdout)
    assert [e["id"] for e in data["executions"]] == ids
    assert data["total"] == 230 and data["nextCursor"] is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["-o", "{dir}"], "is a folder"),
        (["-o", "{dir}/missing/x.csv"], "cannot write"),
        (["--format", "xml"], "--format must be one of csv, json, ndjson"),
        (["--since", "last tuesday"], "--since: 'last tuesday' is not an ISO 8601 time"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "until"),
    ],
    ids=["folder", "missing-folder", "format", "since", "until-before-since"],
)
def test_bad_export_arguments_are_exit_2_on_one_line(
    sqlite_url: str, bare_cli: Cli, tmp_path: Path, args: list[str], fragment: str
) -> None:
    open_store(sqlite_url).close()
    before = sorted(tmp_path.iterdir())
    result = bare_cli("--db", sqlite_url, "executions", "export", *[a.format(dir=tmp_path) for a in args])
    assert result.code == 2, result
    assert result.stderr.count("\n") == 1 and fragment in result.stderr, result.stderr
    assert result.stdout == "" and sorted(tmp_path.iterdir()) == before


def test_export_memory_does_not_grow_with_the_number_of_runs(sqlite_url: str) -> None:
    """Peak memory while exporting 30,000 runs is about that of 1,200: one page at a time."""
    store = open_store(sqlite_url)
    small, large = add_job(store.db, "small"), add_job(store.db, "large")
    add_executions(store.db, small, [timedelta(seconds=n) for n in range(1_200)], output="x")
    add_executions(store.db, large, [timedelta(seconds=n) for n in range(30_000)], output="x")
    service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")

    def peak(job_id: str) -> tuple[int, int]:
        sink = _Discard()
        tracemalloc.start()
        try:
            exporting.write(exporting.walk(service.stream_executions(job_id=job_id)), sink, "ndjson")
            return tracemalloc.get_traced_memory()[1], sink.written
        finally:
            tracemalloc.stop()

    peak(small)  # the first export also allocates what any later one reuses (imports, caches)
    small_peak, _ = peak(small)
    large_peak, large_bytes = peak(large)
    assert large_peak < 2 * small_peak
    assert large_peak < large_bytes / 5
    store.close()


class _Discard(io.StringIO):
    """A stream that keeps nothing, so only the export's own memory is measured."""

    written = 0

    def write(self, text: str) -> int:
        self.written += len(text)
        return len(text)
