"""What a :class:`~jobctl.service.Service` takes from its process's config, as one value.

The daemon's API builds a service per request. It used to be handed each setting on its own
when the server started, so a SIGHUP reached the scheduler and the sender but not the API: a
notifier added to the config was sent to, yet ``GET /notifiers`` did not list it and a rule
naming it was refused. Now the API asks the daemon for its :class:`ServiceSettings` once per
request, and a reload swaps the daemon's one value for a new one in a single assignment: a
request sees the settings of one config, never part of the old and part of the new
(docs/config-reload.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from jobctl.models import KILL_GRACE_SECONDS, RetentionPolicy
from jobctl.notifier_config import NotifySettings

if TYPE_CHECKING:
    from jobctl.config import Config


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """The config's part in the service's answers."""

    default_timezone: str
    """The zone of cron jobs created without one (``[scheduler] timezone``)."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """The notifiers: ``GET /notifiers``, their test, and the ones a job's rules may name."""
    notify_env: dict[str, str] = field(default_factory=dict)
    """The environment command notifiers start from (the clean run environment)."""
    kill_grace_seconds: float = KILL_GRACE_SECONDS
    """How long a stopped run may take to end: a cancel or a forced delete waits for it."""
    concurrency_groups: frozenset[str] = frozenset()
    """The group names a job's ``concurrencyGroup`` may take."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """``[history]``: what a job's timeline takes as pruned (docs/why.md)."""

    @classmethod
    def of(cls, config: Config) -> ServiceSettings:
        """The settings ``config`` gives a service (the CLI's on the store, a daemon's at start)."""
        from jobctl.executors.environment import base_environment

        return cls(
            default_timezone=config.scheduler_timezone,
            notify=config.notify,
            notify_env=base_environment(path=config.run_path, passed=config.pass_environment),
            kill_grace_seconds=config.kill_grace_seconds,
            concurrency_groups=config.concurrency_group_names,
            retention=config.retention,
        )

    def reloaded(self, config: Config) -> ServiceSettings:
        """These settings with what a SIGHUP re-reads taken from ``config``: the notifiers and
        their rules, the concurrency groups, ``[history]``.

        The rest stays as the daemon started with it, because its scheduler and runner keep it
        until the next start: the zone its schedules are computed in, the kill grace its runs
        are stopped with (a cancel waiting less than that would record a stop its daemon has not
        made yet), the environment its notifier commands get.
        """
        return replace(
            self,
            notify=config.notify,
            concurrency_groups=config.concurrency_group_names,
            retention=config.retention,
        )
