"""Scoring every customer and building the contract rows and registry metrics."""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pandas as pd
import pytest
from pandas.api.types import is_numeric_dtype

from rms_ml_push.errors import FitError
from rms_ml_push.models.customers import (
    SEGMENTS,
    CustomerModelConfig,
    CustomerScores,
    build_customer_rows,
    registry_metrics,
    score_customers,
    summarise,
)
from rms_ml_push.models.customers.frames import build_frame
from rms_ml_push.models.customers.model import BGNBD_INPUTS, CustomerAnalyticsModel
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

from .conftest import START

AS_OF = START + pd.Timedelta(days=700)
# Columns frames.model_columns derives from BG/NBD and Gamma-Gamma.
BGNBD_OUTPUTS = (
    "p_alive",
    "churn_bgnbd",
    "expected_purchases",
    "expected_spend_per_occasion",
    "expected_value",
    "next_order_days",
    "recency_over_gap",
)
ROW_KEYS = {
    "customer_id",
    "churn_probability",
    "expected_value_90d",
    "rfm_segment",
    "next_order_expected_by",
}


@pytest.fixture(scope="module")
def scores(sim_tx: pd.DataFrame) -> CustomerScores:
    """Scores at AS_OF on the simulated log."""
    return score_customers(sim_tx, AS_OF)


def test_every_customer_is_scored_within_bounds(
    sim_tx: pd.DataFrame, scores: CustomerScores
) -> None:
    """One row per customer with an order before as_of; values in range; segments named."""
    expected = summarise(sim_tx, AS_OF).index
    frame = scores.customers
    assert frame.index.equals(expected)
    assert frame["churn_probability"].between(0.0, 1.0).all()
    assert (frame["expected_value_90d"] >= 0.0).all()
    assert frame["rfm_segment"].isin(SEGMENTS).all()
    due = frame["next_order_expected_by"].dropna()
    assert (due > AS_OF).all()
    assert (due <= AS_OF + pd.Timedelta(days=365)).all()
    assert scores.report is not None
    assert scores.churn_model == scores.report.chosen_churn_model


def test_rows_per_restaurant_carry_ids_and_rounded_numbers(scores: CustomerScores) -> None:
    """Rows group by home restaurant (None = chain-wide) with exactly the contract's keys."""
    rows = build_customer_rows(scores, timezones={1: "America/New_York"})
    assert set(rows) == {None, 1, 2, 3}
    assert sum(len(v) for v in rows.values()) == len(scores.customers)
    for restaurant_rows in rows.values():
        ids = [row["customer_id"] for row in restaurant_rows]
        assert ids == sorted(ids)
        for row in restaurant_rows:
            assert set(row) == ROW_KEYS
            assert row["churn_probability"] == round(row["churn_probability"], 4)
            assert row["expected_value_90d"] == round(row["expected_value_90d"], 2)
            due = row["next_order_expected_by"]
            assert due is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", due)
    json.dumps(rows[None])  # plain JSON types only


def test_next_order_date_is_local_to_the_restaurant(scores: CustomerScores) -> None:
    """A date is the restaurant's local calendar day of the expected instant."""
    frame = scores.customers
    customer = frame.loc[frame["restaurant_id"] == 1, "next_order_expected_by"].dropna().index[0]
    instant = frame.loc[customer, "next_order_expected_by"]
    rows = build_customer_rows(scores, timezones={1: "Pacific/Kiritimati"})
    row = next(r for r in rows[1] if r["customer_id"] == customer)
    assert row["next_order_expected_by"] == instant.tz_convert("Pacific/Kiritimati").strftime(
        "%Y-%m-%d"
    )


def test_registry_metrics_compare_with_baselines(scores: CustomerScores) -> None:
    """Metrics name the chosen model and give the baselines' figures on the same split."""
    metrics = registry_metrics(scores)
    assert metrics["backtest"] is True
    assert metrics["churn_model"] == scores.churn_model
    for key in (
        "brier",
        "auc",
        "baseline_recency_rule_auc",
        "baseline_recency_isotonic_brier",
        "baseline_rfm_brier",
        "spend_total_relative_error",
    ):
        assert isinstance(metrics[key], float)
    json.dumps(metrics)


def test_short_history_falls_back_to_bgnbd_without_backtest() -> None:
    """With under 180 days of history there is no backtest and BG/NBD supplies churn."""
    tx = simulate_transactions(SimulationSpec(n_customers=800, days=150), START, seed=3)
    result = score_customers(tx, START + pd.Timedelta(days=150))
    assert result.report is None
    assert result.churn_model == "bgnbd"
    assert registry_metrics(result)["backtest"] is False
    assert result.customers["churn_probability"].between(0.0, 1.0).all()


def test_single_order_customers_only() -> None:
    """A log where nobody came back still scores: P(alive) = 1, value from the population."""
    n = 300
    rng = np.random.default_rng(4)
    tx = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "restaurant_id": pd.array([5] * n, dtype="Int64"),
            "ts": START + pd.to_timedelta(rng.uniform(0, 300, n), unit="D"),
            "amount": rng.uniform(5, 50, n).round(2),
        }
    )
    result = score_customers(tx, START + pd.Timedelta(days=300))
    frame = result.customers
    assert len(frame) == n
    assert (frame["p_alive"] == 1.0).all()
    assert frame["churn_probability"].between(0.0, 1.0).all()
    assert result.gamma_gamma is None
    assert np.isfinite(frame["expected_value_90d"]).all()


def test_no_customer_before_as_of_is_a_fit_error(sim_tx: pd.DataFrame) -> None:
    """Scoring before the first order raises FitError, not an empty success."""
    with pytest.raises(FitError):
        score_customers(sim_tx, START)


@pytest.mark.parametrize("model", ["classifier", "bgnbd_isotonic", "logistic", "ensemble"])
def test_forced_churn_model_is_refitted_and_used(
    sim_tx: pd.DataFrame, scores: CustomerScores, model: str
) -> None:
    """A plain run with the registry's choice refits that model on the latest horizon."""
    config = CustomerModelConfig(classifier_max_iter=40)
    result = score_customers(sim_tx, AS_OF, config, churn_model=model)
    assert result.churn_model == model
    assert result.predictor is not None
    assert result.predictor.name == model
    churn = result.customers["churn_probability"]
    assert churn.between(0.0, 1.0).all()
    assert (result.customers["churn_model"] == model).all()
    assert scores.churn_model == "bgnbd"  # the full run's choice on this seed
    assert not np.allclose(churn, scores.customers["churn_probability"])
    # The registry keeps the predictor as a file: it must survive a pickle round trip.
    restored = pickle.loads(pickle.dumps(result.predictor))
    current = build_frame(sim_tx, AS_OF, config, with_labels=False).data
    np.testing.assert_allclose(np.clip(restored.predict(current), 0.0, 1.0), churn.to_numpy())
    # The version's signature names what the predictor reads: scrambling every other
    # base column (BG/NBD's inputs and outputs aside) leaves the probabilities unchanged.
    features = CustomerAnalyticsModel.from_scores(result, config).features
    kept = {*features, *BGNBD_INPUTS, *BGNBD_OUTPUTS}
    others = [c for c in current.columns if c not in kept and is_numeric_dtype(current[c])]
    assert "recency_days" in others or "recency_days" in features
    scrambled = current.assign(**{c: current[c].to_numpy()[::-1] for c in others})
    np.testing.assert_allclose(restored.predict(scrambled), restored.predict(current))


def test_unknown_churn_model_is_rejected(sim_tx: pd.DataFrame) -> None:
    """A typo in the registry's choice is a clear error."""
    with pytest.raises(ValueError, match="unknown churn model"):
        score_customers(sim_tx, AS_OF, churn_model="xgboost")
