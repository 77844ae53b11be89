"""``command`` and ``python`` task functions: how each becomes a child process, and its outcome.

Outcome rules: exit code 0 is ``success``; anything else is ``failed`` with an error naming the
exit code (or signal, or exception) followed by the tail of stderr. ``result`` is, for a
command, the last non-empty stdout line when it is a JSON object, else ``{"exitCode": N}``;
for a Python callable, its return value (a dict as is, anything else as ``{"value": ...}``),
or ``{"exitCode": N}`` when it called ``sys.exit`` (docs/python-callables.md).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jobctl.executors import context
from jobctl.executors.isolation import PYTHON_PATH_VARIABLE, child_import_path, python_argv
from jobctl.executors.outcome import RunOutcome, RunRequest, tail_at_a_line
from jobctl.executors.process import ProcessResult, SpawnedProcess, spawn, spawn_failure
from jobctl.models import SHELL_TASK_FUNCTION, ExecutionStatus, HandlerType

ERROR_TAIL_CHARS = 1000
DEFAULT_SHELL = "/bin/sh"
"""What the built-in ``shell`` task function runs ``taskArgs.command`` with unless ``taskArgs.shell`` names another."""


def prepare_local(
    request: RunRequest,
    *,
    task_name: str,
    base_env: Mapping[str, str],
    policy: context.RunAsPolicy = context.RunAsPolicy(),
) -> LocalLaunch:
    """Everything a run needs before its process starts (arguments, environment, a Python run's
    report file), so that the moment of the spawn costs little more than the spawn itself.

    ``base_env`` is what the run gets from the daemon (:func:`jobctl.executors.environment.base_environment`);
    ``policy`` bounds which user it may run as (docs/run-as.md).
    """
    who = context.identity(request.context, policy)
    if isinstance(who, str):
        return LocalLaunch(request, who, {})
    inherited = {**base_env, **who.variables()} if who is not None and who.named else dict(base_env)
    shell = chosen_shell(request, task_name)
    if shell is not None:
        inherited["SHELL"] = shell
    env = run_environment(request, inherited)
    if request.handler_type == HandlerType.PYTHON:
        folder = Path(tempfile.mkdtemp(prefix="jobctl-"))
        if who is not None and who.switch:
            os.chown(folder, who.uid, who.gid)  # the run writes its report there
        report_file = folder / "result.json"
        env["JOBCTL_RESULT_FILE"] = str(report_file)
        env[PYTHON_PATH_VARIABLE] = child_import_path()
        return LocalLaunch(request, _in_context(python_argv(request.handler_path), request, who), env, report_file, who)
    return LocalLaunch(request, _in_context(command_argv(request, task_name), request, who), env, who=who)


def _in_context(argv: list[str] | str, request: RunRequest, who: context.Identity | None) -> list[str] | str:
    return argv if isinstance(argv, str) else context.prepare(argv, request.context, who)


class LocalLaunch:
    """A prepared ``command`` or ``python`` run; ``argv`` is an error message when there is none."""

    def __init__(
        self,
        request: RunRequest,
        argv: list[str] | str,
        env: dict[str, str],
        report_file: Path | None = None,
        who: context.Identity | None = None,
    ) -> None:
        self.request = request
        self.who = who
        self.argv = argv
        self.env = env
        self.report_file = report_file

    def start(self) -> LocalRun:
        """Spawn the process now; whoever follows it turns its end into an outcome."""
        problem = self.argv if isinstance(self.argv, str) else context.missing_directory(self.request.context, self.who)
        if problem is not None:
            return LocalRun(self, spawn_failure(datetime.now(UTC), problem))
        stdin = self.request.stdin
        return LocalRun(self, spawn(self.argv, env=self.env, stdin=None if stdin is None else stdin.encode()))


class LocalRun:
    """A ``command`` or ``python`` run whose process was spawned (``process`` is a
    :class:`SpawnedProcess`) or could not be (a :class:`ProcessResult` saying why)."""

    def __init__(self, launch: LocalLaunch, process: SpawnedProcess | ProcessResult) -> None:
        self.launch = launch
        self.process = process

    def outcome(self, result: ProcessResult) -> RunOutcome:
        """Apply the outcome rules to how the process ended (and clean up after a Python run)."""
        request, report_file = self.launch.request, self.launch.report_file
        if report_file is None:
            return _command_outcome(result, request)
        try:
            return _python_outcome(result, request, _read_report(report_file))
        finally:
            shutil.rmtree(report_file.parent, ignore_errors=True)


def chosen_shell(request: RunRequest, task_name: str) -> str | None:
    """The shell a ``shell`` job names in ``taskArgs.shell`` (a crontab's ``SHELL=`` line), else None.

    That shell runs the command, and the run's ``SHELL`` names it, as cron sets ``SHELL`` in a
    job's environment: a command that starts ``$SHELL`` (``script``, ``make``, ``$SHELL -c``) gets
    the shell its job asked for, not the daemon's or the run-as user's login shell. The job's own
    ``environment`` can still set ``SHELL`` over it. Without ``taskArgs.shell`` (``/bin/sh``)
    ``SHELL`` stays the user's or the daemon's (README, "A run's environment").
    """
    if task_name != SHELL_TASK_FUNCTION:
        return None
    shell = (request.task_args or {}).get("shell")
    return shell if isinstance(shell, str) and shell.startswith("/") else None


def command_argv(request: RunRequest, task_name: str) -> list[str] | str:
    """The argv of a command run, or an error message when there is none."""
    if task_name == SHELL_TASK_FUNCTION:
        command = (request.task_args or {}).get("command")
        if not isinstance(command, str) or not command.strip():
            return "the shell task function needs taskArgs.command"
        shell = (request.task_args or {}).get("shell") or DEFAULT_SHELL
        if not isinstance(shell, str) or not shell.startswith("/"):
            return "taskArgs.shell must be an absolute path"
        return [shell, "-c", command]
    try:
        argv = shlex.split(request.handler_path)
    except ValueError as exc:
        return f"cannot parse handler_path {request.handler_path!r}: {exc}"
    return argv or f"handler_path of task function {task_name!r} is empty"


def run_environment(request: RunRequest, base_env: Mapping[str, str]) -> dict[str, str]:
    """``base_env``, the job's ``environment`` over it, then the job's arguments and identity
    (set last: nothing can fake them)."""
    env = dict(base_env)
    if request.environment:
        env.update(request.environment)
    args = request.task_args or {}
    for key, value in args.items():
        env[f"JOBCTL_ARG_{re.sub(r'[^A-Za-z0-9]', '_', key).upper()}"] = (
            value if isinstance(value, str) else json.dumps(value)
        )
    env["JOBCTL_TASK_ARGS"] = json.dumps(args)
    env["JOBCTL_JOB_ID"] = request.job_id
    env["JOBCTL_EXECUTION_ID"] = request.execution_id
    return env


def _command_outcome(result: ProcessResult, request: RunRequest) -> RunOutcome:
    status, error = _status_and_error(result, request)
    payload: Any = {"exitCode": result.exit_code} if result.exit_code is not None else None
    parsed = _json_object(result.last_stdout_line)
    if parsed is not None:
        payload = parsed
    return RunOutcome(
        status=status,
        started_at=result.started_at,
        completed_at=result.completed_at,
        result=payload,
        error_message=error,
        exit_code=result.exit_code,
        daemons_reason=result.spawn_error is not None,
    )


def _status_and_error(
    result: ProcessResult, request: RunRequest, reason: str | None = None
) -> tuple[ExecutionStatus, str | None]:
    if result.spawn_error:
        return ExecutionStatus.FAILED, result.spawn_error
    if result.timed_out:
        return ExecutionStatus.TIMEOUT, _with_tail(
            f"timed out after {request.timeout_seconds:g}s; process group killed", result
        )
    if result.exit_code == 0:
        return ExecutionStatus.SUCCESS, None
    if reason:  # a Python callable's own words: its exception, its sys.exit message
        return ExecutionStatus.FAILED, _with_tail(reason, result, after="\n")
    if result.signal_name:
        return ExecutionStatus.FAILED, _with_tail(f"killed by {result.signal_name}", result)
    return ExecutionStatus.FAILED, _with_tail(f"exit code {result.exit_code}", result)


def _with_tail(message: str, result: ProcessResult, *, after: str = ": ") -> str:
    """``message``, then the tail of the run's stderr after ``after``, from the start of a line.

    A Python callable's reason is followed by its tail on the next line: that tail is mostly the
    traceback, whose first line ("Traceback (most recent call last):") would otherwise end the
    error's first line, the one ``jobctl run``, ``executions list`` and ``top`` show. A
    command's ``exit code 3: `` reads on into its own last words. The tail starts at a line
    (:func:`tail_at_a_line`): cut anywhere, it began mid-word.
    """
    tail = tail_at_a_line(result.stderr_tail.strip(), ERROR_TAIL_CHARS)
    return f"{message}{after}{tail}" if tail else message


def _json_object(line: str) -> dict[str, Any] | None:
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _python_outcome(result: ProcessResult, request: RunRequest, report: dict[str, Any]) -> RunOutcome:
    status, error = _status_and_error(result, request, reason=report.get("error"))
    if "exitCode" in report and result.exit_code is not None:
        value: Any = {"exitCode": result.exit_code}  # sys.exit(n): the run ends as a script's does
    else:
        value = report.get("result") if status == ExecutionStatus.SUCCESS else None
    return RunOutcome(
        status=status,
        started_at=result.started_at,
        completed_at=result.completed_at,
        result=value,
        error_message=error,
        exit_code=result.exit_code,
        daemons_reason=result.spawn_error is not None,
    )


def _read_report(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
