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
        ("retries", True, "takes a whole number, got true"),
        ("description", 5, "takes text, got 5"),
        ("umask", 0o27, 'write the mode as text, such as "027"'),
        ("umask", 2.5, 'write the mode as text, such as "027"'),
        ("umask", True, "takes text, got true"),
    ],
)
def test_a_value_of_the_wrong_kind_is_refused_at_its_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        SETTING_KEYS_BY_KEY[key].to_field(value, loc=("jobs", 0, key))
    assert raised.value.errors == [{"loc": ["jobs", 0, key], "msg": message, "type": "value_error"}]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("timeout", "0s", "must be more than 0s, got '0s'"),
        ("timeout", 0, "must be more than 0s, got 0"),
        ("timeout", "-1m", "must be more than 0s, got '-1m'"),
        ("timeout", "31d", "must be at most 30d, got '31d'"),
        ("timeout", "9" * 5000, f"must be at most 30d, got '{'9' * 60}\u2026'"),
        ("retry_delay", "-5", "must be 0s or more, got '-5'"),
        ("retry_delay", "8d", "must be at most 7d, got '8d'"),
        ("start_grace", "0h", "must be more than 0s, got '0h'"),
        ("retry_max_delay", 0, "must be more than 0s, got 0"),
    ],
)
def test_a_duration_out_of_range_says_the_range_in_durations(key: str, value: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        SETTING_KEYS_BY_KEY[key].to_field(value, loc=("jobs", 0, key))
    assert raised.value.errors == [{"loc": ["jobs", 0, key], "msg": message, "type": "value_error"}]


@pytest.mark.parametrize(("text", "seconds"), [("0s", 0), ("0", 0), ("0h0m", 0), ("-5", -5), ("-5m", -300)])
def test_zero_and_negative_durations_are_read_for_their_setting_to_judge(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


def test_a_zero_retry_delay_may_be_written_as_a_duration() -> None:
    assert SETTING_KEYS_BY_KEY["retry_delay"].to_field("0s") == 0


def test_each_duration_s_range_is_its_api_field_s() -> None:
    """The range a duration is checked against here, to say it in durations, is the one the
    API's model holds the field to (which also checks it, for API clients)."""
    from jobctl.wire.job_keys import JOB_SETTING_KEYS
    from jobctl.wire.requests import JobCreate

    properties = JobCreate.model_json_schema()["properties"]
    for setting in JOB_SETTING_KEYS:
        if setting.kind != "duration":
            continue
        schema = properties[setting.field]
        number = next(part for part in schema.get("anyOf", [schema]) if part.get("type") == "integer")
        assert (setting.least, setting.most) == (number["minimum"], number["maximum"]), setting.key
