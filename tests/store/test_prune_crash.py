"""A prune killed with SIGKILL half way leaves a consistent store that the next prune finishes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest

from jobctl.store import open_store
from jobctl.store.maintenance import integrity_findings, invariant_findings
from tests.conftest import Cli
from tests.store.helpers import NOW, add_executions, add_job

BACKLOG = 40_000
NOTHING = {"expiredExecutions": 0, "excessExecutions": 0, "outputs": 0, "auditEntries": 0, "deliveries": 0}


def test_a_prune_killed_half_way_leaves_a_consistent_store(sqlite_url: str, bare_cli: Cli) -> None:
    store = open_store(sqlite_url)
    job = add_job(store.db, "j")
    kept = add_executions(store.db, job, [timedelta(minutes=n) for n in range(50)], output="kept\n")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(BACKLOG)], output="old\n")
    running = add_executions(store.db, job, [timedelta(days=200)], status="pending")
    count = "SELECT COUNT(*) FROM executions"

    proc = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", sqlite_url, "store", "prune"],
                            env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 60
    while int(store.db.scalar(count)) > BACKLOG * 0.8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the prune ended before it could be killed: make the backlog larger"
    left = int(store.db.scalar(count))
    store.close()

    store = open_store(sqlite_url)
    try:
        assert len(kept) + 1 < left < BACKLOG + len(kept) + 1, left  # killed half way
        assert integrity_findings(store.db) == []
        assert invariant_findings(store.db, now=NOW, stale_after_seconds=1e9) == []
        orphans = "SELECT COUNT(*) FROM execution_output WHERE execution_id NOT IN (SELECT id FROM executions)"
        assert store.db.scalar(orphans) == 0
    finally:
        store.close()
    result = bare_cli("--db", sqlite_url, "store", "prune", "--json")
    assert result.code == 0, result
    store = open_store(sqlite_url)
    try:
        ids = {row["id"] for row in store.db.fetch_all("SELECT id FROM executions")}
        assert ids == set(kept + running)
        assert store.db.scalar("SELECT COUNT(*) FROM execution_output") == len(kept)
    finally:
        store.close()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_stops_a_prune_after_its_batch_and_it_says_what_it_removed(
    sqlite_url: str, bare_cli: Cli, signum: int
) -> None:
    """SIGINT (Ctrl-C) or SIGTERM half way: the prune ends after the batch under way, prints what
    it removed (and records it in the audit log), says it was interrupted on one line of stderr,
    exits 128 + the signal, and the store is consistent; the next prune removes the rest."""
    store = open_store(sqlite_url)
    job = add_job(store.db, "j")
    kept = add_executions(store.db, job, [timedelta(minutes=n) for n in range(50)], output="kept\n")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(BACKLOG)], output="old\n")
    count = "SELECT COUNT(*) FROM executions"

    proc = subprocess.Popen([sys.executable, "-m", "jobctl", "--db", sqlite_url, "store", "prune", "--json"],
                            env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while int(store.db.scalar(count)) > BACKLOG * 0.8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signum, (proc.returncode, out, err)
    report = json.loads(out)
    left = int(store.db.scalar(count))
    removed = report["removed"]["expiredExecutions"]
    assert report["interrupted"] is True and 0 < removed < BACKLOG, report
    assert report["removed"] == {**NOTHING, "expiredExecutions": removed}, "every kind, 0 for those not reached"
    assert left == BACKLOG + len(kept) - removed, "what it says it removed is what is gone"
    assert err == "jobctl: interrupted: the prune stopped after its last batch; the rest is left for the next prune\n"
    [audited] = store.db.fetch_all("SELECT details FROM audit_log WHERE action = 'store.pruned'")
    assert json.loads(audited["details"])["removed"] == report["removed"]
    assert integrity_findings(store.db) == []
    assert invariant_findings(store.db, now=NOW, stale_after_seconds=1e9) == []
    store.close()

    result = bare_cli("--db", sqlite_url, "store", "prune", "--json")
    assert result.code == 0 and json.loads(result.stdout)["interrupted"] is False, result
    assert json.loads(result.stdout)["removed"]["expiredExecutions"] == BACKLOG - removed


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_a_second_ctrl_c_still_reports_and_records_what_was_removed(
    sqlite_url: str, bare_cli: Cli, as_json: bool
) -> None:
    """Two Ctrl-C 50 ms apart: the second changes nothing, the prune stops after its batch, says
    what it removed and records it. Before, the second raised at once: exit 130 with no report,
    no line on stderr and no audit entry, though thousands of runs were gone."""
    store = open_store(sqlite_url)
    job = add_job(store.db, "j")
    kept = add_executions(store.db, job, [timedelta(minutes=n) for n in range(50)], output="kept\n")
    add_executions(store.db, job, [timedelta(days=100, seconds=n) for n in range(BACKLOG)], output="old\n")
    count = "SELECT COUNT(*) FROM executions"

    args = [sys.executable, "-m", "jobctl", "--db", sqlite_url, "store", "prune", *(["--json"] if as_json else [])]
    proc = subprocess.Popen(args, env=bare_cli.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while int(store.db.scalar(count)) > BACKLOG * 0.8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)

    assert proc.returncode == 130, (proc.returncode, out, err)
    gone = BACKLOG + len(kept) - int(store.db.scalar(count))
    assert 0 < gone < BACKLOG
    if as_json:
        report = json.loads(out)
        assert report["interrupted"] is True and report["removed"] == {**NOTHING, "expiredExecutions": gone}, report
    else:
        assert out.startswith(f"removed {gone} rows ({gone} executions past keep_days, 0 executions past"), out
    assert err == "jobctl: interrupted: the prune stopped after its last batch; the rest is left for the next prune\n"
    [audited] = store.db.fetch_all("SELECT details FROM audit_log WHERE action = 'store.pruned'")
    assert json.loads(audited["details"])["removed"] == {**NOTHING, "expiredExecutions": gone}
    assert integrity_findings(store.db) == []
    store.close()
