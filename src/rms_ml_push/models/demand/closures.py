"""Detect closing days from history: weekdays (or hours of the week) off, holiday closures.

A weekday with zero demand in (nearly) all of the recent weeks is closed; a public holiday
whose every past occurrence had zero demand is a closure on its future occurrences too;
a zero day in an otherwise busy series is a one-off closure (renovation, strike), kept so
that metrics and training ignore it. Detect on restaurant totals and map item series to
them with a closure key: a sparse item's zero days say nothing about the restaurant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.calendar import HolidayCalendar

# A series whose typical day has at least this much demand is "busy": a zero day is a closure.
BUSY_MEDIAN = 5.0


@dataclass(frozen=True)
class Closures:
    """Closed positions (weekday 0-6, or hour of week 0-167) and closed dates per key."""

    positions: Mapping[str, frozenset[int]] = field(default_factory=dict)
    dates: Mapping[str, frozenset[pd.Timestamp]] = field(default_factory=dict)

    def mask(self, key: str | None, ds: pd.DatetimeIndex | pd.Series, freq: str) -> np.ndarray:
        """Boolean array: True where ``ds`` is closed for ``key``."""
        stamps = pd.DatetimeIndex(ds)
        if stamps.tz is not None:
            stamps = stamps.tz_localize(None)  # local wall-clock positions and dates
        if key is None:
            return np.zeros(len(stamps), dtype=bool)
        closed = np.isin(season_position(stamps, freq), list(self.positions.get(key, ())))
        dates = self.dates.get(key, frozenset())
        if dates:
            closed |= np.isin(stamps.normalize().values, np.array(sorted(dates), "M8[ns]"))
        return closed

    def to_dict(self) -> dict[str, dict[str, list[int] | list[str]]]:
        """A JSON-able view, for the fitted state and logs."""
        keys = set(self.positions) | set(self.dates)
        return {
            k: {
                "positions": sorted(self.positions.get(k, ())),
                "dates": sorted(d.date().isoformat() for d in self.dates.get(k, ())),
            }
            for k in sorted(keys)
        }


def season_position(ds: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Weekday (0 = Monday) for daily data, hour of the week for hourly data."""
    if freq == "D":
        return np.asarray(ds.dayofweek, dtype=np.int64)
    return np.asarray(ds.dayofweek * 24 + ds.hour, dtype=np.int64)


def detect_closures(
    frame: pd.DataFrame,
    freq: str = "D",
    *,
    calendars: Mapping[str, HolidayCalendar] | None = None,
    until: pd.Timestamp | None = None,
    weeks: int = 8,
    min_zero_share: float = 0.875,
) -> Closures:
    """Closures per ``unique_id`` of a long ``unique_id, ds, y`` frame.

    ``calendars`` maps a unique_id to its holiday calendar; holiday closures are projected
    forward to ``until`` (inclusive), e.g. the last forecast day.
    """
    positions: dict[str, frozenset[int]] = {}
    dates: dict[str, frozenset[pd.Timestamp]] = {}
    tz = getattr(frame["ds"].dtype, "tz", None)
    if tz is not None:
        # Positions and dates are local wall-clock ones (see localtime.py).
        frame = frame.assign(ds=frame["ds"].dt.tz_localize(None))
    for uid, part in frame.groupby("unique_id", sort=True, observed=True):
        key = str(uid)
        ds = pd.DatetimeIndex(part["ds"])
        y = part["y"].to_numpy(dtype=float)
        positions[key] = _closed_positions(ds, y, freq, weeks, min_zero_share)
        daily = pd.Series(y, index=ds.normalize()).groupby(level=0).sum()
        calendar = (calendars or {}).get(key, HolidayCalendar())
        closed = _one_off_closures(daily, positions[key], freq)
        closed |= _holiday_closures(daily, calendar, until)
        if closed:
            dates[key] = frozenset(closed)
    return Closures(positions=positions, dates=dates)


def _closed_positions(
    ds: pd.DatetimeIndex, y: np.ndarray, freq: str, weeks: int, min_zero_share: float
) -> frozenset[int]:
    if len(ds) == 0:
        return frozenset()
    recent = ds >= ds.max() - pd.Timedelta(days=7 * weeks) + pd.Timedelta(hours=1)
    pos = season_position(ds[recent], freq)
    zero = y[recent] <= 0
    counts = np.bincount(pos, minlength=168)
    zeros = np.bincount(pos, weights=zero.astype(float), minlength=168)
    # A position needs half the window observed, so a short history cannot close it.
    closed = (counts >= max(2, weeks // 2)) & (zeros >= min_zero_share * np.maximum(counts, 1))
    return frozenset(int(p) for p in np.flatnonzero(closed))


def _one_off_closures(
    daily: pd.Series, closed_positions: frozenset[int], freq: str
) -> set[pd.Timestamp]:
    if daily.empty or float(daily.median()) < BUSY_MEDIAN or freq != "D":
        return set()
    open_days = ~np.isin(pd.DatetimeIndex(daily.index).dayofweek, list(closed_positions))
    zero_days = daily.index[(daily.to_numpy() <= 0) & open_days]
    return {pd.Timestamp(d) for d in zero_days}


def _holiday_closures(
    daily: pd.Series, calendar: HolidayCalendar, until: pd.Timestamp | None
) -> set[pd.Timestamp]:
    if daily.empty or calendar.country is None:
        return set()
    end = max(daily.index.max(), until.normalize() if until is not None else daily.index.max())
    table = calendar.holidays_between(daily.index.min(), end)
    by_name: dict[str, list[pd.Timestamp]] = {}
    for day, name in table.items():
        by_name.setdefault(name, []).append(day)
    closed: set[pd.Timestamp] = set()
    for days in by_name.values():
        seen = [d for d in days if d in daily.index]
        if seen and all(float(daily.loc[d]) <= 0 for d in seen):
            closed.update(d for d in days if d <= end)
    return closed
