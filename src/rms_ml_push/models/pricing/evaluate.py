"""Held-out evaluation: predict each item's response to its most recent price change.

For every item whose price changed (a step of more than 2 % in the daily average price
that holds for a week), the latest change at day t is held out. The model is fitted on
the item's days before t (other items keep their own cut-offs; the category pooling
therefore sees other items' later days: a small leak about the category mean, never
about the item). The observed response is measured without a model, over up to
``window_days`` open days either side (the "before" side stops at the previous change),
with the restaurant's orders as the traffic adjustment::

    observed = ln((Q_after + .5) / (Q_before + .5)) - ln(O_after / O_before)
    var_obs  = 1/(Q_after + .5) + 1/(Q_before + .5) + 1/O_after + 1/O_before   (Poisson)

Predictions of the log response, and their 90 % intervals (prediction s.d. combines the
elasticity's s.d. x the log price step with var_obs):

    model        pooled item elasticity x ln(p_after / p_before)
    chain        one chain-wide elasticity (pooled over all items) x the same step
    no_response  0

Scores per method: mean absolute error of the log response (x 100, in log points, about
percent), RMSE, and the share of observed responses inside the 90 % interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from rms_ml_push.models.pricing.controls import closing_days
from rms_ml_push.models.pricing.elasticity import PRICE_CHANGE_MIN
from rms_ml_push.models.pricing.model import FitInput, PricingModel, fit_pricing_model
from rms_ml_push.models.pricing.shrinkage import Z90

WINDOW_DAYS = 28
MIN_WINDOW_DAYS = 14
PERSIST_DAYS = 7
METHODS = ("model", "chain", "no_response")


@dataclass(frozen=True)
class HeldOutChange:
    """One item's latest price change and the response observed around it."""

    menu_item_id: int
    day: pd.Timestamp
    log_step: float
    observed: float
    obs_var: float


@dataclass(frozen=True)
class MethodScore:
    """One method's errors over the held-out changes."""

    mae: float
    rmse: float
    coverage_90: float
    n: int

    def to_json(self) -> dict[str, float | None]:
        """Rounded, JSON-able (None where there was nothing to score)."""
        return {
            "response_mae": _finite(self.mae),
            "response_rmse": _finite(self.rmse),
            "coverage_90": _finite(self.coverage_90),
            "n": self.n,
        }


def _finite(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


@dataclass(frozen=True)
class HoldoutReport:
    """Scores per method and the per-change detail."""

    scores: Mapping[str, MethodScore]
    changes: tuple[dict[str, Any], ...]


def change_points(log_price: np.ndarray) -> list[int]:
    """Indices t where ln p steps by more than 2 % and the new price holds a week."""
    points = []
    for t in range(1, len(log_price)):
        step = log_price[t] - log_price[t - 1]
        after = log_price[t : t + PERSIST_DAYS]
        if abs(step) > PRICE_CHANGE_MIN and np.all(np.abs(after - log_price[t]) < PRICE_CHANGE_MIN):
            points.append(t)
    return points


def latest_changes(data: FitInput, menu_item_ids: Iterable[int]) -> dict[int, HeldOutChange]:
    """Each wanted item's latest measurable price change."""
    wanted = set(menu_item_ids)
    found: dict[int, HeldOutChange] = {}
    for (rid, item_id), rows in data.daily.groupby(["restaurant_id", "menu_item_id"]):
        key = int(cast(int, item_id))
        orders = data.orders.get(int(cast(int, rid)))
        if key not in wanted or orders is None:
            continue
        change = _latest_change(key, rows, orders)
        if change is not None:
            found[key] = change
    return found


def _latest_change(key: int, rows: pd.DataFrame, orders: pd.DataFrame) -> HeldOutChange | None:
    closed = closing_days(orders)
    open_rows = rows.loc[[d.date() not in closed for d in pd.DatetimeIndex(rows["ds"])]]
    open_rows = open_rows.merge(orders.rename(columns={"y": "orders"}), on="ds", how="left")
    log_price = np.log(open_rows["price"].to_numpy(dtype=np.float64))
    points = change_points(log_price)
    if not points:
        return None
    t = points[-1]
    first = max(t - WINDOW_DAYS, points[-2] if len(points) > 1 else 0)
    before, after = open_rows.iloc[first:t], open_rows.iloc[t : t + WINDOW_DAYS]
    if min(len(before), len(after)) < MIN_WINDOW_DAYS:
        return None
    q_b, q_a = float(before["quantity"].sum()) + 0.5, float(after["quantity"].sum()) + 0.5
    o_b, o_a = float(before["orders"].sum()), float(after["orders"].sum())
    if o_b <= 0 or o_a <= 0:
        return None
    step = math.log(float(after["price"].mean()) / float(before["price"].mean()))
    observed = math.log(q_a / q_b) - math.log(o_a / o_b)
    var = 1 / q_a + 1 / q_b + 1 / o_a + 1 / o_b
    return HeldOutChange(key, pd.Timestamp(open_rows["ds"].iloc[t]), step, observed, var)


def evaluate_holdout(data: FitInput, menu_item_ids: Iterable[int]) -> HoldoutReport:
    """Fit with each item cut at its latest change; score the three methods."""
    wanted = sorted(set(menu_item_ids))
    held = latest_changes(data, wanted)
    if not held:
        empty = {m: MethodScore(math.nan, math.nan, math.nan, 0) for m in METHODS}
        return HoldoutReport(empty, ())
    model = fit_pricing_model(data, wanted, {k: c.day for k, c in held.items()})
    details = tuple(_predict(model, change) for change in held.values())
    scores = {m: _score(details, m) for m in METHODS}
    return HoldoutReport(scores, details)


def _predict(model: PricingModel, change: HeldOutChange) -> dict[str, Any]:
    item = model.items[change.menu_item_id]
    chain = model.chain
    predictions = {
        "model": (item.estimate * change.log_step, item.sd * abs(change.log_step)),
        "chain": (chain.mean * change.log_step, chain.predictive_sd * abs(change.log_step)),
        "no_response": (0.0, 0.0),
    }
    row: dict[str, Any] = {
        "menu_item_id": change.menu_item_id,
        "day": change.day.date().isoformat(),
        "log_step": change.log_step,
        "observed": change.observed,
        "basis": item.basis,
    }
    for method, (mean, sd) in predictions.items():
        row[f"{method}_pred"] = mean
        row[f"{method}_sd"] = math.sqrt(sd**2 + change.obs_var)
    return row


def _score(details: tuple[dict[str, Any], ...], method: str) -> MethodScore:
    errors = np.array([d["observed"] - d[f"{method}_pred"] for d in details])
    sds = np.array([d[f"{method}_sd"] for d in details])
    return MethodScore(
        mae=float(np.mean(np.abs(errors))) * 100,
        rmse=float(np.sqrt(np.mean(errors**2))) * 100,
        coverage_90=float(np.mean(np.abs(errors) <= Z90 * sds)),
        n=len(details),
    )


def elasticity_recovery(model: PricingModel, truth: Mapping[int, float]) -> dict[str, Any]:
    """Against known elasticities: MAE by basis, of the raw item estimates, of one chain
    value, and the 90 % interval coverage."""
    keys = [k for k in model.items if k in truth]
    if not keys:
        return {"n": 0}
    err = {k: abs(model.items[k].estimate - truth[k]) for k in keys}
    covered = [model.items[k].interval[0] <= truth[k] <= model.items[k].interval[1] for k in keys]
    raw = [
        abs(f.estimate - truth[k])
        for k in keys
        if (f := model.fits.get(k)) and f.estimate is not None
    ]
    by_basis: dict[str, list[float]] = {}
    for k in keys:
        by_basis.setdefault(model.items[k].basis, []).append(err[k])
    return {
        "n": len(keys),
        "mae_pooled": _mean(err.values()),
        "mae_by_basis": {b: _mean(v) for b, v in sorted(by_basis.items())},
        "n_by_basis": {b: len(v) for b, v in sorted(by_basis.items())},
        "mae_raw_item": _mean(raw),
        "mae_chain_constant": _mean(abs(model.chain.mean - truth[k]) for k in keys),
        "coverage_90": _mean(float(c) for c in covered),
    }


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(float(np.mean(items)), 4) if items else None
