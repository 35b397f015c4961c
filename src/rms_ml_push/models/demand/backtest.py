"""Rolling-origin backtest of every candidate on the last non-overlapping windows.

Windows are the last ``n_windows`` blocks of ``h`` steps before the end of history; each
is forecast from data up to its cutoff only. Local models are refit per window by
statsforecast; the global model is fitted once on targets up to the first cutoff and
then forecasts each window from its own cutoff's features (no data after a cutoff is
ever used for that window's forecast).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import structlog

from rms_ml_push.models.demand.candidates import ENSEMBLES, GLOBAL_GBM, members
from rms_ml_push.models.demand.gbm import fit_gbm, predict_gbm
from rms_ml_push.models.demand.local import backtest_local
from rms_ml_push.models.demand.panel import Panel
from rms_ml_push.models.demand.state import DemandConfig

log = structlog.get_logger(__name__)


@dataclass
class Reuse:
    """What a full run's backtest fitted that its final forecast can reuse.

    ``points``: forward models' forecasts after the end of history (``unique_id, ds,
    model, yhat``); ``gbm``: the global model fitted up to the first cutoff, which one
    run's backtest subsets share (see screening.py).
    """

    points: list[pd.DataFrame] = field(default_factory=list)
    gbm: Any = None


def cutoffs(last: pd.Timestamp, config: DemandConfig) -> list[pd.Timestamp]:
    """The last history timestamp before each window, oldest first."""
    step = pd.Timedelta(days=1) if config.freq == "D" else pd.Timedelta(hours=1)
    return [last - step * config.h * j for j in range(config.n_windows, 0, -1)]


def _gbm_backtest(
    panel: Panel,
    ids: list[str],
    cuts: list[pd.Timestamp],
    config: DemandConfig,
    reuse: Reuse,
) -> pd.DataFrame:
    rows = np.flatnonzero(np.isin(panel.ids, ids))
    first = int(panel.dates.searchsorted(cuts[0]))
    # The model learns from the whole panel up to the first cutoff, whichever series
    # it then forecasts: one fit serves every subset of a run (see screening.py).
    if reuse.gbm is None:
        reuse.gbm = fit_gbm(panel, first, config.h, config.gbm)
    model = reuse.gbm
    parts = []
    for cut in cuts:
        origin = int(panel.dates.searchsorted(cut))
        pred = predict_gbm(model, panel, rows, origin=origin, h=config.h)
        dates = panel.dates[origin + 1 : origin + 1 + config.h]
        parts.append(
            pd.DataFrame(
                {
                    "unique_id": np.repeat(panel.ids[rows], config.h),
                    "ds": np.tile(dates, len(rows)),
                    "cutoff": cut,
                    GLOBAL_GBM: pred.ravel(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def run_backtest(
    frame: pd.DataFrame,
    panel: Panel | None,
    config: DemandConfig,
    n_jobs: int = 1,
    *,
    reuse: Reuse | None = None,
) -> pd.DataFrame:
    """``unique_id, ds, cutoff, y, window, step`` and one forecast column per candidate.

    With ``reuse``, the fits that the final forecast can share are kept there.
    """
    needed = {m for c in config.candidates for m in members(c)}
    local_models = sorted(needed - {GLOBAL_GBM})
    bt, ahead = backtest_local(
        frame,
        local_models,
        season=config.season,
        freq=config.freq,
        h=config.h,
        n_windows=config.n_windows,
        input_size=config.local_input_size,
        n_jobs=n_jobs,
        final=reuse is not None,
    )
    if reuse is not None and not ahead.empty:
        reuse.points.append(ahead)
    bt["unique_id"] = bt["unique_id"].astype(str)
    cuts = cutoffs(frame["ds"].max(), config)
    if GLOBAL_GBM in needed and panel is not None:
        try:
            ids = sorted(frame["unique_id"].unique())
            gbm = _gbm_backtest(panel, ids, cuts, config, Reuse() if reuse is None else reuse)
            bt = bt.merge(gbm, on=["unique_id", "ds", "cutoff"], how="left")
        except ValueError as exc:
            log.warning("demand.gbm_backtest_skipped", reason=str(exc))
    for name, parts in ENSEMBLES.items():
        if name in config.candidates and all(p in bt.columns for p in parts):
            bt[name] = bt[list(parts)].clip(lower=0.0).mean(axis=1, skipna=False)
    window = {cut: i for i, cut in enumerate(cuts)}
    bt["window"] = bt["cutoff"].map(window)
    step = pd.Timedelta(days=1) if config.freq == "D" else pd.Timedelta(hours=1)
    bt["step"] = ((bt["ds"] - bt["cutoff"]).to_numpy() // step.to_timedelta64()).astype(int)
    return bt
