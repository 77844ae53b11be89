"""Child-process side of ``python`` task functions: import, call with ``**taskArgs``, report.

Started by :func:`jobctl.executors.isolation.python_argv` (an isolated interpreter whose import
path the daemon sets), with ``pkg.module:func`` as its argument. Arguments come as JSON in
``$JOBCTL_TASK_ARGS``; the outcome is written as JSON to ``$JOBCTL_RESULT_FILE``:
``{"result": ...}``, ``{"error": "ValueError: ..."}``, or ``{"exitCode": N}`` (with an
``error`` for a message) when the callable called ``sys.exit``. A separate process lets the daemon
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


class NotJson(Exception):
    """The callable returned something JSON cannot hold (a ``datetime``, an object, ``nan``)."""


def as_result(value: Any) -> Any:
    """The return value as JSON: a dict as is, anything else as ``{"value": ...}``.

    :raises NotJson: with json's own words (``Object of type datetime is not JSON
        serializable``); NaN and infinities count, since a JSON reader (Postgres, the API's
        answers) refuses them too.
    """
    wrapped = value if isinstance(value, dict) else {"value": value}
    try:
        json.dumps(wrapped, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise NotJson(str(exc)) from None
    return wrapped


def main(argv: list[str]) -> int:
    """Call the callable and write its report; the process's exit code is the run's.

    ``sys.exit(n)`` in the callable ends the run as it would end a script: with code ``n``
    (``None`` is 0), reported as ``{"exitCode": n}``; ``sys.exit("message")`` with code 1 and
    the message as the error. Neither is an exception of the callable, so no traceback is
    printed; nor for a return value that is not JSON, whose traceback would be this runner's.
    """
    report_path = os.environ["JOBCTL_RESULT_FILE"]
    target = argv[1]
    code = 1
    try:
        kwargs = json.loads(os.environ.get("JOBCTL_TASK_ARGS") or "{}")
        value = load(target)(**kwargs)
        report: dict[str, Any] = {"result": as_result(value)}
        code = 0
    except SystemExit as exc:
        report, code = _exit_report(exc)
    except NotJson as exc:
        report = {"error": f"the return value of {target} is not JSON: {exc}"}
    except BaseException as exc:  # noqa: BLE001 - every failure of the callable is its outcome
        traceback.print_exc()
        report = {"error": f"{type(exc).__name__}: {exc}"}
    with open(report_path, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return code


def _exit_report(exc: SystemExit) -> tuple[dict[str, Any], int]:
    """The report and exit code of ``sys.exit(...)``, by the interpreter's own rule: an int (or
    None, 0) is the code; anything else is a message, and the code is 1."""
    if exc.code is None or isinstance(exc.code, int):
        code = int(exc.code or 0)
        return {"exitCode": code}, code
    return {"exitCode": 1, "error": str(exc.code)}, 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
