"""Any bytes a run prints or says are stored, the same way on SQLite and Postgres
(docs/output-encoding.md): each NUL and undecodable byte becomes U+FFFD, one character for one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jobctl.errors import StoreError, StoreUnavailable
from jobctl.store import Store, open_store
from jobctl.store.text import storable_json, storable_text
from tests.test_store import execution_values, job_values

UNDECODABLE = b"\xff\xfe".decode("utf-8", "surrogateescape")


def test_nul_and_undecodable_bytes_become_one_replacement_character_each() -> None:
    assert storable_text("a\0b") == "a\ufffdb"
    assert storable_text(f"é{UNDECODABLE}\0") == "é\ufffd\ufffd\ufffd"
    assert storable_text("plain wörld") == "plain wörld"
    assert storable_json({"k\0": ["x\0", 1, None, {"y": UNDECODABLE}]}) == {
        "k\ufffd": ["x\ufffd", 1, None, {"y": "\ufffd\ufffd"}]
    }


def test_output_across_a_nul_is_stored_and_read_by_offsets(store: Store) -> None:
    job = store.jobs.insert(job_values("nul"))
    execution = store.executions.insert(execution_values(job.id))
    assert execution is not None
    store.executions.append_output(execution.id, 0, "a\0b")
    store.executions.append_output(execution.id, 3, f"{UNDECODABLE}c\n")
    assert store.executions.read_output(execution.id, 0) == ("a\ufffdb\ufffd\ufffdc\n", 7)
    assert store.executions.read_output(execution.id, 1) == ("\ufffdb\ufffd\ufffdc\n", 7)
    assert store.executions.read_output(execution.id, 3) == ("\ufffd\ufffdc\n", 7)
    assert store.executions.read_output(execution.id, 7) == ("", 7)


def test_an_outcome_with_nul_and_undecodable_bytes_is_recorded(store: Store) -> None:
    job = store.jobs.insert(job_values("nul-outcome"))
    execution = store.executions.insert(execution_values(job.id, status="running"))
    assert execution is not None
    now = datetime.now(UTC)
    assert store.executions.finish(
        execution.id, status="failed", started_at=now, completed_at=now, duration_seconds=0.0,
        result={"line\0": f"x\0{UNDECODABLE}"}, error_message=f"ValueError: bad\0byte {UNDECODABLE}",
    )  # fmt: skip
    recorded = store.executions.get(execution.id)
    assert recorded is not None
    assert recorded.error_message == "ValueError: bad\ufffdbyte \ufffd\ufffd"
    assert recorded.result == {"line\ufffd": "x\ufffd\ufffd\ufffd"}


def test_postgres_refusing_a_value_is_no_outage(pg_url: str) -> None:
    """The recorder retries outages only; a refused value must fail its own outcome."""
    store = open_store(pg_url)
    try:
        with pytest.raises(StoreError) as refused:
            store.db.execute("SELECT CAST(:value AS text)", {"value": "a\0b"})
        assert not isinstance(refused.value, StoreUnavailable)
    finally:
        store.close()
