"""Known-in-advance calendar features: day of week, day of year, public holidays.

Holidays come from the ``holidays`` package for a configured country and subdivision;
a calendar without a country yields the same columns with no holiday ever set, so that
"no holiday features" is a setting, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import holidays
import numpy as np
import pandas as pd

# Distances to the nearest holiday are clipped here: effects further away are noise.
HOLIDAY_WINDOW_DAYS = 7

CALENDAR_COLUMNS: tuple[str, ...] = (
    "dow",
    "doy",
    "is_holiday",
    "days_to_holiday",
    "days_since_holiday",
)


@dataclass(frozen=True)
class HolidayCalendar:
    """Public holidays of one country (and subdivision); ``country=None`` means none."""

    country: str | None = None
    subdivision: str | None = None

    def holidays_between(self, start: pd.Timestamp, end: pd.Timestamp) -> dict[pd.Timestamp, str]:
        """Holiday dates (midnight timestamps) from ``start`` to ``end`` inclusive, by name."""
        if self.country is None:
            return {}
        years = list(range(start.year - 1, end.year + 2))
        table = holidays.country_holidays(self.country, subdiv=self.subdivision, years=years)
        return {pd.Timestamp(day): str(name) for day, name in table.items()}

    def features(self, dates: pd.DatetimeIndex) -> pd.DataFrame:
        """One row per date with :data:`CALENDAR_COLUMNS`, indexed by the normalised date."""
        days = pd.DatetimeIndex(dates).normalize()
        frame = pd.DataFrame(index=days)
        frame["dow"] = days.dayofweek.astype(np.int8)
        frame["doy"] = days.dayofyear.astype(np.int16)
        if len(days) == 0:
            frame["is_holiday"] = np.zeros(0, dtype=np.int8)
            frame["days_to_holiday"] = np.zeros(0, dtype=np.int8)
            frame["days_since_holiday"] = np.zeros(0, dtype=np.int8)
            return frame
        table = self.holidays_between(days.min(), days.max())
        marks = np.array(sorted(table), dtype="datetime64[ns]")
        frame["is_holiday"] = np.isin(days.values, marks).astype(np.int8)
        to_next, since_last = _distances(days.values, marks)
        frame["days_to_holiday"] = to_next
        frame["days_since_holiday"] = since_last
        return frame


def _distances(days: np.ndarray, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days to the next and since the previous holiday, clipped to the window."""
    cap = HOLIDAY_WINDOW_DAYS + 1
    if len(marks) == 0:
        full = np.full(len(days), cap, dtype=np.int8)
        return full, full.copy()
    day_num = days.astype("datetime64[D]").astype(np.int64)
    mark_num = marks.astype("datetime64[D]").astype(np.int64)
    pos = np.searchsorted(mark_num, day_num, side="left")
    nxt = np.where(pos < len(mark_num), mark_num[np.minimum(pos, len(mark_num) - 1)], 10**9)
    right = np.searchsorted(mark_num, day_num, side="right") - 1
    prv = np.where(right >= 0, mark_num[np.maximum(right, 0)], -(10**9))
    to_next = np.clip(nxt - day_num, 0, cap).astype(np.int8)
    since_last = np.clip(day_num - prv, 0, cap).astype(np.int8)
    return to_next, since_last


def calendar_for(calendars: Mapping[str, HolidayCalendar], key: str | None) -> HolidayCalendar:
    """The calendar for a key, or the no-holiday calendar when the key is unknown."""
    if key is None:
        return HolidayCalendar()
    return calendars.get(key, HolidayCalendar())


def holiday_mask(
    rows: pd.DataFrame, calendar_keys: pd.Series, calendars: Mapping[str, HolidayCalendar]
) -> np.ndarray:
    """True for ``unique_id, ds`` rows on a public holiday of the series' own calendar.

    ``calendar_keys`` maps unique_id to a key of ``calendars`` (None: no holidays).
    """
    mask = np.zeros(len(rows), dtype=bool)
    if rows.empty or not calendars:
        return mask
    keys = rows["unique_id"].map(calendar_keys).astype(object)
    days = pd.DatetimeIndex(rows["ds"])
    if days.tz is not None:
        days = days.tz_localize(None)  # local wall-clock dates
    days = days.normalize()
    for key in pd.unique(keys.dropna()):
        calendar = calendars.get(str(key))
        if calendar is None:
            continue
        hit = (keys == key).to_numpy()
        flags = calendar.features(pd.DatetimeIndex(days[hit].unique()))["is_holiday"]
        mask[hit] = flags.reindex(days[hit]).to_numpy(dtype=bool)
    return mask
