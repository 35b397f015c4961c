"""A restaurant's calendar: open days, expected orders per day, order times in UTC.

Expected orders on local day d::

    base x (1 + trend x years) x weekly[dow] x (1 + amplitude x cos(2 pi (doy - peak)/365.25))
         x holiday effect x open

Order times mix a lunch peak, a dinner peak and a flat share over opening hours; hours
past 24 are after local midnight. Local wall times become UTC instants with the zone's
rules: a time in a spring-forward gap moves forward, a time in the repeated autumn hour
takes either occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

from rms_ml_push.demo.params import (
    CLOSED_ON_HOLIDAYS,
    CLOSED_WEEKDAY_EVERY,
    WEEKLY_PROFILE,
    RestaurantSpec,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
DAY_S = 86_400


@dataclass(frozen=True)
class Calendar:
    """Per local day of one restaurant: date, open flag, expected orders, holiday flag."""

    days: npt.NDArray[np.datetime64]  # datetime64[D], local dates
    open: B
    expected_orders: F64
    holiday: B
    closed_weekday: int | None
    base_orders: float
    trend_per_year: float
    yearly_amplitude: float
    yearly_peak_doy: int


def build_calendar(
    spec: RestaurantSpec, index: int, first: date, n_days: int, rng: np.random.Generator
) -> Calendar:
    """The restaurant's days from ``first`` (local dates), with demand multipliers."""
    days = np.arange(np.datetime64(first, "D"), np.datetime64(first + timedelta(n_days), "D"))
    dow = ((days.astype(np.int64) + 3) % 7).astype(np.int64)  # 1970-01-01 was a Thursday
    years = np.arange(n_days, dtype=np.float64) / 365.25
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    base = float(rng.uniform(70.0, 160.0))
    trend = float(rng.uniform(-0.05, 0.15))
    amplitude = float(rng.uniform(0.08, 0.2))
    peak = int(rng.integers(190, 220)) if not spec.southern else int(rng.integers(5, 40))
    weekly = np.asarray(WEEKLY_PROFILE) * rng.uniform(0.93, 1.07, size=7)
    expected = (
        base
        * np.clip(1.0 + trend * years, 0.3, None)
        * weekly[dow]
        * (1.0 + amplitude * np.cos(2.0 * np.pi * (doy - peak) / 365.25))
    )
    holiday, effect, closed_holiday = _holidays(spec, days, rng)
    closed_weekday = index % 7 if index % CLOSED_WEEKDAY_EVERY == 0 else None
    is_open = ~closed_holiday
    if closed_weekday is not None:
        is_open &= dow != closed_weekday
    return Calendar(
        days=days,
        open=is_open,
        expected_orders=expected * effect * is_open,
        holiday=holiday,
        closed_weekday=closed_weekday,
        base_orders=base,
        trend_per_year=trend,
        yearly_amplitude=amplitude,
        yearly_peak_doy=peak,
    )


def _holidays(
    spec: RestaurantSpec, days: npt.NDArray[np.datetime64], rng: np.random.Generator
) -> tuple[B, F64, B]:
    """Holiday flag, demand effect, and closure (Christmas Day, New Year's Day)."""
    years = sorted({int(y) for y in days.astype("datetime64[Y]").astype(np.int64) + 1970})
    calendar = holidays.country_holidays(spec.country, subdiv=spec.subdivision, years=years)
    dates = days.astype("datetime64[D]").astype(date)
    holiday = np.array([d in calendar for d in dates], dtype=bool)
    effect = np.where(holiday, rng.uniform(0.6, 1.45, size=len(days)), 1.0)
    closed = np.array(
        [
            bool(h) and (d.month, d.day) in CLOSED_ON_HOLIDAYS
            for d, h in zip(dates, holiday, strict=True)
        ],
        dtype=bool,
    )
    return holiday, effect, closed


def order_local_hours(spec: RestaurantSpec, n: int, rng: np.random.Generator) -> F64:
    """Local hour of day (may exceed 24) for ``n`` orders: lunch, dinner and a flat share."""
    part = rng.choice(3, size=n, p=[0.38, 0.5, 0.12])
    lunch = rng.normal(12.75, 0.75, size=n)
    dinner = rng.normal(19.5, 1.25, size=n)
    flat = rng.uniform(spec.open_hour, spec.close_hour, size=n)
    hours = np.where(part == 0, lunch, np.where(part == 1, dinner, flat))
    # Past closing the kitchen stops taking orders; before opening nobody orders.
    outside = (hours < spec.open_hour) | (hours >= spec.close_hour)
    return np.where(outside, flat, hours)


def local_to_utc_s(
    local_day: npt.NDArray[np.datetime64], hours: F64, timezone: str, rng: np.random.Generator
) -> I64:
    """UTC epoch seconds of local wall times ``day + hours`` in ``timezone`` (DST-aware)."""
    wall = local_day.astype("datetime64[s]") + np.round(hours * 3600.0).astype("timedelta64[s]")
    ambiguous = rng.random(len(wall)) < 0.5
    index = pd.DatetimeIndex(wall.astype("datetime64[ns]")).tz_localize(
        timezone, ambiguous=ambiguous, nonexistent="shift_forward"
    )
    return np.asarray(index.view(np.int64) // 1_000_000_000, dtype=np.int64)


def local_midnights_utc_s(days: npt.NDArray[np.datetime64], timezone: str) -> I64:
    """UTC epoch seconds of each local day's start (a midnight gap moves forward)."""
    index = pd.DatetimeIndex(days.astype("datetime64[ns]")).tz_localize(
        timezone, ambiguous=np.zeros(len(days), dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(index.view(np.int64) // 1_000_000_000, dtype=np.int64)


def dst_days(days: npt.NDArray[np.datetime64], timezone: str) -> int:
    """How many local days are not 24 hours long (clock changes)."""
    ends = np.append(days, days[-1] + np.timedelta64(1, "D"))
    starts = local_midnights_utc_s(ends, timezone)
    return int(np.count_nonzero(np.diff(starts) != DAY_S))
