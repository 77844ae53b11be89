"""``runAsUser`` / ``runAsGroup``: the run's real uid, gid, groups, directory and identity
variables, the daemon's bounds on them, and a daemon that is not root refusing other users.

The tests run as root (as CI does) and create a user and two groups for the module, removing
them after. They read the user's account and run as it, never change it, so one set serves
every test. ``useradd`` and its kin refuse to run while another holds ``/etc/passwd``'s lock,
so the tests of several pytest-xdist workers take turns through a lock file of their own.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from jobctl.errors import ValidationFailed
from jobctl.executors.context import Identity, RunAsPolicy, RunContext, identity
from jobctl.models import TaskFunctionSpec
from jobctl.service import Service
from jobctl.store import open_store
from tests.conftest import ADMIN, TEST_ZONE
from tests.daemon.helpers import ROOT, DaemonFactory, cli, shell_job, wait_for, write_config

if os.geteuid() != 0:
    if os.environ.get("JOBCTL_TEST_REQUIRE_ROOT") == "1":
        raise RuntimeError("the run-as tests create users and must run as root (JOBCTL_TEST_REQUIRE_ROOT=1)")
    pytestmark = pytest.mark.skip(reason="creates users: needs root (CI runs as root)")

SHOW_IDENTITY = "id -u; id -g; id -G; pwd; tr '\\0' '\\n' < /proc/$$/environ | grep -E '^(HOME|USER|LOGNAME|SHELL)='"


@dataclass
class TestUser:
    __test__ = False  # a user of the tests, not a test class

    name: str
    uid: int
    gid: int
    home: str
    extra_group: str
    extra_gid: int
    other_group: str
    other_gid: int


ACCOUNTS_LOCK = Path(tempfile.gettempdir()) / "jobctl-tests-accounts.lock"
"""Held around each change to the system's users and groups, by every test process."""


def _accounts(*argv: str, check: bool = True) -> None:
    """``useradd`` and its kin, one at a time across processes (each fails at once, "cannot lock
    /etc/passwd", while another runs)."""
    with open(ACCOUNTS_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(argv, check=check, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def user() -> Iterator[TestUser]:
    tag = secrets.token_hex(3)
    name, extra, other = f"jct{tag}", f"jcx{tag}", f"jco{tag}"
    _accounts("groupadd", extra)
    _accounts("groupadd", other)
    try:
        _accounts("useradd", "-m", "-U", "-G", extra, "-s", "/bin/sh", name)
        entry = pwd.getpwnam(name)
        import grp

        extra_gid, other_gid = grp.getgrnam(extra).gr_gid, grp.getgrnam(other).gr_gid
        yield TestUser(name=name, uid=entry.pw_uid, gid=entry.pw_gid, home=entry.pw_dir, extra_group=extra,
                       extra_gid=extra_gid, other_group=other, other_gid=other_gid)  # fmt: skip
    finally:
        _accounts("userdel", "-r", name, check=False)
        _accounts("groupdel", extra, check=False)
        _accounts("groupdel", other, check=False)


def reaches_our_interpreter(user: TestUser) -> bool:
    """Whether ``user`` can start this Python (on some hosts it lives in root's home folder)."""
    result = subprocess.run(["runuser", "-u", user.name, "--", sys.executable, "-c", "import json"],
                            capture_output=True, timeout=30)  # fmt: skip
    return result.returncode == 0


def interpreter_for(user: TestUser) -> tuple[str, dict[str, str]]:
    """A Python (and its environment) that runs jobctl and that ``user`` can start too: ours, or,
    where ours lives in root's home folder, the system's with our packages on its path."""
    if reaches_our_interpreter(user):
        return sys.executable, {}
    site = next(path for path in sys.path if path.endswith("site-packages"))
    return "/usr/bin/python3", {"PYTHONPATH": f"{ROOT}{os.pathsep}{site}"}


def _finished(service: Service, execution_id: str) -> dict[str, Any]:
    wait_for(
        lambda: service.get_execution(execution_id)["status"] not in ("pending", "running"), timeout=20, what="the run"
    )
    return service.get_execution(execution_id)


def test_a_run_switches_to_the_user_its_groups_home_and_identity(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    as_user = shell_job(service, "as-user", SHOW_IDENTITY, scheduleConfig={"hours": 1}, runAsUser=user.name)
    as_group = shell_job(service, "as-group", "id -u; id -g", scheduleConfig={"hours": 1},
                         runAsUser=str(user.uid), runAsGroup=user.extra_group)  # fmt: skip
    spec = TaskFunctionSpec(name="environment", display_name="environment", description=None, handler_type="python",
                            handler_path="tests.daemon.sample_tasks:environment")  # fmt: skip
    task = service.store.catalog.upsert_task_function(spec, datetime.now(UTC))
    python_job = service.create_job({"name": "py", "taskFunctionId": task.id, "jobTypeId": 1,
                                     "scheduleConfig": {"hours": 1}, "runAsUser": user.name})  # fmt: skip
    python, extra_env = interpreter_for(user)
    daemons.start(python=python, extra_env=extra_env)
    runs = [service.trigger_job(j["id"])["executionId"] for j in (as_user, as_group, python_job)]
    for execution_id in runs:
        execution = _finished(service, execution_id)
        assert execution["status"] == "success", (execution["errorMessage"], service.get_execution_log(execution_id))
    lines = service.get_execution_log(runs[0])["data"].splitlines()
    assert lines[:2] == [str(user.uid), str(user.gid)]
    assert sorted(map(int, lines[2].split())) == sorted({user.gid, user.extra_gid})
    assert lines[3] == user.home
    assert sorted(lines[4:]) == sorted([f"HOME={user.home}", f"LOGNAME={user.name}", "SHELL=/bin/sh",
                                        f"USER={user.name}"])  # fmt: skip
    assert service.get_execution_log(runs[1])["data"] == f"{user.uid}\n{user.extra_gid}\n"
    environ = service.get_execution(runs[2])["result"]["environ"]  # its report file was the user's to write
    assert (environ["USER"], environ["HOME"]) == (user.name, user.home)


def test_unknown_users_and_groups_are_422(service: Service, user: TestUser) -> None:
    cases = [({"runAsUser": "no-such-user-x"}, "runAsUser"), ({"runAsGroup": "no-such-group-x"}, "runAsGroup"),
             ({"runAsUser": "4000000000"}, "runAsUser"), ({"runAsUser": "a b"}, "runAsUser")]  # fmt: skip
    for fields, loc in cases:
        with pytest.raises(ValidationFailed) as failed:
            shell_job(service, "bad", "true", **fields)
        assert [error["loc"] for error in failed.value.errors] == [["body", loc]]
    job = shell_job(service, "good", "true", runAsUser=user.name)
    assert (job["runAsUser"], job["runAsGroup"]) == (user.name, None)
    with pytest.raises(ValidationFailed):
        service.update_job(job["id"], {"runAsGroup": "no-such-group-x"})


def test_allowed_run_as_bounds_the_users(service: Service, daemons: DaemonFactory, user: TestUser) -> None:
    write_config(daemons.config_path, allowed_run_as=["nobody"])
    job = shell_job(service, "refused", "id -u", scheduleConfig={"hours": 1}, runAsUser=user.name)
    daemons.start()
    execution = _finished(service, service.trigger_job(job["id"])["executionId"])
    assert execution["status"] == "failed"
    assert execution["errorMessage"] == f"cannot run as {user.name}: not allowed by [daemon] allowed_run_as"


def test_a_uid_listed_as_a_toml_integer_allows_its_user(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    """``allowed_run_as = ["nobody", UID]`` stopped the daemon at start ("must list user names or
    uids"); the integer now allows the user whose uid it is, as ``"UID"`` in quotes does."""
    write_config(daemons.config_path, allowed_run_as=["nobody", user.uid])
    job = shell_job(service, "by-uid", "id -u", scheduleConfig={"hours": 1}, runAsUser=user.name)
    daemons.start()
    execution_id = service.trigger_job(job["id"])["executionId"]
    execution = _finished(service, execution_id)
    assert execution["status"] == "success", execution["errorMessage"]
    assert service.get_execution_log(execution_id)["data"] == f"{user.uid}\n"


def test_a_root_daemon_bounding_users_without_a_default_warns_that_jobs_naming_none_run_as_root(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    write_config(daemons.config_path, allowed_run_as=[user.name])
    job = shell_job(service, "nameless", "id -u", scheduleConfig={"hours": 1})
    daemon = daemons.start()
    execution_id = service.trigger_job(job["id"])["executionId"]
    assert _finished(service, execution_id)["status"] == "success"
    assert service.get_execution_log(execution_id)["data"] == "0\n", "what the warning says: it ran as root"
    assert daemon.stop() == 0
    warnings = [line for line in daemon.log().splitlines() if " WARNING " in line]
    assert len(warnings) == 1, daemon.log()
    assert "jobs that name no user run as root" in warnings[0]
    assert f'add default_run_as = "{user.name}" to [daemon]' in warnings[0]
    write_config(daemons.config_path, allowed_run_as=[user.name], default_run_as=user.name)
    bounded = daemons.start()
    assert bounded.stop() == 0
    assert " WARNING " not in bounded.log(), bounded.log()


def test_root_is_held_to_the_bounds_like_any_other_user(user: TestUser) -> None:
    """A root daemon's own user is no exception: a job naming root (or uid 0) is checked."""
    refused = "cannot run as root: not allowed by [daemon] allowed_run_as"
    bounded = [RunAsPolicy(default_user=user.name, allowed=(user.name,)), RunAsPolicy(default_user=user.name),
               RunAsPolicy(allowed=(user.name,))]  # fmt: skip
    for policy in bounded:
        for spec in ("root", "0"):
            assert identity(RunContext(run_as_user=spec), policy) == refused, (policy, spec)
    allowing = [RunAsPolicy(), RunAsPolicy(default_user="root"), RunAsPolicy(default_user=user.name, allowed=("*",)),
                RunAsPolicy(allowed=("0",))]  # fmt: skip
    for policy in allowing:
        who = identity(RunContext(run_as_user="root"), policy)
        assert isinstance(who, Identity) and (who.uid, who.switch) == (0, False), policy
    assert identity(RunContext(), RunAsPolicy(allowed=(user.name,))) is None  # no user named: the daemon's own
    refused_default = identity(RunContext(), RunAsPolicy(default_user="root", allowed=(user.name,)))
    assert refused_default == refused  # the default user is held to the list too


def test_a_daemon_and_jobctl_run_refuse_root_unless_allowed(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    write_config(daemons.config_path, default_run_as=user.name, allowed_run_as=[user.name])
    as_root = shell_job(service, "r", "id -u", scheduleConfig={"hours": 1}, runAsUser="root")
    as_zero = shell_job(service, "r0", "id -u", scheduleConfig={"hours": 1}, runAsUser="0")
    default = shell_job(service, "d", "id -u", scheduleConfig={"hours": 1})
    refused = "cannot run as root: not allowed by [daemon] allowed_run_as"
    for name in ("r", "r0"):
        foreground = cli(daemons, "run", name)
        assert foreground.returncode != 0 and refused in foreground.stderr, foreground
        assert "uid=0" not in foreground.stdout
    daemons.start()
    runs = [service.trigger_job(job["id"])["executionId"] for job in (as_root, as_zero, default)]
    for execution_id in runs[:2]:
        execution = _finished(service, execution_id)
        assert (execution["status"], execution["errorMessage"]) == ("failed", refused)
    assert _finished(service, runs[2])["status"] == "success"
    assert service.get_execution_log(runs[2])["data"] == f"{user.uid}\n"


def test_a_group_the_user_is_not_in_is_refused(user: TestUser) -> None:
    policy = RunAsPolicy(default_user=user.name, allowed=(user.name,))
    for spec, name in (("root", "root"), ("0", "root"), (user.other_group, user.other_group)):
        refused = f"cannot run as group {name}: {user.name} is not a member"
        assert identity(RunContext(run_as_user=user.name, run_as_group=spec), policy) == refused
        assert identity(RunContext(run_as_group=spec), policy) == refused  # the default user's
    for spec, gid in ((user.extra_group, user.extra_gid), (str(user.extra_gid), user.extra_gid), (user.name, user.gid)):
        who = identity(RunContext(run_as_group=spec), policy)
        assert isinstance(who, Identity) and (who.uid, who.gid) == (user.uid, gid), spec
    for context in (RunContext(run_as_user="root", run_as_group=user.other_group), RunContext(run_as_group="0")):
        who = identity(context, RunAsPolicy())  # root may take any group
        assert isinstance(who, Identity) and who.uid == 0, context


def test_a_daemon_refuses_a_group_its_run_user_is_not_in(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    write_config(daemons.config_path, default_run_as=user.name, allowed_run_as=[user.name])
    root_group = shell_job(service, "g0", "id", scheduleConfig={"hours": 1}, runAsGroup="root")
    in_group = shell_job(service, "gx", "id -u; id -g; pwd", scheduleConfig={"hours": 1}, runAsGroup=user.extra_group)
    daemons.start()
    refused_id, in_group_id = (service.trigger_job(job["id"])["executionId"] for job in (root_group, in_group))
    refused = _finished(service, refused_id)
    assert (refused["status"], refused["errorMessage"]) == (
        "failed",
        f"cannot run as group root: {user.name} is not a member",
    )
    assert _finished(service, in_group_id)["status"] == "success"
    assert service.get_execution_log(in_group_id)["data"] == f"{user.uid}\n{user.extra_gid}\n{user.home}\n"


def test_a_job_naming_a_group_its_user_is_not_in_is_422(service: Service, user: TestUser) -> None:
    for group in ("root", "0", user.other_group):
        with pytest.raises(ValidationFailed) as failed:
            shell_job(service, "bad", "true", runAsUser=user.name, runAsGroup=group)
        assert [error["loc"] for error in failed.value.errors] == [["body", "runAsGroup"]]
        assert "is not a member of group" in failed.value.errors[0]["msg"]
    job = shell_job(service, "in", "true", runAsUser=user.name, runAsGroup=user.extra_group)
    for change in ({"runAsGroup": user.other_group}, {"runAsUser": "nobody"}):
        with pytest.raises(ValidationFailed):
            service.update_job(job["id"], change)
    assert service.update_job(job["id"], {"runAsUser": "root", "runAsGroup": "0"})["runAsGroup"] == "0"  # root: any
    assert shell_job(service, "group-only", "true", runAsGroup="root")["runAsUser"] is None  # the daemon's to check


def test_a_run_with_only_a_group_keeps_the_daemons_directory_and_variables(
    service: Service, daemons: DaemonFactory, user: TestUser, tmp_path: Path
) -> None:
    """No user named: the run is the daemon's user's, in ``/`` with the daemon's HOME, as a plain run."""
    job = shell_job(service, "g", 'id -u; id -g; pwd; echo "$HOME"', scheduleConfig={"hours": 1},
                    runAsGroup=user.extra_group)  # fmt: skip
    daemons.start(extra_env={"HOME": str(tmp_path)})
    execution_id = service.trigger_job(job["id"])["executionId"]
    execution = _finished(service, execution_id)
    assert execution["status"] == "success", execution["errorMessage"]
    assert service.get_execution_log(execution_id)["data"] == f"0\n{user.extra_gid}\n/\n{tmp_path}\n"


def test_a_process_that_is_not_root_refuses_other_users(user: TestUser) -> None:
    """The rule itself, in a process of the test user (the system's Python, jobctl from this tree)."""
    code = ("from jobctl.executors.context import RunAsPolicy, RunContext, identity; "
            "print(identity(RunContext(run_as_user='nobody'), RunAsPolicy())); "
            f"print(identity(RunContext(run_as_user='{user.name}'), RunAsPolicy()).switch)")  # fmt: skip
    result = subprocess.run(
        ["runuser", "-u", user.name, "--", "env", f"PYTHONPATH={ROOT}", "/usr/bin/python3", "-c", code],
        capture_output=True, text=True, timeout=30, cwd="/",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"cannot run as nobody: the daemon runs as {user.name} and is not root\nFalse\n"


def test_a_daemon_that_is_not_root_refuses_other_users(pg_url: str, tmp_path: Path, user: TestUser) -> None:
    python, extra_env = interpreter_for(user)
    shared = Path(tempfile.mkdtemp(prefix="jobctl-nonroot-"))
    os.chmod(shared, 0o755)
    try:
        config = write_config(shared / "jobctl.toml")
        store = open_store(pg_url)
        try:
            service = Service(store, ADMIN, default_timezone=TEST_ZONE)
            other = shell_job(service, "other", "id -u", scheduleConfig={"hours": 1}, runAsUser="nobody")
            own = shell_job(service, "own", "id -u; pwd", scheduleConfig={"hours": 1}, runAsUser=user.name)
            daemons = DaemonFactory(pg_url, config, tmp_path)
            try:
                daemons.start(user=user.name, python=python, extra_env=extra_env)
                refused = _finished(service, service.trigger_job(other["id"])["executionId"])
                mine_id = service.trigger_job(own["id"])["executionId"]
                mine = _finished(service, mine_id)
            finally:
                daemons.stop_all()
            assert refused["status"] == "failed"
            assert refused["errorMessage"] == f"cannot run as nobody: the daemon runs as {user.name} and is not root"
            assert mine["status"] == "success", mine["errorMessage"]
            assert service.get_execution_log(mine_id)["data"] == f"{user.uid}\n{user.home}\n"
        finally:
            store.close()
    finally:
        for path in shared.iterdir():
            path.unlink()
        shared.rmdir()


def test_run_in_the_foreground_as_root_bounding_users_without_a_default_warns_once(
    service: Service, daemons: DaemonFactory, user: TestUser
) -> None:
    """No daemon leads, so ``jobctl run`` runs the job itself, as root: the warning a daemon logs
    at its start under this config was not said anywhere; it is now said once on stderr."""
    write_config(daemons.config_path, allowed_run_as=[user.name])
    shell_job(service, "nameless", "id -u", scheduleConfig={"hours": 1})
    ran = cli(daemons, "run", "nameless")
    assert (ran.returncode, ran.stdout) == (0, "0\n"), ran.stderr
    assert ran.stderr.splitlines() == [
        "jobctl: warning: jobs that name no user run as root: [daemon] allowed_run_as is set but default_run_as is "
        f'not; add default_run_as = "{user.name}" to [daemon] to run them as that user'
    ]
    write_config(daemons.config_path, allowed_run_as=[user.name], default_run_as=user.name)
    bounded = cli(daemons, "run", "nameless")
    assert (bounded.returncode, bounded.stdout, bounded.stderr) == (0, f"{user.uid}\n", ""), bounded.stderr
