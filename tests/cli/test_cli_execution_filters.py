"""``executions list`` takes the same window as ``executions export`` (``--since``/``--until``)
and a page's ``nextCursor`` back (``--after``), on both backends: a script could read the
cursor from ``--json`` but not pass it, and had to export to ask for a window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jobctl.store import Store
from tests.conftest import Cli
from tests.store.helpers import NOW, add_executions, add_job, days


def _ids(result: object) -> list[str]:
    assert result.code == 0, result  # type: ignore[attr-defined]
    return [run["id"] for run in json.loads(result.stdout)["executions"]]  # type: ignore[attr-defined]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_since_and_until_bound_the_listing_in_every_mode(store: Store, cli: Cli) -> None:
    job = add_job(store.db, "w")
    old, middle, new = add_executions(store.db, job, days(30, 10, 1))
    since, until = _iso(NOW - days(20)[0]), _iso(NOW - days(5)[0])
    assert _ids(cli("executions", "list", "--json", "--since", since, "--until", until)) == [middle]
    assert _ids(cli("executions", "list", "--json", "--all", "--since", since)) == [new, middle]
    assert _ids(cli("executions", "list", "--json", "--until", until, "--job", "w")) == [middle, old]
    table = cli("executions", "list", "--since", since, "--until", until)
    assert table.code == 0, table
    assert middle[:8] in table.stdout and old[:8] not in table.stdout and new[:8] not in table.stdout
    assert table.stdout.rstrip().endswith("1 run"), table.stdout


def test_after_takes_the_cursor_of_the_page_before(store: Store, cli: Cli) -> None:
    job = add_job(store.db, "w")
    runs = list(reversed(add_executions(store.db, job, days(5, 4, 3, 2, 1))))  # newest first
    first = cli("executions", "list", "--json", "--per-page", "2")
    assert _ids(first) == runs[:2]
    cursor = json.loads(first.stdout)["nextCursor"]
    assert cursor == runs[1]
    second = cli("executions", "list", "--json", "--per-page", "2", "--after", cursor)
    assert _ids(second) == runs[2:4]
    third = cli("executions", "list", "--json", "--after", json.loads(second.stdout)["nextCursor"])
    assert _ids(third) == runs[4:]
    assert json.loads(third.stdout)["nextCursor"] is None
    # a page number past the first beside a cursor: refused in words of no option the CLI lacks
    both = cli("executions", "list", "--json", "--page", "2", "--after", cursor)
    message = "jobctl: --page: give a cursor or a page number past the first, not both\n"
    assert (both.code, both.stderr) == (2, message), both
    add_job(store.db, "v")
    jobs_cursor = json.loads(cli("jobs", "list", "--json", "--per-page", "1").stdout)["nextCursor"]
    jobs_both = cli("jobs", "list", "--json", "--page", "2", "--after", jobs_cursor)
    assert (jobs_both.code, jobs_both.stderr) == (2, message), jobs_both
    table = cli("executions", "list", "--after", cursor)
    assert table.code == 0 and runs[2][:8] in table.stdout and runs[0][:8] not in table.stdout, table


def test_a_page_after_a_cursor_says_so_in_its_footer_and_where_the_next_begins(store: Store, cli: Cli) -> None:
    """The API counts nothing after a cursor: the footer says how many runs the page holds after
    it and the next page's ``--after``, as ``jobs list --after`` does, not a bare "2 runs" that
    reads as the listing's total."""
    job = add_job(store.db, "w")
    runs = list(reversed(add_executions(store.db, job, days(5, 4, 3, 2, 1))))  # newest first
    middle = cli("executions", "list", "--per-page", "2", "--after", runs[1])
    assert middle.code == 0 and runs[2][:8] in middle.stdout, middle
    assert middle.stdout.splitlines()[-1] == f"2 runs after the cursor; next page: --after {runs[3]}", middle.stdout
    last = cli("executions", "list", "--per-page", "2", "--after", runs[3])
    assert last.code == 0 and last.stdout.splitlines()[-1] == "1 run after the cursor", last.stdout


def test_after_with_all_or_limit_is_refused(cli: Cli) -> None:
    for options, message in (
        (["--all", "--after", "x"], "jobctl: give either --all or --page/--per-page/--after\n"),
        (["--limit", "5", "--after", "x"], "jobctl: give one of --limit, --page/--per-page/--after and --all\n"),
    ):
        result = cli("executions", "list", *options)
        assert (result.code, result.stderr) == (2, message), result
