"""Expected orders per forecast hour: from the demand forecast, or a weekday-hour profile.

The station load forecast needs the restaurant's orders for each of the 24 local hours
starting with the hour that contains ``as_of``. The demand job's hourly forecast
(``demand.forecast.updated``'s ``series`` shape, target ``orders``) is the source; when
there is none, the fallback is the mean of the same local weekday and hour over the last
weeks of history (``rule_based``). Hours are matched as UTC instants, so labels of any
offset spelling (``+01:00``, ``Z``) and both hours of a fall-back night line up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rms_ml_push.features.calendar import hour_labels, zone


def hours_frame(hours_utc: pd.DatetimeIndex, tz: str) -> pd.DataFrame:
    """``ts`` (local ISO 8601 label with offset) and ``start`` (UTC) per forecast hour."""
    return pd.DataFrame(
        {"ts": hour_labels(hours_utc, tz).to_numpy(), "start": hours_utc.tz_convert("UTC")}
    )


def orders_from_series(
    series: Sequence[Mapping[str, Any]], hours: pd.DataFrame
) -> pd.DataFrame | None:
    """``ts, orders`` for ``hours`` from the restaurant-level ``orders`` series; None when
    the series is missing or does not cover every hour with a finite value."""
    points = next(
        (
            s["points"]
            for s in series
            if s.get("target") == "orders" and s.get("menu_item_id") is None
        ),
        None,
    )
    if not points:
        return None
    starts = pd.to_datetime([p["ts"] for p in points], utc=True)
    by_start = pd.Series([float(p["yhat"]) for p in points], index=starts)
    by_start = by_start[~by_start.index.duplicated(keep="first")]
    values = by_start.reindex(pd.DatetimeIndex(hours["start"])).to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        return None
    return pd.DataFrame({"ts": hours["ts"].to_numpy(), "orders": values.clip(min=0.0)})


def orders_from_profile(
    hourly: pd.DataFrame, hours: pd.DataFrame, tz: str, *, weeks: int = 4
) -> pd.DataFrame:
    """``ts, orders``: per forecast hour, the mean orders of the same local weekday and
    hour over the last ``weeks`` weeks of ``hourly`` (``ds`` UTC hour start, ``y``; hours
    without orders present as zeros, as ``calendar.hourly_totals`` gives them)."""
    tzinfo = zone(tz)
    if hourly.empty:
        return pd.DataFrame({"ts": hours["ts"].to_numpy(), "orders": np.zeros(len(hours))})
    recent = hourly[hourly["ds"] >= hourly["ds"].max() - pd.Timedelta(weeks=weeks)]
    local = recent["ds"].dt.tz_convert(tzinfo)
    means = recent["y"].groupby([local.dt.dayofweek.to_numpy(), local.dt.hour.to_numpy()]).mean()
    wanted = pd.DatetimeIndex(hours["start"]).tz_convert(tzinfo)
    index = pd.MultiIndex.from_arrays([wanted.dayofweek, wanted.hour])
    values = means.reindex(index).fillna(0.0).to_numpy(dtype=np.float64)
    return pd.DataFrame({"ts": hours["ts"].to_numpy(), "orders": values})
