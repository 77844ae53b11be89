"""Job types, task functions (and their sync from the config), status and tokens through the real CLI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobctl.errors import NotAuthenticated
from jobctl.models import Caller, Role
from jobctl.service.tokens import authenticate
from jobctl.store import open_store

TWO_FUNCTIONS = """
[scheduler]
timezone = "Europe/Berlin"

[[task_functions]]
name = "cleanup_tmp"
display_name = "Temp cleanup"
handler_type = "command"
handler_path = "find /tmp -type f -mtime +7 -delete"
default_timeout_seconds = 300

[[task_functions]]
name = "report"
handler_type = "python"
handler_path = "reports.build:main"
"""


def test_status_counts_paused_jobs_among_the_enabled(cli: Any, run_json: Callable[..., Any]) -> None:
    for name in ("a", "b", "c"):
        run_json("jobs", "create", name, "--every", "1h", "--command", "true", "--json")
    run_json("jobs", "create", "off", "--every", "1h", "--command", "true", "--disabled", "--json")
    assert cli("jobs", "pause", "b", "--reason", "disk swap").code == 0
    status = run_json("status", "--json")
    assert (status["totalJobs"], status["enabledJobs"], status["pausedJobs"]) == (4, 3, 1)
    shown = cli("status").stdout
    assert "4 total, 3 enabled (1 paused), 0 running" in shown, shown
    assert run_json("top", "--json")["status"]["pausedJobs"] == 1


def test_job_types_task_functions_and_status(run_json: Callable[..., Any]) -> None:
    assert run_json("job-types", "--json") == [
        {"id": 1, "name": "interval", "displayName": "Interval", "description": "Run at fixed time intervals"},
        {"id": 2, "name": "cron", "displayName": "Cron", "description": "Run on a cron schedule"},
        {"id": 3, "name": "date", "displayName": "Date", "description": "Run once at a given time"},
    ]
    functions = run_json("task-functions", "list", "--json")
    assert functions["total"] == 1
    shell = functions["taskFunctions"][0]
    assert (shell["name"], shell["handlerType"], shell["isActive"]) == ("shell", "command", True)
    status = run_json("status", "--json")
    assert status == {"isRunning": False, "leaderInstance": None, "totalJobs": 0, "enabledJobs": 0, "runningJobs": 0,
                      "pausedJobs": 0, "nextScheduledJob": None, "instances": [], "concurrencyGroups": [],
                      "leaseExpiresAt": None, "leaderHeartbeatOverdue": False}  # fmt: skip


def test_task_functions_sync_from_the_config(cli: Any, tmp_path: Path, run_json: Callable[..., Any],
                                             ok: Callable[[Any], Any]) -> None:  # fmt: skip
    config = Path(cli.env["JOBCTL_CONFIG"])
    config.write_text(TWO_FUNCTIONS)
    assert ok(cli("task-functions", "sync")).stdout == "synced 2 task function(s)\n"
    by_name = {tf["name"]: tf for tf in run_json("task-functions", "list", "--json")["taskFunctions"]}
    assert set(by_name) == {"shell", "cleanup_tmp", "report"}
    assert (by_name["cleanup_tmp"]["displayName"], by_name["cleanup_tmp"]["defaultTimeoutSeconds"]) == (
        "Temp cleanup", 300)  # fmt: skip
    job = run_json("jobs", "create", "tidy", "--every", "1d", "--task", "cleanup_tmp", "--arg", "days=7",
                   "--arg", "path=/tmp/x=y", "--json")  # fmt: skip
    assert (job["taskFunctionId"], job["taskArgs"]) == (by_name["cleanup_tmp"]["id"], {"days": "7", "path": "/tmp/x=y"})

    config.write_text(TWO_FUNCTIONS.split('[[task_functions]]\nname = "report"')[0])
    assert ok(cli("task-functions", "sync")).stdout == "synced 1 task function(s); marked inactive: report\n"
    after = {tf["name"]: tf for tf in run_json("task-functions", "list", "--json")["taskFunctions"]}
    assert (after["report"]["isActive"], after["report"]["id"]) == (False, by_name["report"]["id"])
    assert after["cleanup_tmp"]["isActive"] and after["shell"]["isActive"]
    inactive = run_json("task-functions", "list", "--inactive", "--json")
    assert [tf["name"] for tf in inactive["taskFunctions"]] == ["report"] and inactive["total"] == 1


def test_task_functions_sync_refuses_a_handler_path_no_run_could_use(cli: Any, fails: Callable[..., str]) -> None:
    """``"w4calls:"`` was synced, and every run of it failed: "'w4calls:' is not a dotted path"."""
    config = Path(cli.env["JOBCTL_CONFIG"])
    broken = '[[task_functions]]\nname = "w4"\nhandler_type = "python"\nhandler_path = "w4calls:"\n'
    config.write_text(f"{TWO_FUNCTIONS}\n{broken}")
    fails(cli("task-functions", "sync"), 2,
          f"config file {config}: task_functions[2] ('w4') handler_path must be a Python callable as module:function "
          'or module.function (e.g. pkg.tasks:cleanup), not "w4calls:"')  # fmt: skip
    store = open_store(cli.env["JOBCTL_DB"])  # every command reads the broken config: the store tells
    try:
        assert store.catalog.get_task_function_by_name("w4") is None
    finally:
        store.close()


def test_tokens(cli: Any, store_url: str, run_json: Callable[..., Any], ok: Callable[[Any], Any],
                fails: Callable[..., str]) -> None:  # fmt: skip
    created = ok(cli("token", "create", "ci", "--role", "viewer"))
    secret = created.stdout.strip()
    assert created.stdout == secret + "\n" and secret.startswith("jobctl_")
    as_json = run_json("token", "create", "deploy", "--role", "operator", "--json")
    assert as_json["token"].startswith("jobctl_") and (as_json["name"], as_json["role"]) == ("deploy", "operator")
    listed = run_json("token", "list", "--json")
    assert [(t["name"], t["role"], t["revokedAt"]) for t in listed] == [("ci", "viewer", None),
                                                                        ("deploy", "operator", None)]  # fmt: skip
    human = ok(cli("token", "list"))
    for text in (repr(listed), human.stdout):
        assert secret not in text and as_json["token"] not in text
    fails(cli("token", "create", "ci", "--role", "viewer"), 4, "ci")
    fails(cli("token", "create", "root", "--role", "root"), 2, "role")

    ok(cli("token", "revoke", "ci"))
    fails(cli("token", "revoke", "ci"), 3, "ci")
    revoked = {t["name"]: t["revokedAt"] for t in run_json("token", "list", "--json")}
    assert revoked["ci"] is not None and revoked["deploy"] is None

    store = open_store(store_url)
    try:
        with pytest.raises(NotAuthenticated):
            authenticate(store, secret)
        assert authenticate(store, as_json["token"]) == Caller(user_id="deploy", role=Role.OPERATOR)
        hashes = {row["token_hash"] for row in store.db.fetch_all("SELECT token_hash FROM api_tokens")}
        assert hashes == {hashlib.sha256(s.encode()).hexdigest() for s in (secret, as_json["token"])}
    finally:
        store.close()
