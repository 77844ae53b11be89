"""Child-process side of ``python`` task functions: import, call with ``**taskArgs``, report.

Started by :func:`jobctl.executors.isolation.python_argv` (an isolated interpreter whose import
path the daemon sets), with ``pkg.module:func`` as its argument. Arguments come as JSON in
``$JOBCTL_TASK_ARGS``; the outcome is written as JSON to ``$JOBCTL_RESULT_FILE``:
``{"result": ...}`` or ``{"error": "ValueError: ..."}``. A separate process lets the daemon
time the call out and kill it, and keeps the callable's crashes out of the daemon.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback
from typing import Any


def load(path: str) -> Any:
    """The callable at ``pkg.module:func`` or ``pkg.module.func``."""
    module_name, sep, attribute = path.partition(":")
    if not sep:
        module_name, _, attribute = path.rpartition(".")
    if not module_name or not attribute:
        raise ImportError(f"{path!r} is not a dotted path to a callable")
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise TypeError(f"{path!r} is not callable")
    return target


def as_result(value: Any) -> Any:
    """The return value as JSON: a dict as is, anything else as ``{"value": ...}``."""
    wrapped = value if isinstance(value, dict) else {"value": value}
    json.dumps(wrapped)
    return wrapped


def main(argv: list[str]) -> int:
    report_path = os.environ["JOBCTL_RESULT_FILE"]
    try:
        kwargs = json.loads(os.environ.get("JOBCTL_TASK_ARGS") or "{}")
        report = {"result": as_result(load(argv[1])(**kwargs))}
        code = 0
    except BaseException as exc:  # noqa: BLE001 - every failure of the callable is its outcome
        traceback.print_exc()
        report = {"error": f"{type(exc).__name__}: {exc}"}
        code = 1
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
