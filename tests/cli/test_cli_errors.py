"""A user's mistakes through the real CLI: the documented exit code and exactly one line on stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobctl.models import TaskFunctionSpec
from jobctl.store import open_store


def check_cases(cli: Callable[..., Any], fails: Callable[..., str], cases: list[Any]) -> None:
    """Run every case and report all that went wrong at once."""
    problems = []
    for label, args, env, code, fragment in cases:
        try:
            fails(cli(*args, env=env), code, fragment)
        except AssertionError as exc:
            problems.append(f"{label}: {exc}")
    assert problems == [], "\n\n".join(problems)


def test_store_errors_get_their_exit_code_and_one_line(cli: Any, store_url: str, run_json: Callable[..., Any],
                                                       ok: Callable[[Any], Any],
                                                       fails: Callable[..., str]) -> None:  # fmt: skip
    """Not found (3), conflicts (4) and validation (2) that the store or the service decides, per backend."""
    store = open_store(store_url)
    try:
        system = store.catalog.upsert_task_function(
            TaskFunctionSpec(name="sys_job", display_name="System", description=None, handler_type="command",
                             handler_path="/bin/true", is_system=True), datetime.now(UTC))  # fmt: skip
    finally:
        store.close()
    run_json("jobs", "create", "dup", "--every", "5m", "--command", "true", "--json")
    run_json("jobs", "create", "off", "--every", "5m", "--command", "true", "--disabled", "--json")
    protected = {"name": "protected", "taskFunctionId": system.id, "jobTypeId": 1, "scheduleConfig": {"hours": 1}}
    run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps(protected))
    ok(cli("jobs", "trigger", "dup"))  # maxInstances 1: now busy
    before = run_json("jobs", "list", "--json")
    check_cases(cli, fails, [
        ("unknown job", ("jobs", "show", "nope"), None, 3, "nope"),
        ("unknown job trigger", ("jobs", "trigger", "nope"), None, 3, "nope"),
        ("unknown job delete", ("jobs", "delete", "nope"), None, 3, "nope"),
        ("unknown execution", ("executions", "show", "nope"), None, 3, "nope"),
        # bad input, as the API's 422 for an unknown taskFunctionId and apply's "no task function named"
        ("unknown task", ("jobs", "create", "x", "--every", "5m", "--task", "nope"), None, 2,
         "--task: no task function named 'nope'"),
        ("duplicate name", ("jobs", "create", "dup", "--every", "5m", "--command", "true"), None, 4, "dup"),
        ("trigger disabled", ("jobs", "trigger", "off"), None, 4, "disabled"),
        ("trigger at maxInstances", ("jobs", "trigger", "dup"), None, 4, "maxInstances"),
        ("delete system job", ("jobs", "delete", "protected"), None, 4, "system"),
        ("invalid cron", ("jobs", "create", "x", "--command", "true", "--cron", "61 * * * *"), None, 2, "61"),
        ("zero interval", ("jobs", "create", "x", "--command", "true", "--every", "0s"), None, 2, "0s"),
        ("per-page 101", ("jobs", "list", "--per-page", "101"), None, 2, "--per-page"),
        # 0 is refused like the API refuses it, not taken for the default; pages past the API's last too
        ("per-page 0", ("jobs", "list", "--json", "--per-page", "0"), None, 2, "--per-page must be between 1 and 100"),
        ("page 0", ("jobs", "list", "--page", "0"), None, 2, "--page must be between 1 and 2147483647"),
        ("page past 2**31", ("jobs", "list", "--json", "--page", "99999999999"), None, 2, "--page must be between"),
        ("runs per-page 0", ("executions", "list", "--json", "--per-page", "0"), None, 2, "--per-page must be"),
        ("runs page 0", ("executions", "list", "--page", "0"), None, 2, "--page must be between 1 and 2147483647"),
        ("runs page past 2**64", ("executions", "list", "--json", "--page", str(10**21)), None, 2, "--page must be"),
        # filters the API bounds are bounded on the store too (they gave exit 0 there, exit 2 through --api)
        ("task function 0", ("jobs", "list", "--task-function-id", "0"), None, 2, "--task-function-id must be"),
        ("name over 200", ("jobs", "list", "--json", "--all", "--name", "x" * 201), None, 2, "--name must be at most"),
        ("update without changes", ("jobs", "update", "dup"), None, 2, "nothing to change"),
    ])  # fmt: skip
    assert run_json("jobs", "list", "--json") == before


def test_usage_errors_get_exit_2_and_one_line(sqlite_only_cli: Any, tmp_path: Path, ok: Callable[[Any], Any],
                                              fails: Callable[..., str]) -> None:  # fmt: skip
    """Mistakes caught before the store decides anything: checked once, on a SQLite store."""
    cli = sqlite_only_cli
    malformed = tmp_path / "malformed.json"
    malformed.write_text('{"name": "x",')
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text('{"name": "x", "jobTypeId": 1}')
    array = tmp_path / "array.json"
    array.write_text("[]")
    bad_config = tmp_path / "bad.toml"
    bad_config.write_text("[daemon]\nprot = 1\n")
    broken_config = tmp_path / "broken.toml"
    broken_config.write_text("[daemon\n")
    create_x = ("jobs", "create", "x", "--command", "true")
    check_cases(cli, fails, [
        ("bad duration", (*create_x, "--every", "soon"), None, 2, "soon"),
        ("every and cron", (*create_x, "--every", "5m", "--cron", "0 2 * * *"), None, 2, "--every"),
        ("cron seconds last", (*create_x, "--cron", "0 9 * * 1-5 30"), None, 2, "write '30 0 9 * * 1-5'"),
        ("no schedule", create_x, None, 2, "schedule"),
        ("nothing to run", ("jobs", "create", "x", "--every", "5m"), None, 2, "--command"),
        ("bad --arg", ("jobs", "create", "x", "--every", "5m", "--task", "shell", "--arg", "novalue"), None, 2,
         "novalue"),
        ("bad timeout", (*create_x, "--every", "5m", "--timeout", "forever"), None, 2, "--timeout"),
        ("control character in a name", ("jobs", "create", "a\x1bb", "--every", "5m", "--command", "true"), None, 2,
         "jobctl: NAME: must not contain control characters"),
        ("unknown option", ("jobs", "list", "--bogus"), None, 2, "--bogus"),
        ("unknown command", ("frobnicate",), None, 2, "frobnicate"),
        ("missing option value", ("token", "create", "x"), None, 2, "role"),
        ("per-page not a number", ("jobs", "list", "--per-page", "many"), None, 2, "many"),
        ("malformed from-json", ("jobs", "create", "--from-json", str(malformed)), None, 2, "not valid JSON"),
        ("incomplete from-json", ("jobs", "create", "--from-json", str(incomplete)), None, 2, "taskFunctionId"),
        ("array from-json", ("jobs", "create", "--from-json", str(array)), None, 2, "object"),
        ("missing from-json", ("jobs", "create", "--from-json", str(tmp_path / "none.json")), None, 2, "none.json"),
        ("bad config file", ("jobs", "list"), {"JOBCTL_CONFIG": str(bad_config)}, 2, "prot"),
        ("broken config file", ("jobs", "list"), {"JOBCTL_CONFIG": str(broken_config)}, 2, "TOML"),
        ("missing config file", ("--config", str(tmp_path / "nope.toml"), "jobs", "list"), None, 2, "nope.toml"),
    ])  # fmt: skip
    assert ok(cli("jobs", "list", "--json")).stdout.count('"id"') == 0  # none of them created a job
