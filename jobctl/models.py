"""Plain values shared by every layer: enums whose values are the wire strings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any


class JobType(IntEnum):
    """Schedule kinds; the ids are fixed by the API."""

    INTERVAL = 1
    CRON = 2
    DATE = 3


class ExecutionStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    MISSED = "missed"
    """Slots that were due but never ran (no leader, or the misfire policy): one row per range."""
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        """True while the run has not finished."""
        return self in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


class TriggeredBy(StrEnum):
    SCHEDULER = "scheduler"
    MANUAL = "manual"
    RETRY = "retry"


class HandlerType(StrEnum):
    COMMAND = "command"
    PYTHON = "python"
    CELERY_TASK = "celery_task"


class RetryBackoff(StrEnum):
    """How the delay between attempts grows (docs/retry-backoff.md)."""

    FIXED = "fixed"
    EXPONENTIAL = "exponential"


class MisfirePolicy(StrEnum):
    RUN_ONCE = "run_once"
    SKIP = "skip"


class OverlapPolicy(StrEnum):
    """What a slot does when it finds ``maxInstances`` runs of its job active (docs/overlap.md)."""

    SKIP = "skip"
    """Recorded ``skipped`` (cron's behaviour with a lock file, and jobctl's default)."""
    QUEUE = "queue"
    """Waits as ``pending`` (at most ``maxQueued`` slots) and starts when a run ends."""
    REPLACE = "replace"
    """The oldest active run is stopped and recorded ``cancelled``; the slot starts after it."""


class Role(StrEnum):
    """API roles, each allowed everything the ones before it are."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_ORDER.index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_ROLE_ORDER = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]

SHELL_TASK_FUNCTION = "shell"
"""Name of the built-in task function that runs ``taskArgs.command`` with ``/bin/sh -c``."""

DEFAULT_RUN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""``PATH`` of a run unless ``[daemon] path`` says otherwise (systemd's default for services)."""

KILL_GRACE_SECONDS = 5.0
"""Default seconds between SIGTERM and SIGKILL when a run is stopped (``[daemon] kill_grace_seconds``)."""

NAME_MAX = 200
"""The longest job name (and so the longest name filter a listing takes)."""
INT32_MAX = 2**31 - 1
"""The largest page number and task function id a request may give (a signed 32-bit integer)."""
MAX_TIMEOUT_SECONDS = 30 * 24 * 3600
"""The longest timeout of a run (30 days): a job's ``timeoutSeconds`` and a task function's
``default_timeout_seconds``, which stands in for it. Both are 32-bit columns, and a run's
timer waits this long without overflow (docs/config-limits.md)."""
MAX_RETRY_DELAY_SECONDS = 7 * 24 * 3600
"""The longest delay before a retry (a job's ``retryDelaySeconds`` and ``retryMaxDelaySeconds``): a week."""
MAX_CHECK_SECONDS = 12 * MAX_TIMEOUT_SECONDS
"""The longest time a job's checks wait (``startGraceSeconds``, ``maxRuntimeAlertSeconds``,
``expectSuccessWithinSeconds``): 360 days."""
MAX_SECONDS_SETTING = 30 * 24 * 3600
"""The largest ``[daemon] shutdown_grace_seconds`` and ``[scheduler] misfire_grace_seconds`` (30
days): a shutdown may wait as long as a run may last; both become a ``timedelta`` or a thread's
wait, which overflow far above it (docs/config-limits.md)."""
MAX_LEASE_TTL_SECONDS = 24 * 3600
"""The largest ``[daemon] lease_ttl_seconds`` (1 day): a crashed leader is replaced within the TTL,
and fractions of it become Postgres timeouts in milliseconds, which are 32-bit (docs/config-limits.md)."""
MAX_CONCURRENT_RUNS = 10_000
"""The largest ``[daemon] max_concurrent_runs``: each run is a thread and a few file descriptors,
reserved when the daemon starts (docs/config-limits.md)."""
MAX_GROUP_LIMIT = 1_000_000
"""The largest ``[[concurrency_groups]] limit`` ("no limit" in practice across all daemons); it is
stored in a 32-bit column (docs/config-limits.md)."""

CONCURRENCY_GROUP_PATTERN = r"[A-Za-z0-9_.-]{1,200}"
"""What a concurrency group may be called (in the config and in a job's ``concurrencyGroup``)."""

VARIABLE_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
"""What an environment variable handed to a run may be called (what a POSIX shell can expand)."""


# -- records -------------------------------------------------------------------------------
# Frozen values read from the store, choices as enums; :mod:`jobctl.wire.responses` turns them
# into the API's JSON.


@dataclass(frozen=True, kw_only=True)
class TaskFunctionSpec:
    """A task function as the operator declares it (config file or built-in)."""

    name: str
    display_name: str
    description: str | None
    handler_type: str
    handler_path: str
    queue: str | None = None
    default_timeout_seconds: int | None = None
    is_active: bool = True
    is_system: bool = False


@dataclass(frozen=True, kw_only=True)
class TaskFunction:
    id: int
    name: str
    display_name: str
    description: str | None
    handler_type: HandlerType
    handler_path: str
    queue: str | None
    default_timeout_seconds: int | None
    is_active: bool
    is_system: bool
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class JobTypeRecord:
    id: int
    name: str
    display_name: str
    description: str | None


@dataclass(frozen=True, kw_only=True)
class JobSettings:
    """What the user sets on a job: the writable fields of the API's job, in snake_case.

    The one place a new job setting is declared for the store: the store writes and reads
    every field here (a ``dict`` is a JSON column, an enum its value), and the service maps
    the API's camelCase fields onto these names (``docs/adding-a-field.md``).
    """

    name: str
    description: str | None
    task_function_id: int
    job_type_id: int
    schedule_config: dict[str, Any]
    task_args: dict[str, Any] | None
    max_instances: int
    timeout_seconds: int | None
    retry_count: int
    retry_delay_seconds: int
    is_enabled: bool
    is_paused: bool
    misfire_policy: MisfirePolicy
    labels: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] | None = None
    """Variables set for every run of the job, over the daemon's base (docs/run-environment.md)."""
    working_directory: str | None = None
    """Where runs start (absolute); None: ``/`` (docs/run-context.md)."""
    umask: str | None = None
    """Octal umask of runs, e.g. ``"027"``; None: ``022``."""
    nice: int | None = None
    run_as_user: str | None = None
    """User (name or uid) runs switch to; None: ``[daemon] default_run_as``, else the daemon's (docs/run-as.md)."""
    run_as_group: str | None = None
    """Group (name or gid) of runs; None: the user's primary group."""
    stdin: str | None = None
    """Text given to each run on standard input (at most 64 KiB as UTF-8); None: /dev/null."""
    source: str | None = None
    """The jobs file (or other source) ``jobctl apply`` last set the job from; None: made by hand.
    Set only by apply, never by a request body (docs/jobs-files.md)."""
    overlap_policy: OverlapPolicy = OverlapPolicy.SKIP
    """What a slot does when ``max_instances`` runs are active (docs/overlap.md)."""
    max_queued: int = 1
    """With ``queue``: how many slots may wait at once; later ones are skipped."""
    concurrency_group: str | None = None
    """Name of a ``[[concurrency_groups]]`` entry whose limit the job's runs share (docs/concurrency-groups.md)."""
    """Nice value of runs (-20..19; below the daemon's only when it is root); None: the daemon's."""
    notify: list[dict[str, Any]] | None = None
    """Notification rules ``{"notifier", "on", "eachAttempt"}``; None: ``[notify] default`` (docs/notifications.md)."""
    pause_after_failures: int | None = None
    """Pause the job after this many failed or timed-out final outcomes in a row; None: never."""
    start_grace_seconds: int | None = None
    """A scheduled run starting later than this after its slot is a ``late`` event; None: no check."""
    max_runtime_alert_seconds: int | None = None
    """A run still running after this long is a ``long_running`` event (it is not stopped); None: no check."""
    expect_success_within_seconds: int | None = None
    """No success for this long is a ``no_success`` event (the dead-man check); None: no check."""
    retry_backoff: RetryBackoff = RetryBackoff.FIXED
    """``fixed``: every retry ``retry_delay_seconds`` later; ``exponential``: doubling (docs/retry-backoff.md)."""
    retry_max_delay_seconds: int | None = None
    """Cap of an exponential delay; None: the largest retry delay allowed (7 days)."""
    retry_on_exit_codes: list[int] | None = None
    """Retry only failures with one of these exit codes; None or empty: any failure or timeout."""


@dataclass(frozen=True, kw_only=True)
class Job(JobSettings):
    """A stored job: its settings and what the scheduler and the store keep about it."""

    id: str
    next_run_time: datetime | None
    next_slot: datetime | None
    last_run_time: datetime | None
    last_status: ExecutionStatus | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None
    paused_reason: str | None = None
    """Why the job is paused (auto-pause or the pauser's words); None when not paused or none given."""
    paused_by: str | None = None
    paused_at: datetime | None = None
    consecutive_failures: int = 0
    """Failed or timed-out final outcomes since the last success."""
    last_final_status: ExecutionStatus | None = None
    """Status of the last final outcome (no retry followed): what ``recovery`` compares with."""


@dataclass(frozen=True, kw_only=True)
class Execution:
    id: str
    job_id: str
    celery_task_id: str | None
    status: ExecutionStatus
    scheduled_for: datetime | None
    run_after: datetime | None
    attempt: int
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    result: Any
    error_message: str | None
    triggered_by: TriggeredBy
    triggered_by_user_id: str | None
    instance_id: str | None
    created_at: datetime
    output_dropped_bytes: int = 0
    """Bytes of output dropped from the start to keep the last ``OUTPUT_LIMIT_CHARS`` characters."""
    missed_count: int | None = None
    """For a ``missed`` execution: how many slots its range holds (docs/missed-slots.md)."""
    missed_until: datetime | None = None
    """For a ``missed`` execution: the last slot of its range (``scheduled_for`` is the first)."""
    output_pruned: bool = False
    """Retention removed this run's output (``[history] output_keep_days``, docs/retention.md)."""
    cancelled_by: str | None = None
    """Who cancelled the run (a token's name, ``local:USER``), once someone asked (docs/cancelling-runs.md)."""
    pending_reason: str | None = None
    """Why a ``pending`` execution waits ("retry at TIME", "queued behind ID", "group db full")."""
    concurrency_group: str | None = None
    """The group whose limit this run counts against (the job's when the run was created or started)."""


@dataclass(frozen=True, kw_only=True)
class ConcurrencyGroup:
    """A ``[[concurrency_groups]]`` entry: at most ``limit`` runs of its jobs at once, across daemons."""

    name: str
    limit: int


@dataclass(frozen=True, kw_only=True)
class Instance:
    id: str
    hostname: str
    pid: int
    version: str
    started_at: datetime
    last_heartbeat: datetime
    stopped_at: datetime | None

    @property
    def is_foreground(self) -> bool:
        """A ``jobctl run`` running its run itself (no daemon led), not a daemon."""
        return self.version.endswith(FOREGROUND_VERSION_MARK)

    def running_it(self) -> str:
        """Who ran an execution recorded on this instance, as a sentence about it says so:
        ``the daemon running it (web1 pid 4242)``, ``the jobctl run process (web1 pid 4242) running it``."""
        where = f"{self.hostname} pid {self.pid}"
        return (
            f"the jobctl run process ({where}) running it" if self.is_foreground else f"the daemon running it ({where})"
        )


FOREGROUND_VERSION_MARK = "(jobctl run)"
"""What ends the ``version`` a ``jobctl run`` registers with when it runs its run itself."""


HEARTBEATS_PER_LEASE = 5
"""A daemon heartbeats this many times per lease TTL, the leader renewing its lease at each beat
just before: a reader of the store knows from it when the next heartbeat is due."""
MIN_LEASE_TTL_SECONDS = 2.0
"""The shortest ``[daemon] lease_ttl_seconds`` the config accepts (jobctl/config.py checks it)."""


@dataclass(frozen=True, kw_only=True)
class Lease:
    holder_id: str | None
    term: int
    acquired_at: datetime | None
    expires_at: datetime | None
    vacated_at: datetime | None = None
    """When the term before this one ended (its lease expired or was released); None if unknown."""


@dataclass(frozen=True, kw_only=True)
class LeaseTerm:
    """One term of the leader lease as ``lease_terms`` recorded it."""

    term: int
    holder_id: str
    hostname: str
    pid: int
    acquired_at: datetime
    released_at: datetime | None
    """When its holder gave the lease up (a clean stop); None while held, or when the lease ran out."""
    last_heartbeat: datetime | None
    """The holder's last heartbeat, while the store still keeps its instance."""


@dataclass(frozen=True, kw_only=True)
class LeadingDaemon:
    """The daemon that leads the scheduler, as ``isRunning`` of ``GET /status`` sees one: an
    instance that has not stopped holds an unexpired lease. It may still be dead or frozen:
    ``heartbeat_overdue`` says it has missed its heartbeats (docs/leader-heartbeat.md)."""

    hostname: str
    pid: int
    last_heartbeat: datetime
    lease_expires_at: datetime | None
    """When its lease ends unless renewed; None from an older daemon's API, which does not say."""
    heartbeat_overdue: bool


@dataclass(frozen=True, kw_only=True)
class RunningDaemon:
    """The instance a run is recorded on (a daemon, or a ``jobctl run`` running it itself), as
    the store last heard from it; for ``jobctl run`` to say when it has gone silent."""

    hostname: str
    pid: int
    last_heartbeat: datetime
    lease_ttl: timedelta | None
    """Its lease TTL as the store shows it (``expires_at - last_heartbeat``) while it holds the
    lease, expired or not; None when it does not (the store does not know its TTL then)."""


@dataclass(frozen=True, kw_only=True)
class ApiToken:
    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who asks: an API token's name and role, or the local admin on the store."""

    user_id: str | None
    role: Role


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    """One change made through the service: who (``actor``), what (``action``), to what, when."""

    id: int
    at: datetime
    actor: str
    """The API token's name, or ``local:UNIXUSER`` for the CLI on the store."""
    action: str
    """``job.created``, ``job.paused``, ``token.revoked``, ... (docs/audit-log.md)."""
    target_type: str
    target_id: str | None
    target_name: str | None
    reason: str | None
    details: dict[str, Any] | None


class DeliveryStatus(StrEnum):
    """Where a notification stands: waiting (or retrying), delivered, or given up on."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One notification of one event to one notifier (docs/notifications.md)."""

    id: str
    event: str
    job_id: str | None
    job_name: str | None
    execution_id: str | None
    notifier: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    payload: dict[str, Any]
    """The event JSON sent, exactly (the same bytes on every attempt)."""
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


MAX_KEEP_DAYS = 36_500
"""The most days a ``[history]`` setting may keep anything (100 years, "for ever" in practice).
A pruner's cutoff, now minus the days, is a date, and dates begin at the year 1: a few hundred
thousand days back there is none, and the pruner could not run (docs/retention.md)."""
MAX_KEEP_PER_JOB = 1_000_000_000
"""The most runs ``[history] keep_per_job`` may keep of a job ("all of them" in practice): it is
bound as an SQL parameter, and this fits a 32-bit integer, which every backend takes."""


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """How long history is kept (``[history]``); every value is at least 1 and at most
    :data:`MAX_KEEP_DAYS` (days) or :data:`MAX_KEEP_PER_JOB` (runs) (docs/retention.md)."""

    keep_days: int = 90
    """Finished executions older than this many days are deleted."""
    keep_per_job: int = 1000
    """Each job keeps at most its newest this many executions."""
    output_keep_days: int = 30
    """A finished run's output is deleted after this many days; its row says so (``outputPruned``)."""
    audit_keep_days: int = 365
    """Audit log entries older than this many days are deleted."""
