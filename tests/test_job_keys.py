"""The plain settings' table: durations read and written the way the command line writes them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobctl.errors import ValidationFailed
from jobctl.wire.job_keys import SETTING_KEYS_BY_KEY, duration_seconds, format_duration, setting_fields


@given(st.integers(min_value=0, max_value=100 * 365 * 86400))
def test_a_written_duration_reads_back_to_the_same_seconds(seconds: int) -> None:
    assert duration_seconds(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0"), (59, "59s"), (90, "1m30s"), (3600, "1h"), (5400, "1h30m"), (90061, "1d1h1m1s")]
)
def test_durations_are_written_like_the_command_line(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_values_become_api_fields_and_not_given_is_left_out() -> None:
    fields = setting_fields({"timeout": "5m", "retries": 2, "description": None})
    assert fields == {"timeoutSeconds": 300, "retryCount": 2}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timeout", "soon", "takes seconds or a duration like 90s, 5m, 1h30m; got 'soon'"),
        ("retries", "2", "takes a whole number, got '2'"),
        ("retries", True, "takes a whole number, got True"),
        ("description", 5, "takes text, got 5"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_at_its_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        SETTING_KEYS_BY_KEY[key].to_field(value, loc=("jobs", 0, key))
    assert raised.value.errors == [{"loc": ["jobs", 0, key], "msg": message, "type": "value_error"}]
