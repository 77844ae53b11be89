"""The three search strategies (week ahead, croniter, day scan) must agree wherever they apply."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from jobctl.schedules.cronfields import crontab_spec, fields_spec
from jobctl.schedules.cronsearch import WallSearch, build_search

FIELD_CHOICES = {
    "month": ["*", "2", "1,7", "*/3", "feb-apr"],
    "day": ["*", "1", "31", "29", "last", "*/10", "2nd fri", "last sun", "1,last mon", "13"],
    "day_of_week": ["*", "mon", "fri", "sat-sun", "*/3", "0"],
    "hour": ["*", "0", "9", "*/6", "22-23"],
    "minute": ["*", "0", "30", "*/20", "59"],
    "second": ["0", "*/30", "59"],
    "week": ["*", "1", "53", "10-12", "*/5"],
}
EXPRESSIONS = [
    "0 9 13 * 5",
    "*/7 */5 * * *",
    "0 0 L * 1",
    "30 2 29 2 *",
    "0 0 * * 5#2",
    "0 12 1,15 * 1-5",
    "0 0 * * 0L",
    "15 3 * 6-8 sat",
    "0 0 1-31 * 3",
    "45 0 0 * * *",
]


def _starts(rng: random.Random, count: int) -> list[datetime]:
    base = datetime(2024, 1, 1)
    return [
        base + timedelta(seconds=rng.randrange(0, 6 * 365 * 86400), microseconds=rng.choice([0, 1, 500_000]))
        for _ in range(count)
    ]


def _agree(search: WallSearch, starts: list[datetime]) -> None:
    for start in starts:
        expected = search.scan(start)
        assert search.next_after(start) == expected, (search.spec, start)
        if search.expression is not None:
            assert search.cron_search(start) == expected, (search.expression, start)


def test_random_field_specs() -> None:
    rng = random.Random(20260101)
    for _ in range(150):
        values = {name: rng.choice(options) for name, options in FIELD_CHOICES.items() if rng.random() < 0.5}
        spec, errors = fields_spec(values or {"hour": "3"})
        assert spec is not None and not errors
        search = build_search(spec)
        if search is not None:
            _agree(search, _starts(rng, 6))


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_crontab_specs(expression: str) -> None:
    search = build_search(crontab_spec(expression))
    assert search is not None
    _agree(search, _starts(random.Random(expression), 25))
