"""A run builds only the command it was given (typer reads every command function's signature
when it builds one), and the CLI it builds is the same one ``--help`` describes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer.main

from jobctl.cli.main import COMMANDS, build_app, command_named, subcommand_named
from jobctl.store import open_store

PROBE = """
import sys
from jobctl.cli.main import run
try:
    run({argv!r})
except SystemExit as exit:
    print("EXIT", exit.code)
loaded = [name for name in sys.modules if name.startswith("jobctl.cli.")]
print("MODULES", sorted(name for name in loaded if name.endswith(("_cmds", "_cmd"))))
"""


def probe(argv: list[str]) -> tuple[int, list[str], str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=60)
    exit_line = next(line for line in result.stdout.splitlines() if line.startswith("EXIT"))
    modules = eval(result.stdout.rsplit("MODULES", 1)[1])
    return int(exit_line.split()[1]), modules, result.stdout + result.stderr


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["jobs", "list"], "jobs"),
        (["--db", "sqlite:///x.db", "executions", "list"], "executions"),
        (["--db=sqlite:///x.db", "--debug", "store", "info"], "store"),
        (["--api", "http://h", "--token", "t", "run", "backup"], "run"),
        (["--config", "c.toml", "export"], "export"),
        (["--help"], None),
        (["--version"], None),
        ([], None),
        (["frobnicate"], None),
        (["--db"], None),
        (["--unknown", "jobs", "list"], None),
    ],
)
def test_the_command_is_found_past_the_global_options(argv: list[str], expected: str | None) -> None:
    assert command_named(argv) == expected


def test_a_run_imports_only_its_own_command_module(sqlite_url: str) -> None:
    open_store(sqlite_url).close()
    code, modules, out = probe(["--db", sqlite_url, "jobs", "list", "--json"])
    assert code == 0, out
    assert modules == ["jobctl.cli.jobs_cmds"], out


def test_help_and_an_unknown_command_build_every_command(sqlite_url: str) -> None:
    code, modules, out = probe(["--db", sqlite_url, "--help"])
    assert code == 0 and "store" in out and "executions" in out
    assert {"jobctl.cli.jobs_cmds", "jobctl.cli.store_cmds", "jobctl.cli.daemon_cmd", "jobctl.cli.run_cmd"} <= set(
        modules
    )
    code, _, out = probe(["--db", sqlite_url, "frobnicate"])
    assert code == 2 and "No such command 'frobnicate'" in out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_alone_is_the_command_of_the_whole_cli(name: str) -> None:
    whole = typer.main.get_command(build_app())
    alone = typer.main.get_command(build_app(name))
    assert isinstance(whole, typer.core.TyperGroup) and isinstance(alone, typer.core.TyperGroup)
    assert name in alone.commands
    ctx = typer.Context(whole)
    assert alone.commands[name].get_help(ctx) == whole.commands[name].get_help(ctx)


def _groups() -> list[tuple[str, str]]:
    """Every (group, subcommand) pair of the whole CLI."""
    whole = typer.main.get_command(build_app())
    assert isinstance(whole, typer.core.TyperGroup)
    return [
        (name, sub)
        for name, command in sorted(whole.commands.items())
        if isinstance(command, typer.core.TyperGroup)
        for sub in sorted(command.commands)
    ]


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["jobs", "list"], "list"),
        (["--db", "sqlite:///x.db", "executions", "show", "abc"], "show"),
        (["jobs", "--help"], None),
        (["jobs"], None),
        (["--help"], None),
        (["frobnicate", "list"], None),
    ],
)
def test_the_subcommand_is_the_word_after_the_command(argv: list[str], expected: str | None) -> None:
    assert subcommand_named(argv) == expected


@pytest.mark.parametrize(("group", "sub"), _groups(), ids=lambda value: str(value))
def test_each_subcommand_alone_is_the_subcommand_of_the_whole_cli(group: str, sub: str) -> None:
    whole = typer.main.get_command(build_app())
    alone = typer.main.get_command(build_app(group, sub))
    assert isinstance(whole, typer.core.TyperGroup) and isinstance(alone, typer.core.TyperGroup)
    whole_group, alone_group = whole.commands[group], alone.commands[group]
    assert isinstance(whole_group, typer.core.TyperGroup) and isinstance(alone_group, typer.core.TyperGroup)
    assert list(alone_group.commands) == [sub], "only the subcommand given is built"
    ctx = typer.Context(whole_group)
    assert alone_group.commands[sub].get_help(ctx) == whole_group.commands[sub].get_help(ctx)


def test_a_mistyped_subcommand_builds_the_whole_group_and_is_suggested_once(sqlite_url: str) -> None:
    code, _, out = probe(["--db", sqlite_url, "jobs", "lst"])
    assert code == 2, out
    assert "No such command 'lst'" in out and out.count("Did you mean") == 1 and "'list'" in out, out
