"""How changes read for people: ``jobctl audit`` and the change events of ``jobctl jobs why``
(docs/audit-log.md). Values in the API's spelling, an environment change by its variables'
names (the values are masked), and entries written before those names were recorded still read."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from jobctl.service import audit
from jobctl.store import open_store

PYTHON_SPELLINGS = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\{'|'\}|': ")
"""What Python's ``repr`` writes and JSON does not: ``None``, ``True``, ``{'key': ...}``."""


def _what(cli: Any, ok: Callable[[Any], Any], job: str) -> list[str]:
    """The WHAT column of ``jobctl audit --job JOB``, newest first, as a person reads it."""
    lines = ok(cli("audit", "--job", job)).stdout.splitlines()
    start = lines[0].index("WHAT")
    return [line[start:].rstrip() for line in lines[1:] if line.strip() and not line.endswith("entries")]


def _changes(cli: Any, ok: Callable[[Any], Any], job: str) -> list[str]:
    """The text of each change event of ``jobctl jobs why JOB``, oldest first."""
    lines = ok(cli("jobs", "why", job)).stdout.splitlines()
    return [line.split("  change   ", 1)[1] for line in lines if "  change   " in line]


def test_an_update_reads_in_the_apis_spelling_and_the_environment_by_name(
    cli: Any, ok: Callable[[Any], Any], run_json: Callable[..., Any]
) -> None:
    run_json("jobs", "create", "dump", "--every", "1h", "--command", "true", "--env", "PGDATABASE=app",
             "--env", "OLD=1", "--env", "KEPT=same", "--json")  # fmt: skip
    ok(cli("jobs", "update", "dump", "--env", "PGDATABASE=app2", "--env", "NEW=2", "--unset-env", "OLD"))
    ok(cli("jobs", "update", "dump", "--from-json", "-", input=json.dumps({"isPaused": True, "description": "x y"})))
    ok(cli("jobs", "resume", "dump"))
    ok(cli("jobs", "update", "dump", "--command", 'echo "it\'s" done', "--label", "team=ops"))
    ok(cli("jobs", "pause", "dump", "--reason", "disk full"))

    what = _what(cli, ok, "dump")
    assert what[:5] == [
        "reason: disk full",
        'labels {} -> {"team":"ops"}; taskArgs {"command":"true"} -> {"command":"echo \\"it\'s\\" done"}',
        "-",
        'description null -> "x y"; isPaused false -> true',
        "environment: +NEW, -OLD, PGDATABASE changed",
    ], what
    me = audit.local_actor()
    changes = _changes(cli, ok, "dump")
    assert changes[1:] == [
        f"updated by {me}: environment: +NEW, -OLD, PGDATABASE changed",
        f'updated by {me}: description null -> "x y"; isPaused false -> true',
        f"resumed by {me}",
        f'updated by {me}: labels {{}} -> {{"team":"ops"}}; taskArgs {{"command":"true"}} -> '
        '{"command":"echo \\"it\'s\\" done"}',
        f'paused by {me} with reason "disk full"',
    ], changes
    for text in (*what, *changes):
        assert not PYTHON_SPELLINGS.search(text), text
        assert "app2" not in text and "same" not in text, "an environment value reached the log's text"


def test_entries_written_before_names_were_recorded_still_read(
    cli: Any, ok: Callable[[Any], Any], run_json: Callable[..., Any], store_url: str
) -> None:
    """An environment change as it was stored before: masked maps only, the same on both sides
    when only a value changed. The names that came or went are told from the maps; a kept name
    is named as possibly changed, since which value changed was never recorded."""
    job = run_json("jobs", "create", "old", "--every", "1h", "--command", "true", "--json")
    store = open_store(store_url)
    try:
        row = store.jobs.get(job["id"])
        assert row is not None
        for old, new in (({"A": "***"}, {"A": "***"}), ({"A": "***", "B": "***"}, {"A": "***", "B": "***"}),
                         ({"A": "***", "GONE": "***"}, {"A": "***", "NEW": "***"})):  # fmt: skip
            details = {"changes": {"environment": {"old": old, "new": new}, "stdin": {"old": "***", "new": "***"}}}
            audit.record_job(store, "ops-token", audit.JOB_UPDATED, row, details=details)
    finally:
        store.close()
    expected = [
        "environment: +NEW, -GONE; stdin changed",
        "environment: A or B changed; stdin changed",
        "environment: A changed; stdin changed",
    ]
    assert _what(cli, ok, "old")[:3] == expected
    assert _changes(cli, ok, "old")[1:] == [f"updated by ops-token: {text}" for text in reversed(expected)]


def test_a_disable_keeps_its_reason_in_the_log(
    cli: Any, ok: Callable[[Any], Any], run_json: Callable[..., Any]
) -> None:
    """``jobs disable --reason`` was no option, and the API refused a reason without ``isPaused``,
    though the README said the log keeps the reason given with a disable."""
    run_json("jobs", "create", "old", "--every", "1h", "--command", "true", "--json")
    disabled = run_json("jobs", "disable", "old", "--reason", "host retired", "--json")
    assert disabled["isEnabled"] is False
    assert _what(cli, ok, "old")[0] == "reason: host retired"
    assert _changes(cli, ok, "old")[-1] == f'disabled by {audit.local_actor()} with reason "host retired"'


def test_a_reason_goes_with_a_pause_or_a_disable_only() -> None:
    import pytest
    from pydantic import ValidationError

    from jobctl.wire.requests import JobStatusUpdate

    assert JobStatusUpdate(isEnabled=False, reason="retired").reason == "retired"
    assert JobStatusUpdate(isPaused=True, reason="disk").reason == "disk"
    for body in ({"isEnabled": True, "reason": "x"}, {"isPaused": False, "reason": "x"}):
        with pytest.raises(ValidationError, match="a reason goes with isPaused: true or isEnabled: false"):
            JobStatusUpdate(**body)
