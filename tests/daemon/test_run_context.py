"""``workingDirectory``, ``umask`` and ``nice``: what the run's process really gets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobctl.executors.context import RunContext, prepare
from jobctl.service import Service
from tests.conftest import Cli
from tests.daemon.helpers import DaemonFactory, shell_job, wait_for

SHOW_CONTEXT = "pwd; umask; cut -d' ' -f19 /proc/$$/stat; touch made; stat -c %a made"
"""Directory, umask, nice value (field 19 of ``/proc/PID/stat``) and a new file's mode."""


def _finished(service: Service, execution_id: str) -> dict[str, Any]:
    wait_for(
        lambda: service.get_execution(execution_id)["status"] not in ("pending", "running"), timeout=20, what="the run"
    )
    return service.get_execution(execution_id)


def test_a_run_starts_in_its_directory_with_its_umask_and_nice_value(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    workdir = tmp_path / "work dir"
    workdir.mkdir()
    job = shell_job(service, "ctx", SHOW_CONTEXT, scheduleConfig={"hours": 1},
                    workingDirectory=str(workdir), umask="027", nice=7)  # fmt: skip
    negative = shell_job(service, "negative", "cut -d' ' -f19 /proc/$$/stat", scheduleConfig={"hours": 1}, nice=-3)
    plain = shell_job(service, "plain", "pwd; umask; cut -d' ' -f19 /proc/$$/stat", scheduleConfig={"hours": 1})
    daemons.start()
    runs = [service.trigger_job(j["id"])["executionId"] for j in (job, negative, plain)]
    for execution_id in runs:
        execution = _finished(service, execution_id)
        assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(execution_id))
    assert service.get_execution_log(runs[0])["data"] == f"{workdir}\n0027\n7\n640\n"
    assert (workdir / "made").stat().st_mode & 0o777 == 0o640
    assert service.get_execution_log(runs[1])["data"] == "-3\n"  # the daemon runs as root here
    assert service.get_execution_log(runs[2])["data"] == "/\n0022\n0\n"


def test_a_two_digit_umask_is_read_as_the_shell_reads_it(service: Service, daemons: DaemonFactory) -> None:
    """``umask = "27"`` runs as the shell's ``umask 27`` would: 0027, not decimal 27 (0033)."""
    job = shell_job(service, "short-mask", "umask", scheduleConfig={"hours": 1}, umask="27")
    daemons.start()
    execution_id = service.trigger_job(job["id"])["executionId"]
    execution = _finished(service, execution_id)
    assert execution["status"] == "success", execution["errorMessage"]
    assert service.get_execution_log(execution_id)["data"] == "0027\n"


def test_a_missing_directory_fails_the_run_with_that_reason(
    service: Service, daemons: DaemonFactory, tmp_path: Path
) -> None:
    gone = tmp_path / "gone"
    job = shell_job(service, "gone", "echo ran", scheduleConfig={"hours": 1}, workingDirectory=str(gone))
    daemons.start()
    execution = _finished(service, service.trigger_job(job["id"])["executionId"])
    assert execution["status"] == "failed"
    assert execution["errorMessage"] == f"working directory {gone} does not exist"


def test_a_run_that_changes_nothing_keeps_the_plain_spawn() -> None:
    assert prepare(["true"], RunContext()) == ["true"]
    assert prepare(["true"], RunContext(working_directory="/", umask="022")) == ["true"]
    assert prepare(["true"], RunContext(umask="027"))[:2] == ["/bin/sh", "-c"]


def test_stdin_reaches_the_run_and_the_shell_argument_picks_the_shell(service: Service, daemons: DaemonFactory) -> None:
    text = "first line\nzweite Zeile ü\n"
    fed = shell_job(service, "fed", "cat; echo end", scheduleConfig={"hours": 1}, stdin=text)
    big = shell_job(service, "big", "wc -c", scheduleConfig={"hours": 1}, stdin="x" * 65536)
    unfed = shell_job(service, "unfed", "cat; echo end", scheduleConfig={"hours": 1})
    bash = shell_job(service, "bash", 'echo "${BASH_VERSION:+bash}"; echo $0', scheduleConfig={"hours": 1},
                     taskArgs={"command": 'echo "${BASH_VERSION:+bash}"; echo $0', "shell": "/bin/bash"})  # fmt: skip
    daemons.start()
    runs = [service.trigger_job(j["id"])["executionId"] for j in (fed, big, unfed, bash)]
    for execution_id in runs:
        execution = _finished(service, execution_id)
        assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(execution_id))
    logs = [service.get_execution_log(execution_id)["data"] for execution_id in runs]
    assert logs[:3] == [text + "end\n", "65536\n", "end\n"]
    assert logs[3] == "bash\n/bin/bash\n"


def test_a_crontab_shell_runs_the_command_and_is_the_runs_shell_variable(
    service: Service, daemons: DaemonFactory, cli: Cli, tmp_path: Path
) -> None:
    """cron runs each line after ``SHELL=/bin/bash`` with bash *and* sets ``SHELL=/bin/bash`` in
    its environment; here the daemon's own ``SHELL`` is dash, which knows no ``[[`` or ``$'..'``.
    A line without ``SHELL=`` keeps the daemon's ``SHELL``, as before."""
    crontab = tmp_path / "crontab"
    crontab.write_text(
        "# name: plain\n0 3 * * * printenv SHELL\n"
        "SHELL=/bin/bash\n"
        "# name: bash-only\n"
        "0 3 * * * printenv SHELL && [[ -n $'\\x41' ]] && $SHELL -c '[[ a == a ]] && echo \"bash via $0\"'\n"
    )
    imported = cli("import", "crontab", str(crontab))
    assert imported.code == 0, imported.stderr
    daemons.start(extra_env={"SHELL": "/bin/sh"})
    jobs = {job["name"]: job for job in service.list_jobs(per_page=10)["jobs"]}
    runs = {name: service.trigger_job(jobs[name]["id"])["executionId"] for name in ("plain", "bash-only")}
    for execution_id in runs.values():
        execution = _finished(service, execution_id)
        assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(execution_id))
    assert service.get_execution_log(runs["bash-only"])["data"] == "/bin/bash\nbash via /bin/bash\n"
    assert service.get_execution_log(runs["plain"])["data"] == "/bin/sh\n"
