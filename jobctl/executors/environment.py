"""The environment a local run starts with: a small known one, not the daemon's (docs/run-environment.md).

A daemon is often started with secrets in its environment (``PGPASSWORD``, a cloud key, its own
``JOBCTL_TOKEN``); handing all of it to every job would let any job print them into output that
viewers read. So, as cron and systemd do, a run gets ``PATH`` (``[daemon] path``), the daemon's
identity and locale variables (:data:`KEPT_VARIABLES`, ``LC_*``), the variables the daemon's
config names in ``[daemon] pass_environment``, and then the run's own ``JOBCTL_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from jobctl.models import DEFAULT_RUN_PATH

KEPT_VARIABLES = ("HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ")
"""Variables a run gets as the daemon has them (with every ``LC_*``): who runs, and how text and
times are shown. None of them is meant to hold a secret."""


def base_environment(
    *, path: str = DEFAULT_RUN_PATH, passed: Sequence[str] = (), source: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The part of every local run's environment that comes from the daemon, worked out once.

    ``source`` is the daemon's environment (``os.environ`` by default). A name in ``passed`` that
    the daemon does not have is left out, as systemd's ``PassEnvironment=`` does; naming ``PATH``
    there hands on the daemon's own ``PATH`` instead of ``path``.
    """
    daemon = dict(os.environ if source is None else source)
    env = {"PATH": path}
    for name, value in daemon.items():
        if name in KEPT_VARIABLES or name.startswith("LC_"):
            env[name] = value
    for name in passed:
        if name in daemon:
            env[name] = daemon[name]
    return env
