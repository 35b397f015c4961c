"""The lower rungs of the customer fallback chain, pure: a recency rule and a constant.

``rule_based`` (no BG/NBD, no classifier, so nothing to unpickle and little to fail):

- churn probability: recency mapped to a probability by isotonic regression on the latest
  labelled horizon (recency at ``as_of - 90 d``, label: no order in ``[as_of - 90 d,
  as_of)``): the ``recency_isotonic`` baseline of the backtest, refitted one horizon later;
- expected value over 90 days: the customer's spend in the last 90 days (``last_period``);
- next order: last order + the customer's mean gap between purchase days, when that is
  still ahead of ``as_of`` and within ``next_order_max_days``; else null (one-time
  customers and overdue ones).

``default`` (always answers): the share of customers whose last order is older than the
horizon as everyone's churn probability, the mean last-90-day spend as everyone's
value, no next-order date. RFM segments are not a model: they are computed from the data
on every rung.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from rms_ml_push.models.customers.churn import IsotonicOnColumn, can_train, fit_isotonic
from rms_ml_push.models.customers.features import future_activity, summarise
from rms_ml_push.models.customers.frames import CustomerModelConfig

# A constant probability of exactly 0 or 1 would be a certainty nobody has.
_DEFAULT_BOUNDS = (0.01, 0.99)


def fit_recency_rule(
    transactions: pd.DataFrame, as_of: datetime | pd.Timestamp, config: CustomerModelConfig
) -> IsotonicOnColumn | None:
    """Recency -> P(no order within the horizon), learnt on ``[as_of - h, as_of)``.

    None when that horizon has too few customers of either outcome to learn from.
    """
    stamp = pd.Timestamp(as_of).tz_convert("UTC")
    cutoff = stamp - pd.Timedelta(days=config.horizon_days)
    past = transactions.loc[transactions["ts"] < stamp]
    summary = summarise(past, cutoff, time_unit_days=config.time_unit_days)
    if summary.empty:
        return None
    future = future_activity(past, cutoff, config.horizon_days).reindex(summary.index)
    summary["churned"] = future["orders"].isna().to_numpy()
    if not can_train(summary, config):
        return None
    return fit_isotonic(summary, "recency_days", "recency_isotonic")


def rule_predictions(
    base: pd.DataFrame, rule: IsotonicOnColumn, config: CustomerModelConfig
) -> pd.DataFrame:
    """The ``rule_based`` rung's columns (see module doc) for every row of ``base``."""
    recency = base["recency_days"].to_numpy(dtype=np.float64)
    gap = base["mean_gap_days"].to_numpy(dtype=np.float64)
    ahead = gap - recency
    with np.errstate(invalid="ignore"):
        keep = (ahead >= 0.0) & (ahead <= config.next_order_max_days)
    return pd.DataFrame(
        {
            "churn_probability": np.clip(rule.predict(base), 0.0, 1.0),
            "expected_value_90d": base["spend_90d"].to_numpy(dtype=np.float64)
            * (config.horizon_days / 90.0),
            "next_order_days": np.where(keep, ahead, np.nan),
        },
        index=base.index,
    )


def default_predictions(base: pd.DataFrame, config: CustomerModelConfig) -> pd.DataFrame:
    """The ``default`` rung: one constant churn probability and value for everyone."""
    recency = base["recency_days"].to_numpy(dtype=np.float64)
    rate = float(np.mean(recency >= config.horizon_days)) if recency.size else 0.5
    churn = float(np.clip(rate, *_DEFAULT_BOUNDS))
    spend = base["spend_90d"].to_numpy(dtype=np.float64)
    value = float(spend.mean()) * (config.horizon_days / 90.0) if spend.size else 0.0
    return pd.DataFrame(
        {
            "churn_probability": np.full(len(base), churn),
            "expected_value_90d": np.full(len(base), value),
            "next_order_days": np.full(len(base), np.nan),
        },
        index=base.index,
    )
