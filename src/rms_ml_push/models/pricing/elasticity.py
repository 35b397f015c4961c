"""Price elasticity of one item: Poisson regression of daily quantity on log price.

    E[q_d] = exp(a + elasticity x ln(p_d) + controls_d . b)

This is the log-log model of the issue (d ln E[q] / d ln p = elasticity), fitted by
maximum likelihood (IRLS) so that days without a sale (q = 0, frequent for small items)
count instead of being dropped as ln(0) would force. The standard error is the larger of
the quasi-Poisson one (over-dispersion) and a cluster-robust one with 28-day blocks as
clusters: identification comes from a few step changes of price, and neighbouring days
share unmodelled shocks, so treating days as independent would overstate certainty.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

MIN_DAYS_AT_OTHER_PRICE = 7  # days away from the usual price for "the price changed"
PRICE_CHANGE_MIN = 0.02  # |ln p - median ln p| above this counts as another price
BLOCK_DAYS = 28
_MAX_ITER = 50
_TOL = 1e-8


@dataclass(frozen=True)
class ItemFit:
    """One item's own estimate (before pooling); ``estimate`` None when not identifiable."""

    estimate: float | None
    se: float | None
    n_days: int
    price_changed: bool
    quantity: float


def price_changed(log_price: F64) -> bool:
    """Whether the item sold at another price than its usual one on enough days."""
    if len(log_price) == 0:
        return False
    away = np.abs(log_price - np.median(log_price)) > PRICE_CHANGE_MIN
    return int(away.sum()) >= MIN_DAYS_AT_OTHER_PRICE


def fit_item(quantity: F64, log_price: F64, controls: F64, day_index: I64) -> ItemFit:
    """Fit one item on its open days; no estimate when the price never changed or no sale."""
    n = len(quantity)
    changed = price_changed(log_price)
    total = float(quantity.sum())
    if not changed or total <= 0 or n < 28:
        return ItemFit(None, None, n, changed, total)
    design = _design(log_price, controls)
    beta, mu, bread = poisson_irls(design, quantity)
    se = _standard_error(design, quantity, mu, bread, day_index // BLOCK_DAYS)
    if not (math.isfinite(beta[1]) and math.isfinite(se)):
        return ItemFit(None, None, n, changed, total)
    return ItemFit(float(beta[1]), se, n, changed, total)


def _design(log_price: F64, controls: F64) -> F64:
    """Intercept, centred ln price, and the controls that vary (a closed weekday's dummy
    or a holiday flag without a holiday would make the system singular)."""
    varying = controls[:, np.ptp(controls, axis=0) > 0] if controls.size else controls
    centred = log_price - log_price.mean()
    return np.column_stack([np.ones(len(log_price)), centred, varying])


def poisson_irls(design: F64, y: F64) -> tuple[F64, F64, F64]:
    """Poisson log-link MLE by iteratively reweighted least squares.

    Returns (coefficients, fitted means, inverse Fisher information). A tiny ridge on the
    non-intercept terms keeps nearly collinear calendars solvable.
    """
    k = design.shape[1]
    beta = np.zeros(k)
    beta[0] = math.log(max(float(y.mean()), 1e-3))
    ridge = np.eye(k) * 1e-8
    ridge[0, 0] = 0.0
    mu = np.exp(design @ beta)
    info = design.T @ (design * mu[:, None]) + ridge
    for _ in range(_MAX_ITER):
        eta = np.clip(design @ beta, -30.0, 30.0)
        mu = np.exp(eta)
        z = eta + (y - mu) / mu
        info = design.T @ (design * mu[:, None]) + ridge
        new: F64 = np.linalg.solve(info, design.T @ (mu * z)).astype(np.float64)
        done = float(np.max(np.abs(new - beta))) < _TOL
        beta = new
        if done:
            break
    mu = np.exp(np.clip(design @ beta, -30.0, 30.0))
    info = design.T @ (design * mu[:, None]) + ridge
    bread: F64 = np.linalg.inv(info).astype(np.float64)
    return beta, mu.astype(np.float64), bread


def _standard_error(design: F64, y: F64, mu: F64, bread: F64, blocks: I64) -> float:
    n, k = design.shape
    pearson = float(np.sum((y - mu) ** 2 / mu)) / max(n - k, 1)
    model_var = bread[1, 1] * max(pearson, 1.0)
    scores = design * (y - mu)[:, None]
    groups = np.unique(blocks)
    if len(groups) < 3:
        return math.sqrt(model_var)
    summed = np.zeros((len(groups), k))
    np.add.at(summed, np.searchsorted(groups, blocks), scores)
    meat = summed.T @ summed
    g = len(groups)
    cluster = (bread @ meat @ bread)[1, 1] * g / (g - 1)
    return math.sqrt(max(model_var, float(cluster)))
