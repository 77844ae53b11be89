"""Where and how a run's process starts when its job asks for more than the defaults
(``workingDirectory``, ``umask``, ``nice``): docs/run-context.md.

``posix_spawn`` cannot change a child's directory, umask or nice value, and doing it in the
daemon between fork and exec needs a ``preexec_fn`` (slow, and unsafe in a threaded parent).
So a run that changes any of them starts through ``/bin/sh`` as a small exec wrapper: the shell
changes directory and umask, then ``exec``\\ s the run's own command (through ``nice`` when a
nice value is set), keeping its pid, process group and environment. A run that changes nothing
takes the plain spawn, as before.
"""

from __future__ import annotations

import functools
import grp
import os
import pwd
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from jobctl.models import DEFAULT_RUN_PATH

DEFAULT_DIRECTORY = "/"
DEFAULT_UMASK = 0o022

WRAPPER = 'cd -- "$1" || exit 126; umask "$2" || exit 126; shift 2; exec "$@"'
"""The exec wrapper's script: ``$1`` the directory, ``$2`` the umask, then the run's argv."""


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What a job asks of its run's process; None is the default."""

    working_directory: str | None = None
    umask: str | None = None
    nice: int | None = None
    run_as_user: str | None = None
    run_as_group: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunAsPolicy:
    """``[daemon] default_run_as`` and ``allowed_run_as`` (None: any user but root unless the
    default user is root; ``("*",)``: any)."""

    default_user: str | None = None
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Identity:
    """The user a run switches to, from the passwd and group databases."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str
    shell: str
    switch: bool
    """False when it is the daemon's own identity already (nothing to change)."""
    named: bool
    """Whether the job or ``default_run_as`` named the user. A run with only a ``runAsGroup``
    keeps the daemon's user, and with it the daemon's directory default (``/``) and variables."""

    def variables(self) -> dict[str, str]:
        return {"HOME": self.home, "USER": self.name, "LOGNAME": self.name, "SHELL": self.shell}


def lookup_user(spec: str) -> pwd.struct_passwd | None:
    """The passwd entry of a user name or a uid given as digits, or None."""
    try:
        return pwd.getpwuid(int(spec)) if spec.isdigit() else pwd.getpwnam(spec)
    except (KeyError, OverflowError):
        return None


def lookup_group(spec: str) -> grp.struct_group | None:
    """The group entry of a group name or a gid given as digits, or None."""
    try:
        return grp.getgrgid(int(spec)) if spec.isdigit() else grp.getgrnam(spec)
    except (KeyError, OverflowError):
        return None


def identity(context: RunContext, policy: RunAsPolicy) -> Identity | str | None:
    """Who the run runs as (None: the daemon, unchanged), or why it cannot: docs/run-as.md's rules.

    A user the job or ``default_run_as`` names is held to ``allowed_run_as`` even when it is the
    daemon's own: "own" only spares a run the switch, never the check, or a job naming root would
    pass every bound of a root daemon. A daemon that is not root can run as nothing but itself.
    """
    wanted = context.run_as_user or policy.default_user
    if wanted is None and context.run_as_group is None:
        return None
    entry = lookup_user(wanted) if wanted is not None else pwd.getpwuid(os.geteuid())
    if entry is None:
        return f"cannot run as {wanted}: no such user"
    gid, group = entry.pw_gid, None
    if context.run_as_group is not None:
        group = lookup_group(context.run_as_group)
        if group is None:
            return f"cannot run as group {context.run_as_group}: no such group"
        gid = group.gr_gid
    own = entry.pw_uid == os.geteuid() and gid == os.getegid()
    if os.geteuid() != 0:
        if not own:
            me = pwd.getpwuid(os.geteuid()).pw_name
            return f"cannot run as {wanted or entry.pw_name}: the daemon runs as {me} and is not root"
    elif wanted is not None and not _allowed(entry, policy):
        return f"cannot run as {entry.pw_name}: not allowed by [daemon] allowed_run_as"
    if group is not None and not member_of(entry, gid):
        return f"cannot run as group {group.gr_name}: {entry.pw_name} is not a member"
    groups = tuple(os.getgrouplist(entry.pw_name, gid))
    return Identity(
        name=entry.pw_name, uid=entry.pw_uid, gid=gid, groups=groups, home=entry.pw_dir,
        shell=entry.pw_shell or "/bin/sh", switch=not own, named=wanted is not None,
    )  # fmt: skip


def root_default_warning(policy: RunAsPolicy) -> str | None:
    """A warning when a root daemon bounds the users jobs may name but not the user of the jobs
    that name none: those run as root, which a reader of ``allowed_run_as`` alone would not
    expect (docs/run-as.md's table). None when there is nothing to say.
    """
    if os.geteuid() != 0 or policy.allowed is None or policy.default_user is not None:
        return None
    listed = [name for name in policy.allowed if name != "*" and name not in ("root", "0")]
    example = listed[0] if listed else "USER"
    return (
        "jobs that name no user run as root: [daemon] allowed_run_as is set but default_run_as is not; "
        f'add default_run_as = "{example}" to [daemon] to run them as that user'
    )


def member_of(entry: pwd.struct_passwd, gid: int) -> bool:
    """Whether the user may run with group ``gid``, as sudo's ``-g`` allows: root any group, anyone
    else its primary group or a supplementary one of the group database (``getgrouplist``)."""
    return entry.pw_uid == 0 or gid in os.getgrouplist(entry.pw_name, entry.pw_gid)


def _allowed(entry: pwd.struct_passwd, policy: RunAsPolicy) -> bool:
    if policy.allowed is not None:
        return "*" in policy.allowed or entry.pw_name in policy.allowed or str(entry.pw_uid) in policy.allowed
    default = lookup_user(policy.default_user) if policy.default_user else pwd.getpwuid(os.geteuid())
    return entry.pw_uid != 0 or (default is not None and default.pw_uid == 0)


def prepare(argv: Sequence[str], context: RunContext, who: Identity | None = None) -> list[str] | str:
    """The argv that starts ``argv`` in ``context`` as ``who``, or an error message when it cannot.

    The plain ``argv`` when nothing differs from what the daemon's children get anyway.
    """
    directory = _directory(context, who) or DEFAULT_DIRECTORY
    mask = int(context.umask, 8) if context.umask is not None else DEFAULT_UMASK
    switch = who is not None and who.switch
    if directory == DEFAULT_DIRECTORY and mask == daemon_umask() and context.nice is None and not switch:
        return list(argv)
    # The wrapper enters the directory as the run's user, as systemd's WorkingDirectory= does: a
    # directory that user may not enter fails the run instead of being entered by root for it.
    started = ["/bin/sh", "-c", WRAPPER, "jobctl-run", directory, f"{mask:04o}", *argv]
    if who is not None and who.switch:
        setpriv = shutil.which("setpriv", path=DEFAULT_RUN_PATH)
        if setpriv is None:
            return f"cannot run as {who.name}: no setpriv program on the PATH"
        groups = [f"--groups={','.join(map(str, who.groups))}"] if who.groups else ["--clear-groups"]
        started = [setpriv, f"--reuid={who.uid}", f"--regid={who.gid}", *groups, "--", *started]
    if context.nice is not None:  # before the switch: only root may lower it
        current = os.getpriority(os.PRIO_PROCESS, 0)
        if context.nice < current and os.geteuid() != 0:
            return f"cannot set nice {context.nice}: the daemon runs at {current} and is not root"
        nice = nice_program()
        if nice is None:
            return "cannot set nice: no nice program on the PATH"
        started = [nice, "-n", str(context.nice - current), "--", *started]
    return started


def missing_directory(context: RunContext, who: Identity | None = None) -> str | None:
    """Why the run cannot start in its directory (checked at the moment it starts), or None."""
    directory = _directory(context, who)
    if directory is None or os.path.isdir(directory):
        return None
    return f"working directory {directory} does not exist"


def _directory(context: RunContext, who: Identity | None) -> str | None:
    """The job's directory, else its named user's home, else None (the default, ``/``)."""
    return context.working_directory or (who.home if who is not None and who.named else None)


@functools.cache
def daemon_umask() -> int:
    """This process's umask, read once (reading it means setting it; nothing else creates files yet)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@functools.cache
def nice_program() -> str | None:
    return shutil.which("nice", path=DEFAULT_RUN_PATH)
