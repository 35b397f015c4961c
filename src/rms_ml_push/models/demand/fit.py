"""Fit each series' chosen model on all its history and forecast ``h`` steps.

Only the models some series chose are fitted (a refit run's whole point); an ensemble
needs each of its members. In a full run, the forecasts that forward models made past
the end of history inside the backtest are reused instead of refitting. A member that
failed for a series leaves that series' point NaN, which the fallback chain in
``finalize`` turns into a rule-based forecast.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import structlog

from rms_ml_push.models.demand.backtest import Reuse
from rms_ml_push.models.demand.candidates import GLOBAL_GBM, members
from rms_ml_push.models.demand.gbm import fit_gbm, predict_gbm
from rms_ml_push.models.demand.local import forecast_local
from rms_ml_push.models.demand.panel import Panel
from rms_ml_push.models.demand.state import DemandConfig

log = structlog.get_logger(__name__)


def _gbm_points(panel: Panel, ids: list[str], config: DemandConfig) -> tuple[pd.DataFrame, Any]:
    # Always refit on the latest data, even in a full run whose backtest fitted one up to
    # its first cutoff: reusing that one cost 8 % MASE on Chicago ridership (its final
    # forecast missed six weeks, July 4th's run-up among them).
    try:
        model = fit_gbm(panel, panel.last, config.h, config.gbm)
    except ValueError as exc:
        log.warning("demand.gbm_fit_failed", reason=str(exc))
        return pd.DataFrame(), None
    rows = np.flatnonzero(np.isin(panel.ids, ids))
    pred = predict_gbm(model, panel, rows, origin=panel.last, h=config.h)
    dates = panel.dates[panel.last + 1 : panel.last + 1 + config.h]
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(panel.ids[rows], config.h),
            "ds": np.tile(dates, len(rows)),
            "yhat": pred.ravel(),
            "model": GLOBAL_GBM,
        }
    )
    return frame, model


def _complete(points: list[pd.DataFrame], h: int) -> pd.DataFrame:
    """The reusable points of series whose ``h`` steps are all finite (others are refit)."""
    if not points:
        return pd.DataFrame(columns=["unique_id", "ds", "yhat", "model"])
    ready = pd.concat(points, ignore_index=True)
    finite = pd.Series(np.isfinite(ready["yhat"].to_numpy(dtype=float)), index=ready.index)
    whole = finite.groupby([ready["unique_id"], ready["model"]]).transform("sum") == h
    return ready[whole.to_numpy()]


def fit_forecast(
    data: pd.DataFrame,
    chosen: pd.Series,
    panel: Panel | None,
    config: DemandConfig,
    n_jobs: int = 1,
    *,
    reuse: Reuse | None = None,
) -> tuple[pd.DataFrame, Any]:
    """``unique_id, ds, yhat`` per chosen series, and the fitted GBM (or None)."""
    ready = _complete(reuse.points if reuse is not None else [], config.h)
    pairs = pd.DataFrame(
        [(uid, m) for uid, name in chosen.items() for m in members(str(name))],
        columns=["unique_id", "model"],
    )
    parts = []
    for name, group in pairs[pairs["model"] != GLOBAL_GBM].groupby("model"):
        done = ready[(ready["model"] == name) & ready["unique_id"].isin(group["unique_id"])]
        parts.append(done)
        todo = group[~group["unique_id"].isin(done["unique_id"])]
        if todo.empty:
            continue
        mapping = pd.Series(str(name), index=todo["unique_id"].to_numpy())
        parts.append(
            forecast_local(
                data,
                mapping,
                season=config.season,
                freq=config.freq,
                h=config.h,
                input_size=config.local_input_size,
                n_jobs=n_jobs,
            )
        )
    gbm_ids = pairs.loc[pairs["model"] == GLOBAL_GBM, "unique_id"].tolist()
    model = None
    if gbm_ids and panel is not None:
        frame, model = _gbm_points(panel, gbm_ids, config)
        parts.append(frame)
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame({"unique_id": [], "ds": [], "yhat": []}), model
    wide = pd.concat(parts, ignore_index=True).pivot_table(
        index=["unique_id", "ds"], columns="model", values="yhat", dropna=False
    )
    points = []
    for name, ids in chosen.groupby(chosen):
        cols = list(members(str(name)))
        sub = wide[wide.index.get_level_values(0).isin(ids.index)].reindex(columns=cols)
        # skipna=False: a missing member means no ensemble, so the fallback takes over.
        yhat = sub.clip(lower=0.0).mean(axis=1, skipna=False)
        points.append(yhat.rename("yhat").reset_index())
    return pd.concat(points, ignore_index=True), model
