"""The logistic churn candidate, its design matrix and the ensemble of two predictors."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss

from rms_ml_push.models.customers.churn import (
    LOGISTIC_FEATURES,
    ColumnAsProbability,
    MeanOfPredictors,
    fit_logistic,
    logistic_design,
)


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Customers whose churn rises with recency relative to their usual gap."""
    rng = np.random.default_rng(seed)
    gap = rng.gamma(2.0, 15.0, n)
    recency = rng.exponential(40.0, n)
    occasions = rng.integers(1, 30, n).astype(np.float64)
    log_odds = -2.0 + 1.5 * np.log1p(recency / gap) - 0.3 * np.log1p(occasions)
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-log_odds))
    frame = pd.DataFrame({c: rng.random(n) for c in LOGISTIC_FEATURES})
    frame["recency_days"] = recency
    frame["recency_over_gap"] = np.where(occasions > 1, recency / gap, np.nan)
    frame["n_occasions"] = occasions
    frame["churned"] = churned
    return frame


def test_design_uses_log_odds_and_log1p_and_zero_for_missing() -> None:
    """churn_bgnbd becomes clipped log-odds; other columns log1p of the non-negative part."""
    data = pd.DataFrame(
        {
            "churn_bgnbd": [0.5, 0.0, 0.9, np.nan],
            "recency_over_gap": [np.nan, -3.0, np.e - 1.0, np.inf],
        }
    )
    x = logistic_design(data, ("churn_bgnbd", "recency_over_gap"))
    np.testing.assert_allclose(x[:, 0], [0.0, np.log(1e-4 / (1 - 1e-4)), np.log(9.0), 0.0])
    np.testing.assert_allclose(x[:3, 1], [0.0, 0.0, 1.0])
    assert np.isfinite(x).all()  # scikit-learn's regression rejects NaN and infinity


def test_logistic_learns_churn_from_an_earlier_split() -> None:
    """Fitted on one sample, it beats the base rate's Brier score on another."""
    train, test = _frame(6_000, 1), _frame(6_000, 2)
    predictor = fit_logistic(train)
    p = predictor.predict(test)
    assert predictor.name == "logistic"
    assert ((p > 0.0) & (p < 1.0)).all()
    y = test["churned"].to_numpy()
    base_rate = np.full(len(test), train["churned"].mean())
    assert brier_score_loss(y, p) < 0.95 * brier_score_loss(y, base_rate)
    # Calibrated in the large: mean prediction close to the observed rate.
    assert abs(p.mean() - y.mean()) < 0.02


def test_ensemble_is_the_mean_of_its_members_and_no_worse_than_their_mean() -> None:
    """The ensemble averages probabilities; Brier is convex, so it cannot lose to the
    members' average Brier score."""
    test = _frame(4_000, 3)
    test["a"] = np.clip(test["recency_over_gap"].fillna(0.0) / 4.0, 0.0, 1.0)
    test["b"] = 1.0 - test["churn_bgnbd"]
    first, second = ColumnAsProbability("a", "a"), ColumnAsProbability("b", "b")
    ensemble = MeanOfPredictors(members=(first, second))
    p = ensemble.predict(test)
    np.testing.assert_allclose(p, (first.predict(test) + second.predict(test)) / 2.0)
    y = test["churned"].to_numpy()
    members = [brier_score_loss(y, m.predict(test)) for m in (first, second)]
    assert brier_score_loss(y, p) <= float(np.mean(members))
    assert ensemble.name == "ensemble"
