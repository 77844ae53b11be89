"""``--env`` and ``--clear-env`` of ``jobs create``/``update``, and ``show --json`` accepted back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def test_env_options_set_replace_and_clear_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "env", "--every", "1h", "--command", "env",
                       "--env", "A=1", "--env", "B=x=y", "--json")  # fmt: skip
    assert created["environment"] == {"A": "1", "B": "x=y"}
    assert run_json("jobs", "create", "plain", "--every", "1h", "--command", "env", "--json")["environment"] is None
    updated = run_json("jobs", "update", "env", "--env", "C=3", "--json")
    assert updated["environment"] == {"C": "3"}
    shown = run_json("jobs", "show", "env", "--json")
    check = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert check["environment"] == {"C": "3"}
    assert run_json("jobs", "update", "env", "--clear-env", "--json")["environment"] is None
    fails(cli("jobs", "update", "env", "--env", "NOVALUE"), 2, "--env")
    fails(cli("jobs", "update", "env", "--env", "BAD-NAME=1"), 2, "environment")
    assert run_json("jobs", "show", "env", "--json")["environment"] is None


def test_run_context_options_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "ctx", "--every", "1h", "--command", "pwd", "--working-directory", "/srv",
                       "--umask", "027", "--nice", "5", "--json")  # fmt: skip
    assert (created["workingDirectory"], created["umask"], created["nice"]) == ("/srv", "027", 5)
    updated = run_json("jobs", "update", "ctx", "--nice", "0", "--json")
    assert (updated["workingDirectory"], updated["umask"], updated["nice"]) == ("/srv", "027", 0)
    shown = run_json("jobs", "show", "ctx", "--json")
    copy = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert (copy["workingDirectory"], copy["umask"], copy["nice"]) == ("/srv", "027", 0)
    fails(cli("jobs", "update", "ctx", "--working-directory", "relative"), 2, "workingDirectory")
    fails(cli("jobs", "update", "ctx", "--umask", "8"), 2, "umask")


def test_the_stdin_option_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "fed", "--every", "1h", "--command", "cat", "--stdin", "a\nb\n", "--json")
    assert created["stdin"] == "a\nb\n"
    shown = run_json("jobs", "show", "fed", "--json")
    copy = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert copy["stdin"] == "a\nb\n"
    fails(cli("jobs", "update", "fed", "--stdin", "x" * 65537), 2, "stdin")


def test_run_as_options_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "as", "--every", "1h", "--command", "id", "--run-as-user", "nobody",
                       "--run-as-group", "0", "--json")  # fmt: skip
    assert (created["runAsUser"], created["runAsGroup"]) == ("nobody", "0")
    shown = run_json("jobs", "show", "as", "--json")
    copy = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert (copy["runAsUser"], copy["runAsGroup"]) == ("nobody", "0")
    fails(cli("jobs", "update", "as", "--run-as-user", "no-such-user-x"), 2, "runAsUser")
