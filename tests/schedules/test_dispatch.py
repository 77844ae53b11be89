"""Job type dispatch, descriptions and the package's import cost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jobctl.schedules import (
    CronSchedule,
    DateSchedule,
    IntervalSchedule,
    describe_schedule,
)
from tests.schedules.helpers import build, error_locs, utc

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("job_type", [0, 4, -1, "2", 2.0, True, None], ids=repr)
def test_unknown_job_types(job_type: Any) -> None:
    assert error_locs(lambda: build(job_type, {"hours": 1})) == [["jobTypeId"]]


@pytest.mark.parametrize(
    ("job_type", "config", "kind"),
    [
        (1, {"hours": 1}, IntervalSchedule),
        (2, {"hour": "1"}, CronSchedule),
        (3, {"run_date": "2027-01-01T00:00:00Z"}, DateSchedule),
    ],
    ids=["interval", "cron", "date"],
)
def test_each_job_type_builds_its_schedule(job_type: int, config: dict[str, Any], kind: type) -> None:
    assert isinstance(build(job_type, config), kind)


@pytest.mark.parametrize(
    ("job_type", "config", "text"),
    [
        (1, {"hours": 1, "minutes": 30, "seconds": 0}, "every 1h30m"),
        (1, {"weeks": 1, "days": 2}, "every 1w2d"),
        (1, {"seconds": 90, "jitter": 10}, "every 90s (+0-10s jitter)"),
        (1, {"hours": 1, "end_date": "2027-01-01T00:00:00Z"}, "every 1h until 2027-01-01T00:00:00Z"),
        (2, {"expression": "0 2 * * *", "timezone": "Europe/Berlin"}, "cron 0 2 * * * (Europe/Berlin)"),
        (2, {"expression": "*/5  * * * *"}, "cron */5 * * * *"),
        (2, {"minute": "0", "hour": "8", "day_of_week": "mon"}, "cron day_of_week=mon hour=8 minute=0"),
        (3, {"run_date": "2026-12-01T09:00:00Z"}, "at 2026-12-01 09:00Z"),
        (3, {"run_date": "2026-12-01T09:00:30+01:00"}, "at 2026-12-01 09:00:30+0100"),
        (3, {"run_date": "2026-12-01T09:00", "timezone": "Asia/Tokyo"}, "at 2026-12-01 09:00 (Asia/Tokyo)"),
        (3, {"run_date": "2026-12-01T00:00:00Z", "timezone": "Asia/Tokyo"}, "at 2026-12-01 09:00 (Asia/Tokyo)"),
        (3, {"run_date": "garbage"}, "at garbage"),
        (2, ["not", "a", "dict"], 'cron ["not", "a", "dict"]'),
        (9, {"x": 1}, 'type 9 {"x": 1}'),
    ],
    ids=[
        "interval",
        "weeks",
        "jitter",
        "until",
        "crontab-zone",
        "crontab-spaces",
        "fields",
        "date-z",
        "date-offset",
        "date-zone",
        "date-z-shown-in-its-zone",
        "bad-date",
        "not-a-dict",
        "unknown-type",
    ],
)
def test_describe_schedule(job_type: int, config: Any, text: str) -> None:
    assert describe_schedule(job_type, config) == text


def test_naive_datetimes_are_a_bug_not_a_slot() -> None:
    schedule = build(2, {"hour": "1"})
    naive = utc(2026, 1, 1).replace(tzinfo=None)
    for call in (schedule.first_slot_at_or_after, schedule.next_slot_after):
        with pytest.raises(ValueError, match="naive"):
            call(naive)
    with pytest.raises(ValueError, match="naive"):
        build(1, {"hours": 1}, anchor=naive)


def test_import_loads_neither_croniter_nor_pydantic() -> None:
    heavy = "('croniter', 'pydantic', 'dateutil')"
    code = f"import sys, jobctl.schedules; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO)},
    )
    assert result.stdout.strip() == "[]"
