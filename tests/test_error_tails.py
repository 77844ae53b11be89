"""The tail of a traceback or a stderr that an error message keeps: whole lines, when it can."""

from __future__ import annotations

import pytest

from jobctl.executors.outcome import tail_at_a_line


@pytest.mark.parametrize(
    ("text", "limit", "kept"),
    [
        ("one\ntwo\nthree", 100, "one\ntwo\nthree"),
        ("one\ntwo\nthree", 8, "three"),  # "wo\nthree" would begin mid-word
        ("one\ntwo\nthree", 9, "two\nthree"),  # the cut falls just after a newline
        ("one\ntwo\nthree", 10, "two\nthree"),  # just before one
        ("one\ntwo\nthree", 5, "three"),
        ("one\n" + "x" * 20, 8, "x" * 8),  # a last line longer than the limit: its end, cut
    ],
    ids=["short", "mid-line", "after-a-newline", "before-a-newline", "last-line-exactly", "one-long-line"],
)
def test_the_tail_starts_at_a_line_unless_the_last_line_alone_is_longer(text: str, limit: int, kept: str) -> None:
    assert tail_at_a_line(text, limit) == kept
