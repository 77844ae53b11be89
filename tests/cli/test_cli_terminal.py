"""Control characters from names, messages and a job's output never reach a terminal raw.

Human output shows them escaped (``\\x1b``, ``\\r``, ``\\u202e``); ``--json`` keeps the data;
a job's output keeps its colours on a terminal and its exact bytes into a pipe.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from jobctl.cli.terminal import OutputFilter, printable
from tests.cli.helpers import Outcome, in_terminal

HOSTILE_NAME = "evil\u202egnp.sh\x9b2J\x7f"  # names refuse C0 controls, not these
HOSTILE_DESCRIPTION = "first\rOVERWRITTEN\x1b]0;pwned\x07\x1b[2J\u2066"
JOB_SCRIPT = (
    r"printf '\033]0;title\007\033[31mred\033[0m\rhidden\n\342\200\256gnp.exe\n';"
    r" printf 'bad\033[2J\n' >&2; exit 3"
)
JOB_OUTPUT = "\x1b]0;title\x07\x1b[31mred\x1b[0m\rhidden\n\u202egnp.exe\nbad\x1b[2J\n"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;:]*m")


def exact(cli: Any, *args: str) -> Outcome:
    """The CLI's output as written: no newline translation that would turn a raw ``\\r`` into ``\\n``."""
    proc = subprocess.run([sys.executable, "-m", "jobctl", *args], capture_output=True, env=cli.env, timeout=60)
    return Outcome(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def raw_controls(text: str) -> list[str]:
    """Control characters in ``text`` other than newlines and colour sequences."""
    return RAW.findall(SGR.sub("", text))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b]0;t\x07", "\\x1b]0;t\\x07"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("\u202eabc\u2066\u200f", "\\u202eabc\\u2066\\u200f"),
        ("\x7f\x9b\u2028", "\\x7f\\x9b\\u2028"),
        ("\udcff", "\\udcff"),
        ("plain äö 日本 ✓ [red]x[/red]", "plain äö 日本 ✓ [red]x[/red]"),
    ],
    ids=["osc", "cr-lf-tab", "bidi", "del-c1-separator", "surrogate", "printable"],
)
def test_printable_escapes_controls_only(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_output_filter_keeps_colours_and_line_ends_across_chunks() -> None:
    out = OutputFilter()
    pieces = [out.feed("a\x1b[3"), out.feed("1mred\x1b[0m\r"), out.feed("\nb\x1b]0;x\x07\r"), out.feed("c\x1b"),
              out.flush()]  # fmt: skip
    assert "".join(pieces) == "a\x1b[31mred\x1b[0m\r\nb\\x1b]0;x\\x07\\rc\\x1b"


def test_names_messages_and_output_are_escaped_for_people(
    cli: Any, run_json: Callable[..., Any], fails: Callable[..., str]
) -> None:
    created = run_json("jobs", "create", HOSTILE_NAME, "--every", "1h", "--command", JOB_SCRIPT,
                       "--description", HOSTILE_DESCRIPTION, "--json")  # fmt: skip
    assert (created["name"], created["description"]) == (HOSTILE_NAME, HOSTILE_DESCRIPTION)
    run = exact(cli, "run", created["id"])
    assert (run.code, run.stdout) == (3, JOB_OUTPUT), run  # into a pipe: the job's own bytes
    assert raw_controls(run.stderr) == [] and "bad\\x1b[2J" in run.stderr
    execution = run_json("executions", "list", "--json")["executions"][0]
    assert "bad\x1b[2J" in execution["errorMessage"]
    shown_name = "evil\\u202egnp.sh\\x9b2J\\x7f"
    for args in (["jobs", "list"], ["jobs", "show", created["id"]], ["executions", "list"], ["status"],
                 ["jobs", "update", created["id"], "--retries", "1"]):  # fmt: skip
        result = exact(cli, *args)
        assert result.code == 0 and raw_controls(result.stdout + result.stderr) == [], (args, result)
        if args[0] == "jobs":
            assert shown_name in result.stdout, (args, result.stdout)
    shown = exact(cli, "jobs", "show", created["id"]).stdout
    assert "first\\rOVERWRITTEN\\x1b]0;pwned\\x07\\x1b[2J\\u2066" in shown
    detail = exact(cli, "executions", "show", execution["id"])
    fields, _, output = detail.stdout.partition("  output:\n")
    assert raw_controls(fields) == [] and "bad\\x1b[2J" in fields
    assert output == JOB_OUTPUT
    assert json.loads(cli("jobs", "show", created["id"], "--json").stdout)["name"] == HOSTILE_NAME
    error = fails(exact(cli, "jobs", "show", "no\x1b[2Jsuch"), 3)
    assert raw_controls(error) == [] and "no\\x1b[2Jsuch" in error


def test_job_output_on_a_terminal_keeps_colours_and_escapes_the_rest(
    cli: Any, run_json: Callable[..., Any], store_url: str
) -> None:
    if not store_url.startswith("sqlite"):  # the output's bytes round-trip on both stores in the test above
        pytest.skip("what a terminal is shown, the same on either store: checked on SQLite")
    created = run_json("jobs", "create", "colours", "--every", "1h", "--command", JOB_SCRIPT, "--json")
    run = in_terminal(cli.env, "run", created["id"])
    assert run.code == 3, run
    execution_id = run_json("executions", "list", "--json")["executions"][0]["id"]
    tail = in_terminal(cli.env, "executions", "tail", execution_id)
    show = in_terminal(cli.env, "executions", "show", execution_id)
    for result in (run, tail, show):
        assert raw_controls(result.stdout) == [], result
        assert "\x1b[31mred\x1b[0m\\rhidden" in result.stdout
        assert "\\x1b]0;title\\x07" in result.stdout and "\\u202egnp.exe" in result.stdout
