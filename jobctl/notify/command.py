"""Command notifiers: ``argv`` run with the event JSON on standard input.

The command gets the clean environment of a run (``[daemon] path``, identity and locale
variables, ``pass_environment``; never the daemon's secrets, see docs/run-environment.md) plus
``JOBCTL_EVENT``, ``JOBCTL_JOB_NAME`` and ``JOBCTL_EXECUTION_ID``. Exit 0 is delivered.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

from jobctl.notifier_config import NotifierSpec
from jobctl.notify import DeliveryFailed


def command_environment(base: Mapping[str, str], payload: dict[str, Any]) -> dict[str, str]:
    job = payload.get("job") or {}
    execution = payload.get("execution") or {}
    return {
        **base,
        "JOBCTL_EVENT": str(payload["event"]),
        "JOBCTL_JOB_NAME": str(job.get("name") or ""),
        "JOBCTL_EXECUTION_ID": str(execution.get("id") or ""),
    }


def send_command(spec: NotifierSpec, payload: dict[str, Any], *, base_env: Mapping[str, str]) -> None:
    """Run the command. :raises DeliveryFailed: when it cannot start, times out or exits non-zero."""
    argv = list(spec.settings["argv"])
    try:
        done = subprocess.run(
            argv, input=json.dumps(payload).encode(), capture_output=True, timeout=spec.timeout, check=False,
            env=command_environment(base_env, payload), cwd="/", start_new_session=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        raise DeliveryFailed(f"{argv[0]} did not finish within {spec.timeout:g}s") from exc
    except OSError as exc:
        raise DeliveryFailed(f"cannot run {argv[0]}: {exc.strerror}") from exc
    if done.returncode != 0:
        stderr = done.stderr.decode(errors="replace").strip()[-300:]
        raise DeliveryFailed(f"{argv[0]} exited {done.returncode}" + (f": {stderr}" if stderr else ""))
