"""The order of a run's stdout and stderr in its stored output (docs/output-order.md): the two
streams stay apart (the error's tail is stderr's, the result stdout's last line), and what they
say is stored in the order it was read, which is the order written for writes a few milliseconds
apart. A Python callable's prints came after its stderr (its stdout was block-buffered)."""

from __future__ import annotations

import pytest

from jobctl.service import Service
from jobctl.store import Store
from tests.daemon.helpers import ROOT, DaemonFactory, executions, shell_job
from tests.daemon.test_python_outcomes import jobctl_run, python_job

PAUSE = 0.05


@pytest.mark.parametrize("under_a_daemon", [False, True], ids=["foreground", "daemon"])
def test_a_callables_stdout_and_stderr_are_stored_in_the_order_written(
    store: Store, service: Service, store_url: str, daemons: DaemonFactory, under_a_daemon: bool
) -> None:
    job = python_job(store, service, "turns", "says_in_turn", pause=PAUSE)
    if under_a_daemon:
        daemons.start(extra_env={"PYTHONPATH": str(ROOT)})
    result = jobctl_run(store_url, "turns")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "one\ntwo\nthree\n"
    [run] = executions(service, job["id"])
    assert service.get_execution_log(run["id"])["data"] == "one\ntwo\nthree\n"


def test_a_commands_streams_are_stored_in_order_and_stay_apart_for_its_error_and_result(
    service: Service, store_url: str
) -> None:
    command = f"""echo one; sleep {PAUSE}; echo two >&2; sleep {PAUSE}; echo '{{"rows": 3}}'; exit 4"""
    job = shell_job(service, "turns", command, scheduleConfig={"hours": 1})
    result = jobctl_run(store_url, "turns")
    assert result.returncode == 4, result.stderr
    assert result.stdout == 'one\ntwo\n{"rows": 3}\n'
    [run] = executions(service, job["id"])
    assert service.get_execution_log(run["id"])["data"] == result.stdout
    assert run["errorMessage"] == "exit code 4: two", "the tail of stderr alone"
    assert run["result"] == {"rows": 3}, "stdout's last line"
