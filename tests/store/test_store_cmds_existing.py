"""``jobctl store ...`` works on the store that is there: it never creates one, and ``info``,
``check`` and ``backup`` leave an older store at its schema version (docs/store-maintenance.md)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from jobctl.store import open_store
from jobctl.store.schema_version import HEAD, SCHEMA_REVISIONS
from tests.conftest import Cli
from tests.store.test_store_cmds import one_line_error
from tests.store.test_upgrade import PREVIOUS_HEAD, empty_database, fill_at_previous_head, upgrade


@pytest.fixture
def store_url(empty_store_url: str) -> str:
    """Here a test's store starts as no store at all: these tests make, upgrade or refuse it."""
    return empty_store_url


ALL_COMMANDS = [["info"], ["check"], ["backup", "{tmp}/copy.db"], ["prune"], ["prune", "--dry-run"], ["vacuum"]]


def _args(command: list[str], tmp_path: Path) -> list[str]:
    return ["store", *(part.replace("{tmp}", str(tmp_path)) for part in command)]


def _revision_of_file(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


def _older_store(url: str) -> None:
    db = empty_database(url)
    upgrade(db, PREVIOUS_HEAD)
    with db.transaction():
        fill_at_previous_head(db)
    db.close()


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: " ".join(c))
def test_a_mistyped_sqlite_path_is_an_error_not_a_new_store(command: list[str], tmp_path: Path, bare_cli: Cli) -> None:
    missing = tmp_path / "no-such-folder" / "jobctl.db"
    result = bare_cli("--db", f"sqlite:///{missing}", *_args(command, tmp_path))
    one_line_error(result, 1, f"no store at {missing}")
    assert not missing.parent.exists()
    assert not (tmp_path / "copy.db").exists()


@pytest.mark.parametrize("command", [c for c in ALL_COMMANDS if c[0] != "backup"], ids=lambda c: " ".join(c))
def test_an_empty_postgres_schema_is_not_made_a_store(command: list[str], pg_url: str, bare_cli: Cli) -> None:
    result = bare_cli("--db", pg_url, *_args(command, Path("/nonexistent")))
    one_line_error(result, 1, "no jobctl store in")
    assert "alembic_version" not in result.stderr
    store_tables = _pg_tables(pg_url)
    assert store_tables == set(), store_tables


def _pg_tables(url: str) -> set[str]:
    from jobctl.store.database import Database
    from jobctl.store.url import parse_store_url

    db = Database(parse_store_url(url))
    try:
        rows = db.fetch_all(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {str(row["name"]) for row in rows}
    finally:
        db.close()


def test_info_check_and_backup_leave_an_older_sqlite_store_as_it_is(
    sqlite_url: str, tmp_path: Path, bare_cli: Cli
) -> None:
    """The backup an admin takes before an upgrade is of the store as it was."""
    assert PREVIOUS_HEAD in SCHEMA_REVISIONS and PREVIOUS_HEAD != HEAD
    _older_store(sqlite_url)
    path = Path(sqlite_url.removeprefix("sqlite:///"))

    info = bare_cli("--db", sqlite_url, "store", "info", "--json")
    assert info.code == 0, info
    data = json.loads(info.stdout)
    assert (data["schemaVersion"], data["schemaUpgradePending"]) == (PREVIOUS_HEAD, True)
    assert data["rowCounts"]["executions"] > 0
    text = bare_cli("--db", sqlite_url, "store", "info")
    assert f"{PREVIOUS_HEAD} (older than this jobctl's {HEAD}" in text.stdout

    assert bare_cli("--db", sqlite_url, "store", "check").code == 0
    copy = tmp_path / "before-upgrade.db"
    backup = bare_cli("--db", sqlite_url, "store", "backup", str(copy))
    assert backup.code == 0, backup
    assert _revision_of_file(path) == PREVIOUS_HEAD
    assert _revision_of_file(copy) == PREVIOUS_HEAD

    listed = bare_cli("--db", sqlite_url, "jobs", "list", "--json")  # any other command upgrades
    assert listed.code == 0, listed
    assert _revision_of_file(path) == HEAD
    assert _revision_of_file(copy) == PREVIOUS_HEAD
    after = json.loads(bare_cli("--db", f"sqlite:///{copy}", "store", "info", "--json").stdout)
    assert after["schemaVersion"] == PREVIOUS_HEAD
    upgraded = json.loads(bare_cli("--db", sqlite_url, "store", "info", "--json").stdout)
    assert (upgraded["schemaVersion"], upgraded["schemaUpgradePending"]) == (HEAD, False)


def test_info_shows_an_older_postgres_store_as_it_is(pg_url: str, bare_cli: Cli) -> None:
    _older_store(pg_url)
    data = json.loads(bare_cli("--db", pg_url, "store", "info", "--json").stdout)
    assert (data["schemaVersion"], data["schemaUpgradePending"]) == (PREVIOUS_HEAD, True)
    assert bare_cli("--db", pg_url, "store", "check").code == 0
    store = open_store(pg_url, create=False, migrate=False)
    try:
        assert store.revision == PREVIOUS_HEAD
        assert store.db.scalar("SELECT version_num FROM alembic_version") == PREVIOUS_HEAD
    finally:
        store.close()


@pytest.mark.parametrize("command", [["prune"], ["vacuum"]], ids=lambda c: " ".join(c))
def test_prune_and_vacuum_upgrade_an_older_store_first(command: list[str], sqlite_url: str, bare_cli: Cli) -> None:
    """They work with this jobctl's queries, so the store is brought up to date like any command does."""
    _older_store(sqlite_url)
    result = bare_cli("--db", sqlite_url, "store", *command)
    assert result.code == 0, result
    assert _revision_of_file(Path(sqlite_url.removeprefix("sqlite:///"))) == HEAD


def test_a_dry_run_leaves_an_older_store_as_it_is_and_says_it_needs_an_upgrade(
    store_url: str, bare_cli: Cli, tmp_path: Path
) -> None:
    """A dry run writes nothing, and an upgrade cannot be undone: before, ``store prune
    --dry-run`` took a store at 0012 to the head. Now it refuses on one line (exit 1); once the
    store is upgraded, the dry run counts."""
    _older_store(store_url)
    config = tmp_path / "keep-a-day.toml"
    config.write_text("[history]\nkeep_days = 1\n")  # the 0012 store's runs are months old

    result = bare_cli("--db", store_url, "--config", str(config), "store", "prune", "--dry-run")

    one_line_error(result, 1, f"the store is at schema version {PREVIOUS_HEAD}, older than this jobctl's {HEAD}")
    assert "needs an upgrade first; a dry run writes nothing" in result.stderr, result
    assert result.stdout == ""
    assert _revision(store_url) == PREVIOUS_HEAD
    assert bare_cli("--db", store_url, "jobs", "list").code == 0  # upgrades it
    counted = bare_cli("--db", store_url, "--config", str(config), "store", "prune", "--dry-run", "--json")
    assert counted.code == 0, counted
    assert json.loads(counted.stdout)["removed"]["expiredExecutions"] > 0


def _revision(url: str) -> str:
    store = open_store(url, create=False, migrate=False)
    try:
        return store.revision
    finally:
        store.close()


def test_info_has_one_shape_on_both_backends(store_url: str, bare_cli: Cli, tmp_path: Path) -> None:
    open_store(store_url).close()
    config = tmp_path / "one-day.toml"
    config.write_text("[history]\nkeep_days = 1\noutput_keep_days = 1\n")
    data = json.loads(bare_cli("--db", store_url, "store", "info", "--json").stdout)
    assert {"freePages", "incrementalVacuum", "schemaUpgradePending"} <= data.keys()
    if store_url.startswith("sqlite"):
        assert isinstance(data["freePages"], int) and data["incrementalVacuum"] is True
    else:
        assert data["freePages"] is None and data["incrementalVacuum"] is None
    text = bare_cli("--db", store_url, "--config", str(config), "store", "info").stdout
    assert "1 day, 1000 per job, output 1 day, audit 365 days" in text, text


def test_vacuum_says_what_it_did_on_each_backend(store_url: str, bare_cli: Cli) -> None:
    open_store(store_url).close()
    result = bare_cli("--db", store_url, "store", "vacuum")
    assert result.code == 0, result
    if store_url.startswith("sqlite"):
        assert result.stdout.startswith(("nothing to give back: ", "gave back ")), result.stdout
    else:
        assert result.stdout.startswith("vacuumed and analysed: ") and "gave back" not in result.stdout
    assert json.loads(bare_cli("--db", store_url, "store", "vacuum", "--json").stdout)["backend"] in (
        "sqlite",
        "postgresql",
    )


def test_an_export_from_a_missing_sqlite_store_is_an_error(tmp_path: Path, bare_cli: Cli) -> None:
    missing = tmp_path / "typo" / "jobctl.db"
    result = bare_cli("--db", f"sqlite:///{missing}", "executions", "export", "-o", str(tmp_path / "runs.csv"))
    one_line_error(result, 1, f"no store at {missing}")
    assert not missing.parent.exists() and not (tmp_path / "runs.csv").exists()


@pytest.mark.parametrize(
    "command",
    [["jobs", "create", "a", "--every", "1h", "--command", "true"], ["jobs", "list"], ["store", "info"]],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_foreign_file_is_refused_with_the_way_out_the_command_has(
    command: list[str], tmp_path: Path, bare_cli: Cli
) -> None:
    foreign = tmp_path / "other.db"
    sqlite3.connect(foreign).close()
    foreign.write_bytes(b"")  # an empty file: not a store
    result = bare_cli("--db", f"sqlite:///{foreign}", *command)
    one_line_error(result, 1, "is an empty file but is not a jobctl store")
    offers_a_new_store = "or one that does not exist yet to create a new store" in result.stderr
    assert offers_a_new_store == (command[:2] == ["jobs", "create"])  # reading commands create no store
    assert foreign.read_bytes() == b""
