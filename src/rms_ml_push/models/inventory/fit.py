"""Fitting the consumption model: choose per item by backtest, measure its errors. Pure.

Rolling daily origins, each forecasting ``horizon_days`` (14) ahead, scored against the
observed use (movements where they exist, else order lines x recipes)::

    ... warm-up (28 d) | selection origins | evaluation origins | last window |  day 0

A full fit chooses per item the history source (where both exist: demand x recipes,
proxied in the past by the smoother over line-derived use, against the movement series)
and ``alpha``/``gamma`` from a grid, by mean absolute error on the selection origins; a
plain fit keeps the previous choices. Both are then scored on the evaluation origins,
which the choice never saw, together with the baseline (same weekday, 4 weeks) on the
same windows; the errors there give the item's sigma (``smoothing.sigma_increments``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rms_ml_push.models.inventory.history import HistorySource
from rms_ml_push.models.inventory.model import ItemFit, RestaurantInputs
from rms_ml_push.models.inventory.smoothing import (
    actuals,
    backtest_origins,
    same_weekday_past,
    sigma_increments,
    smooth,
)

F64 = npt.NDArray[np.float64]
ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.5)
GAMMAS = (0.05, 0.1, 0.2, 0.35)
DEFAULT_FIT = (0.2, 0.1)
EVAL_ORIGINS = 56
SELECT_ORIGINS = 56
MIN_EVAL_ORIGINS = 7


@dataclass
class Scores:
    """Pooled error sums over windows, items and restaurants."""

    abs_error: float = 0.0
    abs_actual: float = 0.0
    error: float = 0.0
    points: int = 0

    def add(self, forecast: F64, actual: F64) -> None:
        """Add the errors of ``forecast`` against ``actual`` (NaN forecasts are skipped)."""
        ok = np.isfinite(forecast)
        diff = forecast[ok] - actual[ok]
        self.abs_error += float(np.abs(diff).sum())
        self.abs_actual += float(np.abs(actual[ok]).sum())
        self.error += float(diff.sum())
        self.points += int(ok.sum())

    def merge(self, other: Scores) -> None:
        """Fold another restaurant's sums in."""
        self.abs_error += other.abs_error
        self.abs_actual += other.abs_actual
        self.error += other.error
        self.points += other.points

    def to_json(self) -> dict[str, float]:
        """``wape``, ``mae`` and ``bias`` per point; a metric that is undefined (nothing
        scored, or no use at all for WAPE) is left out, so the gate sees it missing."""
        if self.points == 0:
            return {}
        out = {"mae": self.abs_error / self.points, "bias": self.error / self.points}
        if self.abs_actual > 0:
            out["wape"] = self.abs_error / self.abs_actual
        return out


@dataclass(frozen=True)
class RestaurantFit:
    """One restaurant's chosen fits and its backtest against the baseline."""

    fits: dict[int, ItemFit]
    model: Scores
    baseline: Scores
    origins: int


def fit_restaurant(
    inputs: RestaurantInputs,
    *,
    previous: Mapping[int, ItemFit] | None = None,
    horizon_days: int = 14,
) -> RestaurantFit:
    """Choose (or keep) each item's fit and score the result on unseen origins."""
    target = inputs.target
    items = [i for i in target.item_ids if inputs.has_use(i)]
    origins = backtest_origins(target.days, horizon_days, EVAL_ORIGINS + SELECT_ORIGINS)
    n_eval = min(EVAL_ORIGINS, len(origins) // 2)
    if not items or n_eval < MIN_EVAL_ORIGINS:
        unscored = {i: _unscored_fit(inputs, i, previous, horizon_days) for i in items}
        return RestaurantFit(unscored, Scores(), Scores(), 0)
    select, evaluate = origins[:-n_eval], origins[-n_eval:]
    cols = [target.item_ids.index(i) for i in items]
    truth = actuals(target.values[:, cols], origins, horizon_days)
    past = _candidate_forecasts(inputs, cols, origins, horizon_days)
    chosen = _choose(past, truth[: len(select)], items, previous)
    model, baseline = Scores(), Scores()
    fits: dict[int, ItemFit] = {}
    base = same_weekday_past(target.values[:, cols], evaluate, horizon_days)
    for j, item in enumerate(items):
        forecast = past[chosen[item]][len(select) :, :, j]
        actual = truth[len(select) :, :, j]
        model.add(forecast, actual)
        baseline.add(base[:, :, j], actual)
        sigma = sigma_increments((forecast - actual)[:, :, None])[:, 0]
        source, alpha, gamma = chosen[item]
        fits[item] = ItemFit(source, alpha, gamma, tuple(float(s) for s in sigma))
    return RestaurantFit(fits, model, baseline, len(evaluate))


Candidate = tuple[HistorySource, float, float]


def _candidate_forecasts(
    inputs: RestaurantInputs, cols: list[int], origins: Sequence[int], horizon: int
) -> dict[Candidate, F64]:
    """Past forecasts of every (source, alpha, gamma), shape (origins, horizon, items)."""
    out: dict[Candidate, F64] = {}
    for source, history in inputs.histories.items():
        y = history.values[:, cols]
        for alpha, gamma in itertools.product(ALPHAS, GAMMAS):
            a, g = np.full(len(cols), alpha), np.full(len(cols), gamma)
            _, past = smooth(y, history.first_day.weekday(), a, g, horizon=horizon, origins=origins)
            out[(source, alpha, gamma)] = past
    return out


def _choose(
    past: Mapping[Candidate, F64],
    truth: F64,
    items: Sequence[int],
    previous: Mapping[int, ItemFit] | None,
) -> dict[int, Candidate]:
    """Per item: the previous choice when there is one, else the lowest selection MAE."""
    n_select = truth.shape[0]
    candidates = list(past)
    mae = np.stack([np.abs(past[c][:n_select] - truth).mean(axis=(0, 1)) for c in candidates])
    chosen: dict[int, Candidate] = {}
    for j, item in enumerate(items):
        kept = None if previous is None else previous.get(item)
        if kept is not None and (kept.source, kept.alpha, kept.gamma) in past:
            chosen[item] = (kept.source, kept.alpha, kept.gamma)
        else:
            chosen[item] = candidates[int(np.argmin(mae[:, j]))]
    return chosen


def _unscored_fit(
    inputs: RestaurantInputs,
    item: int,
    previous: Mapping[int, ItemFit] | None,
    horizon: int,
) -> ItemFit:
    """Too little history to score: keep the previous choice or the defaults, sigma = std."""
    y = inputs.target.column(item)
    sigma = (float(np.std(y)),) * horizon
    kept = None if previous is None else previous.get(item)
    if kept is not None:
        return ItemFit(kept.source, kept.alpha, kept.gamma, sigma)
    source: HistorySource = "recipes" if "recipes" in inputs.histories else "movements"
    return ItemFit(source, DEFAULT_FIT[0], DEFAULT_FIT[1], sigma)
