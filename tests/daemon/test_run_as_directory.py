"""A run's working directory is entered as the run's user, as systemd's ``WorkingDirectory=`` is.

The exec wrapper used to ``cd`` as root and only then switch users: a job whose directory its
user may not enter started there all the same, and failed later with "Permission denied" on
whatever it touched. Now the switch comes first and the run fails at once, exit 126 with the
shell's message.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from jobctl.service import Service
from tests.daemon.helpers import DaemonFactory, shell_job
from tests.daemon.test_run_as import TestUser, _finished, user  # noqa: F401 (the fixture)

if os.geteuid() != 0:
    if os.environ.get("JOBCTL_TEST_REQUIRE_ROOT") == "1":
        raise RuntimeError("the run-as tests create users and must run as root (JOBCTL_TEST_REQUIRE_ROOT=1)")
    pytestmark = pytest.mark.skip(reason="creates users: needs root (CI runs as root)")


def test_a_directory_the_user_may_not_enter_fails_the_run_instead_of_being_entered_as_root(
    service: Service,
    daemons: DaemonFactory,
    user: TestUser,  # noqa: F811
) -> None:
    private = Path(tempfile.mkdtemp(prefix="jobctl-private-"))  # root's, mode 0700
    readable = Path(tempfile.mkdtemp(prefix="jobctl-shared-"))
    try:
        private.chmod(0o700)
        readable.chmod(0o755)
        locked = shell_job(service, "locked", "echo started; pwd", scheduleConfig={"hours": 1},
                           runAsUser=user.name, workingDirectory=str(private))  # fmt: skip
        open_dir = shell_job(service, "open", "pwd; id -u", scheduleConfig={"hours": 1}, runAsUser=user.name,
                             workingDirectory=str(readable), umask="027", nice=5)  # fmt: skip
        daemons.start()
        refused = _finished(service, service.trigger_job(locked["id"])["executionId"])
        assert refused["status"] == "failed", refused
        assert refused["result"] == {"exitCode": 126}, refused
        log = service.get_execution_log(refused["id"])["data"]
        assert "started" not in log, "the command never ran"
        assert str(private) in log and "can't cd" in log, log

        ran = _finished(service, service.trigger_job(open_dir["id"])["executionId"])
        assert ran["status"] == "success", (ran, service.get_execution_log(ran["id"]))
        assert service.get_execution_log(ran["id"])["data"] == f"{readable}\n{user.uid}\n"
    finally:
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(readable, ignore_errors=True)
