"""Accuracy metrics: MASE (scaled by in-sample seasonal-naive MAE), WAPE, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd


def naive_scale(y: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast; falls back so it is never zero.

    ``y`` is a gap-free grid; NaN marks a step with no demand signal (a closed day). Pairs
    touching a NaN are skipped *after* lagging, so a closed weekday never shifts the lag:
    dropping closed days first made lag 7 compare different weekdays (Monday-closed
    restaurants got twice their true scale, and intervals twice too wide).
    """
    values = np.asarray(y, dtype=float)
    if len(values) > season:
        diffs = np.abs(values[season:] - values[:-season])
        diffs = diffs[np.isfinite(diffs)]
        scale = float(np.mean(diffs)) if len(diffs) else 0.0
        if scale > 0:
            return scale
    values = values[np.isfinite(values)]
    if len(values) > 1:
        scale = float(np.mean(np.abs(np.diff(values))))
        if scale > 0:
            return scale
    mean = float(np.mean(np.abs(values))) if len(values) else 0.0
    # A constant series has no natural scale: one unit keeps MASE finite and comparable.
    return mean if mean > 0 else 1.0


def series_scales(frame: pd.DataFrame, season: int, before: pd.Timestamp | None) -> pd.Series:
    """``naive_scale`` per unique_id over the rows strictly before ``before`` (all if None)."""
    data = frame if before is None else frame[frame["ds"] < before]
    scales = data.groupby("unique_id", observed=True)["y"].apply(
        lambda s: naive_scale(s.to_numpy(dtype=float), season)
    )
    return scales.rename("scale")


def score_frame(resid: pd.DataFrame, models: list[str]) -> pd.DataFrame:
    """Per series and model: MASE and WAPE over the rows of a backtest frame.

    ``resid`` has ``unique_id, y, scale`` and one column of forecasts per model.
    """
    rows = []
    for model in models:
        err = (resid["y"] - resid[model]).abs()
        grouped = pd.DataFrame(
            {"unique_id": resid["unique_id"], "err": err, "y": resid["y"], "scale": resid["scale"]}
        ).groupby("unique_id", observed=True)
        agg = grouped.agg(mae=("err", "mean"), abs_err=("err", "sum"), y=("y", "sum"))
        agg["scale"] = grouped["scale"].first()
        agg["model"] = model
        rows.append(agg)
    scores = pd.concat(rows).reset_index()
    scores["mase"] = scores["mae"] / scores["scale"]
    scores["wape"] = np.where(scores["y"] > 0, scores["abs_err"] / scores["y"].clip(lower=1e-9), 0)
    return scores[["unique_id", "model", "mase", "wape", "abs_err", "y"]]


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Share of observations inside [lo, hi]; NaN when there are none."""
    if len(y) == 0:
        return float("nan")
    return float(np.mean((y >= lo) & (y <= hi)))
