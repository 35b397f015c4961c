"""Local (per-series) statsforecast models: rolling-origin backtest and final forecast.

A model that raises on a batch is retried series by series, so one bad series costs only
itself: its forecasts are NaN and the caller's fallback chain takes over.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import structlog
from statsforecast import StatsForecast

from rms_ml_push.models.demand.candidates import CANDIDATES, statsforecast_model

log = structlog.get_logger(__name__)

Runner = Callable[[StatsForecast, pd.DataFrame], pd.DataFrame]


def _run_model(
    name: str, data: pd.DataFrame, run: Runner, *, season: int, freq: str, n_jobs: int
) -> pd.DataFrame:
    """Run one model over all series; on failure, series by series, NaN for the failures."""
    try:
        sf = StatsForecast(models=[statsforecast_model(name, season)], freq=freq, n_jobs=n_jobs)
        with warnings.catch_warnings():
            # Constant or all-zero series make statsmodels' ACF divide by zero: expected.
            warnings.simplefilter("ignore", RuntimeWarning)
            return run(sf, data)
    except Exception as exc:  # any library failure must not fail the job
        log.warning("demand.model_batch_failed", model=name, error=type(exc).__name__)
    parts = []
    for uid, part in data.groupby("unique_id", observed=True, sort=False):
        try:
            single = StatsForecast(models=[statsforecast_model(name, season)], freq=freq)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                parts.append(run(single, part))
        except Exception as exc:
            log.warning(
                "demand.model_series_failed",
                model=name,
                unique_id=str(uid),
                error=type(exc).__name__,
            )
    if not parts:
        return pd.DataFrame(columns=["unique_id", "ds", name])
    return pd.concat(parts, ignore_index=True)


def _merge(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    out = frames[0]
    for other in frames[1:]:
        extra = [c for c in other.columns if c not in out.columns or c in keys]
        out = out.merge(other[extra], on=keys, how="outer")
    return out


def backtest_local(
    data: pd.DataFrame,
    models: list[str],
    *,
    season: int,
    freq: str,
    h: int,
    n_windows: int,
    input_size: int | None,
    n_jobs: int = 1,
    final: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The backtest (``unique_id, ds, cutoff, y`` and one column per model) and finals.

    Windows are the last ``n_windows`` non-overlapping blocks of ``h`` steps; each is
    forecast from data up to its cutoff only. Models that can ``forward`` are estimated
    once at the first cutoff and only update their state through later cutoffs (about
    2.5x cheaper for ETS, still no look-ahead); the others are refit per window.

    With ``final``, forward models also roll on to the end of history and forecast the
    ``h`` steps after it (``unique_id, ds, model, yhat``): the full run's final forecast
    for the series that choose them, at the cost of one more state update instead of a
    refit. Their parameters are then those estimated at the first cutoff.
    """

    def runner(refit: bool, extend: bool) -> Runner:
        def run(sf: StatsForecast, df: pd.DataFrame) -> pd.DataFrame:
            windows = n_windows + 1 if extend else n_windows
            out = sf.cross_validation(
                df=_with_future(df, h, freq) if extend else df,
                h=h,
                n_windows=windows,
                step_size=h,
                input_size=input_size,
                refit=refit,
            )
            return pd.DataFrame(out).reset_index(drop="unique_id" in out.columns)

        return run

    frames, finals = [], []
    for m in models:
        forward = CANDIDATES[m].forward
        out = _run_model(
            m, data, runner(not forward, final and forward), season=season, freq=freq, n_jobs=n_jobs
        )
        if final and forward and not out.empty:
            ahead = out["cutoff"] == out.groupby("unique_id")["cutoff"].transform("max")
            last = out[ahead].rename(columns={m: "yhat"})[["unique_id", "ds", "yhat"]]
            finals.append(last.assign(model=m))
            out = out[~ahead].reset_index(drop=True)
        frames.append(out)
    bt = _merge(frames, ["unique_id", "ds", "cutoff"]) if frames else pd.DataFrame()
    columns = ["unique_id", "ds", "yhat", "model"]
    ahead_all = pd.concat(finals, ignore_index=True) if finals else pd.DataFrame(columns=columns)
    return bt, ahead_all[columns]


def _with_future(df: pd.DataFrame, h: int, freq: str) -> pd.DataFrame:
    """``df`` and ``h`` placeholder steps after each series' end (forecasts ignore them)."""
    step = pd.Timedelta(days=1) if freq == "D" else pd.Timedelta(hours=1)
    ends = df.groupby("unique_id", observed=True)["ds"].max()
    offsets = pd.Series(np.tile(np.arange(1, h + 1), len(ends)) * step)
    future = pd.DataFrame(
        {
            "unique_id": np.repeat(ends.index.to_numpy(), h),
            "ds": ends.repeat(h).reset_index(drop=True) + offsets,
            "y": 0.0,
        }
    )
    return pd.concat([df[["unique_id", "ds", "y"]], future], ignore_index=True).sort_values(
        ["unique_id", "ds"], ignore_index=True
    )


def forecast_local(
    data: pd.DataFrame,
    chosen: pd.Series,
    *,
    season: int,
    freq: str,
    h: int,
    input_size: int | None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """``unique_id, ds, yhat, model``: each series forecast by its chosen local model only."""
    frames = []
    trimmed = data if input_size is None else data.groupby("unique_id").tail(input_size)

    def run(sf: StatsForecast, df: pd.DataFrame) -> pd.DataFrame:
        out = sf.forecast(df=df, h=h)
        return pd.DataFrame(out).reset_index(drop="unique_id" in out.columns)

    for name, ids in chosen.groupby(chosen, observed=True):
        subset = trimmed[trimmed["unique_id"].isin(ids.index)]
        if subset.empty:
            continue
        out = _run_model(str(name), subset, run, season=season, freq=freq, n_jobs=n_jobs)
        if out.empty:
            continue
        out = out.rename(columns={str(name): "yhat"})
        out["model"] = str(name)
        frames.append(out[["unique_id", "ds", "yhat", "model"]])
    if not frames:
        return pd.DataFrame({"unique_id": [], "ds": [], "yhat": [], "model": []})
    result = pd.concat(frames, ignore_index=True)
    result["yhat"] = result["yhat"].astype(float).where(np.isfinite(result["yhat"]))
    return result
