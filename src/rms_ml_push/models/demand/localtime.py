"""Hourly series across DST changes: model on wall-clock hours, answer in real hours.

Seasonal models count steps: on absolute hours, a week after a DST change every
same-hour-last-week lag points one hour off (measured: the 12:00 forecast showed the
11:00 profile). So tz-aware hourly input is modelled on the local wall-clock grid (the
repeated autumn hour summed, the missing spring hour a zero) and the forecasts are
mapped back onto the ``h`` real hours that follow the history: the spring hour that does
not exist is skipped, the autumn hour that happens twice gets its forecast twice.
"""

from __future__ import annotations

import pandas as pd


def wall_clock_tz(frame: pd.DataFrame, freq: str) -> str | None:
    """The time zone of tz-aware hourly ``ds``, else None (daily or naive: used as is)."""
    if freq == "D" or frame.empty:
        return None
    tz = getattr(frame["ds"].dtype, "tz", None)
    return None if tz is None else str(tz)


def to_wall_clock(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """``ds`` as naive local wall-clock hours (duplicates are summed by the caller's grid)."""
    return frame.assign(ds=frame["ds"].dt.tz_convert(tz).dt.tz_localize(None))


def to_real_hours(
    forecasts: pd.DataFrame, tz: str, last_history: pd.Timestamp, h: int
) -> pd.DataFrame:
    """Forecast rows for the ``h`` real hours after ``last_history`` (tz-aware ``ds``)."""
    start = pd.Timestamp(last_history).tz_localize(tz, ambiguous=False) + pd.Timedelta(hours=1)
    real = pd.date_range(start, periods=h, freq="h")
    wall = pd.DataFrame({"ds_real": real, "ds": real.tz_localize(None)})
    out = forecasts.merge(wall, on="ds", how="inner")
    out["ds"] = out.pop("ds_real")
    return out.sort_values(["unique_id", "ds"], ignore_index=True)
