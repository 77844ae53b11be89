"""``jobctl store ...``: retention, size, backups and checks of the store itself (not through --api)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from jobctl.cli import output
from jobctl.cli.context import AppContext

if TYPE_CHECKING:
    from jobctl.service.retention import PruneReport
    from jobctl.store import Store

app = typer.Typer(
    help="Look after the store: prune, info, backup, check, vacuum (not through --api).",
    no_args_is_help=True,
    suggest_commands=False,
)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _store(ctx: typer.Context, command: str, *, migrate: bool = True) -> Store:
    """The existing store (these commands never create one: a mistyped path is an error, not a
    new empty store). ``migrate=False`` for the commands that read it as it is: an older store
    is then left at its version (docs/store-maintenance.md)."""
    app_ctx: AppContext = ctx.obj
    return app_ctx.direct_store(f"jobctl store {command}", create=False, migrate=migrate)


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"  # pragma: no cover


PRUNED = {
    "expiredExecutions": "executions past keep_days",
    "excessExecutions": "executions past keep_per_job",
    "outputs": "runs' output past output_keep_days",
    "auditEntries": "audit entries past audit_keep_days",
    "deliveries": "notification deliveries past keep_days",
}
"""How ``store prune`` names what each pruner removes."""


@app.command("prune")
def prune(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what would be removed.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Remove history past the [history] settings now, and say how much (the daemon's leader
    also does this continuously; pending and running executions are never removed). Ctrl-C
    (or SIGTERM) stops it after the batch under way and says, and records, what it removed
    (exit 130, 143); pressing it again changes nothing, the stop is already under way. A SQLite
    store is checked first (SQLite's quick check): one that fails it is not pruned (exit 1).

    Example: jobctl store prune --dry-run
    """
    from jobctl.cli.stop_request import stop_requested_by_signal
    from jobctl.service.jobs import utcnow
    from jobctl.service.maintenance import prune_now

    app_ctx: AppContext = ctx.obj
    policy = app_ctx.config.retention  # a bad setting is exit 2 before anything else
    # A dry run writes nothing, an upgrade included: it opens the store as it is, and counts only
    # on this jobctl's schema (the pruners' queries need its columns and indexes).
    store = _store(ctx, "prune", migrate=not dry_run)
    if dry_run:
        _refuse_an_older_schema(store)
    # The signals stay ours until the report is out: a second Ctrl-C must not cut it (or the
    # audit entry) off; the prune stops within a batch of the first.
    with stop_requested_by_signal(again=STOPPING) as asked:
        report = prune_now(store, policy, now=utcnow(), dry_run=dry_run, should_stop=asked.is_set)
        if report is None:  # stopped in SQLite's check of the file, before anything else
            output.print_diagnostic("jobctl: interrupted: the prune stopped while it checked the store; nothing "
                                    "was counted or removed")  # fmt: skip
            raise typer.Exit(asked.exit_code())
        exit_code = asked.exit_code() if asked.is_set() else 0
        _print_prune(report, store, exit_code=exit_code, as_json=as_json)
        _exit_if_interrupted(exit_code)


def _refuse_an_older_schema(store: Store) -> None:
    """``store prune --dry-run`` on a store an older jobctl wrote: exit 1, saying it needs an
    upgrade first. Its queries need this jobctl's columns (0016's ``output_pruned``, later
    indexes), and an upgrade cannot be undone, so the dry run neither upgrades nor guesses.

    :raises StoreError:
    """
    from jobctl.errors import StoreError
    from jobctl.store.schema_version import HEAD

    if store.revision != HEAD:
        raise StoreError(
            f"store prune --dry-run: the store is at schema version {store.revision}, older than this jobctl's "
            f"{HEAD}, and needs an upgrade first; a dry run writes nothing, so it does not upgrade it (any other "
            "command but store info, check and backup does: jobctl store prune, or jobctl jobs list)"
        )


STOPPING = "jobctl: stopping after the batch under way; what was removed is reported and recorded"
"""What a second Ctrl-C during ``store prune`` says on a terminal."""


def _print_prune(report: PruneReport, store: Store, *, exit_code: int, as_json: bool) -> None:
    """``store prune``'s report: JSON, or a line per count and note."""
    from jobctl.service.maintenance import pages_kept_in_the_file

    dry_run = report.dry_run
    data = {"dryRun": report.dry_run, "removed": report.removed, "total": report.total,
            "pagesReleased": report.pages_released, "rewritten": report.rewritten, "seconds": round(report.seconds, 3),
            "longestBatchMs": round(report.longest_batch * 1000, 1), "checkpoints": report.checkpoints,
            "daemonLed": report.daemon_led, "interrupted": bool(exit_code)}  # fmt: skip
    if as_json:
        output.print_json(data)
        return
    verb = "would remove" if dry_run else "removed"
    parts = ", ".join(f"{count} {PRUNED.get(name, name)}" for name, count in report.removed.items())
    output.print_line(f"{verb} {report.total} rows ({parts}) in {report.seconds:.1f}s")
    if report.daemon_led:
        output.print_line("a daemon leads on this store: batches were kept short beside its scheduler")
    if report.pages_released:
        how = " by rewriting the file" if report.rewritten else ""
        output.print_line(f"gave {report.pages_released} free pages back to the file system{how}")
    if not dry_run and pages_kept_in_the_file(store):  # else the file silently keeps its size for ever
        output.print_line(
            "the file keeps its size: this store was made without incremental vacuum; run `jobctl store vacuum`"
            " once (docs/sqlite-space.md)"
        )


def _exit_if_interrupted(exit_code: int) -> None:
    """Exit as an interrupted command does (130 for Ctrl-C, 143 for SIGTERM), once the report of
    what was done is out; nothing when ``exit_code`` is 0."""
    if exit_code:
        output.print_diagnostic(
            "jobctl: interrupted: the prune stopped after its last batch; the rest is left for the next prune"
        )
        raise typer.Exit(exit_code)


@app.command("info")
def info(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Show the store's backend, location, size, schema version, rows per table, oldest and
    newest execution, and the retention settings.

    Example: jobctl store info
    """
    from jobctl.service.maintenance import store_info

    app_ctx: AppContext = ctx.obj
    policy = app_ctx.config.retention
    data = store_info(_store(ctx, "info", migrate=False), policy)
    if as_json:
        output.print_json(data)
        return
    fields = [
        ("backend", data["backend"]),
        ("location", data["location"]),
        ("size", _size(data["sizeBytes"])),
        ("schema version", _schema(data)),
        ("oldest execution", output.local_time(data["oldestExecution"]) or "-"),
        ("newest execution", output.local_time(data["newestExecution"]) or "-"),
    ]
    if data["freePages"] is not None:
        fields.append(("free pages", f"{data['freePages']} (incremental vacuum: {_yes(data['incrementalVacuum'])})"))
    kept = data["retention"]
    fields.append(
        ("retention", f"{_days(kept['keepDays'])}, {kept['keepPerJob']} per job, "
                      f"output {_days(kept['outputKeepDays'])}, audit {_days(kept['auditKeepDays'])}")
    )  # fmt: skip
    fields += [(f"rows: {table}", str(count)) for table, count in data["rowCounts"].items()]
    output.print_fields("store", fields)


def _schema(info: dict[str, Any]) -> str:
    if not info["schemaUpgradePending"]:
        return str(info["schemaVersion"])
    from jobctl.store.schema_version import HEAD

    older = (
        f"older than this jobctl's {HEAD}: any command but store info, check, backup and prune --dry-run upgrades it"
    )
    return f"{info['schemaVersion']} ({older})"


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


def _yes(value: Any) -> str:
    return "on" if value else "off"


@app.command("backup")
def backup(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="New file to write the copy to.", metavar="PATH")],
    as_json: JsonFlag = False,
) -> None:
    """Copy a SQLite store to PATH, a new file readable only by you, consistent while the daemon
    runs (the copy is a store: jobctl --db sqlite:///PATH ...), and check the copy with SQLite's
    quick check: a copy that fails it is kept, with a warning and exit 1. On Postgres, prints the
    pg_dump command that writes PATH instead, without connecting.

    Example: jobctl store backup /var/backups/jobctl-$(date +%F).db
    """
    from jobctl.cli.stop_request import ending_on_termination
    from jobctl.service.maintenance import (
        backup_store,
        backup_target,
        postgres_backup_refusal,
        refuse_sqlite_file_beside,
    )
    from jobctl.store.url import SQLITE, parse_store_url

    app_ctx: AppContext = ctx.obj
    # The URL and PATH decide before the store opens: a Postgres store is not even connected to.
    url = parse_store_url(app_ctx.direct_store_url("jobctl store backup"))
    target = backup_target(path)
    if url.backend != SQLITE:
        raise postgres_backup_refusal(url, target)
    if url.sqlite_path is not None:
        refuse_sqlite_file_beside(url.sqlite_path, target)
    with ending_on_termination():  # SIGTERM or SIGHUP remove the partial copy, as Ctrl-C does
        data = backup_store(_store(ctx, "backup", migrate=False), target)
    if as_json:
        output.print_json(data)
    else:
        output.print_line(f"backed up to {data['path']} ({_size(data['sizeBytes'])})")
    problems = data["quickCheck"]
    if problems == "ok":
        return
    # The pages are copied as they are: the store has the same damage. Under --json the JSON's
    # quickCheck says it, and stderr does not say it again (as store check --json keeps its problems).
    if not as_json:
        first = f"{problems[0]}" + (f", and {len(problems) - 1} more" if len(problems) > 1 else "")
        output.warn(f"the copy {data['path']} (and so the store) fails SQLite's quick check ({first}); "
                    "run jobctl store check")  # fmt: skip
    raise typer.Exit(1)


@app.command("check")
def check(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Check the store: SQLite's integrity check and jobctl's invariants (one execution per slot,
    no active execution without a live instance); exit 1 when anything is wrong.

    Example: jobctl store check
    """
    from jobctl.service.jobs import utcnow
    from jobctl.service.maintenance import check_store

    app_ctx: AppContext = ctx.obj
    lease_ttl_seconds = app_ctx.config.lease_ttl_seconds
    data = check_store(_store(ctx, "check", migrate=False), now=utcnow(), lease_ttl_seconds=lease_ttl_seconds)
    if as_json:
        output.print_json(data)
    elif data["ok"]:
        output.print_line("ok: integrity and invariants hold")
    else:
        for problem in data["problems"]:
            output.print_line(f"{problem['check']}: {problem['detail']}")
    if not data["ok"]:
        raise typer.Exit(1)


@app.command("vacuum")
def vacuum(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Compact the store and say how much space it gave back (SQLite: rewrites the file, and
    switches an older store to incremental vacuum; Postgres: VACUUM ANALYZE). Ctrl-C (or
    SIGTERM) stops it at once (exit 130, 143): on SQLite the rewrite is rolled back and the store
    is as it was; on Postgres the VACUUM under way is cancelled on the server.

    Example: jobctl store vacuum
    """
    from jobctl.cli.stop_request import stop_requested_by_signal
    from jobctl.service.maintenance import vacuum_store

    store = _store(ctx, "vacuum")
    sqlite = store.db.is_sqlite
    with stop_requested_by_signal() as asked:
        data = vacuum_store(store, should_stop=asked.is_set, on_wait=_say_vacuum_waits)
        if data is None:
            stopped = "the vacuum was stopped before it was done"
            output.print_diagnostic(f"jobctl: interrupted: {stopped}; {_as_left(sqlite)}")
            raise typer.Exit(asked.exit_code())
        _print_vacuum(data, as_json=as_json)
        if asked.is_set():  # it came once the work was done (SQLite: its last step, in C, cannot be stopped)
            output.print_diagnostic(f"jobctl: interrupted: {_done_when_stopped(data)}")
            raise typer.Exit(asked.exit_code())
        if data["logCopied"] is False:
            output.warn(
                "the store was rewritten, but its write-ahead log could not be copied into the file: another "
                f"connection kept a read transaction open (or wrote) for the {_log_wait()} it waited. The file "
                f"shrinks to {_size(data['sizeOnceLogCopiedBytes'])} at the next checkpoint after that connection is "
                "done: run jobctl store vacuum again then (a daemon's writes also make one)"
            )


def _as_left(sqlite: bool) -> str:
    """What an interrupted vacuum left."""
    if sqlite:
        return "the store is as it was"
    return ("Postgres cancelled the VACUUM under way, and the tables it had not done keep their dead rows "
            "for the next vacuum (or autovacuum)")  # fmt: skip


def _done_when_stopped(data: dict[str, Any]) -> str:
    """What a vacuum that a stop reached only once its work was done did."""
    if data["backend"] == "postgresql":
        return "every table had been vacuumed when the stop came"
    rest = "" if data["logCopied"] else (
        ", but its write-ahead log was not copied into the file yet: the file shrinks at the next "
        "checkpoint (run jobctl store vacuum again)"
    )  # fmt: skip
    return f"the store had been rewritten when the stop came{rest}"


def _log_wait() -> str:
    """How long ``store vacuum`` waits to copy the log into the file, as its messages say it."""
    from jobctl.store.maintenance import LOG_COPY_WAIT_SECONDS

    return f"{LOG_COPY_WAIT_SECONDS:g} s"


def _say_vacuum_waits() -> None:
    output.note(f"waiting (up to {_log_wait()}) for another connection to the store to end its read or write...")


def _print_vacuum(data: dict[str, Any], *, as_json: bool) -> None:
    """``store vacuum``'s result: JSON, or one line."""
    if as_json:
        output.print_json(data)
        return
    sizes = f"{_size(data['sizeBeforeBytes'])} -> {_size(data['sizeAfterBytes'])}"
    if data["backend"] == "postgresql":
        # VACUUM marks dead rows' space reusable inside the tables; only VACUUM FULL would shrink
        # the files, and it locks each table while it rewrites it.
        output.print_line(f"vacuumed and analysed: {sizes} (Postgres keeps freed space in the tables for reuse)")
    elif not data["logCopied"]:  # the rewritten pages are in the log until it is copied into the file
        once = _size(data["sizeOnceLogCopiedBytes"])
        output.print_line(f"rewrote the file: {sizes} for now, {once} once its write-ahead log is copied into it")
    elif data["freedBytes"]:
        log = data["logFreedBytes"] or 0
        of_which = ""
        if log:
            part = "all of it" if log == data["freedBytes"] else f"{_size(log)} of it"
            of_which = f" ({part} the write-ahead log, emptied; a running daemon fills it again)"
        output.print_line(f"gave back {_size(data['freedBytes'])}: {sizes}{of_which}")
    else:
        output.print_line(f"nothing to give back: {sizes}")
