"""Local days and hours per restaurant: the ``as_of`` rules of design.md ("Time").

History is every whole local day (hour) before the local day (hour) that contains
``as_of``; day 0 (hour 0) is the one that contains it. Buckets come from zoneinfo rules,
so a spring-forward day has 23 hourly buckets and a fall-back day 25. Gaps are filled:
a day (hour) without events is a zero, not a missing row, from a series' first event
(or ``start``) to the last whole day (hour) before ``as_of``.

Conventions of the frames returned: daily ``ds`` is the local calendar day as a naive
midnight ``datetime64[ns]`` (what statsforecast expects); hourly ``ds`` is the UTC
instant the local hour starts (``datetime64[ns, UTC]``, unique even when the clocks fall
back) and ``local_hour`` its local ISO 8601 label with offset (``2024-10-27T02:00:00+01:00``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

TS_UTC = "datetime64[ns, UTC]"


def zone(tz: str) -> ZoneInfo:
    """The IANA zone ``tz``; ValueError naming it if unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r}") from None


def _aware(ts: datetime) -> pd.Timestamp:
    if ts.tzinfo is None:
        raise ValueError("naive datetime; as_of must be timezone-aware")
    return pd.Timestamp(ts).tz_convert(UTC)


def day0(as_of: datetime, tz: str) -> date:
    """The local day that contains ``as_of`` (day 0 of daily outputs)."""
    return _aware(as_of).astimezone(zone(tz)).date()


def local_day_bounds(day: date, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """UTC [start, end) of a local day: 23, 24 or 25 hours long."""
    return _local_midnight(day, tz), _local_midnight(day + timedelta(days=1), tz)


def _local_midnight(day: date, tz: str) -> pd.Timestamp:
    naive = pd.Timestamp(datetime.combine(day, time(0)))
    # A midnight that does not exist starts the day at the first instant after the gap;
    # one that happens twice starts it at the first occurrence (still summer time).
    local = naive.tz_localize(zone(tz), ambiguous=True, nonexistent="shift_forward")
    return local.tz_convert(UTC)


def history_end(as_of: datetime, tz: str) -> pd.Timestamp:
    """UTC start of day 0: daily history is every event strictly before it."""
    return _local_midnight(day0(as_of, tz), tz)


def hour0(as_of: datetime, tz: str) -> pd.Timestamp:
    """UTC start of the local hour that contains ``as_of`` (hour 0 of hourly outputs)."""
    return pd.Timestamp(local_hours(pd.Series([_aware(as_of)], dtype=TS_UTC), tz).iloc[0])


def day_hours(day: date, tz: str) -> pd.DatetimeIndex:
    """UTC starts of the local hours of ``day``: 23 on a spring-forward day, 25 on fall-back."""
    start, end = local_day_bounds(day, tz)
    return pd.date_range(start, end, freq="h", inclusive="left")


def forecast_days(as_of: datetime, tz: str, horizon: int) -> list[date]:
    """The ``horizon`` local days starting with day 0."""
    first = day0(as_of, tz)
    return [first + timedelta(days=i) for i in range(horizon)]


def forecast_hours(as_of: datetime, tz: str, horizon: int) -> pd.DatetimeIndex:
    """UTC starts of the ``horizon`` local hours starting with hour 0."""
    return pd.date_range(hour0(as_of, tz), periods=horizon, freq="h")


def local_days(ts: pd.Series, tz: str) -> pd.Series:
    """UTC instants -> the local calendar day, as naive midnight datetime64[ns]."""
    days: pd.Series = ts.dt.tz_convert(zone(tz)).dt.tz_localize(None).dt.normalize()
    return days


def local_hours(ts: pd.Series, tz: str) -> pd.Series:
    """UTC instants -> UTC start of the local hour that contains each (DST-safe)."""
    wall = ts.dt.tz_convert(zone(tz)).dt.tz_localize(None)
    offset = wall - ts.dt.tz_convert(UTC).dt.tz_localize(None)
    # Floor on the wall clock, then take that instant's own offset off again: the two
    # 02:00 hours of a fall-back night land in two buckets an hour apart.
    starts: pd.Series = (wall.dt.floor("h") - offset).dt.tz_localize(UTC)
    return starts


def hour_labels(hours: pd.Series | pd.DatetimeIndex, tz: str) -> pd.Series:
    """UTC hour starts -> local ISO 8601 labels with offset (``...T02:00:00+01:00``)."""
    utc = pd.Series(hours).dt.tz_convert(UTC).dt.tz_localize(None)
    wall = pd.Series(hours).dt.tz_convert(zone(tz)).dt.tz_localize(None)
    # numpy formats in C; the few distinct offsets are formatted once each.
    text = np.datetime_as_string(wall.to_numpy(dtype="datetime64[s]"), unit="s")
    minutes = ((wall - utc).dt.total_seconds() // 60).astype("int64")
    suffix = minutes.map({m: _offset_text(int(m)) for m in minutes.unique()})
    labels: pd.Series = pd.Series(text, index=utc.index) + suffix
    return labels


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


def daily_totals(
    events: pd.DataFrame,
    ts_col: str,
    tz: str,
    as_of: datetime,
    *,
    keys: Sequence[str] = (),
    value_col: str | None = None,
    start: date | None = None,
) -> pd.DataFrame:
    """Per key and local day before day 0: the sum of ``value_col`` (or a row count).

    Columns: ``*keys``, ``ds`` (naive local midnight), ``y`` (float64). Every day from
    the key's first event (or ``start``) to day 0 - 1 is present; days without events are 0.
    """
    end = pd.Timestamp(day0(as_of, tz))
    days = local_days(events[ts_col], tz)
    frame = _values(events, keys, value_col).assign(ds=days)
    frame = frame[frame["ds"] < end]
    if start is not None:
        frame = frame[frame["ds"] >= pd.Timestamp(start)]
    first = pd.Timestamp(start) if start is not None else None
    return _fill(frame, keys, end, pd.Timedelta(days=1), first=first)


def hourly_totals(
    events: pd.DataFrame,
    ts_col: str,
    tz: str,
    as_of: datetime,
    *,
    keys: Sequence[str] = (),
    value_col: str | None = None,
    start: datetime | None = None,
) -> pd.DataFrame:
    """Per key and local hour before hour 0: the sum of ``value_col`` (or a row count).

    Columns: ``*keys``, ``ds`` (UTC start of the local hour), ``local_hour`` (label),
    ``y`` (float64). Hours without events are 0.
    """
    end = hour0(as_of, tz)
    frame = _values(events, keys, value_col).assign(ds=local_hours(events[ts_col], tz))
    frame = frame[frame["ds"] < end]
    first = None
    if start is not None:
        first = hour0(start, tz)
        frame = frame[frame["ds"] >= first]
    out = _fill(frame, keys, end, pd.Timedelta(hours=1), first=first)
    out.insert(len(keys) + 1, "local_hour", hour_labels(out["ds"], tz).to_numpy())
    return out


def per_restaurant(
    events: pd.DataFrame,
    zones: Mapping[int, str],
    as_of: datetime,
    *,
    ts_col: str,
    keys: Sequence[str] = (),
    value_col: str | None = None,
    hourly: bool = False,
) -> pd.DataFrame:
    """Daily (or hourly) totals per restaurant, each in its own zone (``restaurant_id``)."""
    parts = []
    for key, group in events.groupby("restaurant_id", sort=True):
        restaurant_id = int(cast(int, key))
        tz = zones[restaurant_id]
        bucket = hourly_totals if hourly else daily_totals
        part = bucket(group, ts_col, tz, as_of, keys=keys, value_col=value_col)
        parts.append(part.assign(restaurant_id=restaurant_id))
    if not parts:
        columns = [*keys, "ds", *(["local_hour"] if hourly else []), "y", "restaurant_id"]
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def _values(events: pd.DataFrame, keys: Sequence[str], value_col: str | None) -> pd.DataFrame:
    values = events[value_col].astype("float64") if value_col else np.ones(len(events))
    return events[list(keys)].assign(y=values)


def _fill(
    frame: pd.DataFrame,
    keys: Sequence[str],
    end: pd.Timestamp | None,
    step: pd.Timedelta | None,
    first: pd.Timestamp | None,
) -> pd.DataFrame:
    """Sum per (keys, ds) and add zero rows for every step from the first to ``end``."""
    group_keys = [*keys, "ds"]
    sums = frame.groupby(group_keys, sort=True, dropna=False)["y"].sum().reset_index()
    if sums.empty or end is None or step is None:
        return sums[[*keys, "ds", "y"]].astype({"y": "float64"})
    if keys:
        starts = sums.groupby(list(keys), sort=True, dropna=False)["ds"].min().reset_index()
    else:
        starts = pd.DataFrame({"ds": [sums["ds"].min()]})
    if first is not None:
        starts["ds"] = first
    spans = (end - starts["ds"]).to_numpy()
    lengths = (spans // step.to_timedelta64()).astype("int64")
    grid = starts.loc[starts.index.repeat(lengths)].reset_index(drop=True)
    offsets = np.concatenate([np.arange(n, dtype="int64") for n in lengths])
    grid["ds"] = grid["ds"] + offsets * step.to_timedelta64()
    out = grid.merge(sums, on=group_keys, how="left")
    out["y"] = out["y"].fillna(0.0).astype("float64")
    return out[[*keys, "ds", "y"]]
