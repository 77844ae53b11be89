"""Shared fixtures: every store test runs on a real SQLite file and on a real Postgres schema.

Postgres comes from ``$JOBCTL_TEST_PG_URL`` (default: the local server's ``test`` database).
Each test gets a schema of its own, dropped afterwards. When the server is unreachable the
Postgres cases are skipped, unless ``JOBCTL_TEST_REQUIRE_PG=1`` (set in CI) makes that a failure.

``store_url`` is a store at the current schema, copied from one made once per worker (a SQLite
file copied, a Postgres schema made by replaying ``pg_dump``'s script): creating a store runs every
migration, and a daemon or CLI that did that in each of thousands of tests spent more of the
suite's CPU than the tests themselves (docs/test-suite.md). ``empty_store_url`` is the old kind,
a place where no store is yet, for the tests of creating one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from jobctl.models import Caller, Role
from jobctl.service import Service
from jobctl.store import Store, open_store
from jobctl.store.url import parse_store_url

PG_URL = os.environ.get("JOBCTL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("JOBCTL_TEST_REQUIRE_PG") == "1"
TEST_ZONE = "Europe/Berlin"
ADMIN = Caller(user_id="tester", role=Role.ADMIN)
ROOT = Path(__file__).resolve().parents[1]

SERIAL = (
    "tests/cluster/test_frozen_claim.py",  # failover within a lease TTL, measured in wall time
    "tests/cluster/test_lease_burst.py",
    "tests/cluster/test_partition.py",
    "tests/cluster/test_soak.py",
    "tests/celery/",  # a worker process per module; timeouts and revocations measured in seconds
    "tests/daemon/test_scheduling.py",  # runs within a second of their slot
    "tests/daemon/test_failover.py",
    "tests/daemon/test_status_failover.py",  # status within a lease TTL after a kill -9
    "tests/daemon/test_restart_within_grace.py",  # a slot claimed within the misfire grace after a restart
    "tests/daemon/test_run_failover.py",  # jobctl run takes its run over within a lease TTL after a kill -9
    "tests/daemon/test_watchdog.py",  # kill grace periods
)
"""Tests that measure wall time or share a system resource: marked ``serial``, and run after the
others (see the README's test command), three at a time: each of them spends its time waiting
on a few daemons, so neighbours of that kind leave its margins intact (docs/test-suite.md)."""

ALONE = (
    "tests/cluster/test_soak.py",  # 200 jobs on three daemons: the machine's whole CPU
    "tests/cluster/test_lease_burst.py",  # lease renewals on time through a burst of 1,000 runs
)
"""Serial tests that load the machine themselves, or measure a daemon keeping up under a load of
its own: marked ``alone`` as well, and run last, with nothing beside them."""


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the CLI processes the tests start, however pytest itself was started.

    A process started in the background by a non-interactive shell, and each pytest-xdist
    worker, ignores SIGINT, and an ignored signal stays ignored across ``exec``: the tests that
    interrupt ``jobctl run`` or ``executions tail -f`` would then wait on a CLI that never sees
    the signal. With a handler installed here, the children start with the default instead.
    """
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.relative_to(ROOT).as_posix()
        if path.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
        if path.startswith(ALONE):
            item.add_marker(pytest.mark.alone)


def _pg_admin_connection():  # type: ignore[no-untyped-def]
    import psycopg

    info = parse_store_url(PG_URL).pg_conninfo or {}
    return psycopg.connect(autocommit=True, connect_timeout=5, **info)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    try:
        _pg_admin_connection().close()
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"Postgres required but unreachable at {PG_URL}: {exc}")
        return False
    return True


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A Postgres store URL on a fresh schema of its own."""
    if not pg_available:
        pytest.skip("Postgres is not reachable")
    yield from _fresh_pg_schema()


def _fresh_pg_schema(script: str | None = None) -> Iterator[str]:
    """Yields the URL of a new schema, and drops the schema when resumed. ``script`` makes the
    schema (its name in place of :data:`TEMPLATE_SCHEMA_MARK`); without one it is empty."""
    schema = f"jobctl_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin_connection() as conn:
        conn.execute(script.replace(TEMPLATE_SCHEMA_MARK, schema) if script else f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with _pg_admin_connection() as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def module_store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Like ``store_url``, but one store for all tests of a module, for tests that only read
    or that check they changed nothing (hundreds of fresh stores would make them slow)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('store') / 'jobctl.db'}"
    elif request.getfixturevalue("pg_available"):
        yield from _fresh_pg_schema()
    else:
        pytest.skip("Postgres is not reachable")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Where a new SQLite store would go: no file is there yet."""
    return f"sqlite:///{tmp_path / 'jobctl.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def empty_store_url(request: pytest.FixtureRequest) -> str:
    """The URL of a place with no store yet (a missing SQLite file, an empty Postgres schema),
    once per backend: for the tests of what creating a store does."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The URL of a new store at the current schema with nothing in it, once per backend."""
    name = "ready_sqlite_url" if request.param == "sqlite" else "ready_pg_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store made by ``open_store`` once per worker, to be copied."""
    path = tmp_path_factory.mktemp("template") / "jobctl.db"
    open_store(f"sqlite:///{path}").close()
    leftovers = [p.name for p in path.parent.iterdir() if p != path]
    assert not leftovers, f"the template store left {leftovers} beside it: a copy would miss them"
    return path


@pytest.fixture
def ready_sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A copy of the template store, as a new store would be."""
    path = tmp_path / "jobctl.db"
    shutil.copy(sqlite_template, path)  # its mode too: a new store file is 0600
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def pg_template_script(pg_available: bool) -> str:
    """The SQL that makes a store as ``open_store`` makes it on Postgres, in a schema named
    :data:`TEMPLATE_SCHEMA_MARK`: ``pg_dump`` of a store made once per worker (its schema is
    dropped at once). A test's schema runs it, with its own name in place of the mark."""
    if not pg_available:
        pytest.skip("Postgres is not reachable")
    schemas = _fresh_pg_schema()
    url = next(schemas)
    schema = url.rsplit("search_path%3D", 1)[1]
    try:
        open_store(url).close()
        info = parse_store_url(PG_URL).pg_conninfo or {}
        dumped = subprocess.run(
            ["pg_dump", "--schema", schema, "--inserts", "--no-owner", "--no-privileges"],
            capture_output=True, text=True, check=True, timeout=60,
            env={**os.environ, "PGHOST": info.get("host", ""), "PGPORT": info.get("port", "5432"),
                 "PGUSER": info.get("user", ""), "PGDATABASE": info["dbname"], "PGPASSWORD": info.get("password", "")},
        ).stdout  # fmt: skip
    finally:
        next(schemas, None)
    # psql's own commands (``\restrict``) are for psql alone: the script goes to the server
    script = "\n".join(line for line in dumped.splitlines() if not line.startswith("\\"))
    assert f"CREATE SCHEMA {schema};" in script, script[:2000]
    return script.replace(schema, TEMPLATE_SCHEMA_MARK)


TEMPLATE_SCHEMA_MARK = "jobctl_template_schema_mark"
"""Stands for the schema's name in the template script; each test puts its own in its place."""


@pytest.fixture
def ready_pg_url(pg_template_script: str) -> Iterator[str]:
    """A schema of its own made by the template script; dropped afterwards."""
    yield from _fresh_pg_schema(pg_template_script)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = open_store(store_url)
    yield opened
    opened.close()


@pytest.fixture
def service(store: Store) -> Service:
    """The service as the local admin, cron jobs defaulting to Europe/Berlin."""
    return Service(store, ADMIN, default_timezone=TEST_ZONE)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


@dataclass
class Cli:
    """Runs ``python -m jobctl`` as a real subprocess against one store."""

    env: dict[str, str]

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "jobctl", *args],
            input=input,
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli(store_url: str, tmp_path: Path) -> Cli:
    """The CLI on this test's store, with an empty config and a fixed zone."""
    config = tmp_path / "jobctl.toml"
    config.write_text(f'[scheduler]\ntimezone = "{TEST_ZONE}"\n')
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("JOBCTL_") or key.startswith("JOBCTL_TEST_")
    }
    env.update({"JOBCTL_DB": store_url, "JOBCTL_CONFIG": str(config), "COLUMNS": "200"})
    open_store(store_url).close()  # a reading command creates no store it is pointed at
    return Cli(env)
