"""Free-form JSON through the real CLI (docs/free-form-json.md): a number that is not finite or
nesting past 64 levels in a ``--from-json`` body or a jobs file is exit 2 with one line and
nothing stored; what an older release stored reads back as valid JSON, ``null`` in its place."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from jobctl.store import open_store
from jobctl.wire.free_json import MAX_DEPTH
from tests.api.helpers import nested_args

FINITE = "must be a finite number: JSON has no NaN or Infinity"


def _strict_json(text: str) -> Any:
    """``text`` read as JSON, which has no NaN or Infinity (Python's reader would take them)."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON:\n{text}")

    return json.loads(text, parse_constant=refuse)


def _nothing_stored(run_json: Callable[..., Any]) -> None:
    assert run_json("jobs", "list", "--json")["jobs"] == []
    assert run_json("audit", "--json")["entries"] == []


BODY = '{"name": "n1", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5}, "taskArgs": %s}'


@pytest.mark.parametrize(
    ("args", "where"),
    [('{"command": "true", "x": NaN}', "taskArgs.x: "),
     ('{"command": "true", "x": [{"y": -Infinity}]}', "taskArgs.x.0.y: ")],
    ids=["nan", "nested-minus-infinity"],
)  # fmt: skip
def test_a_json_body_with_a_number_that_is_not_finite_is_exit_2_and_nothing_is_stored(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any], args: str, where: str
) -> None:
    fails(cli("jobs", "create", "--from-json", "-", input=BODY.replace("%s", args)), 2, where, FINITE)
    _nothing_stored(run_json)


def test_an_update_with_a_number_that_is_not_finite_is_exit_2(
    cli: Any, ok: Callable[[Any], Any], fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    ok(cli("jobs", "create", "n1", "--every", "5m", "--command", "true"))
    fails(cli("jobs", "update", "n1", "--from-json", "-", input='{"taskArgs": {"x": Infinity}}'), 2, "taskArgs.x: ")
    assert run_json("jobs", "show", "n1", "--json")["taskArgs"] == {"command": "true"}


def test_a_jobs_file_with_nan_or_inf_in_args_is_exit_2_and_nothing_is_stored(
    cli: Any, tmp_path: Any, fails: Callable[..., str], run_json: Callable[..., Any]
) -> None:
    path = tmp_path / "jobs.toml"
    path.write_text('[[jobs]]\nname = "t1"\nevery = "5m"\ncommand = "true"\nargs = {a = nan, b = inf}\n')
    fails(cli("apply", "-f", str(path)), 2, "job 't1': args.a: ", FINITE + ", got nan")
    _nothing_stored(run_json)


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 495], ids=["one-too-many", "495"])
def test_a_json_body_nested_too_deep_is_exit_2(
    cli: Any, fails: Callable[..., str], run_json: Callable[..., Any], levels: int
) -> None:
    """495 levels was ``jobctl: internal error: RecursionError``."""
    body = {"name": "deep", "taskFunctionId": 1, "jobTypeId": 1, "scheduleConfig": {"minutes": 5},
            "taskArgs": nested_args(levels)}  # fmt: skip
    fails(cli("jobs", "create", "--from-json", "-", input=json.dumps(body)), 2,
          f"taskArgs: is nested more than {MAX_DEPTH} levels deep")  # fmt: skip
    _nothing_stored(run_json)


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_input_nested_deeper_than_the_parser_reads_is_exit_2(
    cli: Any, tmp_path: Any, fails: Callable[..., str], suffix: str
) -> None:
    """Past what Python's JSON and TOML readers take themselves (a RecursionError inside them)."""
    levels = 100_000
    if suffix == ".json":
        text = '{"jobs": [{"name": "deep", "every": "5m", "command": "true", "args": {"a": %s}}]}' % (
            "[" * levels + "]" * levels
        )
    else:
        text = '[[jobs]]\nname = "deep"\nevery = "5m"\ncommand = "true"\nargs = {a = %s}\n' % (
            "[" * levels + "]" * levels
        )
    path = tmp_path / f"deep{suffix}"
    path.write_text(text)
    fails(cli("apply", "-f", str(path)), 2, "nested too deeply to read")
    body = path.with_name("body.json")
    body.write_text('{"name": "deep", "taskArgs": %s}' % ("[" * levels + "]" * levels))
    fails(cli("jobs", "create", "--from-json", str(body)), 2, "nested too deeply to read")


def test_json_output_of_a_stored_number_that_is_not_finite_is_json(
    cli: Any, store_url: str, ok: Callable[[Any], Any]
) -> None:
    """An older release stored ``NaN`` as ``json.dumps`` writes it; with an integer over 64 bits
    beside it (which sends ``--json`` to the standard library's encoder) it was printed as is."""
    ok(cli("jobs", "create", "old", "--every", "5m", "--command", "true"))
    store = open_store(store_url)
    try:
        args = '{"command":"true","x":NaN,"big":123456789012345678901234567890}'
        store.db.execute("UPDATE jobs SET task_args = :args", {"args": args})
        details = '{"changes":{"taskArgs":{"old":{"x":Infinity},"new":{"x":NaN,"big":123456789012345678901234567890}}}}'
        store.db.execute("UPDATE audit_log SET details = :details", {"details": details})
    finally:
        store.close()
    entries = _strict_json(ok(cli("audit", "--json")).stdout)["entries"]
    assert entries[0]["details"]["changes"]["taskArgs"]["new"]["x"] is None
    shown = _strict_json(ok(cli("jobs", "show", "old", "--json")).stdout)
    assert shown["taskArgs"] == {"command": "true", "x": None, "big": 123456789012345678901234567890}
    listed = _strict_json(ok(cli("jobs", "list", "--json")).stdout)
    assert listed["jobs"][0]["taskArgs"]["x"] is None
    assert "NaN" not in ok(cli("audit")).stdout
