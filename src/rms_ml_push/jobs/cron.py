"""Cron expressions with day names, and their slots in a time zone: pure functions.

Five fields, ``minute hour day-of-month month day-of-week``, each ``*``, a value, a range
``a-b``, a step ``*/n`` or ``a-b/n``, or a comma list of those. A sixth field in FRONT,
``second``, is accepted (as in APScheduler and Quartz) so that tests and demos can run
slots seconds apart; production schedules use five fields. Months take numbers or
names (``jan``-``dec``); the day of week takes NAMES ONLY (``mon``-``sun``): numeric days
mean Sunday in Vixie cron but Monday in APScheduler 3 (``design.md``, pitfalls), so we
refuse them rather than guess.

All fields must match (as in APScheduler, unlike Vixie cron's OR of the two day fields):
``0 6 1-7 * mon`` is the first Monday of the month.

Daylight saving time, in the entry's zone: a wall time that does not exist (the hour
skipped in spring) fires at the same instant as the wall time shifted past the gap
(02:30 -> 03:30); a wall time that occurs twice (autumn) fires once, at its first
occurrence. So a daily entry has exactly one slot per local day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()
_SEARCH_DAYS = 366 * 8 + 2  # long enough for "29 feb" across a century leap-year gap


class CronError(ValueError):
    """A cron expression that cannot be parsed; the message names the field."""


@dataclass(frozen=True)
class Cron:
    """A parsed cron expression: the allowed values of each field."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Monday, as date.weekday()
    seconds: tuple[int, ...] = (0,)

    def matches_day(self, day: date) -> bool:
        """True when the cron fires at some time of this local calendar day."""
        return day.day in self.days and day.month in self.months and day.weekday() in self.weekdays


def parse_cron(text: str) -> Cron:
    """Parse a five-field (or six, seconds first) cron expression; CronError names the field."""
    fields = text.split()
    if len(fields) not in (5, 6):
        raise CronError(
            f"cron {text!r}: expected 5 fields (min hour day month weekday) or 6 with seconds first"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    if re.search(r"\d", weekday):
        raise CronError(
            f"cron {text!r}: write the day of week with names (mon-sun), not numbers; "
            "numeric days differ between cron dialects"
        )
    return Cron(
        text=text,
        minutes=tuple(sorted(_field(minute, 0, 59, (), what="minute", text=text))),
        hours=tuple(sorted(_field(hour, 0, 23, (), what="hour", text=text))),
        days=frozenset(_field(day, 1, 31, (), what="day of month", text=text)),
        months=frozenset(_field(month, 1, 12, _MONTHS, what="month", text=text)),
        weekdays=frozenset(_field(weekday, 0, 6, _DAYS, what="day of week", text=text)),
        seconds=tuple(sorted(_field(second, 0, 59, (), what="second", text=text))),
    )


def _field(
    spec: str, low: int, high: int, names: tuple[str, ...], *, what: str, text: str
) -> set[int]:
    values: set[int] = set()
    for part in spec.lower().split(","):
        try:
            values.update(_part(part, low, high, names))
        except ValueError as exc:
            raise CronError(f"cron {text!r}: {what} {part!r}: {exc}") from None
    return values


def _part(part: str, low: int, high: int, names: tuple[str, ...]) -> range:
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text else 1
    if step < 1:
        raise ValueError("step must be >= 1")
    if base == "*":
        return range(low, high + 1, step)
    first_text, dash, last_text = base.partition("-")
    first = _value(first_text, low, names)
    last = _value(last_text, low, names) if dash else (high if step_text else first)
    if not low <= first <= last <= high:
        raise ValueError(f"out of range {_show(low, names)}-{_show(high, names)}")
    return range(first, last + 1, step)


def _value(text: str, low: int, names: tuple[str, ...]) -> int:
    if names and text in names:
        return names.index(text) + low
    if not text.isdigit():
        raise ValueError("not a number" + (" or name" if names else ""))
    return int(text)


def _show(value: int, names: tuple[str, ...]) -> str:
    return names[value - (0 if len(names) == 7 else 1)] if names else str(value)


def day_slots(cron: Cron, day: date, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which ``cron`` fires on local ``day`` in ``tz``, sorted, unique."""
    if not cron.matches_day(day):
        return []
    minutes = {
        _resolve(datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz))
        for hour in cron.hours
        for minute in cron.minutes
    }
    # Offsets change on whole minutes, so a second within a minute shifts with its minute.
    if cron.seconds == (0,):
        return sorted(minutes)
    return sorted({m + timedelta(seconds=s) for m in minutes for s in cron.seconds})


def _fixed_offset(day: date, tz: ZoneInfo) -> timedelta | None:
    """The zone's UTC offset if it is the same all through local ``day`` (no DST change)."""
    nxt = day + timedelta(days=1)
    first = datetime(day.year, day.month, day.day, tzinfo=tz).utcoffset()
    last = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).utcoffset()
    return first if first == last else None


def _first_after(cron: Cron, day: date, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The day's first slot after ``after``; walks the fields in order on a fixed-offset day.

    Most days have one offset, so slots grow with wall time and the walk can stop at the
    first hit instead of resolving every slot of the day (86,400 with a seconds field).
    """
    offset = _fixed_offset(day, tz)
    if offset is None:
        return next((i for i in day_slots(cron, day, tz) if i > after), None)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
    for hour in cron.hours:
        if midnight + timedelta(hours=hour + 1) <= after:
            continue
        for minute in cron.minutes:
            start = midnight + timedelta(hours=hour, minutes=minute)
            if start + timedelta(minutes=1) <= after:
                continue
            for second in cron.seconds:
                if (instant := start + timedelta(seconds=second)) > after:
                    return instant
    return None


def _last_at_or_before(cron: Cron, day: date, tz: ZoneInfo, at: datetime) -> datetime | None:
    """The day's last slot at or before ``at``; the reverse walk of :func:`_first_after`."""
    offset = _fixed_offset(day, tz)
    if offset is None:
        return next((i for i in reversed(day_slots(cron, day, tz)) if i <= at), None)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - offset
    for hour in reversed(cron.hours):
        if midnight + timedelta(hours=hour) > at:
            continue
        for minute in reversed(cron.minutes):
            start = midnight + timedelta(hours=hour, minutes=minute)
            if start > at:
                continue
            for second in reversed(cron.seconds):
                if (instant := start + timedelta(seconds=second)) <= at:
                    return instant
    return None


def _resolve(wall: datetime) -> datetime:
    # fold=0: a skipped wall time takes the offset from before the gap (so it lands past
    # the gap), a repeated one its first occurrence (PEP 495).
    return wall.replace(fold=0).astimezone(UTC)


def next_slot(cron: Cron, tz: ZoneInfo, after: datetime) -> datetime | None:
    """The first slot strictly after ``after`` (aware), or None if none within 8 years."""
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        if cron.matches_day(day) and (found := _first_after(cron, day, tz, after)):
            return found
        day += timedelta(days=1)
    return None


def previous_slot(cron: Cron, tz: ZoneInfo, at: datetime) -> datetime | None:
    """The latest slot at or before ``at`` (aware), or None if none within 8 years."""
    day = at.astimezone(tz).date() + timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        if cron.matches_day(day) and (found := _last_at_or_before(cron, day, tz, at)):
            return found
        day -= timedelta(days=1)
    return None


def is_slot(cron: Cron, tz: ZoneInfo, instant: datetime) -> bool:
    """True when ``cron`` fires exactly at ``instant``."""
    return previous_slot(cron, tz, instant) == instant
