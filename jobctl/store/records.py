"""Rows as they come from either driver, turned into the frozen records of :mod:`jobctl.models`.

A job is read field by field from :class:`~jobctl.models.Job`'s declaration (each column named
like its field, converted by the field's type), so a new job setting needs no change here.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jobctl.models import (
    ApiToken,
    Execution,
    ExecutionStatus,
    HandlerType,
    Instance,
    Job,
    JobTypeRecord,
    Lease,
    LeaseTerm,
    Role,
    TaskFunction,
    TriggeredBy,
)
from jobctl.store.database import Row, to_utc

Convert = Callable[[Any], Any]


def load_json(value: Any) -> Any:
    """A JSON text column; Postgres may already hand back a parsed value.

    The decoder's scanner is called directly: ``json.loads`` wraps it in two Python layers and
    two regular-expression matches for surrounding whitespace, which :func:`dump_json` never
    writes; those cost three times the scan of a small column (a listing of 100,000 jobs reads
    300,000). Text the scanner does not take whole goes through ``json.loads`` as before.
    """
    if value is None or not isinstance(value, str):
        return value
    if value == "{}":
        return {}
    try:
        parsed, end = _scan(value)
    except ValueError:
        return _DECODER.decode(value)
    return parsed if end == len(value) else _DECODER.decode(value)


def _not_finite_as_null(name: str) -> None:
    """``NaN``, ``Infinity`` and ``-Infinity`` in a stored value read as ``null``.

    JSON has no such numbers and jobs refuse them (:mod:`jobctl.wire.free_json`), but a release
    before that stored them as ``json.dumps`` writes them; read as floats, they made every
    answer holding them fail to encode (a 500 for ``GET /jobs`` or ``GET /audit``). ``null``
    is what JSON can say of a number that is none (docs/free-form-json.md)."""
    return None


_DECODER = json.JSONDecoder(parse_constant=_not_finite_as_null)
_scan = _DECODER.raw_decode


def dump_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), sort_keys=False)


def _required_time(value: Any) -> Any:
    converted = to_utc(value)
    assert converted is not None, "a NOT NULL timestamp column was NULL"
    return converted


def task_function_from_row(row: Row) -> TaskFunction:
    return TaskFunction(
        id=int(row["id"]),
        name=row["name"],
        display_name=row["display_name"],
        description=row["description"],
        handler_type=HandlerType(row["handler_type"]),
        handler_path=row["handler_path"],
        queue=row["queue"],
        default_timeout_seconds=row["default_timeout_seconds"],
        is_active=bool(row["is_active"]),
        is_system=bool(row["is_system"]),
        created_at=_required_time(row["created_at"]),
    )


def job_type_from_row(row: Row) -> JobTypeRecord:
    return JobTypeRecord(
        id=int(row["id"]), name=row["name"], display_name=row["display_name"], description=row["description"]
    )


def job_from_row(row: Row) -> Job:
    plain, converted = _split_readers(Job)
    fields = {name: row[name] for name in plain}
    for name, convert in converted:
        fields[name] = convert(row[name])
    return Job(**fields)


def json_fields(record: type) -> frozenset[str]:
    """The fields of a record dataclass stored as JSON text (those typed as a ``dict``)."""
    hints = typing.get_type_hints(record)
    return frozenset(f.name for f in dataclasses.fields(record) if _base_type(hints[f.name]) in (dict, list))


@functools.cache
def _readers(record: type) -> tuple[tuple[str, Convert], ...]:
    """(field, column value -> field value) for every field of a record dataclass."""
    hints = typing.get_type_hints(record)
    return tuple((f.name, _reader(hints[f.name])) for f in dataclasses.fields(record))


@functools.cache
def _split_readers(record: type) -> tuple[tuple[str, ...], tuple[tuple[str, Convert], ...]]:
    """:func:`_readers` split into the fields taken as stored and those converted: a listing of
    100,000 jobs reads some 40 fields of each, and most of them need no call."""
    readers = _readers(record)
    return (
        tuple(name for name, convert in readers if convert is _as_is),
        tuple((name, convert) for name, convert in readers if convert is not _as_is),
    )


def _reader(hint: Any) -> Convert:
    optional = type(None) in typing.get_args(hint)
    base = _base_type(hint)
    if base is datetime:
        return to_utc if optional else _required_time
    if base in (dict, list):
        return load_json
    if base in (bool, int) or (isinstance(base, type) and issubclass(base, enum.Enum)):
        return base if not optional else (lambda value: None if value is None else base(value))
    return _as_is


def _base_type(hint: Any) -> Any:
    """``X`` for ``X``, ``X | None``, ``dict[...]``; the origin of a generic."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    return typing.get_origin(hint) or hint


def _as_is(value: Any) -> Any:
    return value


def execution_from_row(row: Row) -> Execution:
    duration = row["duration_seconds"]
    return Execution(
        id=row["id"],
        job_id=row["job_id"],
        celery_task_id=row["celery_task_id"],
        status=ExecutionStatus(row["status"]),
        scheduled_for=to_utc(row["scheduled_for"]),
        run_after=to_utc(row["run_after"]),
        attempt=int(row["attempt"]),
        started_at=to_utc(row["started_at"]),
        completed_at=to_utc(row["completed_at"]),
        duration_seconds=None if duration is None else float(duration),
        result=load_json(row["result"]),
        error_message=row["error_message"],
        triggered_by=TriggeredBy(row["triggered_by"]),
        triggered_by_user_id=row["triggered_by_user_id"],
        instance_id=row["instance_id"],
        created_at=_required_time(row["created_at"]),
        output_dropped_bytes=int(row.get("output_dropped_bytes") or 0),
        missed_count=None if row.get("missed_count") is None else int(row["missed_count"]),
        missed_until=to_utc(row.get("missed_until")),
        output_pruned=bool(row.get("output_pruned")),
        cancelled_by=row.get("cancelled_by"),
        pending_reason=row.get("pending_reason"),
        concurrency_group=row.get("concurrency_group"),
    )


def instance_from_row(row: Row) -> Instance:
    return Instance(
        id=row["id"],
        hostname=row["hostname"],
        pid=int(row["pid"]),
        version=row["version"],
        started_at=_required_time(row["started_at"]),
        last_heartbeat=_required_time(row["last_heartbeat"]),
        stopped_at=to_utc(row["stopped_at"]),
    )


def lease_from_row(row: Row) -> Lease:
    return Lease(
        holder_id=row["holder_id"],
        term=int(row["term"]),
        acquired_at=to_utc(row["acquired_at"]),
        expires_at=to_utc(row["expires_at"]),
        vacated_at=to_utc(row.get("vacated_at")),
    )


def lease_term_from_row(row: Row) -> LeaseTerm:
    return LeaseTerm(
        term=int(row["term"]),
        holder_id=row["holder_id"],
        hostname=row["hostname"],
        pid=int(row["pid"]),
        acquired_at=_required_time(row["acquired_at"]),
        released_at=to_utc(row["released_at"]),
        last_heartbeat=to_utc(row.get("last_heartbeat")),
    )


def token_from_row(row: Row) -> ApiToken:
    return ApiToken(
        id=int(row["id"]),
        name=row["name"],
        role=Role(row["role"]),
        created_at=_required_time(row["created_at"]),
        last_used_at=to_utc(row["last_used_at"]),
        revoked_at=to_utc(row["revoked_at"]),
    )
