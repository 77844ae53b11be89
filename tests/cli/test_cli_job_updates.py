"""``jobs delete`` says what it deleted (docs/deleting-jobs.md). Real subprocesses on a real
store, on every backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def test_delete_says_which_job_it_deleted(cli: Any, run_json: Callable[..., Any], fails: Callable[..., str]) -> None:
    created = run_json("jobs", "create", "old-backup", "--every", "1h", "--command", "true", "--json")
    result = cli("jobs", "delete", created["id"][:8])
    assert (result.code, result.stdout, result.stderr) == (0, f"deleted job 'old-backup' ({created['id']})\n", "")
    fails(cli("jobs", "delete", "old-backup"), 3, "old-backup")
    assert json.loads(cli("jobs", "list", "--json").stdout)["total"] == 0
