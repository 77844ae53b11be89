"""The one grammar of typed times: every form it promises reads back exactly, and text that
``datetime.fromisoformat`` would misread (any character between date and time) is refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobctl.schedules.iso_times import not_a_time, parse_date_time, parse_time_of_day

_offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))
_moments = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
    timezones=st.none() | st.just(UTC) | _offsets,
)  # fmt: skip


def _offset_text(moment: datetime, style: str) -> str:
    offset = moment.utcoffset()
    if offset is None:
        return ""
    if style == "Z" and offset == timedelta(0):
        return "Z"
    minutes = int(offset.total_seconds()) // 60
    sign, minutes = ("-", -minutes) if minutes < 0 else ("+", minutes)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours:02}{minutes:02}" if style == "basic" else f"{sign}{hours:02}:{minutes:02}"


@given(
    moment=_moments,
    separator=st.sampled_from(["T", "t", " "]),
    offset_style=st.sampled_from(["Z", "extended", "basic"]),
    fraction_sign=st.sampled_from([".", ","]),
)
def test_every_form_of_the_grammar_reads_back_exactly(
    moment: datetime, separator: str, offset_style: str, fraction_sign: str
) -> None:
    fraction = f"{fraction_sign}{moment.microsecond:06}" if moment.microsecond else ""
    text = f"{moment.date().isoformat()}{separator}{moment:%H:%M:%S}{fraction}{_offset_text(moment, offset_style)}"
    parsed = parse_date_time(text)
    assert parsed == moment and (parsed.tzinfo is None) == (moment.tzinfo is None)


@given(moment=_moments)
def test_minutes_alone_and_a_date_alone_read_back(moment: datetime) -> None:
    assert parse_date_time(f"{moment.date().isoformat()}T{moment:%H:%M}") == moment.replace(
        second=0, microsecond=0, tzinfo=None
    )
    assert parse_date_time(f" {moment.date().isoformat()} ") == datetime(moment.year, moment.month, moment.day)


_NOT_A_SEPARATOR = st.characters(codec="utf-8").filter(lambda c: c not in "Tt ")


@given(moment=_moments, separator=_NOT_A_SEPARATOR)
def test_any_other_character_between_date_and_time_is_refused(moment: datetime, separator: str) -> None:
    """``fromisoformat`` takes any one character there: ``2026-12-07+01:00`` was 01:00."""
    with pytest.raises(ValueError, match="is not an ISO 8601"):
        parse_date_time(f"{moment.date().isoformat()}{separator}{moment:%H:%M}")


_GRAMMAR = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)?)?"
    r"|([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8}|[0-9]{4}-W[0-9]{2}(-[1-7])?|[0-9]{4}W[0-9]{2}[1-7]?)"
    r"([Tt ]([0-9]{2}(:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?)?|[0-9]{4}([0-9]{2}([.,][0-9]+)?)?)"
    r"([Zz]|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2}(\.[0-9]+)?)?)?)?)?"
)
"""The grammar as docs/time-input.md states it (the forms asked for, then the other ISO 8601
spellings read as they say), written out again for the test."""


@given(text=st.text(alphabet="0123456789-:+.,TtZz xW", max_size=32))
def test_nothing_outside_the_grammar_is_read(text: str) -> None:
    try:
        parse_date_time(text)
    except ValueError:
        return
    assert _GRAMMAR.fullmatch(text.strip()), text


MISREAD = [
    "2026-12-07+01:00", "2026-12-07x09:00", "2026-12-07-05:00", "2026-12-07_10:00", "20261207-0500",
    "2026-12-07T10:00:00.", "2026-02-30", "", "\uff12\uff10\uff12\uff16-12-07",
]  # fmt: skip

READ_AS_THEY_SAY = {
    "20261207": datetime(2026, 12, 7),
    "2026-W49-1": datetime(2026, 11, 30),
    "2026-12-07T10": datetime(2026, 12, 7, 10),
    "2026-12-07T1000": datetime(2026, 12, 7, 10),
    "20261207T090000Z": datetime(2026, 12, 7, 9, tzinfo=UTC),
    "2026-12-07T10:00+05:30:15": datetime(2026, 12, 7, 10, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
}


@pytest.mark.parametrize(("text", "expected"), READ_AS_THEY_SAY.items(), ids=list(READ_AS_THEY_SAY))
def test_other_iso_spellings_are_read_as_they_say(text: str, expected: datetime) -> None:
    """A job stored with one of them before the grammar existed must stay readable."""
    assert parse_date_time(text) == expected


@pytest.mark.parametrize("text", MISREAD, ids=range(len(MISREAD)))
def test_forms_outside_the_grammar_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date_time(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("09:00", time(9)), ("09:00:30.5", time(9, 0, 30, 500000)), ("23:59Z", time(23, 59, tzinfo=UTC)),
     ("09:00+0130", time(9, tzinfo=timezone(timedelta(minutes=90))))],
    ids=["minutes", "fraction", "utc", "offset"],
)  # fmt: skip
def test_times_of_day(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["09", "0900", "T09:00", "9:00", "09:00x", "24:00"])
def test_times_of_day_outside_the_grammar_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_time_of_day(text)


def test_the_refusal_names_the_forms() -> None:
    assert not_a_time("soon") == (
        "'soon' is not a time: give an ISO 8601 date or date-time (2026-12-04, 2026-12-04T02:00:00Z)"
    )
    assert not_a_time("soon", "a duration ago (24h, 7d)", "now").endswith(
        "(2026-12-04, 2026-12-04T02:00:00Z), a duration ago (24h, 7d) or now"
    )
