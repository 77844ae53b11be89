"""``--env``, ``--unset-env`` and ``--clear-env`` of ``jobs create``/``update``, ``jobs show``,
and ``show --json`` accepted back."""

from __future__ import annotations

import json
import pwd
from collections.abc import Callable
from typing import Any

import pytest

DEFAULT_USERS_HOME = "the default user's home (/ without [daemon] default_run_as)"
"""Where ``jobs show`` says a job that names no directory and no user starts."""


def test_env_options_set_replace_and_clear_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "env", "--every", "1h", "--command", "env",
                       "--env", "A=1", "--env", "B=x=y", "--json")  # fmt: skip
    assert created["environment"] == {"A": "1", "B": "x=y"}
    assert run_json("jobs", "create", "plain", "--every", "1h", "--command", "env", "--json")["environment"] is None
    updated = run_json("jobs", "update", "env", "--env", "C=3", "--env", "A=changed", "--json")
    assert updated["environment"] == {"A": "changed", "B": "x=y", "C": "3"}, "--env adds and changes, keeps the rest"
    updated = run_json("jobs", "update", "env", "--unset-env", "A", "--unset-env", "B", "--unset-env", "NONE", "--json")
    assert updated["environment"] == {"C": "3"}
    assert run_json("jobs", "update", "env", "--clear-env", "--env", "Z=1", "--json")["environment"] == {"Z": "1"}
    assert run_json("jobs", "update", "env", "--unset-env", "Z", "--env", "C=3", "--json")["environment"] == {"C": "3"}
    shown = run_json("jobs", "show", "env", "--json")
    check = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert check["environment"] == {"C": "3"}
    assert run_json("jobs", "update", "env", "--clear-env", "--json")["environment"] is None
    fails(cli("jobs", "update", "env", "--env", "NOVALUE"), 2, "--env")
    fails(cli("jobs", "update", "env", "--env", "BAD-NAME=1"), 2, "--env: name must be a shell variable name")
    assert run_json("jobs", "show", "env", "--json")["environment"] is None


def test_a_variable_both_set_and_unset_is_refused_and_the_job_kept(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    """Options of different names lose their order on the command line: ``--unset-env A --env A=3``
    could mean either, so it is exit 2 and the job stays as it was."""
    run_json("jobs", "create", "both", "--every", "1h", "--command", "env", "--env", "A=1", "--env", "B=2", "--json")
    message = fails(cli("jobs", "update", "both", "--unset-env", "A", "--env", "A=3"), 2, "--unset-env")
    assert "both name A" in message
    fails(cli("jobs", "update", "both", "--env", "A=3", "--unset-env", "B", "--unset-env", "A"), 2, "both name A")
    assert run_json("jobs", "show", "both", "--json")["environment"] == {"A": "1", "B": "2"}
    assert run_json("jobs", "update", "both", "--clear-env", "--env", "A=3", "--json")["environment"] == {"A": "3"}
    assert run_json("jobs", "update", "both", "--label", "team=ops", "--json")["labels"] == {"team": "ops"}
    fails(cli("jobs", "update", "both", "--unlabel", "team", "--label", "team=db"), 2, "--unlabel both name team")
    assert run_json("jobs", "show", "both", "--json")["labels"] == {"team": "ops"}, "the label was removed"


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
    fails(
        cli("jobs", "update", "ctx", "--working-directory", "relative"), 2, "--working-directory: must be an absolute"
    )
    fails(cli("jobs", "update", "ctx", "--umask", "8"), 2, "--umask: must be an octal mode")


def test_the_stdin_option_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    created = run_json("jobs", "create", "fed", "--every", "1h", "--command", "cat", "--stdin", "a\nb\n", "--json")
    assert created["stdin"] == "a\nb\n"
    shown = run_json("jobs", "show", "fed", "--json")
    copy = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert copy["stdin"] == "a\nb\n"
    fails(cli("jobs", "update", "fed", "--stdin", "x" * 65537), 2, "--stdin: must be at most 65536 bytes")


def test_run_as_options_and_show_json_goes_back_in(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    group = str(pwd.getpwnam("nobody").pw_gid)  # a group nobody is in: its own
    created = run_json("jobs", "create", "as", "--every", "1h", "--command", "id", "--run-as-user", "nobody",
                       "--run-as-group", group, "--json")  # fmt: skip
    assert (created["runAsUser"], created["runAsGroup"]) == ("nobody", group)
    shown = run_json("jobs", "show", "as", "--json")
    copy = run_json("jobs", "create", "--from-json", "-", "--json", input=json.dumps({**shown, "name": "copy"}))
    assert (copy["runAsUser"], copy["runAsGroup"]) == ("nobody", group)
    fails(cli("jobs", "update", "as", "--run-as-user", "no-such-user-x"), 2, "--run-as-user: no user")
    fails(cli("jobs", "update", "as", "--run-as-group", "0"), 2, "--run-as-group: nobody is not a member")


def _fields(text: str) -> dict[str, str]:
    """``label    value`` lines of ``jobs show`` as a mapping."""
    import re

    found = (re.match(r"^\s*([a-z][a-z ]*?)\s{2,}(.*\S)\s*$", line) for line in text.splitlines())
    return {match.group(1): match.group(2) for match in found if match}


def test_jobs_show_tells_how_runs_start_without_the_secret_values(
    cli: Any, run_json: Callable[..., Any], store_url: str
) -> None:
    if not store_url.startswith("sqlite"):
        pytest.skip("rendering, the same on either store: checked on SQLite")
    run_json("jobs", "create", "ctx-show", "--every", "1h", "--command", "true", "--env", "DB_PASSWORD=hunter2",
             "--env", "MODE=fast", "--working-directory", "/srv", "--umask", "027", "--nice", "5",
             "--run-as-user", "root", "--run-as-group", "root", "--stdin", "secret-input", "--retries", "2",
             "--retry-backoff", "exponential", "--retry-max-delay", "10m", "--retry-on-exit-code", "75",
             "--json")  # fmt: skip
    shown = cli("jobs", "show", "ctx-show")
    assert shown.code == 0, shown
    fields = _fields(shown.stdout)
    assert fields["run as"] == "root, group root", fields
    assert (fields["directory"], fields["umask"], fields["nice"]) == ("/srv", "027", "5")
    assert fields["environment"] == "DB_PASSWORD MODE"
    assert fields["stdin"] == "12 bytes"
    assert fields["retries"] == "2, exponential from 60s (at most 600s), on exit 75"
    assert "hunter2" not in shown.stdout and "secret-input" not in shown.stdout
    run_json("jobs", "create", "plain-show", "--every", "1h", "--command", "true", "--json")
    plain = _fields(cli("jobs", "show", "plain-show").stdout)
    assert {key: plain[key] for key in ("run as", "directory", "umask", "nice", "environment", "stdin", "retries")} == {
        "run as": "the daemon's default", "directory": DEFAULT_USERS_HOME, "umask": "022", "nice": "the daemon's",
        "environment": "-", "stdin": "-", "retries": "none"}  # fmt: skip


def test_a_daemon_whose_default_run_as_user_does_not_exist_does_not_start(cli: Any, tmp_path: Any) -> None:
    config = tmp_path / "bad-default.toml"
    config.write_text('[daemon]\ndefault_run_as = "no-such-user-here"\n')
    result = cli("--config", str(config), "daemon", "--no-api")
    assert result.code == 2, result
    assert result.stderr == (
        f"jobctl: config file {config}: [daemon] default_run_as names no user of this host: 'no-such-user-here'\n"
    )


def test_jobs_show_says_where_a_job_naming_no_user_starts_whatever_the_config(
    cli: Any, run_json: Callable[..., Any], store_url: str, tmp_path: Any
) -> None:
    """``directory /`` was shown for a job naming no user while ``[daemon] default_run_as``
    started its runs in that user's home. The config is not the job's, so the line says both
    cases, the same with and without ``default_run_as``; a job with only a group names no user
    either, and one with a user or a directory says so."""
    if not store_url.startswith("sqlite"):
        pytest.skip("rendering, the same on either store: checked on SQLite")
    run_json("jobs", "create", "nobody-named", "--every", "1h", "--command", "true", "--json")
    run_json("jobs", "create", "group-only", "--every", "1h", "--command", "true", "--run-as-group", "root", "--json")
    run_json("jobs", "create", "user-named", "--every", "1h", "--command", "true", "--run-as-user", "root", "--json")
    config = tmp_path / "default-user.toml"
    config.write_text('[daemon]\ndefault_run_as = "nobody"\n')
    for with_config in ((), ("--config", str(config))):
        directories = {name: _fields(cli(*with_config, "jobs", "show", name).stdout)["directory"]
                       for name in ("nobody-named", "group-only", "user-named")}  # fmt: skip
        assert directories == {
            "nobody-named": DEFAULT_USERS_HOME, "group-only": DEFAULT_USERS_HOME, "user-named": "the user's home"
        }, with_config  # fmt: skip
