"""One cutoff's modelling frame: features, RFM, BG/NBD + Gamma-Gamma outputs, labels.

A frame at cutoff ``c`` reads transactions before ``c`` for everything it predicts and,
when asked for labels, only ``[c, c + horizon)`` for them, so frames at successive cutoffs
give a backtest with no look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from rms_ml_push.errors import FitError
from rms_ml_push.models.customers import bgnbd, gammagamma
from rms_ml_push.models.customers.features import future_activity, summarise
from rms_ml_push.models.customers.rfm import rfm_scores


@dataclass(frozen=True)
class CustomerModelConfig:
    """Knobs of the customer models; the defaults are the documented behaviour."""

    horizon_days: int = 90
    time_unit_days: float = 7.0
    recency_rule_days: float = 60.0
    calibration: str = "auto"  # isotonic | sigmoid | auto (isotonic from 1,000 rows)
    classifier_max_iter: int = 200
    classifier_threads: int = 1  # OpenMP threads of the booster (see churn.fit_classifier)
    min_training_customers: int = 200
    next_order_quantile: float = 0.5
    next_order_max_days: float = 365.0
    bgnbd_penalizer: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class CutoffFrame:
    """Customers at one cutoff with model inputs and outputs (and labels if known)."""

    cutoff: pd.Timestamp
    data: pd.DataFrame
    bgnbd: bgnbd.BgNbdParams
    gamma_gamma: gammagamma.GammaGammaParams | None
    has_labels: bool


def _spend_per_occasion(
    summary: pd.DataFrame,
) -> tuple[gammagamma.GammaGammaParams | None, np.ndarray]:
    try:
        params = gammagamma.fit(summary["frequency"], summary["monetary_value"])
    except FitError:
        # Too few repeat customers for Gamma-Gamma: everyone's own mean spend stands in.
        return None, summary["mean_spend"].to_numpy(dtype=np.float64)
    values = gammagamma.expected_spend_per_occasion(
        params, summary["frequency"], summary["monetary_value"]
    )
    return params, values


def build_frame(
    transactions: pd.DataFrame,
    cutoff: datetime | pd.Timestamp,
    config: CustomerModelConfig,
    *,
    with_labels: bool,
) -> CutoffFrame:
    """Summarise, score RFM, fit BG/NBD and Gamma-Gamma at ``cutoff``; add labels
    ``churned`` (no order in ``[cutoff, cutoff + horizon)``) and ``future_spend``."""
    stamp = pd.Timestamp(cutoff).tz_convert("UTC")
    summary = summarise(transactions, stamp, time_unit_days=config.time_unit_days)
    if summary.empty:
        raise FitError(f"no customer has an order before {stamp.isoformat()}")
    data = summary.join(rfm_scores(summary))
    x, t_x, big_t = data["frequency"], data["t_x"], data["T"]
    params = bgnbd.fit(
        x, t_x, big_t, time_unit_days=config.time_unit_days, penalizer=config.bgnbd_penalizer
    )
    horizon = config.horizon_days / config.time_unit_days
    data["p_alive"] = bgnbd.p_alive(params, x, t_x, big_t)
    data["churn_bgnbd"] = np.clip(bgnbd.p_no_purchase(params, horizon, x, t_x, big_t), 0.0, 1.0)
    data["expected_purchases"] = bgnbd.expected_purchases(params, horizon, x, t_x, big_t)
    gg_params, per_occasion = _spend_per_occasion(data)
    data["expected_spend_per_occasion"] = per_occasion
    data["expected_value"] = data["expected_purchases"] * per_occasion
    wait = (
        bgnbd.time_to_next_purchase(params, x, t_x, big_t, quantile=config.next_order_quantile)
        * config.time_unit_days
    )
    data["next_order_days"] = np.where(wait <= config.next_order_max_days, wait, np.nan)
    data["recency_over_gap"] = data["recency_days"] / data["mean_gap_days"]
    if with_labels:
        future = future_activity(transactions, stamp, config.horizon_days).reindex(data.index)
        data["future_spend"] = future["spend"].fillna(0.0)
        data["churned"] = future["orders"].isna().to_numpy()
    return CutoffFrame(
        cutoff=stamp, data=data, bgnbd=params, gamma_gamma=gg_params, has_labels=with_labels
    )
