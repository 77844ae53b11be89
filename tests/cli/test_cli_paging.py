"""Every listing takes the paging options of ``executions list`` (docs/listings.md): ``--limit N``
for people, ``--page``/``--per-page`` for one page, ``--all`` for every item (with ``--json`` in
one answer of the API's shape), one of them at a time and ``--limit`` not with ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import OneStoreCli, check_error, check_ok

LISTINGS = {
    "audit": (["audit"], "entries"),
    "notifications": (["notifications", "list"], "notifications"),
    "task-functions": (["task-functions", "list"], "taskFunctions"),
    "executions": (["executions", "list"], "executions"),
}
WITH_JSON = "--page/--per-page or --all"
ONE_WAY = "give one of --limit, --page/--per-page and --all"
REFUSED = {
    "limit-with-json": (["--json", "--limit", "5"], f"--limit is for people; with --json use {WITH_JSON}"),
    "all-with-page": (["--all", "--page", "1"], ONE_WAY),
    "limit-with-per-page": (["--limit", "5", "--per-page", "5"], ONE_WAY),
    "limit-zero": (["--limit", "0"], "--limit must be at least 1, got 0"),
    "limit-negative": (["--limit", "-3"], "--limit must be at least 1, got -3"),
}


@pytest.mark.parametrize(("command", "key"), LISTINGS.values(), ids=list(LISTINGS))
def test_every_listing_takes_all_limit_page_and_per_page(
    sqlite_only_cli: OneStoreCli, command: list[str], key: str
) -> None:
    check_ok(sqlite_only_cli("jobs", "create", "hourly", "--every", "1h", "--command", "true"))
    every = json.loads(check_ok(sqlite_only_cli(*command, "--json", "--all")).stdout)
    assert set(every) >= {key, "total"} and every["total"] == len(every[key])
    one_page = json.loads(check_ok(sqlite_only_cli(*command, "--json", "--page", "1", "--per-page", "100")).stdout)
    assert one_page[key] == every[key]
    check_ok(sqlite_only_cli(*command, "--limit", "3"))
    check_ok(sqlite_only_cli(*command, "--all"))
    check_ok(sqlite_only_cli(*command, "--page", "2", "--per-page", "1"))


@pytest.mark.parametrize(("command", "key"), LISTINGS.values(), ids=list(LISTINGS))
@pytest.mark.parametrize(("options", "message"), REFUSED.values(), ids=list(REFUSED))
def test_one_way_of_choosing_at_a_time(
    sqlite_only_cli: OneStoreCli, command: list[str], key: str, options: list[str], message: str
) -> None:
    assert check_error(sqlite_only_cli(*command, *options), 2) == f"jobctl: {message}"


def test_jobs_list_refuses_a_limit_below_one_in_the_same_words(sqlite_only_cli: OneStoreCli) -> None:
    refused = sqlite_only_cli("jobs", "list", "--limit", "0")
    assert check_error(refused, 2) == "jobctl: --limit must be at least 1, got 0"


def test_the_audit_log_past_one_page(sqlite_only_cli: OneStoreCli, tmp_path: Path) -> None:
    """105 jobs created: past the 100 entries one request reads, --all and --limit read on."""
    jobs = tmp_path / "jobs.toml"
    jobs.write_text("".join(f'[[jobs]]\nname = "j{n:03}"\nevery = "1h"\ncommand = "true"\n' for n in range(105)))
    check_ok(sqlite_only_cli("apply", "-f", str(jobs)))
    total = json.loads(check_ok(sqlite_only_cli("audit", "--json", "--per-page", "1")).stdout)["total"]
    assert total >= 105
    every = json.loads(check_ok(sqlite_only_cli("audit", "--json", "--all")).stdout)
    assert every["total"] == len(every["entries"]) == total
    assert len({entry["id"] for entry in every["entries"]}) == total
    pages = [
        json.loads(check_ok(sqlite_only_cli("audit", "--json", "--page", str(n), "--per-page", "100")).stdout)
        for n in (1, 2)
    ]
    assert pages[0]["entries"] + pages[1]["entries"] == every["entries"]
    table = check_ok(sqlite_only_cli("audit", "--limit", "103")).stdout.splitlines()
    assert len(table) == 1 + 103 + 1, table[-1]
    assert table[-1].strip() == f"showing 103 of {total} entries; use --limit N to see more"
    assert check_ok(sqlite_only_cli("audit", "--all")).stdout.splitlines()[-1].strip() == f"{total} entries"
