"""The global gradient-boosting model: one Poisson HistGradientBoostingRegressor across series.

Direct multi-horizon: one row per (series, origin, step) with features known at the
origin (recent and smoothed levels, weekday profile, zero share, year-ago shape) and
calendar features of the target day (day of week, holidays and the days around them;
no day of year: a year of origins cannot teach it and trees extrapolate it badly). The
target is demand divided by the series' smoothed level, weighted by that level: with a
log link this is a Poisson model with a log-level offset, so one model serves a 3-a-day
item and a 300-a-day restaurant. Features use only columns up to the origin: no look-ahead.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from rms_ml_push.models.demand.panel import Panel

FEATURES: tuple[str, ...] = (
    "step",
    "dow",
    "is_holiday",
    "days_to_holiday",
    "days_since_holiday",
    "group",
    "log_level",
    "ratio_7",
    "ratio_28",
    "ratio_91",
    "zero_share",
    "same_wd_last",
    "same_wd_4",
    "same_wd_8",
    "year_ago",
    "ewm_10",
    "ewm_30",
)
WEEKDAY_LAGS = 8


@dataclass(frozen=True)
class GbmParams:
    """Hyper-parameters; small on purpose, the job is to beat ETS cheaply."""

    max_iter: int = 300
    learning_rate: float = 0.05
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 100
    l2_regularization: float = 1.0
    origins: int = 52  # weekly training origins before the cutoff (26 measured worse)
    # Training rows are (series, origin) pairs x h; above this many, a seeded sample of
    # pairs keeps memory flat (50 x 60 items x 52 origins x 14 steps peaked at 2.1 GiB).
    max_rows: int = 400_000
    # OpenMP threads: on a shared 2-core machine two spinning threads ran 30x slower than one.
    threads: int = 1
    random_state: int = 0


def _rows(panel: Panel, series: np.ndarray, origins: np.ndarray, h: int) -> tuple[np.ndarray, ...]:
    i, o, k = np.meshgrid(series, origins, np.arange(1, h + 1), indexing="ij")
    return i.ravel(), o.ravel(), k.ravel()


def _training_rows(
    n_series: int, origins: np.ndarray, h: int, params: GbmParams
) -> tuple[np.ndarray, ...]:
    """(series, origin, step) index rows, a seeded sample of pairs when there are too many."""
    series, origin = (g.ravel() for g in np.meshgrid(np.arange(n_series), origins, indexing="ij"))
    limit = max(1, params.max_rows // h)
    if len(series) > limit:
        pick = np.sort(
            np.random.default_rng(params.random_state).choice(len(series), limit, replace=False)
        )
        series, origin = series[pick], origin[pick]
    steps = np.arange(1, h + 1)
    return np.repeat(series, h), np.repeat(origin, h), np.tile(steps, len(series))


def features(panel: Panel, i: np.ndarray, o: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Feature matrix (rows x FEATURES) and the scale per row as its last column."""
    t = o + k
    # The smoothed level is a steadier offset than a 28-day mean for low-count items.
    level = panel.ewm[0][i, o]
    scale = np.where(level > 0, level, panel.window_mean(i, o, 182))
    scale = np.where(scale > 0, scale, np.nan)
    back = 7 * ((k + 6) // 7)
    lags = np.stack([t - back - 7 * j for j in range(WEEKDAY_LAGS)], axis=1)
    lag_vals = np.where(lags >= 0, panel.open_y[i[:, None], np.clip(lags, 0, None)], np.nan)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        # An all-NaN lag row (a new series) is expected: its mean is NaN, not a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        same_4 = np.nanmean(lag_vals[:, :4], axis=1)
        same_8 = np.nanmean(lag_vals, axis=1)
        year_then = panel.window_mean(i, t - 364 + 3, 7)
        level_then = panel.window_mean(i, o - 364, 28)
        year_ago = np.where(level_then > 0, year_then / level_then, np.nan)
    cols = [
        k,
        panel.dates.dayofweek.to_numpy()[t],
        panel.calendar["is_holiday"][i, t],
        panel.calendar["days_to_holiday"][i, t],
        panel.calendar["days_since_holiday"][i, t],
        panel.group_code[i],
        np.log1p(scale),
        panel.window_mean(i, o, 7) / scale,
        panel.window_mean(i, o, 28) / scale,
        panel.window_mean(i, o, 91) / scale,
        panel.zero_share(i, o, 28),
        lag_vals[:, 0] / scale,
        same_4 / scale,
        same_8 / scale,
        year_ago,
        panel.ewm[0][i, o] / scale,
        panel.ewm[1][i, o] / scale,
        scale,
    ]
    return np.column_stack(cols).astype(np.float64)


def fit_gbm(panel: Panel, cutoff: int, h: int, params: GbmParams) -> HistGradientBoostingRegressor:
    """Fit on targets up to column ``cutoff`` from weekly origins ending ``h`` days before."""
    origins = cutoff - h - 7 * np.arange(params.origins)
    origins = origins[origins >= 27]
    if len(origins) == 0:
        raise ValueError("too little history for the global model")
    i, o, k = _training_rows(len(panel.ids), origins, h, params)
    x = features(panel, i, o, k)
    target = panel.open_y[i, o + k]
    scale = x[:, -1]
    keep = np.isfinite(target) & np.isfinite(scale)
    x, target, scale = x[keep], target[keep], scale[keep]
    if len(target) == 0:
        raise ValueError("no training rows for the global model")
    # sklearn cannot bin an all-NaN column (e.g. no year-ago data yet); constant is ignored.
    x[:, np.all(np.isnan(x), axis=0)] = 0.0
    groups = x[:, FEATURES.index("group")].astype(int)
    # Weight by level relative to its group's mean, so revenue in currency units does not
    # drown item counts while each group keeps its Poisson-with-offset weighting.
    group_mean = np.bincount(groups, weights=scale) / np.maximum(np.bincount(groups), 1)
    weight = scale / group_mean[groups]
    model = HistGradientBoostingRegressor(
        loss="poisson",
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        early_stopping=False,
        random_state=params.random_state,
    )
    with threadpool_limits(limits=params.threads, user_api="openmp"):
        model.fit(x[:, :-1], target / scale, sample_weight=weight)
    return model


def predict_gbm(
    model: HistGradientBoostingRegressor,
    panel: Panel,
    series: np.ndarray,
    *,
    origin: int,
    h: int,
    threads: int = 1,
) -> np.ndarray:
    """Forecasts (len(series) x h) from column ``origin``; 0 for series with no level."""
    i, o, k = _rows(panel, series, np.array([origin]), h)
    x = features(panel, i, o, k)
    scale = x[:, -1]
    pred = np.zeros(len(i))
    ok = np.isfinite(scale)
    if ok.any():
        with threadpool_limits(limits=threads, user_api="openmp"):
            pred[ok] = model.predict(x[ok, :-1]) * scale[ok]
    return pred.reshape(len(series), h)
