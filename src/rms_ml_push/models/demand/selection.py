"""Choose a model per series from backtest scores; evaluate the choice and the baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.candidates import BASELINE, CANDIDATES, by_cost
from rms_ml_push.models.demand.conformal import LEVELS, apply_intervals, calibrate, point_scale


def choose_models(
    scores: pd.DataFrame, sparse: pd.Series, candidates: tuple[str, ...], tolerance: float
) -> pd.Series:
    """Per unique_id, the cheapest eligible model whose MASE is within ``tolerance`` of the best.

    ``scores`` has ``unique_id, model, mase``; ``sparse`` is indexed by unique_id.
    """
    order = {name: rank for rank, name in enumerate(by_cost(list(candidates)))}
    table = scores[scores["model"].isin(candidates) & np.isfinite(scores["mase"])].copy()
    only_sparse = table["model"].map(lambda m: CANDIDATES[m].sparse_only)
    table = table[~only_sparse | table["unique_id"].map(sparse).fillna(False).astype(bool)]
    best = table.groupby("unique_id")["mase"].transform("min")
    near = table[table["mase"] <= best * (1 + tolerance) + 1e-12].copy()
    near["rank"] = near["model"].map(order)
    chosen = near.sort_values(["unique_id", "rank"]).groupby("unique_id").first()["model"]
    return pd.Series(chosen.astype(str))


def residual_rows(bt: pd.DataFrame, model: str | pd.Series) -> pd.DataFrame:
    """``group, step, window, y, yhat, s, is_count`` rows of one model (or one per series)."""
    if isinstance(model, str):
        yhat = bt[model]
    else:
        picked = bt["unique_id"].map(model)
        yhat = pd.Series(np.nan, index=bt.index)
        for name in picked.dropna().unique():
            rows = picked == name
            yhat[rows] = bt.loc[rows, name]
    return bt[["unique_id", "group", "step", "window", "y", "level", "scale", "is_count"]].assign(
        yhat=yhat.to_numpy()
    )


def _with_scale(rows: pd.DataFrame) -> pd.DataFrame:
    s = point_scale(
        rows["yhat"].to_numpy(float), rows["scale"].to_numpy(float), rows["level"].to_numpy(float)
    )
    return rows.assign(s=s)


def cross_window_coverage(rows: pd.DataFrame) -> pd.DataFrame:
    """Per series coverage at each level, each window's intervals calibrated on the others."""
    rows = _with_scale(rows)
    parts = []
    for window in sorted(rows["window"].unique()):
        held = rows[rows["window"] == window]
        table = calibrate(rows[rows["window"] != window])
        parts.append(apply_intervals(held, table))
    both = pd.concat(parts)
    out = {}
    for level in LEVELS:
        inside = (both["y"] >= both[f"lo_{level}"]) & (both["y"] <= both[f"hi_{level}"])
        out[f"cov_{level}"] = inside.groupby(both["unique_id"]).mean()
    return pd.DataFrame(out)


def series_metrics(rows: pd.DataFrame) -> pd.DataFrame:
    """Per series MASE, WAPE and cross-window coverage of the rows' forecasts."""
    err = (rows["y"] - rows["yhat"]).abs()
    grouped = rows.assign(err=err).groupby("unique_id")
    out = pd.DataFrame(
        {
            "mase": grouped["err"].mean() / grouped["scale"].first(),
            "abs_err": grouped["err"].sum(),
            "y_sum": grouped["y"].sum(),
        }
    )
    out["wape"] = np.where(out["y_sum"] > 0, out["abs_err"] / out["y_sum"].clip(lower=1e-9), 0.0)
    return out.join(cross_window_coverage(rows))


def evaluate(bt: pd.DataFrame, chosen: pd.Series) -> pd.DataFrame:
    """Metrics of the chosen models beside the baseline's, on the same backtest rows."""
    mine = series_metrics(residual_rows(bt, chosen))
    base = series_metrics(residual_rows(bt, BASELINE)).add_prefix("base_")
    return mine.join(base)


def group_metrics(series: pd.DataFrame) -> pd.DataFrame:
    """Aggregates per group: mean MASE, pooled WAPE, mean coverage (chosen and baseline)."""
    rows = []
    for group, part in series.dropna(subset=["mase"]).groupby("group"):
        row: dict[str, object] = {"group": group, "series": len(part)}
        for prefix in ("", "base_"):
            row[f"{prefix}mase"] = float(part[f"{prefix}mase"].mean())
            total = float(part[f"{prefix}y_sum"].sum())
            row[f"{prefix}wape"] = float(part[f"{prefix}abs_err"].sum() / total) if total else 0.0
            for level in LEVELS:
                row[f"{prefix}cov_{level}"] = float(part[f"{prefix}cov_{level}"].mean())
        rows.append(row)
    return pd.DataFrame(rows)
