"""Partial pooling of item elasticities toward their category (empirical Bayes).

Within a category, item estimates b_i with standard errors s_i are modelled as
b_i ~ N(theta_i, s_i^2), theta_i ~ N(mu, tau^2). The between-item variance tau^2 comes
from the data (DerSimonian-Laird moment estimator), mu is the precision-weighted mean
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

from scipy.stats import norm

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
    """DerSimonian-Laird random-effects mean and tau from (estimate, s.e.) pairs."""
    pairs = [(b, s) for b, s in estimates if math.isfinite(b) and math.isfinite(s) and s > 0]
    if len(pairs) < MIN_ITEMS:
        return None
    w = [1.0 / s**2 for _, s in pairs]
    sw = sum(w)
    fixed = sum(wi * b for wi, (b, _) in zip(w, pairs, strict=True)) / sw
    q = sum(wi * (b - fixed) ** 2 for wi, (b, _) in zip(w, pairs, strict=True))
    denom = sw - sum(wi**2 for wi in w) / sw
    tau2 = max((q - (len(pairs) - 1)) / denom if denom > 0 else 0.0, TAU_MIN**2)
    wr = [1.0 / (s**2 + tau2) for _, s in pairs]
    mean = sum(wi * b for wi, (b, _) in zip(wr, pairs, strict=True)) / sum(wr)
    return Prior(mean=mean, se=math.sqrt(1.0 / sum(wr)), tau=math.sqrt(tau2), n_items=len(pairs))


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
