"""What every command needs: the settings, and one service (local store or remote API).

Built lazily, so ``jobctl --help`` opens no store, and a command opens the store once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobctl.config import Config, exposure_warning, load_config
from jobctl.errors import UsageError

if TYPE_CHECKING:
    from jobctl.service.contract import JobService
    from jobctl.store import Store


@dataclass(kw_only=True)
class AppContext:
    """Global options of the command line, resolved on first use."""

    db_option: str | None = None
    api_option: str | None = None
    token_option: str | None = None
    config_option: str | None = None
    debug: bool = False
    warnings_to_log: bool = False
    """Set by ``jobctl daemon``: config warnings go to its log (text or JSON), not straight to stderr."""
    store_threads: bool = False
    """Set by ``jobctl daemon`` and ``jobctl run`` before the store opens: they use it from several
    threads at once, so a Postgres store gets a pool of connections. Every other command uses it
    from one thread and gets one connection, opened when first needed, without the pool's import
    and its second connection (docs/cli-start-up.md)."""
    _config: Config | None = None
    _store: Store | None = None
    _service: JobService | None = None
    _closers: list[Any] = field(default_factory=list)

    @property
    def config(self) -> Config:
        """The config, loaded once per invocation; a secret others can read is warned about then."""
        if self._config is None:
            self._config = load_config(self.config_option)
            warning = exposure_warning(self._config)
            if warning and not self.warnings_to_log:
                from jobctl.cli.output import warn

                warn(warning)
        return self._config

    # -- mode -----------------------------------------------------------------------------

    def api_url(self) -> str | None:
        """The daemon's URL when commands go through the API: ``--api``, ``$JOBCTL_API_URL``, ``[client]``.

        ``--db`` (or ``$JOBCTL_DB``) wins over the config's ``[client]`` so a local store can always be named.
        """
        if self.api_option:
            return self.api_option
        if self.db_option:
            return None
        from_env = os.environ.get("JOBCTL_API_URL")
        if from_env:
            return from_env
        if os.environ.get("JOBCTL_DB"):
            return None
        return self.config.api_url

    def api_token(self) -> str | None:
        return self.token_option or os.environ.get("JOBCTL_TOKEN") or self.config.token

    def store_url(self) -> str:
        """``--db``, ``$JOBCTL_DB``, ``[store] url``, else the default SQLite file."""
        explicit = self.db_option or os.environ.get("JOBCTL_DB") or self.config.store_url
        if explicit:
            return explicit
        from jobctl.store.url import default_sqlite_path

        return f"sqlite:///{default_sqlite_path()}"

    def check_not_both(self) -> None:
        if self.db_option and self.api_option:
            raise UsageError("give either --db or --api, not both")

    # -- building -------------------------------------------------------------------------

    def direct_store(self, command: str, *, create: bool = True, migrate: bool = True) -> Store:
        """The store, for ``command`` that works only on it (``token ...``, ``task-functions sync``, ``daemon``).

        Such a command uses the store named by ``--db``, ``$JOBCTL_DB`` or ``[store] url``, even when
        ``$JOBCTL_API_URL`` or ``[client] api_url`` sends the other commands to an API (one config
        can serve both); with neither a store named nor ``--api``, the default SQLite file.

        :raises UsageError: with ``--api``, or when an API applies and no store is named (the
            default file is then most likely not the store the user means).
        """
        self.direct_store_url(command)
        return self.store(create=create, migrate=migrate)

    def direct_store_url(self, command: str) -> str:
        """The URL of the store :meth:`direct_store` would open, without opening it.

        The config is loaded first, whether or not a setting of it is needed: a broken config
        file is exit 2 with its one line here as for every other command (``store backup`` and
        ``store vacuum`` given ``--db`` read no setting, and ran on as if it were sound).

        :raises UsageError: as :meth:`direct_store`, and for a config file that does not load.
        """
        self.config  # noqa: B018 - loaded for its errors
        self.check_not_both()
        if self.api_option:
            raise UsageError(f"'{command}' works on the store, not through the API: run it without --api")
        if self.api_url() and not self._store_named():
            source = "$JOBCTL_API_URL" if os.environ.get("JOBCTL_API_URL") else "[client] api_url"
            raise UsageError(
                f"'{command}' works on the store, and {source} points at an API: name the store with --db URL"
            )
        return self.store_url()

    def _store_named(self) -> bool:
        return bool(self.db_option or os.environ.get("JOBCTL_DB") or self.config.store_url)

    def store(self, *, create: bool = True, migrate: bool = True) -> Store:
        """The local store, wherever it is (see :meth:`direct_store` for commands that work only on it).

        ``create``, ``migrate``: as :func:`jobctl.store.open_store` takes them, for the first open.
        """
        if self._store is None:
            from jobctl.store import open_store

            self._store = open_store(
                self.store_url(), one_connection=not self.store_threads, create=create, migrate=migrate
            )
            self._closers.append(self._store)
            self._tell_of_upgrade(self._store)
        return self._store

    def _tell_of_upgrade(self, store: Store) -> None:
        """One line on stderr when this command upgraded the store: the other hosts' daemons of an
        earlier release can no longer start on it, and nothing else would say why (the daemon
        logs the same line instead: ``warnings_to_log``)."""
        if store.upgraded_from is None or self.warnings_to_log:
            return
        from jobctl.cli.output import print_diagnostic
        from jobctl.store.schema_version import upgrade_notice

        print_diagnostic(f"jobctl: {upgrade_notice(store.upgraded_from, store.revision)}")

    def service(self, *, reads_only: bool = False) -> JobService:
        """The scheduler's operations: a :class:`~jobctl.service.Service` or the remote client.

        ``reads_only``: the command only reads (a listing, ``show``, ``why``). A store named by
        ``--db``, ``$JOBCTL_DB`` or ``[store] url`` must then exist already: a mistyped path
        would otherwise become a new empty store, and the listing of it would say "0 jobs" as if
        every job were gone. The default file is still created on first use, whatever the command.

        The config is loaded in either mode, before anything else: a config that does not load is
        exit 2 with its one line for every command. With ``--api`` and ``--token`` a command may
        need no setting of it, and ``jobs list`` and a dozen others then ran on as if a missing
        ``--config`` file or one that is not TOML were sound, while ``executions list``, which
        reads ``[scheduler] timezone``, refused it.
        """
        if self._service is None:
            self.check_not_both()
            self.config  # noqa: B018 - loaded for its errors
            url = self.api_url()
            self._service = self._remote_service(url) if url else self._local_service(reads_only=reads_only)
        return self._service

    def _remote_service(self, url: str) -> JobService:
        from jobctl.client import RemoteService

        remote = RemoteService(url, token=self.api_token())
        self._closers.append(remote)
        return remote

    def _local_service(self, *, reads_only: bool) -> JobService:
        from jobctl.models import Caller, Role
        from jobctl.service import Service
        from jobctl.service.audit import local_actor
        from jobctl.service.settings import ServiceSettings

        caller = Caller(user_id=local_actor(), role=Role.ADMIN)
        settings = ServiceSettings.of(self.config)  # a config error (exit 2) before any store error
        store = self.store(create=not (reads_only and self._store_named()))
        return Service.configured(store, caller, settings)

    def is_remote(self) -> bool:
        return bool(self.api_url())

    def close(self) -> None:
        for closer in reversed(self._closers):
            closer.close()
        self._closers.clear()
