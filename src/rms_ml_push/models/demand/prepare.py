"""Input checks and derived per-series facts: dense grids, closed masks, scales, levels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.closures import Closures
from rms_ml_push.models.demand.metrics import naive_scale
from rms_ml_push.models.demand.state import INFO_COLUMNS, DemandConfig


def step_of(config: DemandConfig) -> pd.Timedelta:
    """One time step of the series."""
    return pd.Timedelta(days=1) if config.freq == "D" else pd.Timedelta(hours=1)


def prepare_frame(frame: pd.DataFrame, config: DemandConfig) -> pd.DataFrame:
    """Sorted ``unique_id, ds, y`` on a dense grid from each series' start to the common end.

    Missing steps are zero demand (the caller's buckets omit empty days); negative values
    (refund noise) are clipped to zero.
    """
    if frame.empty:
        return pd.DataFrame({"unique_id": [], "ds": pd.to_datetime([]), "y": []})
    data = frame[["unique_id", "ds", "y"]].copy()
    data["unique_id"] = data["unique_id"].astype(str)
    data["ds"] = pd.to_datetime(data["ds"])
    end = data["ds"].max()
    starts = data.groupby("unique_id")["ds"].min()
    step = step_of(config)
    parts = [
        pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, end, freq=step)})
        for uid, start in starts.items()
    ]
    grid = pd.concat(parts, ignore_index=True)
    summed = data.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    out = grid.merge(summed, on=["unique_id", "ds"], how="left")
    out["y"] = out["y"].fillna(0.0).astype(float).clip(lower=0.0)
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def prepare_info(info: pd.DataFrame | None, ids: np.ndarray) -> pd.DataFrame:
    """Per-series info indexed by unique_id, with defaults for missing columns/series."""
    defaults: dict[str, Any] = {
        "group": "default",
        "is_count": True,
        "category": None,
        "closure_key": None,
        "calendar_key": None,
    }
    base = pd.DataFrame(index=pd.Index([str(i) for i in ids], name="unique_id"))
    if info is not None and not info.empty:
        given = info.assign(unique_id=info["unique_id"].astype(str)).set_index("unique_id")
        base = base.join(given[[c for c in INFO_COLUMNS if c in given.columns]])
    for column, value in defaults.items():
        if column not in base.columns:
            base[column] = value
        base[column] = base[column].astype(object).where(base[column].notna(), value)
    base["is_count"] = base["is_count"].astype(bool)
    return base


def closed_mask(
    frame: pd.DataFrame, info: pd.DataFrame, closures: Closures | None, freq: str
) -> np.ndarray:
    """True for rows of ``frame`` (unique_id, ds) on which the series' place is closed."""
    mask = np.zeros(len(frame), dtype=bool)
    if closures is None or frame.empty:
        return mask
    keys = frame["unique_id"].map(info["closure_key"])
    for key, rows in frame.groupby(keys, observed=True).groups.items():
        idx = frame.index.get_indexer(rows)
        mask[idx] = closures.mask(str(key), pd.DatetimeIndex(frame.loc[rows, "ds"]), freq)
    return mask


def series_facts(
    frame: pd.DataFrame, closed: np.ndarray, before: pd.Timestamp, config: DemandConfig
) -> pd.DataFrame:
    """Per series: ``scale`` (seasonal-naive MAE), ``level``, ``open_days``, ``sparse``.

    Computed on open rows strictly before ``before`` over the last year (level: half year).
    """
    open_rows = frame[~closed & (frame["ds"] < before)]
    step = step_of(config)
    # Closed steps stay on the grid as NaN: the seasonal lag must stay one season long.
    masked = frame.assign(y=frame["y"].where(~closed))
    recent = masked[(masked["ds"] < before) & (masked["ds"] >= before - step * config.season * 52)]
    grouped = recent.groupby("unique_id")["y"]
    scale = grouped.apply(lambda s: naive_scale(s.to_numpy(dtype=float), config.season))
    half = open_rows[open_rows["ds"] >= before - step * config.season * 26]
    level = half.groupby("unique_id")["y"].mean()
    last8 = open_rows[open_rows["ds"] >= before - step * config.season * 8]
    zero_share = last8.groupby("unique_id")["y"].apply(lambda s: float(np.mean(s <= 0)))
    out = pd.DataFrame({"scale": scale, "level": level, "zero_share": zero_share})
    out["open_days"] = open_rows.groupby("unique_id").size()
    out = out.reindex(sorted(frame["unique_id"].unique()))
    out["scale"] = out["scale"].fillna(1.0)
    out["level"] = out["level"].fillna(0.0)
    out["open_days"] = out["open_days"].fillna(0).astype(int)
    out["sparse"] = out["zero_share"].fillna(1.0) >= config.sparse_zero_share
    return out
