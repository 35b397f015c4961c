"""Time-split backtest, metrics, baselines and calibration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss

from rms_ml_push.models.customers.churn import CANDIDATES, fit_isotonic
from rms_ml_push.models.customers.evaluate import (
    EvaluationReport,
    backtest_frames,
    evaluate,
    reliability_table,
)
from rms_ml_push.models.customers.frames import CustomerModelConfig, build_frame

from .conftest import START

AS_OF = START + pd.Timedelta(days=700)
CONFIG = CustomerModelConfig()


@pytest.fixture(scope="module")
def report(sim_tx: pd.DataFrame) -> EvaluationReport:
    """The backtest ending at AS_OF on the simulated log."""
    return evaluate(sim_tx, AS_OF, CONFIG)


def test_frames_do_not_look_ahead(sim_tx: pd.DataFrame) -> None:
    """Features ignore the label window; labels ignore everything after it."""
    cutoff = START + pd.Timedelta(days=400)
    base = build_frame(sim_tx, cutoff, CONFIG, with_labels=True).data
    in_window = sim_tx["ts"] >= cutoff
    scrambled = sim_tx.assign(amount=np.where(in_window, 1.0, sim_tx["amount"]))
    scrambled_frame = build_frame(scrambled, cutoff, CONFIG, with_labels=True).data
    features = base.columns.drop(["future_spend", "churned"])
    pd.testing.assert_frame_equal(base[features], scrambled_frame[features])
    beyond = sim_tx["ts"] >= cutoff + pd.Timedelta(days=CONFIG.horizon_days)
    truncated = build_frame(sim_tx.loc[~beyond], cutoff, CONFIG, with_labels=True).data
    pd.testing.assert_frame_equal(base, truncated)


def test_backtest_reads_nothing_at_or_after_as_of(
    sim_tx: pd.DataFrame, report: EvaluationReport
) -> None:
    """Adding or altering orders from as_of on leaves the backtest identical."""
    later = sim_tx.loc[sim_tx["ts"] >= AS_OF - pd.Timedelta(days=10)].assign(
        ts=lambda f: f["ts"] + pd.Timedelta(days=10), amount=500.0
    )
    again = evaluate(pd.concat([sim_tx, later], ignore_index=True), AS_OF, CONFIG)
    assert again.churn == report.churn
    assert again.spend == report.spend


def test_split_cutoffs_are_one_horizon_apart(sim_tx: pd.DataFrame) -> None:
    """Train at as_of - 2h, holdout at as_of - h, both labelled."""
    train, holdout = backtest_frames(sim_tx, AS_OF, CONFIG)
    assert holdout.cutoff - train.cutoff == pd.Timedelta(days=90)
    assert AS_OF - holdout.cutoff == pd.Timedelta(days=90)
    assert train.has_labels
    assert holdout.has_labels


def test_report_has_every_method_with_valid_metrics(report: EvaluationReport) -> None:
    """All candidates and baselines are measured; AUC and Brier are in range."""
    expected = {*CANDIDATES, "recency_rule", "recency_isotonic", "rfm"}
    assert set(report.churn) == expected
    for metrics in report.churn.values():
        assert 0.0 <= metrics["brier"] <= 1.0
        assert 0.0 <= metrics["auc"] <= 1.0
    assert report.chosen_churn_model in CANDIDATES
    chosen = report.churn[report.chosen_churn_model]["brier"]
    assert all(chosen <= report.churn[n]["brier"] for n in CANDIDATES)


def test_models_beat_naive_baselines_on_simulated_customers(report: EvaluationReport) -> None:
    """The issue's bar holds on data that follows the model (AUC, Brier, total spend)."""
    assert report.bars == {
        "auc_above_recency_rule": True,
        "brier_5pct_below_recency_isotonic": True,
        "total_spend_within_10pct": True,
    }
    assert report.spend["bgnbd_gg"]["mae"] < report.spend["last_period"]["mae"]


def test_reliability_table_covers_every_row() -> None:
    """Deciles partition the rows and report mean prediction and observed rate."""
    rng = np.random.default_rng(1)
    p = rng.random(1_003)
    y = rng.random(1_003) < p
    table = reliability_table(y, p)
    assert len(table) == 10
    assert sum(row["n"] for row in table) == 1_003
    means = [row["mean_predicted"] for row in table]
    assert means == sorted(means)
    assert all(abs(row["observed_rate"] - row["mean_predicted"]) < 0.1 for row in table)


def test_isotonic_calibration_improves_brier_over_raw_scores() -> None:
    """A miscalibrated score, recalibrated on an earlier split, has a lower holdout Brier."""
    rng = np.random.default_rng(2)
    raw = rng.random(8_000)
    y = rng.random(8_000) < raw**3  # the raw score overstates churn
    frame = pd.DataFrame({"churn_bgnbd": raw, "churned": y})
    train, test = frame.iloc[:4_000], frame.iloc[4_000:]
    calibrated = fit_isotonic(train, "churn_bgnbd", "bgnbd_isotonic").predict(test)
    raw_brier = brier_score_loss(test["churned"], test["churn_bgnbd"])
    assert brier_score_loss(test["churned"], calibrated) < 0.8 * raw_brier
