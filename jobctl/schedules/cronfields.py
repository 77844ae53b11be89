"""The grammar of cron fields, for both ways a cron job can be written, as explicit sets.

Two dialects reach this module:

* **APScheduler fields** (``{"hour": "9", "minute": "0"}``): each of ``year``, ``month``,
  ``day``, ``week``, ``day_of_week``, ``hour``, ``minute``, ``second`` holds a string or an
  integer. A string is a comma list of ``*``, ``*/n``, ``a``, ``a-b``, ``a-b/n`` or ``a/n``
  (from ``a`` to the field's maximum). Month names ``jan``-``dec`` work in ``month``; weekday
  names ``mon``-``sun`` (and the numbers 0-6, 0 being Monday, as in APScheduler) in
  ``day_of_week``. ``day`` also takes ``last`` (last day of the month) and ``1st``-``5th``
  or ``last`` followed by a weekday name (``"2nd fri"``, ``"last sun"``); a month without
  that weekday is skipped. ``week`` is the ISO week number.
* **crontab expressions** (``"*/5 * * * *"``): five fields, or six with seconds *first*
  (``second minute hour day month weekday``, as Quartz, Spring, robfig/cron and node-cron
  read them); six fields that are valid only when read with seconds last (croniter's order,
  and jobctl's before) are refused with both readings, see :func:`crontab_spec`. Weekdays
  count from Sunday (0 or 7), names work in month and weekday, ``?`` means ``*`` in the two
  day fields, ``L`` in the day field means the last day of the month, ``5#2`` (second Friday)
  and ``5L`` or ``L5`` (last Friday) work in the weekday field, but not mixed with plain
  weekdays there nor with a restricted day field (cron's OR of the two fields has no agreed
  meaning for them, and croniter's differs from it). ``@yearly``, ``@annually``,
  ``@monthly``, ``@weekly``, ``@daily``, ``@midnight`` and ``@hourly`` are accepted.

Rejected everywhere, with a message naming the field: values out of range, ranges that run
backwards (``fri-mon``; write ``fri-sun,mon``), steps of 0 or larger than the field's range,
and the croniter-only extras whose meaning is not stable or not cron's: ``H`` hashing, ``R``
random values, ``W`` nearest weekday, and a year field in crontab expressions.

Weekdays are stored Monday = 0 (Python's numbering) whatever the dialect; converting to
croniter's numbering happens where croniter is called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TypeVar

_T = TypeVar("_T")

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTH_NAMES = {name: number for number, name in enumerate(_MONTHS, 1)}
MONDAY_FIRST = {name: number for number, name in enumerate(_WEEKDAYS)}
SUNDAY_FIRST = {name: (number + 1) % 7 for number, name in enumerate(_WEEKDAYS)}
LAST = -1
_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)
"""Ordinal of "the last such weekday of the month" in :attr:`CronSpec.nth_weekdays`."""


class FieldError(ValueError):
    """One field value is invalid; the message says why, the caller knows which field.

    ``code`` sorts the mistake for scripts (crontab import's lint reports it): ``out_of_range``,
    ``unknown_name``, ``step_zero``, ``field_count``, ``unknown_macro`` or ``bad_field``.
    """

    def __init__(self, message: str, *, code: str = "bad_field") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FieldRule:
    """The values one field can take: a closed range and optional names for its numbers."""

    low: int
    high: int
    names: Mapping[str, int]

    def value(self, token: str) -> int:
        if token.isdigit():
            number = int(token)
        elif token in self.names:
            return self.names[token]
        else:
            raise FieldError(f"{token!r} is not a number{' or name' if self.names else ''}", code="unknown_name")
        if not self.low <= number <= self.high:
            raise FieldError(f"{number} is out of range {self.low}-{self.high}", code="out_of_range")
        return number

    @property
    def every(self) -> frozenset[int]:
        return frozenset(range(self.low, self.high + 1))


FIELD_ORDER = ("year", "month", "day", "week", "day_of_week", "hour", "minute", "second")
"""APScheduler's fields, largest unit first; the order its defaulting rule refers to."""

FIELD_RULES = {
    "year": FieldRule(1970, 9999, {}),
    "month": FieldRule(1, 12, MONTH_NAMES),
    "day": FieldRule(1, 31, {}),
    "week": FieldRule(1, 53, {}),
    "day_of_week": FieldRule(0, 6, MONDAY_FIRST),
    "hour": FieldRule(0, 23, {}),
    "minute": FieldRule(0, 59, {}),
    "second": FieldRule(0, 59, {}),
}
_FIELD_DEFAULTS = {
    "year": "*",
    "month": "1",
    "day": "1",
    "week": "*",
    "day_of_week": "*",
    "hour": "0",
    "minute": "0",
    "second": "0",
}

CRONTAB_ORDER = ("minute", "hour", "day", "month", "day_of_week")
"""The five crontab fields; a sixth, seconds, comes first (:data:`SECONDS_FIRST_ORDER`)."""
SECONDS_FIRST_ORDER = ("second", *CRONTAB_ORDER)
SECONDS_LAST_ORDER = (*CRONTAB_ORDER, "second")
"""The order jobctl read six fields in before seconds moved first; only for error messages."""
_FIELD_LABELS = {"day_of_week": "weekday"}
_CRONTAB_RULES = {**FIELD_RULES, "day_of_week": FieldRule(0, 7, SUNDAY_FIRST)}
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_RANGE = re.compile(r"(?:(?P<star>\*)|(?P<first>[a-z0-9]+)(?:-(?P<last>[a-z0-9]+))?)(?:/(?P<step>[0-9]+))?", re.ASCII)
_ORDINAL = re.compile(r"(?P<ordinal>1st|2nd|3rd|4th|5th|last)\s+(?P<weekday>[a-z]+)", re.ASCII)
_NTH = re.compile(r"(?P<weekday>[a-z0-9]+)#(?P<ordinal>[0-9]+)", re.ASCII)
_LAST_WEEKDAY = re.compile(r"l(?P<before>[a-z0-9]+)|(?P<after>[a-z0-9]+)l", re.ASCII)
_ORDINALS = {"1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": LAST}


@dataclass(frozen=True, kw_only=True)
class CronSpec:
    """Every field of a cron schedule as explicit sets, in one shape for both dialects.

    With ``day_or`` false (APScheduler) a day must match the union of ``days``,
    ``last_day`` and ``nth_weekdays``, and also ``weekdays``. With it true (crontab) the
    day-of-month part is ``days`` and ``last_day``, the weekday part is ``nth_weekdays`` if
    any, else ``weekdays``, and either part is enough when both are restricted
    (``day_star``/``weekday_star`` false), as cron does.
    """

    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    days: frozenset[int]
    last_day: bool = False
    nth_weekdays: frozenset[tuple[int, int]] = frozenset()
    weekdays: frozenset[int]
    years: frozenset[int] | None = None
    weeks: frozenset[int] | None = None
    day_or: bool = False
    day_star: bool = False
    weekday_star: bool = False

    def matches_date(self, day: date) -> bool:
        """Whether the spec allows ``day`` at all (some time of it may then match)."""
        if day.month not in self.months:
            return False
        if self.years is not None and day.year not in self.years:
            return False
        if self.weeks is not None and day.isocalendar()[1] not in self.weeks:
            return False
        if not self.day_or:
            return day.weekday() in self.weekdays and matches_day_of_month(self, day)
        in_month = self.day_star or day.day in self.days or (self.last_day and _is_last_day(day))
        in_week = self.weekday_star or (
            _is_nth_weekday(self.nth_weekdays, day) if self.nth_weekdays else day.weekday() in self.weekdays
        )
        if self.day_star or self.weekday_star:
            return in_month and in_week
        return in_month or in_week


def matches_day_of_month(spec: CronSpec, day: date) -> bool:
    """Whether ``day`` is one of the days an APScheduler ``day`` field names."""
    return (
        day.day in spec.days
        or (spec.last_day and _is_last_day(day))
        or (bool(spec.nth_weekdays) and _is_nth_weekday(spec.nth_weekdays, day))
    )


def _is_last_day(day: date) -> bool:
    return (day + _ONE_DAY).month != day.month if day < date.max else True


def _is_nth_weekday(nth_weekdays: frozenset[tuple[int, int]], day: date) -> bool:
    """Whether ``day`` is, say, the 2nd Friday (``(2, 4)``) or last Sunday (``(LAST, 6)``)."""
    weekday = day.weekday()
    for ordinal, wanted in nth_weekdays:
        if weekday == wanted:
            if ordinal == LAST and (day.day + 7 > 31 or (day + _ONE_WEEK).month != day.month):
                return True
            if (day.day - 1) // 7 + 1 == ordinal:
                return True
    return False


def fields_spec(values: Mapping[str, object]) -> tuple[CronSpec | None, dict[str, str]]:
    """The spec of APScheduler-style fields, and the error message of each bad field.

    Omitted fields follow APScheduler: those after the last given one (in
    :data:`FIELD_ORDER`) take their minimum, ``week`` and ``day_of_week`` excepted (``*``);
    the others are ``*``. The spec is None exactly when there are errors.
    """
    given = [name for name in FIELD_ORDER if values.get(name) is not None]
    smallest = max((FIELD_ORDER.index(name) for name in given), default=len(FIELD_ORDER))
    texts: dict[str, str] = {}
    errors: dict[str, str] = {}
    for index, name in enumerate(FIELD_ORDER):
        value = values.get(name)
        if value is None:
            texts[name] = _FIELD_DEFAULTS[name] if index > smallest else "*"
        elif isinstance(value, bool) or not isinstance(value, (str, int)):
            errors[name] = "must be a string or an integer"
        elif isinstance(value, int) and value < 0:
            errors[name] = "must not be negative"
        else:
            texts[name] = str(value).strip().lower()
    sets: dict[str, frozenset[int]] = {}
    day_parts: tuple[frozenset[int], bool, frozenset[tuple[int, int]]] = (frozenset(), False, frozenset())
    for name, text in texts.items():
        try:
            if name in ("year", "week") and text == "*":
                continue  # no filter at all; not worth expanding thousands of years
            if name == "day":
                day_parts = _fields_day(text)
            else:
                sets[name] = _field_values(name, text)
        except FieldError as exc:
            errors[name] = str(exc)
    if errors:
        return None, errors
    days, last_day, nth = day_parts
    spec = CronSpec(
        seconds=sets["second"],
        minutes=sets["minute"],
        hours=sets["hour"],
        months=sets["month"],
        days=days,
        last_day=last_day,
        nth_weekdays=nth,
        weekdays=sets["day_of_week"],
        years=sets.get("year"),
        weeks=sets.get("week"),
    )
    return spec, {}


@lru_cache(maxsize=1024)
def _field_values(name: str, text: str) -> frozenset[int]:
    """The values of one APScheduler field (cached: the same few texts recur in every job)."""
    return frozenset(_expand_list(text, FIELD_RULES[name]))


@lru_cache(maxsize=1024)
def _fields_day(text: str) -> tuple[frozenset[int], bool, frozenset[tuple[int, int]]]:
    """An APScheduler ``day`` field: its numbered days, whether ``last``, and its nth weekdays."""
    days: set[int] = set()
    nth: set[tuple[int, int]] = set()
    last = False
    for part in _split(text):
        ordinal = _ORDINAL.fullmatch(part)
        if part == "last":
            last = True
        elif ordinal:
            weekday = MONDAY_FIRST.get(ordinal["weekday"])
            if weekday is None:
                raise FieldError(f"{ordinal['weekday']!r} is not a weekday name (mon-sun)", code="unknown_name")
            nth.add((_ORDINALS[ordinal["ordinal"]], weekday))
        else:
            days.update(_expand(part, FIELD_RULES["day"]))
    return frozenset(days), last, frozenset(nth)


@lru_cache(maxsize=1024)
def crontab_spec(expression: str) -> CronSpec:
    """The spec of a crontab expression: five fields, or six with seconds first.

    Six fields are ``second minute hour day month weekday``. One that is invalid read that
    way but valid read with seconds last (``minute hour day month weekday second``, the
    order croniter uses and jobctl used before) is ambiguous: it was most likely written for
    the other order, so it is refused with both readings and the seconds-first spelling of
    the seconds-last one, instead of a bare error about the wrong field.

    :raises FieldError: naming the offending field in its message.
    """
    text = expand_macro(expression)
    if text.startswith("@"):
        raise FieldError(f"unknown macro {expression.strip()!r}; use one of {', '.join(_MACROS)}", code="unknown_macro")
    fields = text.split()
    if len(fields) == 5:
        return _crontab_fields(dict(zip(CRONTAB_ORDER, fields, strict=True)) | {"second": "0"})
    if len(fields) != 6:
        raise FieldError(
            f"needs 5 fields (minute hour day month weekday) or 6 (second minute hour day month weekday), "
            f"not {len(fields)}",
            code="field_count",
        )
    try:
        return _crontab_fields(dict(zip(SECONDS_FIRST_ORDER, fields, strict=True)))
    except FieldError as first_error:
        try:
            _crontab_fields(dict(zip(SECONDS_LAST_ORDER, fields, strict=True)))
        except FieldError:
            raise first_error from None
        raise FieldError(_ambiguous_message(fields, first_error), code=first_error.code) from None


def expand_macro(expression: str) -> str:
    """``expression`` lower-cased and stripped, with a macro (``@daily``) replaced by its fields."""
    text = expression.strip().lower()
    return _MACROS.get(text, text)


def seconds_first(expression: str) -> str:
    """A six-field expression written seconds last, rewritten seconds first (same meaning).

    Anything else (five fields, a macro) comes back unchanged. The store upgrade that moved
    stored expressions to the seconds-first order (revision 0004) does the same rotation.
    """
    fields = expression.split()
    if len(fields) != 6:
        return expression
    return " ".join([fields[5], *fields[:5]])


def _ambiguous_message(fields: list[str], first_error: FieldError) -> str:
    def reading(order: tuple[str, ...]) -> str:
        return " ".join(f"{_FIELD_LABELS.get(name, name)}={value}" for name, value in zip(order, fields, strict=True))

    rewritten = seconds_first(" ".join(fields))
    return (
        f"six fields are read seconds first ({reading(SECONDS_FIRST_ORDER)}), and that reading is invalid: "
        f"{first_error}; read seconds last ({reading(SECONDS_LAST_ORDER)}) it would be valid: "
        f"if that is what you mean, write {rewritten!r}"
    )


def _crontab_fields(named: dict[str, str]) -> CronSpec:
    """The spec of crontab fields by name (``second`` included)."""

    def numbers(name: str) -> frozenset[int]:
        return _located(name, named[name], lambda text: frozenset(_expand_list(text, FIELD_RULES[name])))

    days, last_day = _located("day", named["day"], _crontab_day)
    weekdays, nth = _located("day_of_week", named["day_of_week"], _crontab_weekday)
    if nth and named["day"] not in ("*", "?"):
        raise FieldError(f"day field {named['day']!r}: must be * (or ?) when the weekday field names nth weekdays")
    return CronSpec(
        seconds=numbers("second"),
        minutes=numbers("minute"),
        hours=numbers("hour"),
        months=numbers("month"),
        days=days,
        last_day=last_day,
        nth_weekdays=nth,
        weekdays=weekdays,
        day_or=True,
        day_star=named["day"] in ("*", "?"),
        weekday_star=named["day_of_week"] in ("*", "?"),
    )


def _located(name: str, text: str, parse: Callable[[str], _T]) -> _T:
    """``parse(text)``, with the field's name and text put in front of any error."""
    try:
        return parse(text)
    except FieldError as exc:
        raise FieldError(f"{_FIELD_LABELS.get(name, name)} field {text!r}: {exc}", code=exc.code) from None


def _crontab_day(text: str) -> tuple[frozenset[int], bool]:
    if text == "?":
        return FIELD_RULES["day"].every, False
    days: set[int] = set()
    last = False
    for part in _split(text):
        if part == "l":
            last = True
        elif "w" in part and part != "*":
            raise FieldError("W (nearest weekday) is not supported")
        else:
            days.update(_expand(part, FIELD_RULES["day"]))
    return frozenset(days), last


def _crontab_weekday(text: str) -> tuple[frozenset[int], frozenset[tuple[int, int]]]:
    rule = _CRONTAB_RULES["day_of_week"]
    if text == "?":
        text = "*"
    plain: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for part in _split(text):
        numbered = _NTH.fullmatch(part)
        last = _LAST_WEEKDAY.fullmatch(part)
        if numbered:
            ordinal = int(numbered["ordinal"])
            if not 1 <= ordinal <= 5:
                raise FieldError(f"{part!r}: the week of the month must be 1-5", code="out_of_range")
            nth.add((ordinal, _monday_first(rule.value(numbered["weekday"]))))
        elif last:
            nth.add((LAST, _monday_first(rule.value(last["before"] or last["after"]))))
        else:
            plain.update(_monday_first(value) for value in _expand(part, rule))
    if nth and plain:
        raise FieldError("cannot mix nth weekdays (5#2, 5L) with plain weekdays")
    weekdays = frozenset(plain) if plain else FIELD_RULES["day_of_week"].every
    return weekdays, frozenset(nth)


def crontab_element_values(name: str, element: str) -> range:
    """The numbers one comma-separated element (``5/2``, ``1-5``, ``*/3``) of crontab field
    ``name`` stands for, in crontab's numbering (weekday 0 and 7 = Sunday), in order.

    For a reader of a field (the English of :mod:`jobctl.schedules.english`) that must say
    exactly what jobctl runs, such as ``5/2`` in the weekday field being ``5-7/2``.

    :raises FieldError: for an element that is not a number, name, range or step.
    """
    return _expand(element.lower(), _CRONTAB_RULES[name])


def _monday_first(sunday_first: int) -> int:
    """Crontab's weekday number (0 and 7 = Sunday) in Python's numbering (0 = Monday)."""
    return (sunday_first - 1) % 7


def _split(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",")]
    if not text.strip() or "" in parts:
        raise FieldError("has an empty value")
    return parts


def _expand_list(text: str, rule: FieldRule) -> list[int]:
    values: list[int] = []
    for part in _split(text):
        values.extend(_expand(part, rule))
    return values


def _expand(part: str, rule: FieldRule) -> range:
    """The numbers one element of a comma list stands for; ``*/n`` counts from the minimum."""
    match = _RANGE.fullmatch(part)
    if not match:
        raise FieldError(f"{part!r} is not a value, a range (a-b) or a step (*/n, a-b/n)")
    step = int(match["step"]) if match["step"] else None
    if step is not None and not 1 <= step <= rule.high - rule.low:
        raise FieldError(
            f"step {step} in {part!r} must be between 1 and {rule.high - rule.low}",
            code="step_zero" if step == 0 else "out_of_range",
        )
    if match["star"]:
        return range(rule.low, rule.high + 1, step or 1)
    first = rule.value(match["first"])
    if match["last"]:
        last = rule.value(match["last"])
        if last == 0 and rule.names is SUNDAY_FIRST:
            last = 7  # "fri-sun" in crontab: Sunday closes the week as 7
        if last < first:
            raise FieldError(f"range {part!r} runs backwards")
    else:
        last = rule.high if step else first
    return range(first, last + 1, step or 1)
