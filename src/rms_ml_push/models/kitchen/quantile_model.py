"""Quantile gradient boosting for cook time and time at the station.

Four ``HistGradientBoostingRegressor(loss="quantile")`` fits: {cook, total} x {0.5, 0.9},
on ``log1p`` of the seconds (quantiles commute with a monotone transform, and the log
makes quantity and slow-down effects multiplicative, as they are in a kitchen). The p90
can be conformalised on a later calibration slice: multiplied by the finite-sample
0.9-quantile of ``y / p90`` there, so that coverage holds on data the trees never saw;
one factor per band of station load (``calibration.py``), so that it holds at busy
moments too and not only on average.

HistGradientBoosting accepts at most ``max_bins`` (255) categories per feature: the 254
most frequent values of each categorical keep their own code, the rest (and any value
unseen at fit time) share an "other" code. A restaurant's menu is well under that.

OpenMP threads are capped (``ModelParams.threads``, default 1): training runs in a
process pool with one process per core, and on a shared 2-core machine an uncapped fit
was measured 15x slower (120 s instead of 8 s) from OpenMP threads spinning on each other.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from rms_ml_push.models.kitchen.calibration import LoadScales, conformal_scale, fit_load_scales
from rms_ml_push.models.kitchen.features import CATEGORICAL_FEATURES, NUMERIC_FEATURES

MAX_CODES = 254
QUANTILES: tuple[float, ...] = (0.5, 0.9)
TARGET_PREFIX = {"cook_s": "cook", "total_s": "total"}


@dataclass(frozen=True)
class ModelParams:
    """Boosting hyper-parameters; defaults are sized for one restaurant's tickets."""

    max_iter: int = 300
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    random_state: int = 0
    threads: int = 1
    # The numeric inputs; fewer (e.g. ``("quantity", "local_hour", "dow", "load")``) to
    # measure what the other arrival-state features add (bench/kitchen_eval.py).
    numeric_features: tuple[str, ...] = NUMERIC_FEATURES


@dataclass(frozen=True)
class KitchenModel:
    """Fitted quantile models plus the category codes and p90 scale factors they need."""

    codes: dict[str, dict[Hashable, int]]
    estimators: dict[str, HistGradientBoostingRegressor]  # key "cook_p50", ...
    p90_scale: dict[str, float] = field(default_factory=lambda: {"cook": 1.0, "total": 1.0})
    threads: int = 1
    numeric_features: tuple[str, ...] = NUMERIC_FEATURES
    # Per-load-band p90 factors (replace ``p90_scale`` when set). A plain None default, so
    # that models pickled before the field existed load with it unset.
    p90_by_load: dict[str, LoadScales] | None = None

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``cook_p50, cook_p90, total_p50, total_p90`` in seconds; p90 >= p50, total >= cook."""
        x = encode(frame, self.codes, self.numeric_features)
        out = pd.DataFrame(index=frame.index)
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            for name, est in self.estimators.items():
                out[name] = np.expm1(est.predict(x)).clip(min=0.0)
        for prefix in ("cook", "total"):
            if self.p90_by_load is not None:
                out[f"{prefix}_p90"] *= self.p90_by_load[prefix].at(frame["load"])
            else:
                out[f"{prefix}_p90"] *= self.p90_scale[prefix]
        return enforce_order(out)


def enforce_order(out: pd.DataFrame) -> pd.DataFrame:
    """Quantiles fitted separately can cross; make p50 <= p90 and cook <= total."""
    out["cook_p90"] = np.maximum(out["cook_p90"], out["cook_p50"])
    out["total_p50"] = np.maximum(out["total_p50"], out["cook_p50"])
    out["total_p90"] = np.maximum(out["total_p90"], np.maximum(out["total_p50"], out["cook_p90"]))
    return out


def fit_category_codes(frame: pd.DataFrame) -> dict[str, dict[Hashable, int]]:
    """Codes 0..253 for the most frequent values of each categorical feature."""
    codes: dict[str, dict[Hashable, int]] = {}
    for col in CATEGORICAL_FEATURES:
        top = frame[col].value_counts(sort=True).index[:MAX_CODES]
        codes[col] = {value: i for i, value in enumerate(top)}
    return codes


def encode(
    frame: pd.DataFrame,
    codes: dict[str, dict[Hashable, int]],
    numeric: tuple[str, ...] = NUMERIC_FEATURES,
) -> npt.NDArray[np.float64]:
    """The model matrix: categorical codes (unknown -> "other") then numeric features."""
    columns = [
        frame[col].map(codes[col]).fillna(len(codes[col])).to_numpy(dtype=np.float64)
        for col in CATEGORICAL_FEATURES
    ]
    columns += [frame[col].to_numpy(dtype=np.float64) for col in numeric]
    return np.column_stack(columns)


def fit_kitchen_model(train: pd.DataFrame, params: ModelParams | None = None) -> KitchenModel:
    """Fit the four quantile models on a features frame (``build_features``)."""
    params = params or ModelParams()
    codes = fit_category_codes(train)
    x = encode(train, codes, params.numeric_features)
    mask = [True] * len(CATEGORICAL_FEATURES) + [False] * len(params.numeric_features)
    estimators: dict[str, HistGradientBoostingRegressor] = {}
    for target, prefix in TARGET_PREFIX.items():
        y = np.log1p(train[target].to_numpy(dtype=np.float64))
        for q in QUANTILES:
            est = HistGradientBoostingRegressor(
                loss="quantile",
                quantile=q,
                max_iter=params.max_iter,
                learning_rate=params.learning_rate,
                max_leaf_nodes=params.max_leaf_nodes,
                min_samples_leaf=params.min_samples_leaf,
                categorical_features=mask,
                early_stopping=len(train) > 10_000,
                random_state=params.random_state,
            )
            with threadpool_limits(limits=params.threads, user_api="openmp"):
                estimators[f"{prefix}_p{round(q * 100)}"] = est.fit(x, y)
    return KitchenModel(
        codes=codes,
        estimators=estimators,
        threads=params.threads,
        numeric_features=params.numeric_features,
    )


def calibrate(model: KitchenModel, calib: pd.DataFrame, coverage: float = 0.9) -> KitchenModel:
    """The model with each p90 rescaled on ``calib`` (tickets after the training window):
    one factor per band of load (``p90_by_load``), and the pooled one (``p90_scale``)."""
    raw = replace(model, p90_scale={"cook": 1.0, "total": 1.0}, p90_by_load=None).predict(calib)
    scale, by_load = {}, {}
    for target, prefix in TARGET_PREFIX.items():
        scale[prefix] = conformal_scale(calib[target], raw[f"{prefix}_p90"], coverage)
        by_load[prefix] = fit_load_scales(
            calib[target], raw[f"{prefix}_p90"], calib["load"], coverage=coverage
        )
    return replace(model, p90_scale=scale, p90_by_load=by_load)
