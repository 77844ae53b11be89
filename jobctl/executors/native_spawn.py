"""``posix_spawnp`` called through ``ctypes``, so that the interpreter lock is free while it runs.

``os.posix_spawnp`` keeps the interpreter lock for the whole call, and with the C library's
``vfork``-style start the call lasts until the child has executed its program: about 0.5 ms for
``sh -c true`` here, during which no other thread of the daemon (the recorder writing outcomes,
the reactor reading output) can run. In a burst of short runs that was half of the time the
daemon's threads spent in a row per run. A foreign call through ``ctypes`` releases the lock, so
the daemon goes on with its other work while the kernel starts the child on the other core.

Only what :func:`jobctl.executors.process.spawn` asks for is offered: three descriptors dup'ed
onto 0, 1 and 2, a new process group, SIGPIPE and SIGXFSZ back at their defaults and an empty
signal mask. :func:`available` is False where the C library does not have the calls (then the
caller uses ``os.posix_spawnp``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import signal
from collections.abc import Mapping, Sequence

POSIX_SPAWN_SETPGROUP = 0x02
POSIX_SPAWN_SETSIGDEF = 0x04
POSIX_SPAWN_SETSIGMASK = 0x08
"""The flag values of glibc and musl (``<spawn.h>``)."""

OPAQUE_BYTES = 1024
"""Room for ``posix_spawnattr_t``, ``posix_spawn_file_actions_t`` and ``sigset_t``: 336, 80 and
128 bytes on glibc x86-64, less on musl; the buffers are larger than any of them."""


class _Library:
    """The C library's spawn calls, and the one attribute set every child starts with."""

    def __init__(self, default_signals: Sequence[int]) -> None:
        name = ctypes.util.find_library("c") or "libc.so.6"
        libc = ctypes.CDLL(name, use_errno=True)  # CDLL, not PyDLL: each call releases the lock
        # The same library through calls that keep the lock, for the file actions (they only fill
        # memory): every call that lets the lock go is one more wait to win it back.
        quick = ctypes.PyDLL(name)
        self.spawnp = libc.posix_spawnp
        self.spawnp.argtypes = [
            ctypes.POINTER(ctypes.c_int),
            ctypes.c_char_p,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.POINTER(ctypes.c_char_p),
        ]
        self.spawnp.restype = ctypes.c_int
        self.actions_init = quick.posix_spawn_file_actions_init
        self.actions_adddup2 = quick.posix_spawn_file_actions_adddup2
        self.actions_adddup2.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        self.actions_destroy = quick.posix_spawn_file_actions_destroy
        self.attributes = ctypes.create_string_buffer(OPAQUE_BYTES)
        """Never changed after this: every spawn reads it, from any thread."""
        defaults = ctypes.create_string_buffer(OPAQUE_BYTES)
        empty = ctypes.create_string_buffer(OPAQUE_BYTES)
        _check(libc.sigemptyset(defaults), "sigemptyset")
        for number in default_signals:
            _check(libc.sigaddset(defaults, int(number)), "sigaddset")
        _check(libc.sigemptyset(empty), "sigemptyset")
        _check(libc.posix_spawnattr_init(self.attributes), "posix_spawnattr_init")
        _check(libc.posix_spawnattr_setsigdefault(self.attributes, defaults), "posix_spawnattr_setsigdefault")
        _check(libc.posix_spawnattr_setsigmask(self.attributes, empty), "posix_spawnattr_setsigmask")
        _check(libc.posix_spawnattr_setpgroup(self.attributes, 0), "posix_spawnattr_setpgroup")
        flags = ctypes.c_short(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        _check(libc.posix_spawnattr_setflags(self.attributes, flags), "posix_spawnattr_setflags")


def _check(code: int, call: str) -> None:
    if code != 0:
        raise OSError(f"{call} failed ({code})")


@functools.cache
def _library(default_signals: tuple[int, ...]) -> _Library | None:
    try:
        return _Library(default_signals)
    except (OSError, AttributeError):
        return None


def available(default_signals: Sequence[signal.Signals]) -> bool:
    """Whether :func:`spawnp` can be used here (the C library has the calls)."""
    return _library(tuple(int(s) for s in default_signals)) is not None


def spawnp(
    argv: Sequence[str],
    env: Mapping[str, str],
    descriptors: tuple[int, int, int],
    default_signals: Sequence[signal.Signals],
) -> int:
    """Start ``argv`` (``argv[0]`` looked up on the daemon's PATH, as ``os.posix_spawnp`` does)
    with ``descriptors`` as its stdin, stdout and stderr, in a new process group; its pid.

    Raises ``OSError`` when it cannot start (the C library reports a failed exec too) and
    ``ValueError`` for an argument or variable that cannot be passed (a NUL byte, a name with
    ``=``), as ``os.posix_spawnp`` does.
    """
    lib = _library(tuple(int(s) for s in default_signals))
    if lib is None:
        raise OSError("posix_spawnp is not available through ctypes")
    args = [_encoded(arg) for arg in argv]
    variables = _variables(env)
    arg_array = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    env_array = (ctypes.c_char_p * (len(variables) + 1))(*variables, None)
    actions = ctypes.create_string_buffer(OPAQUE_BYTES)
    _check(lib.actions_init(actions), "posix_spawn_file_actions_init")
    try:
        for source, target in zip(descriptors, (0, 1, 2), strict=True):
            _check(lib.actions_adddup2(actions, source, target), "posix_spawn_file_actions_adddup2")
        pid = ctypes.c_int()
        error = lib.spawnp(ctypes.byref(pid), args[0], actions, lib.attributes, arg_array, env_array)
    finally:
        lib.actions_destroy(actions)
    if error:
        raise OSError(error, os.strerror(error), argv[0])
    return pid.value


def _encoded(text: str) -> bytes:
    data = os.fsencode(text)
    if b"\0" in data:
        raise ValueError("embedded null byte")
    return data


def _variables(env: Mapping[str, str]) -> list[bytes]:
    """``NAME=value`` of every variable, checked as :func:`_variable` does, in one pass when all
    are fine (a run's environment has dozens of variables, and this is on the spawn's path)."""
    variables = [os.fsencode(f"{name}={value}") for name, value in env.items()]
    if any(b"\0" in variable for variable in variables) or any(not name or "=" in name[1:] for name in env):
        return [_variable(name, value) for name, value in env.items()]  # raises with the culprit
    return variables


def _variable(name: str, value: str) -> bytes:
    key = _encoded(name)
    if not key or b"=" in key[1:]:  # the test os.posix_spawnp makes
        raise ValueError(f"illegal environment variable name {name!r}")
    return key + b"=" + _encoded(value)
