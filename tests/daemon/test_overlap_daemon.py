"""Overlap policies and a concurrency group with a real daemon, real processes and a real store.

One daemon per store runs every scenario at once (short intervals keep it to a few seconds):
a ``queue`` job whose runs outlast its interval, a ``replace`` job whose run never ends on its
own, and two jobs sharing a group of limit 1. Each run writes its own start and end times
(``date +%s.%N``), so overlaps are judged from what the processes did, not from the store.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN
from tests.daemon.helpers import DaemonFactory, executions, group_alive, shell_job, wait_for, write_config

TIMES = 'echo "$JOBCTL_EXECUTION_ID {0} $(date +%s.%N)" >> {1}'


def spans(path: Path) -> dict[str, tuple[float, float]]:
    """Execution id -> (start, end) of every run that wrote both lines."""
    seen: dict[str, dict[str, float]] = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        execution_id, what, moment = line.split()
        seen.setdefault(execution_id, {})[what] = float(moment)
    return {key: (value["start"], value["end"]) for key, value in seen.items() if len(value) == 2}


def timed_job(service: Service, name: str, log: Path, seconds: float, **fields: Any) -> dict[str, Any]:
    command = f"{TIMES.format('start', log)}; sleep {seconds}; {TIMES.format('end', log)}"
    return shell_job(service, name, command, **fields)


def test_queue_replace_and_a_group_with_a_real_daemon(store_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path / "jobctl.toml")
    config.write_text(config.read_text() + '[[concurrency_groups]]\nname = "db"\nlimit = 1\n')
    factory = DaemonFactory(store_url, config, tmp_path)
    store = open_store(store_url)
    service = Service(store, ADMIN, default_timezone="UTC", concurrency_groups={"db"})
    try:
        queued_log, group_log = tmp_path / "queued.log", tmp_path / "group.log"
        queued = timed_job(service, "queued", queued_log, 1.3, overlapPolicy="queue")
        first = timed_job(service, "db-first", group_log, 0.4, concurrencyGroup="db")
        second = timed_job(service, "db-second", group_log, 0.4, concurrencyGroup="db")
        pids = tmp_path / "pids"
        pids.mkdir()
        replaced = shell_job(service, "replaced", f"echo $$ > {pids}/$JOBCTL_EXECUTION_ID; exec sleep 600",
                             overlapPolicy="replace", scheduleConfig={"seconds": 2})  # fmt: skip
        daemon = factory.start()

        # queue: every slot runs, each after the one before it ended, never two at once
        runs = wait_for(lambda: len(found := spans(queued_log)) >= 3 and found, timeout=15, what="three queued runs")
        ordered = sorted(runs.values())
        for (_, end), (start, _) in pairwise(ordered):
            assert start >= end, "a queued run started before the one it waited for ended"
            assert start - end < 0.6, "a queued run starts as soon as the run before it ends"

        # replace: the first run's process group is stopped and the run recorded cancelled
        def replaced_runs() -> list[dict[str, Any]]:
            return [e for e in executions(service, replaced["id"]) if e["status"] == "cancelled"]

        [cancelled, *_] = wait_for(replaced_runs, timeout=15, what="a run replaced by the next slot")
        assert cancelled["errorMessage"].startswith("replaced by the slot of "), cancelled
        pgid = int((pids / cancelled["id"]).read_text())
        wait_for(lambda: not group_alive(pgid), timeout=3, what="the replaced run's process group to be gone")
        assert f"stopping execution {cancelled['id']}: replaced by the slot of" in daemon.log()
        wait_for(lambda: any(e["status"] == "running" for e in executions(service, replaced["id"])), timeout=10,
                 what="the replacing run to start")  # fmt: skip

        # group of 1: runs of the two jobs never overlap, and both jobs ran
        wait_for(lambda: len(spans(group_log)) >= 4, timeout=15, what="four runs of the group")
        group_runs = sorted(spans(group_log).values())
        for (_, end), (start, _) in pairwise(group_runs):
            assert start >= end, f"two runs of group db overlapped: {group_runs}"
        done = [e for job in (first, second) for e in executions(service, job["id"]) if e["status"] == "success"]
        ran = {e["jobId"] for e in done}
        assert ran == {first["id"], second["id"]}
        groups = service.get_status()["concurrencyGroups"]
        assert [(g["name"], g["limit"]) for g in groups] == [("db", 1)] and groups[0]["running"] <= 1

        for job in (queued, first, second, replaced):
            service.delete_job(job["id"], force=True)
        assert queued["overlapPolicy"] == "queue"
    finally:
        factory.stop_all()
        store.close()
