"""What people see in lists: every job by name, the newest runs with a footer, tables that fit
80 columns with short ids and job names, and unique id prefixes accepted wherever an id is."""

from __future__ import annotations

import dataclasses
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jobctl.models import Caller, Instance, JobSettings, Role, TaskFunctionSpec
from jobctl.service import Service
from jobctl.service.tokens import create_token
from jobctl.store import Store, open_store
from jobctl.store.writes import NO_NEXT_SLOT, NewJob
from tests.cli.helpers import in_terminal

FULL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
SGR = re.compile(r"\x1b\[[0-9;:]*m")


@pytest.fixture
def local(store_url: str) -> Iterator[tuple[Store, Service]]:
    """The CLI's store, opened in this process to set up what the CLI then shows."""
    store = open_store(store_url)
    yield store, Service(store, Caller(user_id="tester", role=Role.ADMIN), default_timezone="Europe/Berlin")
    store.close()


def make_jobs(service: Service, count: int, **fields: Any) -> list[dict[str, Any]]:
    """``count`` shell jobs created in a shuffled name order, so creation order is not name order."""
    names = [f"job-{(n * 7) % count:02d}" for n in range(count)]
    return [service.create_job({"name": name, "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"hours": 1},
                                "taskArgs": {"command": "true"}, **fields}) for name in names]  # fmt: skip


def twin_job(store: Store, job_id: str, new_id: str, name: str) -> str:
    """A copy of a job under a chosen id (ids are random; tests of prefixes need shared starts)."""
    job = store.jobs.get(job_id)
    assert job is not None
    settings = {field.name: getattr(job, field.name) for field in dataclasses.fields(JobSettings)}
    store.jobs.insert(NewJob(id=new_id, settings=JobSettings(**{**settings, "name": name}), next=NO_NEXT_SLOT,
                             created_at=job.created_at, created_by=None))  # fmt: skip
    return new_id


def table_lines(text: str) -> list[str]:
    return SGR.sub("", text).splitlines()


def test_jobs_list_shows_every_job_by_name(cli: Any, local: tuple[Store, Service], ok: Callable[[Any], Any],
                                           fails: Callable[..., str]) -> None:  # fmt: skip
    _, service = local
    make_jobs(service, 34)
    human = ok(cli("jobs", "list")).stdout
    names = [line.split()[0] for line in human.splitlines()[1:-1]]
    assert names == [f"job-{n:02d}" for n in range(34)]
    assert human.splitlines()[-1] == "34 jobs: 34 enabled, 0 disabled, 0 running"
    page = ok(cli("jobs", "list", "--page", "2")).stdout.splitlines()
    assert len(page) == 1 + 14 + 2 and page[-1].startswith("showing 21-34 of 34 (page 2)")
    first = json.loads(ok(cli("jobs", "list", "--json")).stdout)
    assert (len(first["jobs"]), first["total"]) == (20, 34), "--json keeps the API's paging"
    every = json.loads(ok(cli("jobs", "list", "--json", "--all")).stdout)
    api_page = service.list_jobs(per_page=100)
    assert set(every) == {"jobs", "total", "enabledCount", "disabledCount", "runningCount"}, "the keys it always had"
    assert every == {key: value for key, value in api_page.items() if key != "nextCursor"}
    assert len(every["jobs"]) == 34 and every["total"] == 34
    fails(cli("jobs", "list", "--all", "--page", "1"), 2, "--all")
    cursor = first["nextCursor"]
    after = ok(cli("jobs", "list", "--per-page", "10", "--after", cursor)).stdout.splitlines()
    following = json.loads(ok(cli("jobs", "list", "--json", "--per-page", "10", "--after", cursor)).stdout)
    assert [line.split()[0] for line in after[1:-1]] == [job["name"] for job in following["jobs"]]
    assert after[-1] == f"10 jobs after the cursor; next page: --after {following['nextCursor']}"
    fails(cli("jobs", "list", "--all", "--after", cursor), 2, "--all")
    refused = fails(cli("jobs", "list", "--after", cursor[:-3]), 2, "--after: not a cursor")
    assert refused.startswith("jobctl: --after: ")


def test_executions_list_shows_the_newest_with_a_footer(
    cli: Any, local: tuple[Store, Service], ok: Callable[[Any], Any], fails: Callable[..., str]
) -> None:
    _, service = local
    [job] = make_jobs(service, 1, maxInstances=100)
    runs = [service.trigger_job(job["id"])["executionId"] for _ in range(60)]
    human = ok(cli("executions", "list")).stdout.splitlines()
    assert len(human) == 1 + 50 + 1
    assert human[-1] == "showing 50 of 60 runs; use --limit N to see more"
    assert human[1].split()[:2] == [runs[-1][:8], "job-00"], "newest first, short id, job name"
    assert ok(cli("executions", "list", "--limit", "60")).stdout.splitlines()[-1] == "60 runs"
    paged = "without --page and --per-page the newest are listed"
    second = ok(cli("executions", "list", "--page", "2", "--per-page", "25")).stdout.splitlines()
    assert second[-1] == f"showing 26-50 of 60 runs (page 2); {paged}", "which runs the page holds"
    assert second[1].split()[0] == runs[-26][:8]
    past = ok(cli("executions", "list", "--page", "9", "--per-page", "25")).stdout.splitlines()[-1]
    assert past == f"showing none of 60 runs (page 9); {paged}"
    assert ok(cli("executions", "list", "--per-page", "100")).stdout.splitlines()[-1] == "60 runs"
    assert len(json.loads(ok(cli("executions", "list", "--json")).stdout)["executions"]) == 50
    every = json.loads(ok(cli("executions", "list", "--json", "--all")).stdout)
    assert [e["id"] for e in every["executions"]] == runs[::-1] and every["total"] == 60
    fails(cli("executions", "list", "--limit", "5", "--json"), 2, "--limit")
    fails(cli("executions", "list", "--limit", "0"), 2, "--limit")


def test_tables_fit_80_columns_with_short_ids_and_job_names(cli: Any, local: tuple[Store, Service],
                                                            ok: Callable[[Any], Any],
                                                            store_url: str) -> None:  # fmt: skip
    if not store_url.startswith("sqlite"):
        pytest.skip("table widths, the same on either store: checked on SQLite")
    store, service = local
    long_name = "nightly-database-backup-of-the-accounting-cluster"
    schedule = {"expression": "15 2 * * 1-5", "timezone": "America/Argentina/Buenos_Aires"}
    command = {"command": "tar czf /var/backups/accounting.tgz /srv/accounting"}
    job = service.create_job({"name": long_name, "taskFunctionId": 1, "jobTypeId": 2, "description": "d " * 60,
                              "scheduleConfig": schedule, "taskArgs": command})  # fmt: skip
    execution_id = service.trigger_job(job["id"])["executionId"]
    store.executions.mark_running(execution_id, instance_id="i-1", started_at=datetime.now(UTC))
    error = "exit code 2: tar: /srv/accounting: Cannot open: No such file or directory"
    store.executions.finish(execution_id, status="failed", started_at=None, completed_at=datetime.now(UTC),
                            duration_seconds=1.5, result={"exitCode": 2}, error_message=error)  # fmt: skip
    now = datetime.now(UTC)
    store.cluster.register_instance(Instance(id=str(uuid.uuid4()), hostname="batch-" + "x" * 60 + ".example.org",
                                             pid=4242, version="0.1.0", started_at=now, last_heartbeat=now,
                                             stopped_at=None))  # fmt: skip
    create_token(store, "deploy-pipeline-of-the-accounting-team-" + "y" * 30, "operator")
    store.catalog.upsert_task_function(TaskFunctionSpec(name="long-handler", display_name="Long", description=None,
                                                        handler_type="command", handler_path="/opt/" + "z" * 90),
                                       now)  # fmt: skip
    narrow = {"COLUMNS": "80"}
    for args in (["jobs", "list"], ["executions", "list"], ["jobs", "show", long_name], ["status"],
                 ["executions", "show", execution_id[:8]], ["task-functions", "list"], ["token", "list"],
                 ["job-types"]):  # fmt: skip
        for shown in (ok(cli(*args, env=narrow)).stdout, in_terminal(cli.env, *args, columns=80).stdout):
            lines = table_lines(shown)
            assert max(len(line) for line in lines) <= 80, (args, shown)
            if args[-1] in ("list", "job-types"):
                assert not any(FULL_ID.search(line) for line in lines), shown
                assert not any(line.startswith(" ") for line in lines), f"a row was folded over lines:\n{shown}"
    executions = ok(cli("executions", "list", env=narrow)).stdout
    assert execution_id[:8] in executions and "nightly-database" in executions and job["id"][:8] not in executions
    jobs = ok(cli("jobs", "list", env=narrow)).stdout
    assert "nightly-database" in jobs and "…" in jobs


def test_unique_id_prefixes_are_accepted(cli: Any, local: tuple[Store, Service], ok: Callable[[Any], Any],
                                         fails: Callable[..., str]) -> None:  # fmt: skip
    store, service = local
    [job, other] = make_jobs(service, 2)
    execution_id = service.trigger_job(job["id"])["executionId"]
    shown = json.loads(ok(cli("jobs", "show", job["id"][:8].upper(), "--json")).stdout)
    assert shown["id"] == job["id"]
    assert json.loads(ok(cli("executions", "show", execution_id[:6], "--json")).stdout)["id"] == execution_id
    listed = json.loads(ok(cli("executions", "list", "--job", job["id"][:4], "--json")).stdout)
    assert [e["id"] for e in listed["executions"]] == [execution_id]
    fails(cli("jobs", "show", job["id"][:3]), 3, "no job")
    base = str(uuid.uuid4())
    twins = [twin_job(store, job["id"], base[:5] + tail + base[6:], f"twin-{tail}") for tail in "01"]
    message = fails(cli("jobs", "show", base[:5]), 2, "matches 2 jobs")
    assert all(twin in message for twin in twins) and "twin-0" in message
    assert json.loads(ok(cli("jobs", "show", twins[0][:6], "--json")).stdout)["id"] == twins[0]
    named = twin_job(store, other["id"], base[:5] + "f" + base[6:], base[:5])
    assert json.loads(ok(cli("jobs", "show", base[:5], "--json")).stdout)["id"] == named, "a name wins over a prefix"


def test_tail_takes_a_job_name_before_a_run_id_prefix(cli: Any, local: tuple[Store, Service],
                                                      ok: Callable[[Any], Any]) -> None:  # fmt: skip
    store, service = local
    [job, other] = make_jobs(service, 2)
    execution_id = service.trigger_job(job["id"])["executionId"]
    store.executions.append_output(execution_id, 0, "from the run\n")
    assert ok(cli("executions", "tail", execution_id[:6])).stdout == "from the run\n"
    twin_job(store, other["id"], str(uuid.uuid4()), execution_id[:6])
    assert ok(cli("executions", "tail", execution_id[:6])).stdout == "", "the job of that name, which never ran"
    assert ok(cli("executions", "tail", execution_id[:7])).stdout == "from the run\n"


def test_tail_of_an_unknown_name_says_it_is_no_job_or_execution(cli: Any, fails: Callable[..., str]) -> None:
    """tail takes a job or a run; the error named only the run ("no execution 'nosuchjob'")."""
    assert fails(cli("executions", "tail", "nosuchjob"), 3, "no job or execution 'nosuchjob'")


def test_the_newest_runs_past_one_page_are_walked_by_cursor_so_a_run_recorded_meanwhile_repeats_none(
    store: Store, service: Service
) -> None:
    """`executions list --limit 200` reads 100 a page. A run recorded between two pages pushes
    every row down by one: by page number, page 1's last row would show again as page 2's first."""
    from jobctl.cli.listing import first_items
    from tests.store.helpers import add_executions, add_job

    job = add_job(store.db, "busy")
    add_executions(store.db, job, [timedelta(minutes=n) for n in range(1, 251)])
    before = [e["id"] for e in service.list_executions(per_page=100)["executions"]]
    before += [e["id"] for e in service.list_executions(per_page=100, page=2)["executions"]]
    pages: list[int] = []

    def fetch(number: int, size: int, after: str | None) -> Any:
        pages.append(number)
        if len(pages) == 2:  # between the first page and the second
            add_executions(store.db, job, [timedelta(0)])
        return service.list_executions(page=number, per_page=size, after=after)

    shown = [e["id"] for e in first_items(fetch, "executions", 200)["executions"]]

    assert len(pages) == 2 and len(shown) == len(set(shown)) == 200
    assert shown == before  # the 200 newest when the walk began, in order


def test_the_cursor_of_the_next_page_is_shown_whole_on_a_narrow_terminal(
    cli: Any, local: tuple[Store, Service], ok: Callable[[Any], Any], store_url: str
) -> None:
    """`--after CURSOR` in the footer: a cursor is wider than 80 columns, and broken over two
    lines it could not be copied back."""
    if not store_url.startswith("sqlite"):
        pytest.skip("what a terminal shows, the same on either store: checked on SQLite")
    make_jobs(local[1], 3)
    first = json.loads(ok(cli("jobs", "list", "--json", "--per-page", "1")).stdout)["nextCursor"]
    second = json.loads(ok(cli("jobs", "list", "--json", "--per-page", "1", "--after", first)).stdout)["nextCursor"]
    assert len(second) > 80
    shown = in_terminal(cli.env, "jobs", "list", "--per-page", "1", "--after", first, columns=80)
    assert shown.code == 0, shown
    assert f"next page: --after {second}" in SGR.sub("", shown.stdout), shown.stdout


def test_jobs_list_limit_shows_the_first_by_name(cli: Any, local: tuple[Store, Service], ok: Callable[[Any], Any],
                                                 fails: Callable[..., str]) -> None:  # fmt: skip
    """``--limit N`` as in every other listing: the first N rows of the table (by name), a footer
    when some were left out, and not with --json or another way of choosing."""
    _, service = local
    make_jobs(service, 12)
    lines = ok(cli("jobs", "list", "--limit", "5")).stdout.splitlines()
    assert [line.split()[0] for line in lines[1:-2]] == [f"job-{n:02d}" for n in range(5)]
    assert lines[-2:] == [
        "12 jobs: 12 enabled, 0 disabled, 0 running",
        "showing the first 5 by name; use --limit N to see more",
    ]
    whole = ok(cli("jobs", "list", "--limit", "12")).stdout
    assert whole == ok(cli("jobs", "list")).stdout, "nothing left out: no footer about it"
    fails(cli("jobs", "list", "--limit", "5", "--json"), 2, "--limit is for people; with --json use")
    for other in (["--all"], ["--page", "1"], ["--after", "x"]):
        fails(
            cli("jobs", "list", "--limit", "5", *other), 2, "give one of --limit, --page/--per-page/--after and --all"
        )
    fails(cli("jobs", "list", "--limit", "0"), 2, "--limit")
