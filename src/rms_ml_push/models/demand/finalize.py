"""Turn model points into the output frame: fallback rungs, new items, closures, intervals.

Per series the rungs are: ``model`` (the chosen model's forecast) -> ``rule_based``
(same-weekday mean of the last four weeks; new items: a share of their category) ->
``default`` (zero). ``previous_model`` is the caller's rung (a previous registry version).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.calendar import HolidayCalendar, holiday_mask
from rms_ml_push.models.demand.closures import Closures
from rms_ml_push.models.demand.conformal import LEVELS, apply_intervals, point_scale
from rms_ml_push.models.demand.prepare import closed_mask
from rms_ml_push.models.demand.rules import (
    category_shares,
    future_dates,
    poisson_intervals,
    rule_forecast,
)
from rms_ml_push.models.demand.state import OUTPUT_COLUMNS, DemandConfig

BOUNDS = tuple(f"{side}_{level}" for level in LEVELS for side in ("lo", "hi"))


def _grid(ids: list[str], last: pd.Timestamp, config: DemandConfig) -> pd.DataFrame:
    dates = future_dates(last, config.h, config.freq)
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, len(dates)),
            "ds": np.tile(dates, len(ids)),
            "step": np.tile(np.arange(1, len(dates) + 1), len(ids)),
        }
    )


def _new_items(
    out: pd.DataFrame, data: pd.DataFrame, details: pd.DataFrame, new_ids: list[str]
) -> pd.DataFrame:
    """Category share for new items with a category whose established items have forecasts."""
    with_cat = [u for u in new_ids if details.loc[u, "category"] is not None]
    if not with_cat:
        return out
    shares = category_shares(data, details, with_cat).dropna()
    modelled = out[out["source"] == "model"]
    cat_fc = (
        modelled.assign(category=modelled["unique_id"].map(details["category"]))
        .groupby(["category", "ds"])["yhat"]
        .sum()
    )
    for uid, share in shares.items():
        category = details.at[str(uid), "category"]
        if category not in cat_fc.index.get_level_values(0):
            continue
        rows = out["unique_id"] == uid
        out.loc[rows, "yhat"] = share * cat_fc.loc[category].reindex(out.loc[rows, "ds"]).to_numpy()
        out.loc[rows, "source"] = "rule_based"
    return out


def _rule_rows(
    out: pd.DataFrame, data: pd.DataFrame, config: DemandConfig, last: pd.Timestamp
) -> pd.DataFrame:
    """Same-weekday mean for rows still without a forecast; zero (default) without history."""
    missing = out["yhat"].isna()
    ids = sorted(out.loc[missing, "unique_id"].unique())
    rule = rule_forecast(data, ids, last=last, season=config.season, h=config.h, freq=config.freq)
    if not rule.empty:
        filled = out[["unique_id", "ds"]].merge(rule, on=["unique_id", "ds"], how="left")["yhat"]
        take = missing & filled.notna().to_numpy() & np.isfinite(filled.to_numpy(dtype=float))
        out.loc[take, "yhat"] = filled[take].to_numpy()
        out.loc[take, "source"] = "rule_based"
    still = out["yhat"].isna()
    out.loc[still, "yhat"] = 0.0
    out.loc[still, "source"] = "default"
    return out


def _intervals(
    out: pd.DataFrame,
    details: pd.DataFrame,
    facts: pd.DataFrame,
    calibration: dict[str, Any],
    calendars: Mapping[str, HolidayCalendar],
) -> pd.DataFrame:
    out = out.join(facts[["scale", "level", "open_days"]], on="unique_id")
    out = out.join(details[["group", "is_count"]], on="unique_id")
    out["holiday"] = holiday_mask(out, details["calendar_key"], calendars)
    out["group"] = out["group"].astype(str)
    calibrated = out["group"].isin(list(calibration)) & (out["open_days"] >= 14)
    out["s"] = point_scale(
        out["yhat"].to_numpy(float), out["scale"].to_numpy(float), out["level"].to_numpy(float)
    )
    parts = []
    if calibrated.any():
        parts.append(apply_intervals(out[calibrated], calibration))
    if not calibrated.all():
        parts.append(_uncalibrated(out[~calibrated], facts))
    return pd.concat(parts).sort_index()


def _uncalibrated(rows: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """No backtest to calibrate on: Poisson for counts, the series' own spread otherwise."""
    counts = poisson_intervals(rows[rows["is_count"]])
    other = rows[~rows["is_count"]].copy()
    spread = np.where(other["level"] > 0, other["scale"] / other["level"].clip(lower=1e-9), 1.0)
    for level, z in zip(LEVELS, (1.2816, 1.96), strict=True):
        other[f"lo_{level}"] = np.maximum(other["yhat"] * (1 - z * spread), 0.0)
        other[f"hi_{level}"] = other["yhat"] * (1 + z * spread)
    return pd.concat([df for df in (counts, other) if not df.empty])


def finalize(
    data: pd.DataFrame,
    details: pd.DataFrame,
    *,
    facts: pd.DataFrame,
    points: pd.DataFrame,
    calibration: dict[str, Any],
    closures: Closures | None,
    config: DemandConfig,
    last: pd.Timestamp,
    modelled: list[str],
    calendars: Mapping[str, HolidayCalendar] | None = None,
) -> pd.DataFrame:
    """The ``OUTPUT_COLUMNS`` frame for every series in ``data``."""
    ids = sorted(data["unique_id"].unique())
    out = _grid(ids, last, config).merge(
        points[["unique_id", "ds", "yhat"]], on=["unique_id", "ds"], how="left"
    )
    out["yhat"] = out["yhat"].astype(float).where(np.isfinite(out["yhat"].astype(float)))
    out["source"] = pd.Series("model", index=out.index).where(out["yhat"].notna())
    new_ids = [
        u for u in ids if u not in set(modelled) and facts.loc[u, "open_days"] < config.min_history
    ]
    out = _new_items(out, data, details, new_ids)
    out = _rule_rows(out, data, config, last)
    out["yhat"] = out["yhat"].clip(lower=0.0)
    out = _intervals(out, details, facts, calibration, calendars or {})
    shut = closed_mask(out, details, closures, config.freq)
    out.loc[shut, ["yhat", *BOUNDS]] = 0.0
    count = out["is_count"].to_numpy(dtype=bool)
    # Counts: bounds are whole numbers and the point carries no sub-cent noise.
    out.loc[count, list(BOUNDS)] = out.loc[count, list(BOUNDS)].round()
    out["yhat"] = out["yhat"].round(3)
    return out[list(OUTPUT_COLUMNS)].sort_values(["unique_id", "ds"], ignore_index=True)
