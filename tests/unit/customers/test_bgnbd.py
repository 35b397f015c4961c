"""BG/NBD: likelihood, fit, and the per-customer quantities."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from rms_ml_push.errors import FitError
from rms_ml_push.models.customers import bgnbd
from rms_ml_push.models.customers.features import future_activity, summarise
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

from .conftest import START, lifetimes_dataset

PARAMS = bgnbd.BgNbdParams(r=1.0, alpha=2.0, a=1.0, b=2.0)


def test_log_likelihood_matches_hand_computation() -> None:
    """Eq. 6 of Fader, Hardie & Lee (2005) by hand for r=1, alpha=2, a=1, b=2."""
    # x=0, T=3: B(1,2)/B(1,2) * 2 / 5.
    # x=1, t_x=1, T=3: B(1,3)/B(1,2) * 2/5^2 + B(2,2)/B(1,2) * 2/3^2
    #                = (1/3)/(1/2) * 2/25 + (1/6)/(1/2) * 2/9.
    expected = [math.log(2 / 5), math.log((2 / 3) * (2 / 25) + (1 / 3) * (2 / 9))]
    got = bgnbd.log_likelihood(PARAMS, [0, 1], [0.0, 1.0], [3.0, 3.0])
    assert got == pytest.approx(expected, rel=1e-12)


def test_analytic_gradient_matches_finite_differences() -> None:
    """The fit's analytic gradient agrees with a numerical one."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 6, size=50).astype(float)
    big_t = rng.uniform(5, 40, size=50)
    t_x = np.where(x > 0, rng.uniform(0, 1, size=50) * big_t, 0.0)
    data = (x, t_x, big_t, np.ones(50))
    theta = np.log(np.array([0.5, 4.0, 0.8, 2.5]))
    _, grad = bgnbd._neg_ll_and_grad(theta, data, 0.0)
    numeric = approx_fprime(theta, lambda th: bgnbd._neg_ll_and_grad(th, data, 0.0)[0], 1e-7)
    assert grad == pytest.approx(numeric, rel=1e-4, abs=1e-6)


def test_fit_reproduces_paper_estimates_on_cdnow() -> None:
    """On the CDNOW sample the MLE is the paper's r=0.243, alpha=4.414, a=0.793, b=2.426."""
    summary = pd.read_csv(lifetimes_dataset("cdnow_customers_summary.csv"))
    params = bgnbd.fit(summary["frequency"], summary["recency"], summary["T"])
    got = (params.r, params.alpha, params.a, params.b)
    assert got == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=6e-4)
    ll = bgnbd.log_likelihood(params, summary["frequency"], summary["recency"], summary["T"])
    assert float(ll.sum()) == pytest.approx(-9582.4, abs=0.1)


def test_fit_recovers_simulation_parameters() -> None:
    """Parameters of a simulated population come back within 15 % (fixed seed)."""
    spec = SimulationSpec(n_customers=6_000)
    tx = simulate_transactions(spec, START, seed=11)
    summary = summarise(tx, START + pd.Timedelta(days=spec.days), time_unit_days=1.0)
    params = bgnbd.fit(summary["frequency"], summary["t_x"], summary["T"], time_unit_days=1.0)
    got = (params.r, params.alpha, params.a, params.b)
    assert got == pytest.approx((spec.r, spec.alpha, spec.a, spec.b), rel=0.15)


def test_fit_rejects_empty_and_inconsistent_input() -> None:
    """No customers, or t_x beyond T, is a FitError rather than a silent fit."""
    with pytest.raises(FitError):
        bgnbd.fit([], [], [])
    with pytest.raises(FitError):
        bgnbd.fit([1], [5.0], [3.0])


def test_p_alive_is_one_without_repeat_purchases() -> None:
    """A customer with frequency 0 is alive for sure under BG/NBD."""
    alive = bgnbd.p_alive(PARAMS, [0, 0, 2], [0.0, 0.0, 1.0], [1.0, 50.0, 50.0])
    assert alive[:2] == pytest.approx([1.0, 1.0])
    assert 0.0 < alive[2] < 1.0


def test_probabilities_are_in_unit_interval_and_monotone() -> None:
    """P(alive) and P(no purchase in t) lie in [0, 1]; the latter falls as t grows."""
    rng = np.random.default_rng(5)
    x = rng.integers(0, 200, size=500).astype(float)
    big_t = rng.uniform(0.1, 300, size=500)
    t_x = rng.uniform(0, 1, size=500) * big_t * (x > 0)
    params = bgnbd.BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    for values in (
        bgnbd.p_alive(params, x, t_x, big_t),
        bgnbd.p_no_purchase(params, 13.0, x, t_x, big_t),
    ):
        assert np.all((values >= 0.0) & (values <= 1.0))
    short = bgnbd.p_no_purchase(params, 4.0, x, t_x, big_t)
    long = bgnbd.p_no_purchase(params, 26.0, x, t_x, big_t)
    assert np.all(long <= short + 1e-12)
    assert np.all(np.isfinite(bgnbd.expected_purchases(params, 13.0, x, t_x, big_t)))


def test_conditional_expectation_of_a_newborn_equals_population_expectation() -> None:
    """E[Y(t) | x=0, t_x=0, T=0] is E[X(t)] (eq. 10 reduces to eq. 7)."""
    params = bgnbd.BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)
    cond = bgnbd.expected_purchases(params, 39.0, [0], [0.0], [1e-12])
    assert cond[0] == pytest.approx(float(bgnbd.expected_purchases_population(params, 39.0)))


def test_churn_probability_is_calibrated_on_its_own_model() -> None:
    """On BG/NBD-simulated customers the mean predicted churn matches the observed rate."""
    spec = SimulationSpec(n_customers=6_000, days=540)
    tx = simulate_transactions(spec, START, seed=21)
    cutoff = START + pd.Timedelta(days=450)
    summary = summarise(tx, cutoff)
    params = bgnbd.fit(summary["frequency"], summary["t_x"], summary["T"])
    churn = bgnbd.p_no_purchase(params, 90 / 7, summary["frequency"], summary["t_x"], summary["T"])
    active = future_activity(tx, cutoff, 90).reindex(summary.index)["orders"].notna()
    assert float(churn.mean()) == pytest.approx(float((~active).mean()), abs=0.03)


def test_time_to_next_purchase_is_the_median_or_nan() -> None:
    """The returned wait makes P(ordered again) exactly 50 %; NaN when P(alive) <= 0.5."""
    params = bgnbd.BgNbdParams(r=0.8, alpha=4.0, a=0.8, b=2.5)
    x, t_x, big_t = np.array([3.0, 3.0, 0.0]), np.array([29.0, 2.0, 0.0]), np.array([30.0] * 3)
    wait = bgnbd.time_to_next_purchase(params, x, t_x, big_t)
    alive = bgnbd.p_alive(params, x, t_x, big_t)
    assert alive[1] <= 0.5
    assert np.isnan(wait[1])
    for i in (0, 2):
        survive = ((params.alpha + big_t[i]) / (params.alpha + big_t[i] + wait[i])) ** (
            params.r + x[i]
        )
        assert alive[i] * (1.0 - survive) == pytest.approx(0.5)
