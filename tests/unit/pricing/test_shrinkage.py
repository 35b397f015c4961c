"""Partial pooling toward the category: exact prior for unchanged prices, shrinkage of noise."""

from __future__ import annotations

import numpy as np
import pytest

from rms_ml_push.models.pricing.shrinkage import (
    FALLBACK_PRIOR,
    TAU_MIN,
    Prior,
    category_priors,
    paule_mandel_tau2,
    pooled_prior,
    shrink,
)


def test_item_without_estimate_gets_exactly_the_category_prior() -> None:
    """No price variation: the category mean, basis category, predictive spread."""
    prior = Prior(mean=-1.2, se=0.1, tau=0.3, n_items=5)
    pooled = shrink(None, None, prior)
    assert pooled.estimate == -1.2
    assert pooled.basis == "category"
    assert pooled.sd == pytest.approx(np.hypot(0.3, 0.1))


def test_noisy_item_moves_further_toward_the_category_than_a_precise_one() -> None:
    """Same raw estimate: the noisier item lands nearer the category mean."""
    prior = Prior(mean=-1.0, se=0.05, tau=0.2, n_items=8)
    precise, noisy = shrink(-2.0, 0.05, prior), shrink(-2.0, 0.8, prior)
    assert -2.0 < precise.estimate < noisy.estimate < -1.0
    assert noisy.estimate == pytest.approx(-1.0, abs=0.1)
    assert precise.estimate == pytest.approx(-2.0, abs=0.1)
    assert precise.basis == noisy.basis == "item"


def test_paule_mandel_recovers_between_item_spread() -> None:
    """Simulated items with tau 0.3 and known s.e.: tau estimated near 0.3."""
    rng = np.random.default_rng(3)
    theta = rng.normal(-1.0, 0.3, size=400)
    se = rng.uniform(0.05, 0.4, size=400)
    b = theta + rng.normal(0.0, se)
    tau = np.sqrt(paule_mandel_tau2(b, se**2))
    assert tau == pytest.approx(0.3, abs=0.04)


def test_homogeneous_items_floor_tau() -> None:
    """Identical estimates: tau is floored, never zero (no false certainty)."""
    prior = pooled_prior([(-1.0, 0.2)] * 5)
    assert prior is not None
    assert prior.tau == TAU_MIN
    assert prior.mean == pytest.approx(-1.0)


def test_small_category_borrows_the_chain_prior() -> None:
    """Fewer than three estimated items: the category uses the chain-wide prior."""
    estimates = {
        "main": [(-0.5, 0.1), (-0.6, 0.1), (-0.7, 0.1), (-0.55, 0.1)],
        "drink": [(-2.0, 0.1)],
        "dessert": [],
    }
    priors, chain = category_priors(estimates)
    assert priors["drink"] is chain
    assert priors["dessert"] is chain
    assert priors["main"].mean == pytest.approx(-0.59, abs=0.02)
    assert chain.n_items == 5


def test_no_estimates_anywhere_uses_the_fallback_prior() -> None:
    """A chain that never changed a price: the documented wide prior."""
    priors, chain = category_priors({"main": []})
    assert chain == FALLBACK_PRIOR
    assert priors["main"] == FALLBACK_PRIOR
