"""Settings from the TOML config file, the environment and the command line.

Loaded on every CLI call, so it uses only the standard library (``tomllib``) and checks each
key by hand against :data:`KEYS`: an unknown or mistyped key is an error, not a silent default.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobctl.config_types import DAYS, SECONDS, Bounds, as_written, repeated_names, type_problem
from jobctl.errors import UsageError
from jobctl.models import (
    CONCURRENCY_GROUP_PATTERN,
    DEFAULT_RUN_PATH,
    KILL_GRACE_SECONDS,
    MAX_CONCURRENT_RUNS,
    MAX_GROUP_LIMIT,
    MAX_KEEP_DAYS,
    MAX_KEEP_PER_JOB,
    MAX_LEASE_TTL_SECONDS,
    MAX_SECONDS_SETTING,
    MAX_TIMEOUT_SECONDS,
    VARIABLE_NAME_PATTERN,
    ConcurrencyGroup,
    HandlerType,
    RetentionPolicy,
    TaskFunctionSpec,
)
from jobctl.notifier_config import NOTIFIER_RANGES, NOTIFY_RANGES, NotifySettings, parse_notifiers, parse_notify
from jobctl.shown import cut, quoted, shown

KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "store": {"url": (str,)},
    "daemon": {
        "host": (str,),
        "port": (int,),
        "log_format": (str,),
        "lease_ttl_seconds": (int, float),
        "shutdown_grace_seconds": (int, float),
        "kill_grace_seconds": (int, float),
        "max_concurrent_runs": (int,),
        "docs": (bool,),
        "path": (str,),
        "pass_environment": (list,),
        "default_run_as": (str,),
        "allowed_run_as": (list,),
    },
    "scheduler": {"timezone": (str,), "misfire_grace_seconds": (int, float)},
    "client": {"api_url": (str,), "token": (str,)},
    "celery": {"broker_url": (str,), "result_backend": (str,)},
    "history": {"keep_days": (int,), "keep_per_job": (int,), "output_keep_days": (int,), "audit_keep_days": (int,)},
    "metrics": {"public": (bool,)},
}
"""Every key of every table and the TOML types it accepts (``task_functions`` and
``concurrency_groups`` are checked apart)."""

HISTORY_RANGES: dict[str, Bounds] = {
    "keep_days": Bounds(least=1, most=MAX_KEEP_DAYS, unit=DAYS),
    "keep_per_job": Bounds(least=1, most=MAX_KEEP_PER_JOB),
    "output_keep_days": Bounds(least=1, most=MAX_KEEP_DAYS, unit=DAYS),
    "audit_keep_days": Bounds(least=1, most=MAX_KEEP_DAYS, unit=DAYS),
}
"""The range of each ``[history]`` key (every key of ``KEYS["history"]`` has one): keeping nothing
is not retention, and the largest keeps for ever in practice (docs/retention.md)."""

CONCURRENCY_GROUP_KEYS: dict[str, tuple[type, ...]] = {"name": (str,), "limit": (int,)}

RANGES: dict[str, dict[str, Bounds]] = {
    "daemon": {
        "port": Bounds(least=1, most=65535),
        "lease_ttl_seconds": Bounds(least=2, most=MAX_LEASE_TTL_SECONDS, unit=SECONDS),
        "shutdown_grace_seconds": Bounds(least=0, most=MAX_SECONDS_SETTING, unit=SECONDS),
        "kill_grace_seconds": Bounds(least=0, most=60, unit=SECONDS),
        "max_concurrent_runs": Bounds(least=1, most=MAX_CONCURRENT_RUNS),
    },
    "scheduler": {"misfire_grace_seconds": Bounds(least=0, most=MAX_SECONDS_SETTING, unit=SECONDS)},
    "history": HISTORY_RANGES,
    "task_functions": {"default_timeout_seconds": Bounds(least=1, most=MAX_TIMEOUT_SECONDS, unit=SECONDS)},
    "concurrency_groups": {"limit": Bounds(least=1, most=MAX_GROUP_LIMIT)},
    "notifiers": NOTIFIER_RANGES,
    "notify": NOTIFY_RANGES,
}
"""The range of every number the config takes, by table (every ``int`` or ``float`` key has one).
Each largest value works wherever the value goes: a ``timedelta``, a thread's wait, an SQL
parameter of a 32-bit column (docs/config-limits.md). Every range check of the config goes
through these, so each error says the range and the value given in the same words."""

TASK_FUNCTION_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "display_name": (str,),
    "description": (str,),
    "handler_type": (str,),
    "handler_path": (str,),
    "queue": (str,),
    "default_timeout_seconds": (int,),
    "is_active": (bool,),
    "is_system": (bool,),
}


@dataclass(frozen=True, kw_only=True)
class Config:
    """Every setting, with its default."""

    path: Path | None = None
    store_url: str | None = None
    daemon_host: str = "127.0.0.1"
    daemon_port: int = 8000
    log_format: str = "text"
    lease_ttl_seconds: float = 15.0
    shutdown_grace_seconds: float = 30.0
    kill_grace_seconds: float = KILL_GRACE_SECONDS
    """Between SIGTERM and SIGKILL when a run is stopped (timeout, cancel, forced delete, shutdown)."""
    max_concurrent_runs: int = 64
    api_docs: bool = False
    """Serve ``/docs`` (Swagger UI, loaded by the browser from a CDN) and a public ``/openapi.json``."""
    run_path: str = DEFAULT_RUN_PATH
    """``[daemon] path``: ``PATH`` of every local run (docs/run-environment.md)."""
    pass_environment: tuple[str, ...] = ()
    default_run_as: str | None = None
    """User of runs whose job names none; None: the daemon's own (docs/run-as.md)."""
    allowed_run_as: tuple[str, ...] | None = None
    """Users runs may switch to (``("*",)``: any); None: any but root unless the default is root."""
    """Variables of the daemon's environment that runs get too (all others are left out)."""
    timezone: str | None = None
    misfire_grace_seconds: float = 1.0
    api_url: str | None = None
    token: str | None = None
    celery_broker_url: str | None = None
    celery_result_backend: str | None = None
    metrics_public: bool = False
    """``[metrics] public``: serve ``GET /metrics`` without a token (docs/metrics.md)."""
    task_functions: tuple[TaskFunctionSpec, ...] = field(default=())
    notify: NotifySettings = field(default_factory=NotifySettings)
    """``[[notifiers]]`` and ``[notify]`` (docs/notifications.md)."""
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    """``[history]``: how long executions, their output and the audit log are kept."""
    concurrency_groups: tuple[ConcurrencyGroup, ...] = field(default=())
    """``[[concurrency_groups]]``: limits shared by the runs of every job naming the group."""

    @property
    def concurrency_group_names(self) -> frozenset[str]:
        return frozenset(group.name for group in self.concurrency_groups)

    @property
    def scheduler_timezone(self) -> str:
        """The zone cron jobs use unless they name one: the config's, else the host's."""
        return self.timezone or host_timezone()


LOCALTIME = "/etc/localtime"
TIMEZONE_FILE = "/etc/timezone"
"""Where the host's zone is set (a link into the zoneinfo tree; the name file on Debian)."""


SYSTEM_CONFIG_PATH = Path("/etc/jobctl/jobctl.toml")
"""The system-wide config: read when neither ``--config``, ``$JOBCTL_CONFIG`` nor a user config
names another, so root's ``jobctl`` and the system service read the same store."""


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("jobctl")) / "jobctl.toml"


def find_config(explicit: str | None = None) -> Path | None:
    """The config file to read: ``explicit`` (``--config``), else ``$JOBCTL_CONFIG``, else the
    user's ``jobctl.toml``, else :data:`SYSTEM_CONFIG_PATH`; None when none of the defaults exists.

    :raises UsageError: when the file named by ``--config`` or ``$JOBCTL_CONFIG`` does not exist.
    """
    chosen = explicit or os.environ.get("JOBCTL_CONFIG")
    if chosen:
        if not _may_exist(Path(chosen)):
            raise UsageError(f"config file {chosen} does not exist")
        return Path(chosen)
    return next((path for path in (default_config_path(), SYSTEM_CONFIG_PATH) if _may_exist(path)), None)


def _may_exist(path: Path) -> bool:
    """Whether ``path`` exists, or may: a directory on the way that this user cannot search
    (``HOME=/root`` kept by ``su -m`` or ``sudo -E``, a ``~/.config/jobctl`` of mode 000) hides
    whether the file is there. Such a file is taken as there, so that reading it fails with
    ``cannot read config file ...: Permission denied`` rather than being skipped for the
    defaults (which might name another store) or ending in a traceback."""
    try:
        return path.exists()
    except PermissionError:
        return True


BYTE_ORDER_MARK = "\ufeff"
"""What some Windows editors save before a UTF-8 file's text: no part of the TOML (``tomllib``
refused it as ``Invalid statement (at line 1, column 1)``); it ends no line, so lines in errors
are counted as without it."""


def load_config(explicit: str | None = None) -> Config:
    """The config from the file :func:`find_config` picks, or every default when there is none.

    :raises UsageError: for a missing explicit file, bad TOML (a number of too many digits included), or an
        unknown or mistyped key.
    """
    path = find_config(explicit)
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8").removeprefix(BYTE_ORDER_MARK))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from exc
    except ValueError as exc:  # tomllib lets int()'s refusal of a number of over 4,300 digits through
        most = sys.get_int_max_str_digits()
        raise UsageError(f"config file {path} holds a number too long to read (over {most} digits)") from exc
    return config_from_dict(data, path=path)


def exposure_warning(config: Config) -> str | None:
    """A warning when the config file holds a secret and its group or others may read it.

    Secrets: the ``[client] token``, and a password in ``[store] url`` or a ``[celery]`` URL.
    Checked on the file as it is now (one ``stat``); None when there is nothing to say.
    """
    if config.path is None:
        return None
    held = secrets_held(config)
    if not held:
        return None
    try:
        mode = config.path.stat().st_mode & 0o777
    except OSError:
        return None
    readers = [who for who, bit in (("its group", 0o040), ("other users", 0o004)) if mode & bit]
    if not readers:
        return None
    return (
        f"config file {config.path} holds {' and '.join(held)} but {' and '.join(readers)} can read it "
        f"(mode {mode:04o}); run: chmod 600 {config.path}"
    )


def secrets_held(config: Config) -> list[str]:
    """The config's settings that hold a secret, named as in the file."""
    from jobctl.notifier_config import notifier_holds_secret
    from jobctl.redaction import holds_password

    held = ["a token ([client] token)"] if config.token else []
    held += [f"a secret (notifier {spec.name})" for spec in config.notify.notifiers if notifier_holds_secret(spec)]
    for name, url in (
        ("[store] url", config.store_url),
        ("[celery] broker_url", config.celery_broker_url),
        ("[celery] result_backend", config.celery_result_backend),
    ):
        if url and holds_password(url):
            held.append(f"a password ({name})")
    return held


def config_from_dict(data: dict[str, Any], *, path: Path | None = None) -> Config:
    """Check ``data`` (a parsed TOML document) and build the :class:`Config`."""
    where = f"config file {path}" if path else "config"
    values: dict[str, Any] = {}
    notifiers = parse_notifiers(data.get("notifiers", []), where)
    values["notify"] = parse_notify(data.get("notify", {}), notifiers, where)
    for table, content in data.items():
        if table == "task_functions":
            values["task_functions"] = tuple(_task_functions(content, where))
            continue
        if table == "concurrency_groups":
            values["concurrency_groups"] = tuple(_concurrency_groups(content, where))
            continue
        if table in ("notifiers", "notify"):
            continue
        if table not in KEYS:
            raise UsageError(f"{where}: unknown table [{table}]")
        if not isinstance(content, dict):
            raise UsageError(f"{where}: [{table}] must be a table")
        for key, value in content.items():
            values[_field_name(table, key)] = _checked(f"[{table}]", key, value, KEYS[table], where)
    history = {key: values.pop(key) for key in KEYS["history"] if key in values}
    if history:
        values["retention"] = _retention(history, where)
    if "allowed_run_as" in values:
        values["allowed_run_as"] = tuple(_run_as_user(user, where) for user in values["allowed_run_as"])
    if "pass_environment" in values:
        values["pass_environment"] = _passed_names(values["pass_environment"], where)
    config = Config(path=path, **values)
    _check_values(config, where)
    return config


def _field_name(table: str, key: str) -> str:
    if table == "store":
        return "store_url"
    if table in ("celery", "metrics"):
        return f"{table}_{key}"
    if table == "daemon" and key in ("host", "port"):
        return f"daemon_{key}"
    if table == "daemon" and key == "docs":
        return "api_docs"
    if table == "daemon" and key == "path":
        return "run_path"
    return key


def _checked(label: str, key: str, value: Any, allowed: dict[str, tuple[type, ...]], where: str) -> Any:
    """``value`` of ``key`` in the table ``label`` (``[history]``, ``task_functions[0]``), known and
    of a type it takes. :raises UsageError: naming the type as the docs do (:mod:`jobctl.config_types`)."""
    if key not in allowed:
        raise UsageError(f"{where}: unknown key {quoted(key)} in {label}")
    problem = type_problem(value, allowed[key])
    if problem:
        raise UsageError(f"{where}: {label} {key} {problem}")
    return value


def _retention(history: dict[str, int], where: str) -> RetentionPolicy:
    """``[history]``: every value a whole number in its :data:`HISTORY_RANGES` (keeping nothing is
    not retention; beyond the largest the pruner could not compute its cutoff or bind the number)."""
    for key, value in history.items():
        _in_range(value, "history", key, "[history]", where)
    return RetentionPolicy(**history)


def _run_as_user(user: Any, where: str) -> str:
    """A user of ``[daemon] allowed_run_as`` as the run-as rules compare it: a name, or a uid as
    its digits. A uid may be written as a TOML integer (``1003``) or as text (``"1003"``): the
    same user either way (docs/run-as.md).

    :raises UsageError: for an empty name, a negative number, true or false, an array or a table.
    """
    if isinstance(user, int) and not isinstance(user, bool) and user >= 0:
        return str(user)
    if isinstance(user, str) and user:
        return user
    raise UsageError(
        f"{where}: [daemon] allowed_run_as must list user names or uids (a uid as a whole number, 0 or more), "
        f"not {as_written(user)}"
    )


def _passed_names(names: list[Any], where: str) -> tuple[str, ...]:
    """``[daemon] pass_environment``: variable names, none of them a run's own ``JOBCTL_*``."""
    for name in names:
        if not isinstance(name, str) or not re.fullmatch(VARIABLE_NAME_PATTERN, name):
            raise UsageError(f"{where}: [daemon] pass_environment must list variable names, not {shown(name)}")
        if name.startswith("JOBCTL_"):
            raise UsageError(
                f"{where}: [daemon] pass_environment cannot name {cut(name)}: JOBCTL_ variables are the run's own"
            )
    return tuple(names)


def _array_of_tables(
    content: Any, section: str, keys: dict[str, tuple[type, ...]], where: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``[[section]]`` entries, each with its label (``section[0]``) and its keys checked against
    ``keys``. :raises UsageError: for anything but an array of tables of known keys."""
    if not isinstance(content, list):
        raise UsageError(f"{where}: {section} must be an array of tables ([[{section}]])")
    for index, entry in enumerate(content):
        label = f"{section}[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: {label} must be a table")
        for key, value in entry.items():
            _checked(label, key, value, keys, where)
        yield label, entry


def _task_functions(content: Any, where: str) -> list[TaskFunctionSpec]:
    specs: list[TaskFunctionSpec] = []
    for label, entry in _array_of_tables(content, "task_functions", TASK_FUNCTION_KEYS, where):
        for required in ("name", "handler_type", "handler_path"):
            if not str(entry.get(required) or "").strip():
                raise UsageError(f"{where}: {label} needs {required}")
        for key in ("name", "display_name", "queue"):  # the store's columns hold 200 characters
            if len(entry.get(key) or "") > 200:
                raise UsageError(f"{where}: {label} {key} must be at most 200 characters")
        if "default_timeout_seconds" in entry:
            _in_range(entry["default_timeout_seconds"], "task_functions", "default_timeout_seconds", label, where)
        if entry["handler_type"] not in {h.value for h in HandlerType}:
            raise UsageError(f"{where}: {label} handler_type must be command, python or celery_task")
        problem = handler_path_problem(entry["handler_type"], entry["handler_path"])
        if problem:
            named = f"{label} ({shown(entry['name'])})"
            raise UsageError(f"{where}: {named} handler_path {problem}, not {as_written(entry['handler_path'])}")
        specs.append(
            TaskFunctionSpec(
                name=entry["name"],
                display_name=str(entry.get("display_name", entry["name"])),
                description=entry.get("description"),
                handler_type=entry["handler_type"],
                handler_path=entry["handler_path"],
                queue=entry.get("queue"),
                default_timeout_seconds=entry.get("default_timeout_seconds"),
                is_active=entry.get("is_active", True),
                is_system=entry.get("is_system", False),
            )
        )
    repeated = repeated_names([spec.name for spec in specs], "task_functions")
    if repeated:
        raise UsageError(f"{where}: task function names must be unique: {repeated}")
    return specs


def handler_path_problem(handler_type: str, path: str) -> str | None:
    """What is wrong with ``path`` as the ``handler_path`` of a ``handler_type`` task function,
    or None. Checked when the config is read (``task-functions sync``, a daemon's start), so a
    path no run could use is refused there, naming its entry, instead of failing every run:

    - ``python``: ``pkg.module:func`` or ``pkg.module.func`` (what the run imports and calls,
      :func:`jobctl.executors.python_runner.load`), each part a Python name; after ``:`` a
      dotted attribute (``pkg.module:Class.method``) is fine too.
    - ``command``: a command line that splits as a shell would split it (no open quote).

    A Celery task's name is the worker's business (any text names a task).
    """
    if handler_type == HandlerType.PYTHON.value:
        module, colon, attribute = path.partition(":")
        if not colon:
            module, _, attribute = path.rpartition(".")
        if not (_dotted_names(module) and _dotted_names(attribute)):
            return "must be a Python callable as module:function or module.function (e.g. pkg.tasks:cleanup)"
    elif handler_type == HandlerType.COMMAND.value:
        try:
            shlex.split(path)
        except ValueError as exc:
            return f"must be a command line a shell could split ({exc})"
    return None


def _dotted_names(text: str) -> bool:
    """``a.b.c``: one or more Python names joined by dots."""
    return all(part.isidentifier() for part in text.split("."))


def _concurrency_groups(content: Any, where: str) -> list[ConcurrencyGroup]:
    """``[[concurrency_groups]]``: each a ``name`` and a ``limit`` of at least 1, names unique."""
    groups: list[ConcurrencyGroup] = []
    for label, entry in _array_of_tables(content, "concurrency_groups", CONCURRENCY_GROUP_KEYS, where):
        for required in ("name", "limit"):
            if required not in entry:
                raise UsageError(f"{where}: {label} needs {required}")
        if not re.fullmatch(CONCURRENCY_GROUP_PATTERN, entry["name"]):
            raise UsageError(
                f"{where}: {label} name {shown(entry['name'])} must be 1-200 letters, digits, '.', '_' or '-'"
            )
        _in_range(entry["limit"], "concurrency_groups", "limit", label, where)
        groups.append(ConcurrencyGroup(name=entry["name"], limit=entry["limit"]))
    repeated = repeated_names([group.name for group in groups], "concurrency_groups")
    if repeated:
        raise UsageError(f"{where}: concurrency group names must be unique: {repeated}")
    return groups


def _check_values(config: Config, where: str) -> None:
    for table in ("daemon", "scheduler"):
        for key in RANGES[table]:
            _in_range(getattr(config, _field_name(table, key)), table, key, f"[{table}]", where)
    if config.log_format not in ("text", "json"):
        raise UsageError(f"{where}: [daemon] log_format must be 'text' or 'json'")
    if not config.run_path or "\0" in config.run_path:
        raise UsageError(f"{where}: [daemon] path must be a non-empty list of folders separated by ':'")
    if config.timezone is not None and not is_timezone(config.timezone):
        raise UsageError(f"{where}: [scheduler] timezone {shown(config.timezone)} is not a known IANA zone")


def _in_range(value: float, table: str, key: str, label: str, where: str) -> None:
    """:raises UsageError: when ``value`` is outside the :data:`RANGES` of ``table``'s ``key``
    (``nan`` and ``inf`` included), saying the range and the value."""
    problem = RANGES[table][key].problem(value)
    if problem:
        raise UsageError(f"{where}: {label} {key} {problem}")


def is_timezone(name: str) -> bool:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def host_timezone() -> str:
    """The host's IANA zone: the ``/etc/localtime`` link, else ``/etc/timezone``, else UTC.

    Never ``$TZ``: a default zone is stored with each cron job, and a job created through the
    API (the daemon's environment) must get the same zone as one created with the local CLI
    (whatever shell it runs in). ``$TZ`` still sets how times are shown to a person.
    """
    candidates: list[str] = []
    try:
        target = os.readlink(LOCALTIME)
        candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
    except OSError:
        pass
    try:
        candidates.append(Path(TIMEZONE_FILE).read_text(encoding="utf-8").strip())
    except OSError:
        pass
    return next((name for name in candidates if name and is_timezone(name)), "UTC")
