"""The documentation matches the code: commands, config keys, exit codes, completions, start-up."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer

from jobctl.cli.main import EXIT_CODES, app
from jobctl.config import CONCURRENCY_GROUP_KEYS, KEYS, TASK_FUNCTION_KEYS, Config, load_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def all_commands() -> list[tuple[str, Any]]:
    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            found += [(f"{name} {sub}", child) for sub, child in command.commands.items()]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize("path,command", all_commands(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_command_is_in_the_readme_and_has_an_example(path: str, command: Any) -> None:
    assert f"jobctl {path}" in README
    assert "Example" in (command.help or ""), f"jobctl {path} --help has no example"


COMMENTED_SETTING = re.compile(r"^# ?((?:[a-z_]+ = .+)|(?:\[\[?[a-z_]+\]\]?.*))$")
"""A commented key line (``# key = value``) or table header (``# [[task_functions]]``) of the example."""


def uncommented(text: str) -> str:
    """The example config with every commented key line and table header made live."""
    return "\n".join(match.group(1) if (match := COMMENTED_SETTING.match(line)) else line for line in text.splitlines())


def test_example_config_documents_every_key_and_each_line_is_valid_uncommented(tmp_path: Path) -> None:
    """Every commented setting of jobctl.example.toml, uncommented, goes through the real loader."""
    path = tmp_path / "jobctl.toml"
    path.write_text(uncommented((ROOT / "jobctl.example.toml").read_text()))
    config = load_config(str(path))
    data = tomllib.loads(path.read_text())
    for table, keys in KEYS.items():
        assert table in data, f"[{table}] missing"
        assert set(keys) == set(data[table]), f"[{table}] keys differ"
    assert set(TASK_FUNCTION_KEYS) == set(data["task_functions"][0])
    assert set(CONCURRENCY_GROUP_KEYS) == set(data["concurrency_groups"][0])
    assert config.concurrency_groups, "the uncommenting missed the groups"
    assert config.api_url is not None and config.task_functions, "the uncommenting missed lines"


def test_example_config_as_shipped_sets_nothing_that_changes_behaviour() -> None:
    """Copied as it is, the example neither sends commands to a daemon ([client]) nor makes the
    daemon load Celery: it loads with every default."""
    config = load_config(str(ROOT / "jobctl.example.toml"))
    assert config == Config(path=ROOT / "jobctl.example.toml")


def test_readme_exit_code_table_matches_the_code() -> None:
    table = dict(re.findall(r"^\| (\d) \| (.+?) \|$", README, flags=re.MULTILINE))
    assert {int(code): text for code, text in table.items()} == EXIT_CODES


def test_readme_config_table_names_every_table() -> None:
    for table in KEYS:
        assert f"[{table}]" in README
    assert "`[[concurrency_groups]]`" in README and "`limit`" in README


def test_completions_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-completions"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


HEAVY = ("sqlalchemy", "alembic", "httpx", "uvicorn", "fastapi", "pydantic", "rich", "croniter", "psycopg")
PROBE = """
import sys
from jobctl.cli.main import run
try:
    run({argv!r})
except SystemExit:
    pass
print("LOADED", sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r})))
"""


@pytest.mark.parametrize(
    "argv,allowed",
    [
        (["--help"], set()),
        (["jobs", "list", "--json"], set()),
        (["jobs", "list"], {"rich"}),
        (["cron", "explain", "0 9 * * 1-5", "--json"], {"croniter"}),
        (["cron", "explain", "0 9 * * 1-5"], {"croniter"}),
    ],
    ids=["help", "jobs-list-json", "jobs-list-table", "cron-explain-json", "cron-explain"],
)
def test_start_up_imports_no_heavy_module(argv: list[str], allowed: set[str], sqlite_url: str) -> None:
    from jobctl.store import open_store

    open_store(sqlite_url).close()
    code = PROBE.format(argv=["--db", sqlite_url, *argv], heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = eval(result.stdout.rsplit("LOADED", 1)[1])
    assert set(loaded) <= allowed, f"{argv} imported {loaded}"


def test_remote_start_up_skips_httpx_command_line_program() -> None:
    """Remote mode loads httpx, but not the command-line program httpx's package would import
    (click's and rich's help rendering, pygments): about 45 ms of every `--api` command."""
    code = PROBE.format(argv=["--api", "http://127.0.0.1:9", "jobs", "list", "--json"], heavy=(*HEAVY, "pygments"))
    code += "print('HTTPX_MAIN', sys.modules.get('httpx._main', 'absent'))\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    loaded = eval(result.stdout.split("LOADED", 1)[1].splitlines()[0])
    assert "httpx" in loaded, result.stdout + result.stderr  # the remote client really ran
    assert set(loaded) <= {"httpx"}, f"remote jobs list imported {loaded}"
    assert "HTTPX_MAIN None" in result.stdout


RELOADED_ON_SIGHUP = (
    "task functions",
    "concurrency groups",
    "notifiers",
    "[history]",
    "[metrics] public",
    "shutdown grace",
)
"""What a daemon re-reads on SIGHUP (``Daemon._reload``), as the README's SIGHUP paragraph says."""


def _flat(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def test_each_place_that_offers_systemctl_reload_names_what_it_re_reads() -> None:
    """The systemd section and the unit's comment offered ``systemctl reload`` "for task
    functions" alone, while SIGHUP re-reads [history], the notifiers and more."""
    sighup = README.split("SIGHUP re-reads the config", 1)[1].split("\n\n", 1)[0]
    systemd = README.split("## Running as a system service", 1)[1].split("\n## ", 1)[0]
    unit = (ROOT / "contrib" / "jobctl.service").read_text()
    unit_comments = "\n".join(line.lstrip("# ") for line in unit.splitlines() if line.startswith("#"))
    for where, text in (("README SIGHUP", sighup), ("README systemd", systemd), ("jobctl.service", unit_comments)):
        missing = [item for item in RELOADED_ON_SIGHUP if item not in _flat(text)]
        assert not missing, f"{where} does not name {missing}"


def test_the_retention_docs_say_history_is_read_from_each_hosts_config() -> None:
    """``store info`` and ``store prune`` use the invoking host's [history], the leader its own."""
    history = README.split("- History is bounded", 1)[1].split("\n- ", 1)[0]
    retention = (ROOT / "docs" / "retention.md").read_text()
    for where, text in (("README", history), ("docs/retention.md", retention)):
        flat = _flat(text).lower()
        assert "each host's own config" in flat or "config of the host" in flat, where
        assert "keep [history] the same on every host" in flat, where
