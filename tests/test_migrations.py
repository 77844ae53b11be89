"""Schema versions: in-place upgrades keep data, newer stores are refused, unusable stores fail cleanly."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from jobctl.errors import Conflict, StoreError, StoreVersionError
from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import JobFilter, open_store
from jobctl.store.database import Database
from jobctl.store.schema_version import HEAD, MIGRATIONS_DIR, SCHEMA_REVISIONS, upgrade
from jobctl.store.url import parse_store_url


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    """Here a test's store starts as no store at all: these tests make, upgrade or refuse it."""
    return empty_store_url


JOB_ID = "11111111-1111-4111-8111-111111111111"
EXECUTION_ID = "22222222-2222-4222-8222-222222222222"
CREATED = datetime(2024, 1, 15, 10, 0, tzinfo=UTC)


def raw_db(url: str) -> Database:
    """The database under ``url`` without jobctl's checks (an empty SQLite file is made if missing)."""
    parsed = parse_store_url(url)
    if parsed.sqlite_path is not None:
        parsed.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        parsed.sqlite_path.touch()
    return Database(parsed)


def revision_of(url: str) -> str | None:
    db = raw_db(url)
    try:
        return str(db.scalar("SELECT version_num FROM alembic_version"))
    finally:
        db.close()


def assert_one_line_error(result: Any, code: int, *fragments: str) -> None:
    assert result.code == code, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class PlainCli:
    """``python -m jobctl`` for tests that bring their own store URL (``env={"JOBCTL_DB": ...}``)."""

    env: dict[str, str]

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, text=True,
                              env={**self.env, **(env or {})}, timeout=60)  # fmt: skip
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def plain_cli(tmp_path: Path) -> PlainCli:
    config = tmp_path / "plain.toml"
    config.write_text('[scheduler]\ntimezone = "UTC"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBCTL_")}
    return PlainCli({**env, "JOBCTL_CONFIG": str(config)})


# -- upgrades ------------------------------------------------------------------------------


def test_a_0001_store_is_upgraded_in_place_without_losing_data(store_url: str) -> None:
    db = raw_db(store_url)
    upgrade(db, "0001")
    db.execute(
        """
        INSERT INTO jobs (id, name, task_function_id, job_type_id, schedule_config, task_args, max_instances,
            retry_count, retry_delay_seconds, is_enabled, is_paused, next_run_time, next_slot, created_at, updated_at)
        VALUES (:id, 'legacy', 1, 2, '{"hour": "9", "minute": "0"}', '{"command": "echo old"}', 2, 1, 30,
            :yes, :no, :next, :next, :created, :created)
        """,
        {"id": JOB_ID, "yes": True, "no": False, "next": datetime(2030, 1, 1, 8, tzinfo=UTC), "created": CREATED},
    )  # fmt: skip
    db.execute(
        """
        INSERT INTO executions (id, job_id, status, scheduled_for, attempt, started_at, completed_at,
            duration_seconds, result, triggered_by, created_at)
        VALUES (:id, :job, 'success', :at, 1, :at, :at, 1.5, '{"exitCode": 0}', 'scheduler', :at)
        """,
        {"id": EXECUTION_ID, "job": JOB_ID, "at": CREATED},
    )  # fmt: skip
    assert db.scalar("SELECT version_num FROM alembic_version") == "0001"
    db.close()

    store = open_store(store_url)
    try:
        assert revision_of(store_url) == HEAD
        job = store.jobs.get(JOB_ID)
        assert job is not None
        assert (job.name, job.schedule_config, job.task_args) == ("legacy", {"hour": "9", "minute": "0"},
                                                                  {"command": "echo old"})  # fmt: skip
        assert (job.max_instances, job.retry_count, job.retry_delay_seconds) == (2, 1, 30)
        assert job.misfire_policy == "run_once"
        assert job.labels == {}  # 0007: every existing job gets no labels
        assert job.environment is None  # 0009: no variables of its own
        assert (job.working_directory, job.umask, job.nice) == (None, None, None)  # 0010: the defaults
        assert job.stdin is None  # 0011: /dev/null
        assert (job.run_as_user, job.run_as_group) == (None, None)  # 0012: the daemon's default
        assert job.created_at == CREATED and job.next_run_time == datetime(2030, 1, 1, 8, tzinfo=UTC)
        execution = store.executions.get(EXECUTION_ID)
        assert execution is not None
        assert (execution.job_id, execution.status, execution.result, execution.scheduled_for) == (
            JOB_ID, "success", {"exitCode": 0}, CREATED)  # fmt: skip
        figures = store.figures.job_figures()  # 0024: existing executions counted once
        assert [(f.runs_by_status, f.last_duration_seconds, f.last_success_time) for f in figures] == [
            ({"success": 1}, 1.5, CREATED)]  # fmt: skip
        store.executions.finish(EXECUTION_ID, status="failed", started_at=None, completed_at=CREATED,
                                duration_seconds=1.0, result=None, error_message=None)  # fmt: skip
        assert store.db.scalar("SELECT SUM(runs) FROM job_run_stats") == 1, "a finished run is not counted again"
        assert store.cluster.generation() == 0  # store_state exists with its one row
        store.cluster.bump_generation()
        assert store.cluster.generation() == 1
        store.executions.append_output(EXECUTION_ID, 0, "kept\n")  # execution_output exists
        assert store.executions.read_output(EXECUTION_ID, 0) == ("kept\n", 5)
        service = Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC")
        detail = service.get_job(JOB_ID)
        assert detail["misfirePolicy"] == "run_once"
        assert [e["id"] for e in detail["recentExecutions"]] == [EXECUTION_ID]
        service.create_job({"name": "new", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 1},
                            "taskArgs": {"command": "true"}})  # fmt: skip
        assert service.list_jobs()["total"] == 2
    finally:
        store.close()
    open_store(store_url).close()  # opening again at HEAD is a no-op
    assert revision_of(store_url) == HEAD


def test_upgrading_keeps_tokens_and_frees_the_names_of_revoked_ones(store_url: str) -> None:
    """Before 0006 a token name was unique over every row, revoked ones included."""
    from jobctl.service.tokens import authenticate, create_token, hash_token, list_tokens

    db = raw_db(store_url)
    upgrade(db, "0005")
    for name, secret, revoked in (("ci", "old-ci", CREATED), ("ops", "old-ops", None)):
        db.execute(
            "INSERT INTO api_tokens (name, role, token_hash, created_at, revoked_at) "
            "VALUES (:name, 'viewer', :hash, :at, :revoked)",
            {"name": name, "hash": hash_token(secret), "at": CREATED, "revoked": revoked},
        )
    db.close()

    store = open_store(store_url)
    try:
        assert revision_of(store_url) == HEAD
        assert authenticate(store, "old-ops") == Caller(user_id="ops", role=Role.VIEWER)
        new_secret, _ = create_token(store, "ci", "admin")
        assert authenticate(store, new_secret) == Caller(user_id="ci", role=Role.ADMIN)
        with pytest.raises(Conflict):
            create_token(store, "ops", "admin")
        assert [(t["name"], t["revokedAt"] is None) for t in list_tokens(store)] == [
            ("ci", False), ("ops", True), ("ci", True)]  # fmt: skip
    finally:
        store.close()


def _insert_cron_job(db: Database, job_id: str, name: str, config: str) -> None:
    db.execute(
        """
        INSERT INTO jobs (id, name, task_function_id, job_type_id, schedule_config, max_instances, retry_count,
            retry_delay_seconds, is_enabled, is_paused, next_run_time, next_slot, created_at, updated_at)
        VALUES (:id, :name, 1, 2, :config, 1, 0, 60, :yes, :no, :next, :next, :created, :created)
        """,
        {"id": job_id, "name": name, "config": config, "yes": True, "no": False,
         "next": datetime(2030, 1, 1, 9, 0, 30, tzinfo=UTC), "created": CREATED},
    )  # fmt: skip


def test_upgrading_rewrites_six_field_cron_expressions_seconds_first_keeping_their_slots(store_url: str) -> None:
    """Before 0004 a sixth field was seconds *last*; stored jobs must keep firing when they did."""
    from jobctl.schedules import parse_schedule

    old = {
        "33333333-3333-4333-8333-333333333331": ("six", '{"expression": "0 9 * * 1-5 30", "timezone": "UTC"}'),
        "33333333-3333-4333-8333-333333333332": ("six-steps", '{"expression": "*/10  *  * * * */20"}'),
        "33333333-3333-4333-8333-333333333333": ("five", '{"expression": "0 9 * * 1-5"}'),
        "33333333-3333-4333-8333-333333333334": ("macro", '{"expression": "@daily"}'),
        "33333333-3333-4333-8333-333333333335": ("fields", '{"hour": "9", "second": "30"}'),
    }
    db = raw_db(store_url)
    upgrade(db, "0003")
    for job_id, (name, config) in old.items():
        _insert_cron_job(db, job_id, name, config)
    db.close()

    store = open_store(store_url)
    try:
        configs = {job_id: store.jobs.get(job_id).schedule_config for job_id in old}  # type: ignore[union-attr]
    finally:
        store.close()
    ids = list(old)
    assert configs[ids[0]] == {"expression": "30 0 9 * * 1-5", "timezone": "UTC"}
    assert configs[ids[1]] == {"expression": "*/20 */10 * * * *"}
    assert configs[ids[2]] == {"expression": "0 9 * * 1-5"}
    assert configs[ids[3]] == {"expression": "@daily"}
    assert configs[ids[4]] == {"hour": "9", "second": "30"}
    schedule = parse_schedule(2, configs[ids[0]], default_timezone="UTC", anchor=CREATED)
    friday = datetime(2024, 1, 19, 9, 0, 30, tzinfo=UTC)
    assert schedule.next_slot_after(datetime(2024, 1, 19, tzinfo=UTC)) == friday
    assert schedule.next_slot_after(friday) == datetime(2024, 1, 22, 9, 0, 30, tzinfo=UTC)  # Monday
    every = parse_schedule(2, configs[ids[1]], default_timezone="UTC", anchor=CREATED)
    start = datetime(2024, 1, 19, 0, 1, tzinfo=UTC)
    found = [every.next_slot_after(start)]
    for _ in range(3):
        found.append(every.next_slot_after(found[-1]))  # type: ignore[arg-type]
    assert found == [datetime(2024, 1, 19, 0, 10, second, tzinfo=UTC) for second in (0, 20, 40)] + [
        datetime(2024, 1, 19, 0, 20, tzinfo=UTC)
    ]


def test_schema_revisions_match_the_alembic_scripts() -> None:
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    chain = [script.revision for script in scripts.walk_revisions()]  # head first
    assert tuple(reversed(chain)) == SCHEMA_REVISIONS
    assert scripts.get_heads() == [HEAD]
    assert SCHEMA_REVISIONS[-1] == HEAD
    for older, newer in itertools.pairwise(SCHEMA_REVISIONS):
        assert scripts.get_revision(newer).down_revision == older
    assert scripts.get_revision(SCHEMA_REVISIONS[0]).down_revision is None


def test_a_new_store_is_created_at_head(store_url: str) -> None:
    open_store(store_url).close()
    assert revision_of(store_url) == HEAD


# -- the upgrade is told ---------------------------------------------------------------------

PREVIOUS_MIGRATION = SCHEMA_REVISIONS[-2]
"""The head before the newest migration: a store of the release before it."""


def upgrade_line(upgraded_from: str) -> str:
    return (
        f"jobctl: upgraded the store's schema from {upgraded_from} to {HEAD} (jobctl releases before this one, "
        "daemons included, can no longer open it; docs/upgrading.md)"
    )


def test_the_command_that_upgrades_the_store_says_so_on_stderr_and_the_next_says_nothing(
    tmp_path: Path, plain_cli: PlainCli
) -> None:
    """An upgrade shuts out the other hosts' daemons of the earlier release at their next start:
    before, ``store vacuum`` (or any command) upgraded the store without a word."""
    url = f"sqlite:///{tmp_path / 'jobctl.db'}"
    db = raw_db(url)
    upgrade(db, PREVIOUS_MIGRATION)
    db.close()
    env = {"JOBCTL_DB": url}
    info = plain_cli("store", "info", env=env)  # leaves it as it is, and says nothing of an upgrade
    assert (info.code, info.stderr) == (0, ""), info
    assert revision_of(url) == PREVIOUS_MIGRATION

    vacuum = plain_cli("store", "vacuum", env=env)

    assert vacuum.code == 0, vacuum
    assert vacuum.stderr.splitlines() == [upgrade_line(PREVIOUS_MIGRATION)]
    assert "upgraded" not in vacuum.stdout
    assert revision_of(url) == HEAD
    for args in (("jobs", "list", "--json"), ("store", "vacuum")):
        again = plain_cli(*args, env=env)
        assert (again.code, again.stderr) == (0, ""), again


def test_a_daemon_that_upgrades_the_store_logs_it_in_jobctl_s_lines_only(store_url: str, tmp_path: Path) -> None:
    """Alembic's own INFO lines (plugin set-up, "Context impl ...", "Will assume transactional
    DDL.", twice over) came before jobctl's "upgrading store" line: the daemon keeps them out."""
    from tests.daemon.helpers import DaemonFactory, write_config

    db = raw_db(store_url)
    upgrade(db, PREVIOUS_MIGRATION)
    db.close()
    daemons = DaemonFactory(store_url, write_config(tmp_path / "jobctl.toml"), tmp_path)
    try:
        daemon = daemons.start()
        assert daemon.stop() == 0
    finally:
        daemons.stop_all()
    lines = daemon.log().splitlines()
    told = [line for line in lines if upgrade_line(PREVIOUS_MIGRATION).removeprefix("jobctl: ") in line]
    assert len(told) == 1 and "WARNING" in told[0], lines
    assert any(" jobctl.store.schema_version: upgrading store " in line for line in lines), lines
    loggers = {line.split(": ", 1)[0].split()[-1] for line in lines if ": " in line}
    assert not [name for name in loggers if name.split(".")[0] == "alembic"], lines


# -- refused stores ------------------------------------------------------------------------


def test_a_store_from_a_newer_jobctl_is_refused_and_left_alone(store_url: str, cli: Any) -> None:
    open_store(store_url).close()
    db = raw_db(store_url)
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()

    with pytest.raises(StoreVersionError) as caught:
        open_store(store_url)
    assert isinstance(caught.value, StoreError)
    assert "newer" in caught.value.message and "9999" in caught.value.message

    for args in (("jobs", "create", "x", "--every", "5m", "--command", "true"), ("jobs", "list", "--json")):
        result = cli(*args)
        assert_one_line_error(result, 1, "9999", "newer")
        assert result.stdout == ""
    db = raw_db(store_url)
    try:
        assert db.scalar("SELECT version_num FROM alembic_version") == "9999"
        assert db.scalar("SELECT COUNT(*) FROM jobs") == 0
    finally:
        db.close()


def test_a_daemon_refuses_a_newer_store_with_exit_78_so_systemd_does_not_restart_it(store_url: str, cli: Any) -> None:
    """Exit 78 (EX_CONFIG) is in the unit's ``RestartPreventExitStatus=``; exit 1 was restarted every 2 s."""
    open_store(store_url).close()
    db = raw_db(store_url)
    db.execute("UPDATE alembic_version SET version_num = '9999'")
    db.close()
    refused = cli("daemon", "--no-api")
    assert_one_line_error(refused, 78, "9999", "newer than this jobctl knows", "upgrade jobctl")
    assert cli("jobs", "list", "--json").code == 1, "other commands keep exit 1 (SPEC: 1 error)"
    unit = (Path(__file__).parents[1] / "contrib" / "jobctl.service").read_text()
    prevented = [line.split("=", 1)[1].split() for line in unit.splitlines() if line.startswith("RestartPrevent")]
    assert prevented == [["2", "78"]]


def test_a_corrupt_sqlite_file_is_a_clear_error_and_stays_untouched(tmp_path: Path, plain_cli: PlainCli) -> None:
    path = tmp_path / "corrupt.db"
    garbage = os.urandom(8192)
    path.write_bytes(garbage)
    url = f"sqlite:///{path}"
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "not a usable SQLite database" in caught.value.message
    result = plain_cli("jobs", "list", env={"JOBCTL_DB": url})
    assert_one_line_error(result, 1, str(path))
    assert path.read_bytes() == garbage


def test_a_database_that_is_not_a_jobctl_store_is_refused(store_url: str, plain_cli: PlainCli) -> None:
    """SQLite: any foreign table. Postgres (a schema may be shared with other apps): a foreign ``jobs`` table."""
    foreign = "foo" if store_url.startswith("sqlite") else "jobs"
    db = raw_db(store_url)
    db.execute(f"CREATE TABLE {foreign} (x INTEGER)")
    db.execute(f"INSERT INTO {foreign} (x) VALUES (42)")
    db.close()

    with pytest.raises(StoreError) as caught:
        open_store(store_url)
    assert "not a jobctl store" in caught.value.message
    assert_one_line_error(plain_cli("jobs", "list", env={"JOBCTL_DB": store_url}), 1, "not a jobctl store")
    db = raw_db(store_url)
    try:
        assert db.fetch_all(f"SELECT x FROM {foreign}") == [{"x": 42}]
        if db.is_sqlite:
            tables = {row["name"] for row in db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        else:
            rows = db.fetch_all(
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
            )
            tables = {row["name"] for row in rows}
        assert tables == {foreign}
    finally:
        db.close()


def test_a_postgres_schema_shared_with_other_tables_gets_the_jobctl_tables(pg_url: str) -> None:
    db = raw_db(pg_url)
    db.execute("CREATE TABLE other_app (x INTEGER)")
    db.close()
    store = open_store(pg_url)
    try:
        assert store.db.scalar("SELECT version_num FROM alembic_version") == HEAD
        assert store.db.scalar("SELECT COUNT(*) FROM task_functions WHERE name = 'shell'") == 1
        assert store.db.scalar("SELECT COUNT(*) FROM other_app") == 0
    finally:
        store.close()


# -- read-only stores ----------------------------------------------------------------------


@contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """``chattr +i``: read-only even for root (chmod is not). Skips where the file system has no such flag."""
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed; root ignores chmod, so a read-only store cannot be made")
    done: list[Path] = []
    try:
        for path in paths:
            proc = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
            if proc.returncode != 0:
                pytest.skip(f"chattr +i does not work here ({proc.stderr.strip()}); cannot make a read-only store")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_sqlite_store_can_be_read_but_writes_fail_cleanly(tmp_path: Path, plain_cli: PlainCli) -> None:
    path = tmp_path / "ro" / "jobctl.db"
    url = f"sqlite:///{path}"
    store = open_store(url)
    Service(store, Caller(user_id="t", role=Role.ADMIN), default_timezone="UTC").create_job(
        {"name": "kept", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 1},
         "taskArgs": {"command": "true"}})  # fmt: skip
    store.close()
    env = {"JOBCTL_DB": url}
    with immutable(path):
        listed = plain_cli("jobs", "list", "--json", env=env)
        assert listed.code == 0, listed
        assert '"kept"' in listed.stdout
        created = plain_cli("jobs", "create", "new", "--every", "5m", "--command", "true", env=env)
        assert_one_line_error(created, 1, "read-only")
    with immutable(path, path.parent):  # not even the WAL side files can be created or removed
        created = plain_cli("jobs", "create", "new", "--every", "5m", "--command", "true", env=env)
        assert_one_line_error(created, 1, str(path))
        listed = plain_cli("jobs", "list", "--json", env=env)
        if listed.code == 0:  # reading works when the WAL index survived from the last session
            assert '"kept"' in listed.stdout
        else:
            assert_one_line_error(listed, 1, str(path))
    store = open_store(url)
    try:
        assert [job.name for job in store.jobs.list(JobFilter(), limit=9, offset=0)] == ["kept"]
    finally:
        store.close()


def test_a_read_only_store_that_needs_an_upgrade_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    db = raw_db(url)
    upgrade(db, "0001")
    db.close()
    with immutable(path):
        with pytest.raises(StoreError) as caught:
            open_store(url)
        assert "read-only" in caught.value.message
        assert "\n" not in caught.value.message
    assert revision_of(url) == "0001"


# -- unopenable URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql+psycopg://nobody@127.0.0.1:1/x", "cannot open store"),
        ("sqlite:////proc/jobctl-cannot-be-created/deeper/jobctl.db", "cannot create store"),
    ],
    ids=["postgres-refused", "sqlite-under-proc"],
)
def test_an_unopenable_store_url_is_one_line_and_exit_1(url: str, fragment: str, plain_cli: PlainCli) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert fragment in caught.value.message
    result = plain_cli("jobs", "create", "a", "--every", "1h", "--command", "true", env={"JOBCTL_DB": url})
    assert_one_line_error(result, 1, fragment)  # a writing command: a reading one creates no store
    assert result.stdout == ""


# -- an upgrade that is killed half way ----------------------------------------------------

KILLED_HALF_WAY = """
import os, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
from jobctl.store import open_store

def kill_at(conn, cursor, statement, parameters, context, executemany):
    # migration 0026 has dropped an index and made it again; before its second index, the end
    if "ix_executions_job_active" in statement:
        os.kill(os.getpid(), signal.SIGKILL)

event.listen(Engine, "before_cursor_execute", kill_at)
open_store(sys.argv[1])
"""


def sqlite_indexes(path: Path) -> dict[str, str]:
    """The store's indexes with their SQL, read with the sqlite3 module."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {str(name): str(sql) for name, sql in rows}
    finally:
        conn.close()


def test_a_sqlite_upgrade_killed_half_way_leaves_the_store_as_it_was_and_the_next_start_upgrades_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jobctl.db"
    url = f"sqlite:///{path}"
    db = raw_db(url)
    upgrade(db, "0025")
    db.close()
    before = sqlite_indexes(path)
    assert "ix_executions_job_status_completed" in before

    killed = subprocess.run([sys.executable, "-c", KILLED_HALF_WAY, url], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -9, killed.stderr
    assert revision_of(url) == "0025"
    assert sqlite_indexes(path) == before, "the migration's first statements stayed: the store is half upgraded"

    open_store(url).close()  # the next start upgrades it whole
    assert revision_of(url) == HEAD
    after = sqlite_indexes(path)
    assert "ix_executions_job_active" in after and "ix_executions_job_status_completed" not in after
