"""A table into a pipe or file has no blanks at the ends of its lines: its last cell is not
padded to the column's width (a 300-character error padded every other line of
``executions list`` with up to 300 spaces, which ``grep``, ``diff`` and ``cut`` carried along)."""

from __future__ import annotations

from tests.conftest import Cli


def test_listings_into_a_pipe_end_their_lines_at_the_last_character(cli: Cli) -> None:
    long_error = "a long error message " * 8
    assert cli("jobs", "create", "failer", "--every", "1h", "--command", f"echo '{long_error}' >&2; exit 3").code == 0
    assert cli("jobs", "create", "fine", "--every", "1h", "--command", "true").code == 0
    assert cli("run", "failer").code == 3
    assert cli("run", "fine").code == 0
    for command in (["executions", "list"], ["jobs", "list"], ["executions", "list", "--limit", "1"], ["audit"]):
        result = cli(*command, env={"COLUMNS": "400"})
        assert result.code == 0, result
        lines = result.stdout.splitlines()
        assert len(lines) >= 3, result.stdout
        padded = [line for line in lines if line != line.rstrip()]
        assert padded == [], (command, padded)
    listed = cli("executions", "list", env={"COLUMNS": "400"}).stdout
    assert long_error.strip() in listed, "the long cell itself is whole"
    assert [line.split()[1] for line in listed.splitlines()[1:3]] == ["fine", "failer"]
