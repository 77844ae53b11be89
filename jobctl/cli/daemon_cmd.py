"""``jobctl daemon``: run the scheduler and the REST API in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from jobctl.cli.context import AppContext
from jobctl.config import Config
from jobctl.errors import StoreUnusable, StoreUnusableForDaemon, UsageError

if TYPE_CHECKING:
    from jobctl.store import Store


def daemon(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default [daemon] host, 127.0.0.1).")
    ] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Port (default [daemon] port, 8000).")] = None,  # noqa: UP045
    log_format: Annotated[
        str | None, typer.Option("--log-format", help="text or json (default [daemon] log_format).")
    ] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="Schedule and run jobs without serving the API.")] = False,
) -> None:
    """Run the scheduler and the REST API in the foreground (logs on stderr; SIGTERM stops, SIGHUP reloads).

    Example: jobctl --db postgresql+psycopg://jobctl@db/jobctl daemon --host 0.0.0.0 --port 8000
    """
    from jobctl.daemon.logs import configure_logging
    from jobctl.daemon.process import Daemon, DaemonSignals, log_config_warnings, log_start_warnings
    from jobctl.daemon.server import bind_listener
    from jobctl.executors.isolation import enter_run_directory

    app_ctx: AppContext = ctx.obj
    app_ctx.warnings_to_log = True
    app_ctx.store_threads = True
    config = app_ctx.config
    chosen_format = log_format or config.log_format
    if chosen_format not in ("text", "json"):
        raise UsageError("--log-format takes text or json")
    _check_default_run_as(config)
    chosen_port = port if port is not None else config.daemon_port
    if not 0 < chosen_port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {chosen_port}")
    # Before the store is even opened: a daemon that cannot serve its address exits having done
    # nothing, with that one line (docs/daemon-start.md).
    listener = None if no_api else bind_listener(host or config.daemon_host, chosen_port)
    configure_logging(chosen_format)
    log_config_warnings(config)
    log_start_warnings(config)
    signals = DaemonSignals.install()
    store = _open_store(app_ctx)
    config_path = _config_file(config)
    enter_run_directory()  # every run starts in /, wherever the daemon was started
    instance = Daemon(store, config, listener=listener, config_path=config_path, signals=signals)
    raise typer.Exit(instance.run())


def _open_store(app_ctx: AppContext) -> Store:
    """The daemon's store, upgraded to this release's schema.

    :raises StoreUnusableForDaemon: (exit 78) when the store can never be used as configured (a
        newer jobctl upgraded it, it is no jobctl store, no regular file, ...): a refusal systemd's
        ``RestartPreventExitStatus=`` stops restarting, where exit 1 was restarted every 2 s
        forever. A store that cannot be reached or is busy stays exit 1: a restart may find it.
    """
    try:
        return app_ctx.direct_store("jobctl daemon")
    except StoreUnusable as exc:
        raise StoreUnusableForDaemon(exc.message) from exc


def _check_default_run_as(config: Config) -> None:
    """``[daemon] default_run_as`` must name a user of this host: checked once at start, so a
    typo stops the daemon with one line instead of failing every run of every job later.

    :raises UsageError: (exit 2)
    """
    from jobctl.executors.context import lookup_user

    name = config.default_run_as
    if name is not None and lookup_user(name) is None:
        where = f"config file {config.path}" if config.path else "config"
        raise UsageError(f"{where}: [daemon] default_run_as names no user of this host: {name!r}")


def _config_file(config: Config) -> str | None:
    """The config file the daemon started from, as an absolute path: SIGHUP re-reads that file
    (after the move to /), whether ``--config``, ``$JOBCTL_CONFIG`` or a default place named it, so
    that a file missing then is a failed reload, never every default (docs/config-reload.md).
    None when it started from no file at all."""
    import os

    return None if config.path is None else os.path.abspath(config.path)


def register(app: typer.Typer) -> None:
    app.command("daemon")(daemon)
