"""Rule-based and default rungs of the fallback chain, and the new-item category share.

- rule-based: the same-weekday (same hour-of-week) mean of the last four weeks;
- new items: their share of the category's forecast (own share of category sales over
  the days they existed, else the median share of the category's established items);
- default: zero.
Intervals for rule rows come from Poisson quantiles: there is no backtest to calibrate on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import poisson

from rms_ml_push.models.demand.conformal import LEVELS


def future_dates(last: pd.Timestamp, h: int, freq: str) -> pd.DatetimeIndex:
    """The ``h`` timestamps after ``last`` (days or hours)."""
    step = pd.Timedelta(days=1) if freq == "D" else pd.Timedelta(hours=1)
    return pd.date_range(last + step, periods=h, freq=step)


def same_weekday_mean(y: np.ndarray, season: int, h: int, weeks: int = 4) -> np.ndarray:
    """Mean of the last ``weeks`` values at the same position of the season, for h steps."""
    values = np.asarray(y, dtype=float)
    if len(values) == 0:
        return np.zeros(h)
    tail = values[-weeks * season :]
    # Position p of the tail aligns with future step s when (len(tail) - p) % season == ...
    pad = (-len(tail)) % season
    grid = np.concatenate([np.full(pad, np.nan), tail]).reshape(-1, season)
    with np.errstate(invalid="ignore"):
        counts = np.sum(~np.isnan(grid), axis=0)
        profile = np.where(counts > 0, np.nansum(grid, axis=0) / np.maximum(counts, 1), np.nan)
    fallback = float(np.nanmean(tail)) if np.any(~np.isnan(tail)) else 0.0
    profile = np.where(np.isnan(profile), fallback, profile)
    return np.array([profile[s % season] for s in range(h)])


def rule_forecast(
    frame: pd.DataFrame, ids: list[str], *, last: pd.Timestamp, season: int, h: int, freq: str
) -> pd.DataFrame:
    """``unique_id, ds, yhat`` from :func:`same_weekday_mean` for ``ids``."""
    dates = future_dates(last, h, freq)
    parts = []
    grouped = frame[frame["unique_id"].isin(ids)].groupby("unique_id", observed=True)
    for uid, part in grouped:
        yhat = same_weekday_mean(part.sort_values("ds")["y"].to_numpy(), season, h)
        parts.append(pd.DataFrame({"unique_id": str(uid), "ds": dates, "yhat": yhat}))
    if not parts:
        return pd.DataFrame({"unique_id": [], "ds": [], "yhat": []})
    return pd.concat(parts, ignore_index=True)


def category_shares(
    frame: pd.DataFrame, info: pd.DataFrame, new_ids: list[str], window_days: int = 28
) -> pd.Series:
    """Share of its category's demand for each new item (index: unique_id)."""
    recent = frame[frame["ds"] > frame["ds"].max() - pd.Timedelta(days=window_days)]
    recent = recent.assign(category=recent["unique_id"].map(info["category"]))
    cat_daily = (
        recent[~recent["unique_id"].isin(new_ids)].groupby(["category", "ds"], observed=True)["y"]
    ).sum()
    established = recent[~recent["unique_id"].isin(new_ids)]
    totals = established.groupby("category", observed=True)["y"].sum()
    by_item = established.groupby(["category", "unique_id"], observed=True)["y"].sum()
    typical = (
        (by_item / by_item.index.get_level_values(0).map(totals).to_numpy())
        .groupby(level=0)
        .median()
    )
    shares = {}
    for uid in new_ids:
        category = info.loc[uid, "category"]
        own = recent[recent["unique_id"] == uid]
        days = own["ds"]
        if category in cat_daily.index.get_level_values(0) and own["y"].sum() > 0:
            cat = cat_daily.loc[category].reindex(days).fillna(0).sum()
            shares[uid] = float(own["y"].sum() / cat) if cat > 0 else float(typical[category])
        else:
            shares[uid] = float(typical.get(category, np.nan))
    return pd.Series(shares, dtype=float)


def poisson_intervals(frame: pd.DataFrame) -> pd.DataFrame:
    """Add whole-number Poisson ``lo_/hi_`` bounds around ``yhat``."""
    out = frame.copy()
    mu = np.maximum(out["yhat"].to_numpy(dtype=float), 0.0)
    for level in LEVELS:
        alpha = 1 - level / 100
        out[f"lo_{level}"] = np.where(mu > 0, poisson.ppf(alpha / 2, mu), 0.0)
        out[f"hi_{level}"] = np.where(mu > 0, poisson.ppf(1 - alpha / 2, mu), 0.0)
    return out
