"""Hypothesis strategies for what a client may send: schedule configs and whole job bodies.

They mix values that are valid, values at the edges (year 1 and 9999, the integer limits,
zones with odd offsets) and plain garbage of every JSON type, because the property under
test is that nothing a client sends gets a 5xx, whatever the combination.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from jobctl.schedules.cronfields import FIELD_ORDER
from jobctl.schedules.durations import MAX_SECONDS

ZONES = ("UTC", "Europe/Berlin", "America/St_Johns", "Pacific/Kiritimati", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "Etc/GMT+12", "Etc/GMT-14", "America/Santiago")  # fmt: skip
BAD_ZONES = ("", " UTC", "../etc/passwd", "/etc/localtime", "Nowhere/City", "utc\x00", "Factory", "localtime")

json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
"""Any JSON value (no NaN: JSON has none, and the body reader refuses it anyway)."""

counts = st.one_of(
    st.integers(min_value=0, max_value=120),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([MAX_SECONDS - 1, MAX_SECONDS, MAX_SECONDS + 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -1]),
)
"""Integers for the duration fields and ``jitter``: small, huge, and right at the limits."""

_offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_moments = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
    timezones=st.none() | st.just(UTC) | _offsets,
)


def _iso(moment: datetime) -> str:
    text = moment.isoformat()
    return text.replace("+00:00", "Z") if moment.tzinfo is UTC else text


EDGE_INSTANTS = (
    "9999-12-31T23:59:59Z", "9999-12-31T23:59:59.999999+00:00", "9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00", "9999-12-31", "0001-01-01", "2026-13-01", "not a date", "",
)  # fmt: skip
instants = st.one_of(
    _moments.map(_iso),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2200, 1, 1)).map(_iso),
    st.sampled_from(EDGE_INSTANTS),
    json_values,
)
"""ISO 8601 texts from year 1 to 9999, with and without offsets, plus broken ones and non-strings."""

zones = st.sampled_from(ZONES) | st.sampled_from(BAD_ZONES) | st.text(max_size=12) | json_values

_CRON_ALPHABET = string.digits + "*/,-#?LW " + "lastmonfriesun"
EDGE_CRON_FIELDS = (
    "*", "*/5", "0", "1-5", "mon-fri", "last", "L", "5L", "L-2", "1#2", "jan-mar/2", "*/0", "61", "9999", "10000",
    "1970", "last fri", "3rd mon", "0-59/61", "?", "W", "15W",
)  # fmt: skip
EDGE_EXPRESSIONS = (
    "* * * * *", "*/5 * * * *", "0 9 * * 1-5", "@daily", "@reboot", "0 0 31 2 *", "0 0 * * 7", "*/10 * * * * *",
    "0 0 29 2 *", "59 23 31 12 *",
)  # fmt: skip
cron_fields = st.one_of(
    st.sampled_from(EDGE_CRON_FIELDS),
    st.text(alphabet=_CRON_ALPHABET, max_size=10),
    st.integers(min_value=-5, max_value=10_000),
    json_values,
)
expressions = st.one_of(
    st.lists(st.text(alphabet=_CRON_ALPHABET, min_size=1, max_size=6), min_size=4, max_size=7).map(" ".join),
    st.sampled_from(EDGE_EXPRESSIONS),
    json_values,
)

_COMMON = {"start_date": instants, "end_date": instants, "jitter": counts}
interval_configs = st.fixed_dictionaries(
    {}, optional={"weeks": counts, "days": counts, "hours": counts, "minutes": counts, "seconds": counts, **_COMMON}
)
_CRON_FIELDS = {name: cron_fields for name in FIELD_ORDER}
cron_configs = st.one_of(
    st.fixed_dictionaries({}, optional={**_CRON_FIELDS, "timezone": zones, **_COMMON}),
    st.fixed_dictionaries({"expression": expressions}, optional={"timezone": zones, **_COMMON}),
)
date_configs = st.fixed_dictionaries({"run_date": instants}, optional={"timezone": zones})


@st.composite
def schedules(draw: st.DrawFn) -> tuple[Any, Any]:
    """A ``(jobTypeId, scheduleConfig)`` pair: mostly a config of the right kind, sometimes not,
    sometimes with an unknown key, sometimes not an object at all."""
    job_type = draw(st.sampled_from([1, 2, 3]) | st.sampled_from([0, 4, -1, 2**40, True, "1", None]))
    kind = job_type if job_type in (1, 2, 3) and not isinstance(job_type, bool) else draw(st.sampled_from([1, 2, 3]))
    configs = {1: interval_configs, 2: cron_configs, 3: date_configs}
    config: Any = draw(configs[kind] | configs[draw(st.sampled_from([1, 2, 3]))])
    if draw(st.integers(0, 9)) == 0:
        config = {**config, draw(st.text(max_size=6)): draw(json_values)}
    if draw(st.integers(0, 19)) == 0:
        config = draw(json_values)
    return job_type, config


task_args = st.one_of(
    st.dictionaries(st.text(max_size=10), json_values, max_size=4).map(lambda args: {"command": "true", **args}),
    st.dictionaries(st.text(max_size=10), json_values, max_size=4),
    json_values,
)

_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": st.text(max_size=30) | st.text(min_size=190, max_size=210) | json_values,
    "description": st.none() | st.text(max_size=40) | json_values,
    "taskFunctionId": st.sampled_from([1, 2, 0, -1, 2**31, 2**63]) | json_values,
    "taskArgs": task_args,
    "maxInstances": counts | json_values,
    "timeoutSeconds": st.none() | counts | json_values,
    "retryCount": counts | json_values,
    "retryDelaySeconds": counts | json_values,
    "isEnabled": st.booleans() | json_values,
    "isPaused": st.booleans() | json_values,
    "misfirePolicy": st.sampled_from(["run_once", "skip", "never"]) | json_values,
}


@st.composite
def job_bodies(draw: st.DrawFn, *, partial: bool = False) -> dict[str, Any]:
    """A ``POST /jobs`` body (or with ``partial``, a ``PUT /jobs/{id}`` one): any subset of the
    fields, each valid or not, a schedule from :func:`schedules`, now and then an unknown field."""
    job_type, config = draw(schedules())
    body: dict[str, Any] = {} if partial else {
        "name": draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)),
        "taskFunctionId": 1, "jobTypeId": job_type, "scheduleConfig": config, "taskArgs": {"command": "true"},
    }  # fmt: skip
    if partial and draw(st.booleans()):
        body.update(jobTypeId=job_type, scheduleConfig=config)
    for name, values in _FIELDS.items():
        if draw(st.integers(0, 3)) == 0:
            body[name] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(max_size=8))] = draw(json_values)
    return body
