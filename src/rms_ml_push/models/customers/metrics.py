"""Backtest figures in the two shapes the job needs: the registry's and the message's.

The registry's primary metric is the churn Brier score of the model in use on the
holdout, against ``recency_isotonic`` (recency mapped to a probability on the earlier
split) on the SAME split: the promotion gate's baseline. Without a backtest (under two
horizons of history) the model side is empty, so the gate rejects the version ("brier is
missing") and the chain answers from an earlier version or the rules.
"""

from __future__ import annotations

import math
from typing import Any

from rms_ml_push.models.customers.churn import BASELINES
from rms_ml_push.models.customers.scoring import CustomerScores
from rms_ml_push.models.lifecycle import BacktestMetrics

GATE_BASELINE = "recency_isotonic"
_CHURN_KEYS = ("brier", "auc", "log_loss")


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else round(number, 6)


def _churn(metrics: dict[str, float]) -> dict[str, float]:
    out = {key: _finite(metrics.get(key)) for key in _CHURN_KEYS}
    return {key: value for key, value in out.items() if value is not None}


def used_churn_model(scores: CustomerScores) -> str | None:
    """The churn model whose backtest figures describe this run (None: no backtest)."""
    report = scores.report
    if report is None:
        return None
    return scores.churn_model if scores.churn_model in report.churn else report.chosen_churn_model


def _reliability(rows: list[dict[str, float]]) -> list[dict[str, float | int]]:
    """Deciles of the prediction, mean predicted against observed churn (JSON-clean)."""
    return [
        {
            "bin": int(row["bin"]),
            "n": int(row["n"]),
            "mean_predicted": round(row["mean_predicted"], 4),
            "observed_rate": round(row["observed_rate"], 4),
        }
        for row in rows
    ]


def backtest_metrics(scores: CustomerScores) -> BacktestMetrics:
    """``BacktestMetrics`` for ``registry.save``: Brier of the model in use vs
    ``recency_isotonic``, with AUC, log loss and total-spend error alongside, and the
    model's reliability table on the holdout (``models show --json``)."""
    report, used = scores.report, used_churn_model(scores)
    if report is None or used is None:
        return BacktestMetrics(metric="brier", model={}, baseline_name=GATE_BASELINE)
    model: dict[str, float] = _churn(report.churn[used])
    spend = _finite(report.spend[report.chosen_spend_model]["total_relative_error"])
    if spend is not None:
        model["spend_total_relative_error"] = spend
    baseline = _churn(report.churn[GATE_BASELINE]) if GATE_BASELINE in report.churn else {}
    window = {
        "train_cutoff": report.train_cutoff.isoformat(),
        "holdout_cutoff": report.holdout_cutoff.isoformat(),
        "horizon_days": report.horizon_days,
        "n_holdout": report.n_holdout,
        "churn_model": used,
        "spend_model": report.chosen_spend_model,
        "reliability": _reliability(report.reliability.get(used, [])),
    }
    return BacktestMetrics(
        metric="brier",
        model=model,
        baseline=baseline,
        baseline_name=GATE_BASELINE,
        windows=(window,),
    )


def message_metrics(scores: CustomerScores) -> dict[str, Any]:
    """``data.metrics`` of ``customer.scores.updated``: the model in use and every
    baseline on the same holdout, so the RMS can see what the scores are worth."""
    report, used = scores.report, used_churn_model(scores)
    out: dict[str, Any] = {"churn_model": scores.churn_model, "backtest": report is not None}
    if report is None or used is None:
        return out
    out.update(_churn(report.churn[used]))
    out["holdout_cutoff"] = report.holdout_cutoff.isoformat()
    out["n_holdout"] = report.n_holdout
    out["holdout_churn_rate"] = _finite(report.holdout_churn_rate)
    out["spend_model"] = scores.spend_model
    out["spend_total_relative_error"] = _finite(
        report.spend[report.chosen_spend_model]["total_relative_error"]
    )
    out["baselines"] = {
        name: _churn(report.churn[name]) for name in BASELINES if name in report.churn
    }
    return out
