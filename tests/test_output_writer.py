"""The output writer keeps exactly the last characters of a run's output, in bounded memory,
and counts the bytes it dropped as the job wrote them; on a real store, SQLite and Postgres."""

from __future__ import annotations

import pytest

from jobctl.scheduler.output_writer import OutputWriter
from jobctl.store import Store
from jobctl.store import executions as executions_module
from tests.test_store import execution_values, job_values

LIMIT = 10
UNDECODABLE = b"\xff".decode("utf-8", "surrogateescape")


@pytest.fixture
def execution_id(store: Store, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(executions_module, "OUTPUT_LIMIT_CHARS", LIMIT)
    job = store.jobs.insert(job_values("writer"))
    execution = store.executions.insert(execution_values(job.id))
    assert execution is not None
    return execution.id


def read_all(store: Store, execution_id: str) -> tuple[str, int, int]:
    data, end = store.executions.read_output(execution_id, 0)
    recorded = store.executions.get(execution_id)
    assert recorded is not None
    return data, end, recorded.output_dropped_bytes


def test_output_within_the_limit_is_kept_whole_and_nothing_is_dropped(store: Store, execution_id: str) -> None:
    writer = OutputWriter(store, execution_id, limit=LIMIT)
    writer("hello\n")
    writer.flush()
    writer("wö")
    writer.flush()
    assert read_all(store, execution_id) == ("hello\nwö", 8, 0)


def test_only_the_last_characters_are_kept_and_the_dropped_bytes_counted(store: Store, execution_id: str) -> None:
    writer = OutputWriter(store, execution_id, limit=LIMIT)
    writer("ééé")  # 6 bytes, flushed
    writer.flush()
    writer(f"ab{UNDECODABLE}cd")  # 5 bytes, not flushed before more comes
    writer("0123456789")  # pushes everything before out of the window
    writer.flush()
    assert read_all(store, execution_id) == ("0123456789", 18, 6 + 5)
    writer("xyz€")  # keeps "456789xyz€"; drops "0123"
    writer.flush()
    assert read_all(store, execution_id) == ("456789xyz€", 22, 6 + 5 + 4)


def test_one_piece_larger_than_the_limit_keeps_its_tail(store: Store, execution_id: str) -> None:
    writer = OutputWriter(store, execution_id, limit=LIMIT)
    writer("€" * 5 + "a" * 20)
    writer.flush()
    assert read_all(store, execution_id) == ("a" * 10, 25, 15 + 10)
    rows = store.db.scalar("SELECT COUNT(*) FROM execution_output WHERE execution_id = :id", {"id": execution_id})
    assert rows == 1, "one flush, one row, at most the limit"


def test_many_fast_pieces_between_flushes_cost_one_bounded_write(store: Store, execution_id: str) -> None:
    writer = OutputWriter(store, execution_id, limit=LIMIT)
    for n in range(1000):
        writer(f"{n:04d}")
    writer.flush()
    assert read_all(store, execution_id) == ("9709980999", 4000, 3990)
    rows = store.db.scalar("SELECT COUNT(*) FROM execution_output WHERE execution_id = :id", {"id": execution_id})
    assert rows == 1
