"""The ``jobctl`` entry point: global options, command groups, and the one error funnel.

Every error reaches :func:`run`, which prints one line on stderr and exits with the code its
class names (see ``jobctl/errors.py``); ``--debug`` or ``JOBCTL_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import copy
import os
import sys
import traceback
from collections.abc import Callable
from importlib import import_module
from typing import Annotated, Any, Optional

import typer

from jobctl import __version__
from jobctl.cli.context import AppContext
from jobctl.errors import JobctlError, OutputUnwritable, UsageError

EXIT_CODES = {
    0: "success",
    1: "error (store unusable, run failed, internal error)",
    2: (
        "usage or validation error (a malformed store URL included: bad port, unknown scheme, no database, "
        "a parameter the Postgres driver refuses; an empty `--db`, `--api` or `--config`), "
        "or an output that cannot be written (`-o FILE`, stdout)"
    ),
    3: (
        "not found (the job, run, token or notifier a command is about; an unknown name in a job's settings, "
        "such as `--task NAME`, is bad input: 2)"
    ),
    4: (
        "conflict (disabled job, maxInstances reached, duplicate name, system job, delete of a job with active runs, "
        "cancel of a run that already ended)"
    ),
    5: "not authorised, or the API cannot be reached (refused, timed out, or no jobctl API at the `--api` URL)",
}
"""The documented exit codes; ``jobctl run`` also exits with the job's own code, 128 + N when
signal N killed it, 124 on timeout, 130, 143 or 129 when Ctrl-C, SIGTERM or SIGHUP cancelled the
run; ``jobctl daemon`` exits
78 when it refuses a store it can never use as configured, a newer one or one that is no jobctl
store (:data:`jobctl.errors.EXIT_STORE_UNUSABLE`)."""


def _version(value: bool) -> None:
    if value:
        print(f"jobctl {__version__}")
        raise typer.Exit()


def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Store URL (sqlite:///PATH or postgresql+psycopg://...).", metavar="URL"),
    ] = None,
    api: Annotated[
        str | None, typer.Option("--api", help="Go through the daemon's REST API at URL.", metavar="URL")
    ] = None,
    token: Annotated[Optional[str], typer.Option("--token", help="Bearer token for --api.", metavar="T")] = None,  # noqa: UP045
    config: Annotated[Optional[str], typer.Option("--config", help="Config file (TOML).", metavar="PATH")] = None,  # noqa: UP045
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Global options; the store or API is opened only when a command needs it."""
    for option, value in (("--db", db), ("--api", api), ("--config", config)):
        if value is not None and not value.strip():
            # `jobctl --api "$API_URL" ...` with the variable unset: not the local default store
            raise UsageError(f"{option}: empty value; give a URL or path, or leave the option out")
    ctx.obj = AppContext(db_option=db, api_option=api, token_option=token, config_option=config, debug=debug)
    ctx.call_on_close(ctx.obj.close)


Register = Callable[[typer.Typer, "str | None"], None]
"""Adds a top-level command to the CLI; a group only its subcommand named second, when given."""


def _group(module: str, name: str) -> Register:
    def register(cli: typer.Typer, subcommand: str | None = None) -> None:
        cli.add_typer(_narrowed(import_module(f"jobctl.cli.{module}").app, subcommand), name=name)

    return register


def _narrowed(group: typer.Typer, subcommand: str | None) -> typer.Typer:
    """``group`` with its command ``subcommand`` alone when it has one by that name, else whole
    (a nested group, a typo: click then lists or suggests the commands there are)."""
    if subcommand is None:
        return group
    chosen = [info for info in group.registered_commands if _command_name(info) == subcommand]
    if len(chosen) != 1:
        return group
    narrowed = copy.copy(group)
    narrowed.registered_commands = chosen
    narrowed.registered_groups = []
    return narrowed


def _command_name(info: Any) -> str | None:
    """The name typer gives a registered command: its own, else its function's with ``-`` for ``_``."""
    if info.name:
        return str(info.name)
    callback = info.callback
    return callback.__name__.lower().replace("_", "-") if callback is not None else None


def _command(module: str, function: str, name: str) -> Register:
    def register(cli: typer.Typer, subcommand: str | None = None) -> None:
        cli.command(name)(getattr(import_module(f"jobctl.cli.{module}"), function))

    return register


def _registered_by(module: str) -> Register:
    def register(cli: typer.Typer, subcommand: str | None = None) -> None:
        import_module(f"jobctl.cli.{module}").register(cli)

    return register


_JOBFILES = _registered_by("jobfile_cmds")
COMMANDS: dict[str, Register] = {
    "jobs": _group("jobs_cmds", "jobs"),
    "executions": _group("executions_cmds", "executions"),
    "task-functions": _group("catalog_cmds", "task-functions"),
    "token": _group("token_cmds", "token"),
    "cron": _group("cron_cmds", "cron"),
    "import": _group("import_cmds", "import"),
    "notifications": _group("notifications_cmds", "notifications"),
    "store": _group("store_cmds", "store"),
    "job-types": _command("catalog_cmds", "job_types", "job-types"),
    "status": _command("status_cmds", "status", "status"),
    "top": _command("top_cmd", "top", "top"),
    "audit": _command("audit_cmds", "audit", "audit"),
    "daemon": _registered_by("daemon_cmd"),
    "run": _registered_by("run_cmd"),
    "apply": _JOBFILES,
    "export": _JOBFILES,
}
"""Each top-level command and what adds it to the CLI, in the order ``--help`` lists them."""

GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--db", "--api", "--token", "--config"})


def build_app(command: str | None = None, subcommand: str | None = None) -> typer.Typer:
    """The CLI with every command, or with ``command`` alone when it names one (of a group, with
    its ``subcommand`` alone when it names one).

    Typer turns every command function into a click command (their signatures and annotations
    read) each time the CLI starts: 34 ms for all of jobctl's, 12 ms for the ``jobs`` group
    alone, plus the import of every command module. A run needs only the command it was given.
    """
    cli = typer.Typer(
        name="jobctl",
        help="Schedule, run and inspect jobs: a cron replacement with history and a REST API.",
        no_args_is_help=True,
        suggest_commands=False,  # click's "No such command" suggests already (typer's would repeat it)
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    cli.callback()(main)
    if command in COMMANDS:
        COMMANDS[command](cli, subcommand)
        return cli
    for register in dict.fromkeys(COMMANDS.values()):  # apply and export share one
        register(cli, None)
    return cli


def command_named(argv: list[str]) -> str | None:
    """The top-level command ``argv`` names, past the global options; None when there is none
    (``jobctl --help``) or it cannot be told for sure (then every command is built)."""
    at = _command_index(argv)
    return argv[at] if at is not None else None


def subcommand_named(argv: list[str]) -> str | None:
    """The word after the top-level command (``list`` in ``jobctl --db URL jobs list``); None
    when there is no command or the next word is an option (``jobs --help``)."""
    at = _command_index(argv)
    if at is None or at + 1 >= len(argv) or argv[at + 1].startswith("-"):
        return None
    return argv[at + 1]


def _command_index(argv: list[str]) -> int | None:
    skip = False
    for at, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg in GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif arg.startswith("-"):
            if arg.split("=", 1)[0] not in GLOBAL_OPTIONS_WITH_VALUE and arg != "--debug":
                return None  # --help, --version, or an option only click can judge
        else:
            return at if arg in COMMANDS else None
    return None


def __getattr__(name: str) -> Any:
    """``app``: the CLI with every command (completion scripts, documentation checks)."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


EXIT_READER_LEFT = 128 + 13
"""The exit status when stdout's reader has gone (``jobctl ... | head``): 141, what a shell
reports for ``cat``, ``seq`` or ``grep`` ended by SIGPIPE there, so a script that accepts that of
those commands under ``set -o pipefail`` accepts jobctl's too. Nothing is printed: the reader
left on purpose."""

COMPLETE_VAR = "_JOBCTL_COMPLETE"
"""Set by the shell completion scripts in completions/ when they ask for candidates."""


def completion_script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish), as shipped in completions/."""
    completion = _init_completion()
    script: str = completion.get_completion_script(prog_name="jobctl", complete_var=COMPLETE_VAR, shell=shell)
    return script


def _init_completion() -> Any:
    """Register Typer's shell completion classes (only when completing or generating scripts)."""
    from typer import completion

    completion.completion_init()  # type: ignore[attr-defined]
    return completion


def run(argv: list[str] | None = None) -> None:
    """Run the CLI and turn every error into one line on stderr and an exit code."""
    debug = os.environ.get("JOBCTL_DEBUG") == "1" or "--debug" in (argv or sys.argv)
    completing = COMPLETE_VAR in os.environ
    if completing:
        _init_completion()
    try:
        # In the try: a Ctrl-C while this module loads is "interrupted", exit 130, not a traceback.
        from jobctl.cli.output import escape_what_stdout_cannot_show, write_stdout_whole

        write_stdout_whole()
        escape_what_stdout_cannot_show()
        words = sys.argv[1:] if argv is None else argv
        cli = build_app(None, None) if completing else build_app(command_named(words), subcommand_named(words))
        code = cli(args=argv, prog_name="jobctl", standalone_mode=False)
        sys.stdout.flush()  # here, so that a stdout that cannot take the rest is said as such
    except JobctlError as exc:
        from jobctl.cli.option_terms import cli_message

        _fail(f"jobctl: {cli_message(exc)}", exc.exit_code, debug)
    except (typer.Exit, SystemExit) as exc:
        if _ended_by_a_closed_pipe(exc):
            sys.exit(EXIT_READER_LEFT)
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        _flush_before_exit(debug)
        sys.exit(code if isinstance(code, int) else 1)
    except typer.Abort:
        _fail("jobctl: aborted", 130, debug)
    except KeyboardInterrupt:
        _fail("jobctl: interrupted", 130, debug)
    except BrokenPipeError:  # `jobctl ... | head`: the reader has what it wanted
        _leave_quietly()
    except Exception as error:  # noqa: BLE001 - the funnel: never a bare traceback for a user
        if isinstance(error, _click_exceptions()):
            _report_usage_error(error, debug)
        _fail(f"jobctl: internal error: {type(error).__name__}: {error} (run with --debug for details)", 1, debug)
    sys.exit(code if isinstance(code, int) else 0)


def _leave_quietly() -> None:
    """stdout's reader left: exit 141, saying nothing, with nothing more to flush at exit."""
    from jobctl.cli.output import abandon_stdout

    abandon_stdout()
    sys.exit(EXIT_READER_LEFT)


def _flush_before_exit(debug: bool) -> None:
    """Flush stdout before a command's own exit code ends it: what it printed is written, or its
    reader left (exit 141), or it cannot be written (said, exit 2)."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _leave_quietly()
    except OutputUnwritable as exc:
        _fail(f"jobctl: {exc.message}", exc.exit_code, debug)


def _ended_by_a_closed_pipe(exit_: BaseException) -> bool:
    """Whether click or rich ended the command because stdout's reader left: both turn a
    ``BrokenPipeError`` into ``SystemExit(1)`` while handling it (stdout already pointed at
    /dev/null)."""
    cause = exit_.__context__
    return isinstance(cause, BrokenPipeError)


def _report_usage_error(usage: Any, debug: bool) -> None:
    """A click usage error as one line with a pointer to the help (a bare group shows its help)."""
    if type(usage).__name__ == "NoArgsIsHelpError":
        usage.show()
        sys.exit(usage.exit_code)
    ctx = getattr(usage, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    _fail(f"jobctl: {usage.format_message()}{hint}", usage.exit_code, debug)


def _click_exceptions() -> tuple[type[BaseException], ...]:
    """Usage errors of the click that Typer runs on."""
    from click.exceptions import ClickException

    return (ClickException,)


def _fail(message: str, code: int, debug: bool) -> None:
    """Print ``message`` (control characters escaped, passwords masked; with ``debug`` the
    traceback too) and exit with ``code``. What the command printed before is flushed first; a
    stdout that cannot take it has it dropped, so that the exit does not fail on it again."""
    from jobctl.cli.terminal import printable
    from jobctl.redaction import redact

    try:
        sys.stdout.flush()
    except Exception:  # noqa: BLE001 - its reader left, or it cannot be written: the error says what matters
        from jobctl.cli.output import abandon_stdout

        abandon_stdout()

    if debug:
        sys.stderr.write(redact(traceback.format_exc()))
    sys.stderr.write(printable(redact(message)) + "\n")
    sys.exit(code)
