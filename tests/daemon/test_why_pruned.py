"""``jobctl jobs why`` over runs that retention removed, end to end: a real daemon runs a job every
second with ``[history] keep_per_job = 5``, ``jobctl store prune`` removes all but the newest
five, and the CLI asks about a slot that did run, on the store and through the daemon's API."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.daemon.helpers import DaemonFactory, cli, wait_for

SECOND = timedelta(seconds=1)
PRUNED = "unknown: history pruned by retention ([history] keep_per_job = 5)"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _succeeded_slots(daemons: DaemonFactory, job: str = "s1") -> set[str]:
    listed = cli(daemons, "executions", "list", "--job", job, "--status", "success", "--per-page", "100", "--json")
    assert listed.returncode == 0, listed.stderr
    return {run["scheduledFor"] for run in json.loads(listed.stdout)["executions"]}


def _stable(output: str) -> list[str]:
    """The lines of ``jobs why`` that a job still running every second leaves alone between two
    calls: not its next slot, nor where kept history begins (the daemon's own pruner may pass)."""
    return [re.sub(r"runs before \S+", "runs before T", line) for line in output.splitlines()
            if not line.startswith("next slot:")]  # fmt: skip


def test_why_says_a_pruned_slot_is_unknown_on_the_store_and_through_the_api(daemons: DaemonFactory) -> None:
    daemons.config_path.write_text(daemons.config_path.read_text() + "[history]\nkeep_per_job = 5\n")
    daemon = daemons.start(api=True)
    token = cli(daemons, "token", "create", "ops", "--role", "admin").stdout.strip()
    created = cli(daemons, "jobs", "create", "s1", "--every", "1s", "--command", "true", "--json")
    assert created.returncode == 0, created.stderr
    first = datetime.fromisoformat(json.loads(created.stdout)["nextRunTime"].replace("Z", "+00:00"))
    asked = first + 6 * SECOND  # the slot the question is about: it runs, and is pruned later
    wait_for(lambda: _iso(asked) in _succeeded_slots(daemons), timeout=30, what="the slot's run")
    time.sleep(max(0.0, (asked + 6 * SECOND - datetime.now(UTC)).total_seconds()))  # more than five runs after it

    pruned = cli(daemons, "store", "prune", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["removed"]["excessExecutions"] >= 1
    assert _iso(asked) not in _succeeded_slots(daemons), "the prune removed the slot's run"

    window = ["--since", _iso(asked - 4 * SECOND), "--until", _iso(asked)]
    local = cli(daemons, "jobs", "why", "s1", *window)
    remote = cli(daemons, "--api", f"http://127.0.0.1:{daemon.port}", "jobs", "why", "s1", *window, token=token)
    assert (local.returncode, local.stderr) == (0, ""), local.stderr
    assert (remote.returncode, remote.stderr) == (0, ""), remote.stderr
    assert _stable(remote.stdout) == _stable(local.stdout)
    lines = local.stdout.splitlines()
    assert lines[-1] == f"verdict ({asked:%Y-%m-%d %H:%M:%S} slot): {PRUNED}", lines
    assert "nothing happened in this window" not in local.stdout
    [mark] = [line for line in lines if " pruned " in line and "runs before" in line]
    assert mark.endswith("pruned by retention ([history] keep_per_job = 5)"), mark

    as_json = cli(daemons, "--api", f"http://127.0.0.1:{daemon.port}", "jobs", "why", "s1", *window, "--json",
                  token=token)  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    timeline = json.loads(as_json.stdout)
    assert (timeline["verdict"]["outcome"], timeline["verdict"]["text"]) == ("pruned", PRUNED)
    assert [event["kind"] for event in timeline["events"]] == ["pruned"]


def test_a_slot_pruned_under_smaller_settings_before_a_pause_has_no_record_not_the_pause(
    daemons: DaemonFactory, tmp_path: Path
) -> None:
    """The daemon keeps 1,000 runs per job; ``store prune`` with a config of ``keep_per_job = 3``
    removed a slot's run, and the job was paused after it. The audit log holds the creation and
    no pause before the slot: "no record of this slot" (docs/why.md, step 7), not "the job was
    paused", on the store and through the API."""
    daemon = daemons.start(api=True)
    token = cli(daemons, "token", "create", "ops", "--role", "admin").stdout.strip()
    created = cli(daemons, "jobs", "create", "t2", "--every", "1s", "--command", "true", "--json")
    assert created.returncode == 0, created.stderr
    first = datetime.fromisoformat(json.loads(created.stdout)["nextRunTime"].replace("Z", "+00:00"))
    asked = first + 2 * SECOND
    wait_for(lambda: _iso(asked + 4 * SECOND) in _succeeded_slots(daemons, "t2"), timeout=30, what="runs after it")
    smaller = tmp_path / "prune.toml"
    smaller.write_text(daemons.config_path.read_text() + "[history]\nkeep_per_job = 3\n")
    pruned = cli(daemons, "--config", str(smaller), "store", "prune", "--json")
    assert pruned.returncode == 0, pruned.stderr
    assert _iso(asked) not in _succeeded_slots(daemons, "t2"), "the prune removed the slot's run"
    assert cli(daemons, "jobs", "pause", "t2").returncode == 0

    window = ["--since", "1m", "--until", _iso(asked + SECOND / 2)]
    api = ["--api", f"http://127.0.0.1:{daemon.port}"]
    local = cli(daemons, "jobs", "why", "t2", *window)
    assert (local.returncode, local.stderr) == (0, ""), local.stderr
    assert local.stdout.splitlines()[-1] == f"verdict ({asked:%Y-%m-%d %H:%M:%S} slot): not run: no record of this slot"
    remote = cli(daemons, *api, "jobs", "why", "t2", *window, "--json", token=token)
    assert remote.returncode == 0, remote.stderr
    verdict = json.loads(remote.stdout)["verdict"]
    assert (verdict["outcome"], verdict["text"]) == ("not_run", "not run: no record of this slot")
