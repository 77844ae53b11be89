"""The local actor of the audit log and of ``createdBy``/``cancelledBy``: the real user of the
process, which ``$LOGNAME`` and ``$USER`` cannot change (docs/audit-log.md)."""

from __future__ import annotations

import json
import os
import pwd
from collections.abc import Callable
from typing import Any

FORGED = {"LOGNAME": "mallory", "USER": "mallory", "LNAME": "mallory", "USERNAME": "mallory"}
"""Every variable ``getpass.getuser`` reads, set to a name that is not the process's user."""


def test_the_local_actor_is_the_real_user_whatever_logname_says(
    cli: Any, ok: Callable[[Any], Any], run_json: Callable[..., Any]
) -> None:
    real = f"local:{pwd.getpwuid(os.getuid()).pw_name}"
    created = json.loads(ok(cli("jobs", "create", "nightly", "--every", "1h", "--command", "true", "--json",
                                env=FORGED)).stdout)  # fmt: skip
    assert created["createdBy"] == real, created
    ok(cli("jobs", "pause", "nightly", "--reason", "disk swap", env=FORGED))
    entries = run_json("audit", "--job", "nightly", "--json")
    assert [entry["actor"] for entry in entries["entries"]] == [real, real], entries
