"""Partial pooling of item elasticities toward their category (empirical Bayes).

Within a category, item estimates b_i with standard errors s_i are modelled as
b_i ~ N(theta_i, s_i^2), theta_i ~ N(mu, tau^2). The between-item variance tau^2 comes
from the data (Paule-Mandel moment estimator), mu is the precision-weighted mean
with weights 1 / (s_i^2 + tau^2). Each item's posterior:

    weight  w_i = (1/tau^2) / (1/s_i^2 + 1/tau^2)          (how far it is pulled)
    theta_i = (1 - w_i) b_i + w_i mu
    var_i   = 1 / (1/s_i^2 + 1/tau^2) + w_i^2 se(mu)^2

An item with no estimate (its price never changed) gets exactly mu, with the predictive
variance of a new item of the category, tau^2 + se(mu)^2. A category with fewer than
``MIN_ITEMS`` estimated items borrows the chain-wide prior (all items pooled the same
way); a chain without any estimate uses ``FALLBACK_PRIOR``. tau is floored at ``TAU_MIN``
so that a category whose items happen to agree is not pooled into false certainty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

F64 = npt.NDArray[np.float64]
Z90 = float(norm.ppf(0.95))
MIN_ITEMS = 3
TAU_MIN = 0.05
Basis = Literal["item", "category"]


@dataclass(frozen=True)
class Prior:
    """A category's (or the chain's) mean elasticity, its s.e., and the item spread tau."""

    mean: float
    se: float
    tau: float
    n_items: int

    @property
    def predictive_sd(self) -> float:
        """Spread of a new item's elasticity around the pooled mean."""
        return math.sqrt(self.tau**2 + self.se**2)


# No price change anywhere in the chain: a wide prior around unit elasticity, so that
# every recommendation keeps the price unless the margin is far off.
FALLBACK_PRIOR = Prior(mean=-1.0, se=0.0, tau=0.6, n_items=0)


@dataclass(frozen=True)
class Elasticity:
    """A pooled elasticity: point estimate, s.d., 90 % interval and what it rests on."""

    estimate: float
    sd: float
    basis: Basis

    @property
    def interval(self) -> tuple[float, float]:
        """The 90 % interval [lo, hi]."""
        return self.estimate - Z90 * self.sd, self.estimate + Z90 * self.sd


def pooled_prior(estimates: Sequence[tuple[float, float]]) -> Prior | None:
    """Random-effects mean and tau from (estimate, s.e.) pairs (Paule-Mandel tau)."""
    pairs = [(b, s) for b, s in estimates if math.isfinite(b) and math.isfinite(s) and s > 0]
    if len(pairs) < MIN_ITEMS:
        return None
    b = np.array([p[0] for p in pairs])
    v = np.array([p[1] ** 2 for p in pairs])
    tau2 = max(paule_mandel_tau2(b, v), TAU_MIN**2)
    w = 1.0 / (v + tau2)
    mean = float(np.sum(w * b) / np.sum(w))
    return Prior(
        mean=mean, se=math.sqrt(1.0 / float(np.sum(w))), tau=math.sqrt(tau2), n_items=len(pairs)
    )


def paule_mandel_tau2(b: F64, v: F64) -> float:
    """tau^2 at which the weighted residual sum of squares equals its expectation k - 1.

    The generalised Q falls monotonically in tau^2, so bisection finds the root; 0 when
    even tau^2 = 0 leaves Q below k - 1. Preferred to DerSimonian-Laird, which
    underestimates tau^2 when the items' s.e. are large and unequal (Veroniki et al. 2016).
    """
    target = len(b) - 1

    def q(tau2: float) -> float:
        w = 1.0 / (v + tau2)
        mu = np.sum(w * b) / np.sum(w)
        return float(np.sum(w * (b - mu) ** 2))

    if q(0.0) <= target:
        return 0.0
    lo, hi = 0.0, float(np.var(b)) + float(np.max(v))
    while q(hi) > target:
        hi *= 2.0
    for _ in range(100):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if q(mid) > target else (lo, mid)
        if hi - lo < 1e-10:
            break
    return (lo + hi) / 2.0


def shrink(estimate: float | None, se: float | None, prior: Prior) -> Elasticity:
    """The item's posterior under ``prior``; exactly the prior mean when it has no estimate."""
    if estimate is None or se is None or not (se > 0 and math.isfinite(estimate)):
        return Elasticity(prior.mean, prior.predictive_sd, "category")
    precision = 1.0 / se**2 + 1.0 / prior.tau**2
    weight = (1.0 / prior.tau**2) / precision
    mean = (1.0 - weight) * estimate + weight * prior.mean
    variance = 1.0 / precision + (weight * prior.se) ** 2
    return Elasticity(mean, math.sqrt(variance), "item")


def category_priors(
    estimates: Mapping[str, Sequence[tuple[float, float]]],
) -> tuple[dict[str, Prior], Prior]:
    """Per category name, its prior (or the chain's when too few items), and the chain's."""
    everything = [pair for pairs in estimates.values() for pair in pairs]
    chain = pooled_prior(everything) or FALLBACK_PRIOR
    priors = {name: pooled_prior(pairs) or chain for name, pairs in estimates.items()}
    return priors, chain
