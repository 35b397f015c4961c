"""Pure builders: contract rows per restaurant and the metrics dict for the registry.

Rows follow ``webhook-contract.md`` (``customer.scores.updated``): ids and numbers only,
``{customer_id, churn_probability, expected_value_90d, rfm_segment,
next_order_expected_by}``; chain-wide customers are grouped under ``None``
(``restaurant_id: null`` in the envelope). Probabilities carry 4 decimals, money 2, and
``next_order_expected_by`` is a local date ``YYYY-MM-DD`` (in the restaurant's time zone
when given, else UTC) or null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from rms_ml_push.models.customers.churn import BASELINES
from rms_ml_push.models.customers.scoring import CustomerScores

CustomerRow = dict[str, Any]


def _local_dates(stamps: pd.Series, timezone: str) -> list[str | None]:
    local = stamps.dt.tz_convert(timezone)
    return [None if pd.isna(s) else s.strftime("%Y-%m-%d") for s in local]


def build_customer_rows(
    scores: CustomerScores,
    *,
    timezones: Mapping[int, str] | None = None,
) -> dict[int | None, list[CustomerRow]]:
    """Contract rows per home restaurant (``None`` = chain-wide), sorted by customer id."""
    return rows_by_restaurant(scores.customers, timezones=timezones)


def rows_by_restaurant(
    frame: pd.DataFrame,
    *,
    timezones: Mapping[int, str] | None = None,
) -> dict[int | None, list[CustomerRow]]:
    """Contract rows per home restaurant from a frame indexed by ``customer_id`` with
    ``restaurant_id`` (NA = chain-wide), ``churn_probability``, ``expected_value_90d``,
    ``rfm_segment`` and ``next_order_expected_by`` (UTC timestamps, NaT = null)."""
    zones = dict(timezones or {})
    frame = frame.sort_index()
    grouped: dict[int | None, list[CustomerRow]] = {}
    home = frame["restaurant_id"]
    keys: list[int | None] = [None if pd.isna(v) else int(v) for v in home.unique()]
    for key in sorted(keys, key=lambda k: (k is not None, k or 0)):
        part = frame.loc[home.isna()] if key is None else frame.loc[home == key]
        zone = zones.get(key, "UTC") if key is not None else "UTC"
        dates = _local_dates(part["next_order_expected_by"], zone)
        grouped[key] = [
            {
                "customer_id": int(customer_id),
                "churn_probability": round(float(churn), 4),
                "expected_value_90d": round(float(value), 2),
                "rfm_segment": str(segment),
                "next_order_expected_by": date,
            }
            for customer_id, churn, value, segment, date in zip(
                part.index,
                part["churn_probability"],
                part["expected_value_90d"],
                part["rfm_segment"],
                dates,
                strict=True,
            )
        ]
    return grouped


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def registry_metrics(scores: CustomerScores) -> dict[str, Any]:
    """Flat metrics for the model registry and the ``model.trained`` event.

    ``brier`` / ``auc`` are the chosen churn model's on the holdout; ``baseline_*`` the
    naive rules' on the same split; null when there was no history for a backtest.
    """
    out: dict[str, Any] = {
        "churn_model": scores.churn_model,
        "n_customers": len(scores.customers),
        "bgnbd": scores.bgnbd.as_dict(),
        "gamma_gamma": scores.gamma_gamma.as_dict() if scores.gamma_gamma else None,
        "backtest": scores.report is not None,
    }
    report = scores.report
    if report is None:
        return out
    # The model in use: the backtest's choice on a full run, the registry's on a plain one.
    used = scores.churn_model if scores.churn_model in report.churn else report.chosen_churn_model
    chosen = report.churn[used]
    out.update(
        {
            "backtest_churn_model": report.chosen_churn_model,
            "brier": _finite(chosen["brier"]),
            "auc": _finite(chosen["auc"]),
            "holdout_cutoff": report.holdout_cutoff.isoformat(),
            "n_holdout": report.n_holdout,
            "holdout_churn_rate": _finite(report.holdout_churn_rate),
            "spend_mae": _finite(report.spend["bgnbd_gg"]["mae"]),
            "spend_total_relative_error": _finite(report.spend["bgnbd_gg"]["total_relative_error"]),
            "bars": dict(report.bars),
        }
    )
    for name, metrics in report.churn.items():
        if name == used:
            continue
        # Naive rules are baselines; the other model candidates are alternatives.
        kind = "baseline" if name in BASELINES else "candidate"
        out[f"{kind}_{name}_brier"] = _finite(metrics["brier"])
        out[f"{kind}_{name}_auc"] = _finite(metrics["auc"])
    for name in ("last_period", "rfm"):
        out[f"baseline_{name}_spend_mae"] = _finite(report.spend[name]["mae"])
    return out
