"""The pure pieces the customers job sequences: the saved model object, the rule and
default rungs, the chain over them, and the backtest figures for the registry."""

from __future__ import annotations

import dataclasses
import json
import pickle
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.customers import CustomerModelConfig, CustomerScores, score_customers
from rms_ml_push.models.customers.chain import (
    Prediction,
    assemble,
    default_rung,
    model_predict,
    rule_rung,
    usable,
)
from rms_ml_push.models.customers.frames import base_frame
from rms_ml_push.models.customers.metrics import backtest_metrics, message_metrics
from rms_ml_push.models.customers.model import CustomerAnalyticsModel
from rms_ml_push.models.customers.rules import (
    default_predictions,
    fit_recency_rule,
    rule_predictions,
)
from rms_ml_push.models.fallback import Rung, run_chain
from rms_ml_push.models.lifecycle import promotion_gate

from .conftest import START

AS_OF = START + pd.Timedelta(days=700)
CONFIG = CustomerModelConfig()


class Loaded:
    """Stands in for the registry's LoadedModel (only ``.model`` is read)."""

    def __init__(self, model: object) -> None:
        self.model = model


@pytest.fixture(scope="module")
def scores(sim_tx: pd.DataFrame) -> CustomerScores:
    """A full-run fit at AS_OF on the simulated log."""
    return score_customers(sim_tx, AS_OF, CONFIG)


@pytest.fixture(scope="module")
def base(sim_tx: pd.DataFrame) -> pd.DataFrame:
    """The customer frame at AS_OF that every rung reads."""
    return base_frame(sim_tx, AS_OF, CONFIG)


def test_saved_model_reproduces_the_run_after_a_pickle_round_trip(
    scores: CustomerScores, base: pd.DataFrame
) -> None:
    """The registry's object, unpickled, predicts exactly what score_customers published."""
    model = pickle.loads(pickle.dumps(CustomerAnalyticsModel.from_scores(scores, CONFIG)))
    predicted = model.predict(base)
    want = scores.customers.loc[base.index]
    np.testing.assert_allclose(predicted["churn_probability"], want["churn_probability"])
    np.testing.assert_allclose(predicted["expected_value_90d"], want["expected_value_90d"])
    days = (want["next_order_expected_by"] - scores.as_of).dt.total_seconds() / 86_400
    np.testing.assert_allclose(predicted["next_order_days"], days.to_numpy(), rtol=1e-9)


def test_spend_factor_scales_value_and_old_versions_read_as_plain(
    scores: CustomerScores, base: pd.DataFrame
) -> None:
    """A saved same-season factor scales the 90-day value; a version pickled before the
    field existed unpickles as the plain model (factor 1)."""
    model = CustomerAnalyticsModel.from_scores(scores, CONFIG)
    plain = dataclasses.replace(model, spend_model="bgnbd_gg", spend_factor=1.0)
    seasonal = dataclasses.replace(model, spend_model="bgnbd_gg_seasonal", spend_factor=1.3)
    np.testing.assert_allclose(
        seasonal.predict(base)["expected_value_90d"],
        1.3 * plain.predict(base)["expected_value_90d"],
    )
    old = CustomerAnalyticsModel.__new__(CustomerAnalyticsModel)
    state = {k: v for k, v in vars(seasonal).items() if k not in ("spend_model", "spend_factor")}
    old.__dict__.update(state)
    revived = pickle.loads(pickle.dumps(old))
    np.testing.assert_allclose(
        revived.predict(base)["expected_value_90d"], plain.predict(base)["expected_value_90d"]
    )


def test_recency_rule_is_a_monotone_probability(sim_tx: pd.DataFrame, base: pd.DataFrame) -> None:
    """Longer since the last order never lowers the rule's churn probability."""
    rule = fit_recency_rule(sim_tx, AS_OF, CONFIG)
    assert rule is not None
    out = rule_predictions(base, rule, CONFIG).join(base["recency_days"])
    ordered = out.sort_values("recency_days")["churn_probability"].to_numpy()
    assert np.all(np.diff(ordered) >= -1e-12)
    assert out["churn_probability"].between(0, 1).all()
    np.testing.assert_allclose(out["expected_value_90d"], base["spend_90d"])


def test_rule_next_order_only_for_repeat_customers_not_yet_overdue(base: pd.DataFrame) -> None:
    """The rule's date is last order + mean gap when still ahead; null for one-timers."""
    out = rule_predictions(base, _half(), CONFIG)  # type: ignore[arg-type]
    one_timers = base["frequency"] == 0
    assert out.loc[one_timers, "next_order_days"].isna().all()
    ahead = base["mean_gap_days"] - base["recency_days"]
    dated = out["next_order_days"].notna()
    np.testing.assert_allclose(out.loc[dated, "next_order_days"], ahead[dated])
    assert (ahead[dated] >= 0).all()
    assert out.loc[(ahead < 0).fillna(False), "next_order_days"].isna().all()


def _half() -> object:
    """A rule mapping every recency to 0.5 (the date logic does not depend on it)."""

    class Half:
        name = "half"

        def predict(self, data: pd.DataFrame) -> np.ndarray:
            return np.full(len(data), 0.5)

    return Half()


def test_recency_rule_needs_history(sim_tx: pd.DataFrame) -> None:
    """Without a labelled horizon before as_of there is no rule (the chain moves on)."""
    assert fit_recency_rule(sim_tx, START + pd.Timedelta(days=30), CONFIG) is None


def test_default_is_one_constant_per_run(base: pd.DataFrame) -> None:
    """The last rung gives everyone the base churn rate and the mean recent spend."""
    out = default_predictions(base, CONFIG)
    assert out["churn_probability"].nunique() == 1
    rate = float((base["recency_days"] >= 90).mean())
    assert out["churn_probability"].iloc[0] == pytest.approx(np.clip(rate, 0.01, 0.99))
    assert out["expected_value_90d"].iloc[0] == pytest.approx(base["spend_90d"].mean())
    assert out["next_order_days"].isna().all()


def _broken(keys: Sequence[int]) -> dict[int, Prediction]:
    raise RuntimeError("file failed its digest check")


def test_chain_falls_through_a_failing_model_to_the_rule(
    sim_tx: pd.DataFrame, scores: CustomerScores, base: pd.DataFrame
) -> None:
    """A failing model rung loses every key to the rule; the assembled frame says so."""
    rule = fit_recency_rule(sim_tx, AS_OF, CONFIG)
    keys = [int(k) for k in base.index]
    rungs = [
        Rung("model", _broken, "1.0.1"),
        rule_rung(base, rule, CONFIG),
        default_rung(base, CONFIG),
    ]
    result = run_chain(keys, rungs, usable=usable)
    frame = assemble(base, result, scores.as_of)
    assert set(frame["source"]) == {"rule_based"}
    assert list(frame.index) == keys
    assert (frame["rfm_segment"].to_numpy() == base["rfm_segment"].to_numpy()).all()


def test_chain_model_rung_answers_with_the_loaded_version(
    scores: CustomerScores, base: pd.DataFrame
) -> None:
    """The model rung applies the loaded object; an object of the wrong kind fails it."""
    model = CustomerAnalyticsModel.from_scores(scores, CONFIG)
    predict = model_predict(base)
    keys = [int(k) for k in base.index[:50]]
    answered = predict(Loaded(model), keys)
    assert sorted(answered) == sorted(keys)
    assert all(usable(v) for v in answered.values())
    with pytest.raises(Exception, match="not a customer analytics model"):
        predict(Loaded({"level": 1.0}), keys)


def test_rule_rung_without_a_rule_raises(base: pd.DataFrame) -> None:
    """No fitted rule: the rung raises, so the chain moves to the default."""
    keys = [int(k) for k in base.index[:5]]
    result = run_chain(
        keys, [rule_rung(base, None, CONFIG), default_rung(base, CONFIG)], usable=usable
    )
    assert set(result.sources.values()) == {"default"}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ((0.3, 10.0, float("nan")), True),
        ((float("nan"), 10.0, 3.0), False),
        ((1.2, 10.0, 3.0), False),
        ((0.3, -1.0, 3.0), False),
        ((0.3, float("inf"), 3.0), False),
    ],
)
def test_usable_needs_a_probability_and_a_value(value: Prediction, ok: bool) -> None:
    """NaN or out-of-range churn and negative or infinite value are unusable; no date is fine."""
    assert usable(value) is ok


def test_backtest_metrics_feed_the_gate(scores: CustomerScores) -> None:
    """Brier of the model in use vs recency_isotonic's on the same split, JSON-clean."""
    metrics = backtest_metrics(scores)
    assert metrics.metric == "brier"
    assert metrics.baseline_name == "recency_isotonic"
    report = scores.report
    assert report is not None
    assert metrics.primary == pytest.approx(report.churn[scores.churn_model]["brier"], abs=1e-6)
    assert metrics.baseline_primary == pytest.approx(
        report.churn["recency_isotonic"]["brier"], abs=1e-6
    )
    json.dumps(metrics.to_json(), allow_nan=False)
    # The calibration an operator can read back (models show --json): deciles of the
    # model in use, covering every holdout customer, predictions increasing.
    table = metrics.windows[0]["reliability"]
    assert len(table) == 10
    assert sum(row["n"] for row in table) == report.n_holdout
    means = [row["mean_predicted"] for row in table]
    assert means == sorted(means)
    message = message_metrics(scores)
    assert set(message["baselines"]) == {"recency_rule", "recency_isotonic", "rfm"}
    json.dumps(message, allow_nan=False)


def test_no_backtest_means_the_gate_rejects(sim_tx: pd.DataFrame) -> None:
    """Under two horizons of history the version has no Brier score, so it is not promoted."""
    short = score_customers(sim_tx, START + pd.Timedelta(days=150), CONFIG)
    metrics = backtest_metrics(short)
    decision = promotion_gate(
        metrics.primary, champion=None, baseline=metrics.baseline_primary, tolerance=0.02
    )
    assert decision.promote is False
    assert message_metrics(short) == {"churn_model": "bgnbd", "backtest": False}
