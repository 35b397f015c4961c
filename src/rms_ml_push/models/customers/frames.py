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
from rms_ml_push.models.customers.seasonal import same_season_factor


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
    # Same-season spend factor at this cutoff (None: not measurable), see .seasonal.
    season_factor: float | None = None


def _fit_gamma_gamma(summary: pd.DataFrame) -> gammagamma.GammaGammaParams | None:
    try:
        return gammagamma.fit(summary["frequency"], summary["monetary_value"])
    except FitError:
        # Too few repeat customers for Gamma-Gamma: model_columns uses own mean spend.
        return None


def base_frame(
    transactions: pd.DataFrame, cutoff: datetime | pd.Timestamp, config: CustomerModelConfig
) -> pd.DataFrame:
    """Summary and RFM scores of every customer with an order before ``cutoff``.

    FitError when there is none.
    """
    stamp = pd.Timestamp(cutoff).tz_convert("UTC")
    summary = summarise(transactions, stamp, time_unit_days=config.time_unit_days)
    if summary.empty:
        raise FitError(f"no customer has an order before {stamp.isoformat()}")
    return summary.join(rfm_scores(summary))


def model_columns(
    base: pd.DataFrame,
    params: bgnbd.BgNbdParams,
    gg_params: gammagamma.GammaGammaParams | None,
    config: CustomerModelConfig,
) -> pd.DataFrame:
    """``base`` plus the outputs of fitted (or loaded) BG/NBD and Gamma-Gamma parameters:
    p_alive, churn_bgnbd, expected_purchases, expected_spend_per_occasion,
    expected_value, next_order_days, recency_over_gap."""
    data = base.copy()
    x, t_x, big_t = data["frequency"], data["t_x"], data["T"]
    horizon = config.horizon_days / config.time_unit_days
    data["p_alive"] = bgnbd.p_alive(params, x, t_x, big_t)
    data["churn_bgnbd"] = np.clip(bgnbd.p_no_purchase(params, horizon, x, t_x, big_t), 0.0, 1.0)
    data["expected_purchases"] = bgnbd.expected_purchases(params, horizon, x, t_x, big_t)
    if gg_params is None:
        # No Gamma-Gamma fit: everyone's own mean spend stands in.
        per_occasion = data["mean_spend"].to_numpy(dtype=np.float64)
    else:
        per_occasion = gammagamma.expected_spend_per_occasion(
            gg_params, data["frequency"], data["monetary_value"]
        )
    data["expected_spend_per_occasion"] = per_occasion
    data["expected_value"] = data["expected_purchases"] * per_occasion
    wait = (
        bgnbd.time_to_next_purchase(params, x, t_x, big_t, quantile=config.next_order_quantile)
        * config.time_unit_days
    )
    data["next_order_days"] = np.where(wait <= config.next_order_max_days, wait, np.nan)
    data["recency_over_gap"] = data["recency_days"] / data["mean_gap_days"]
    return data


def build_frame(
    transactions: pd.DataFrame,
    cutoff: datetime | pd.Timestamp,
    config: CustomerModelConfig,
    *,
    with_labels: bool,
) -> CutoffFrame:
    """Summarise, score RFM, fit BG/NBD and Gamma-Gamma at ``cutoff``, measure the
    same-season spend factor; add labels ``churned`` (no order in ``[cutoff, cutoff +
    horizon)``), ``future_spend`` and ``future_occasions``."""
    stamp = pd.Timestamp(cutoff).tz_convert("UTC")
    base = base_frame(transactions, stamp, config)
    params = bgnbd.fit(
        base["frequency"],
        base["t_x"],
        base["T"],
        time_unit_days=config.time_unit_days,
        penalizer=config.bgnbd_penalizer,
    )
    gg_params = _fit_gamma_gamma(base)
    data = model_columns(base, params, gg_params, config)
    if with_labels:
        future = future_activity(transactions, stamp, config.horizon_days).reindex(data.index)
        data["future_spend"] = future["spend"].fillna(0.0)
        data["future_occasions"] = future["occasions"].fillna(0).astype(np.int64)
        data["churned"] = future["orders"].isna().to_numpy()
    return CutoffFrame(
        cutoff=stamp,
        data=data,
        bgnbd=params,
        gamma_gamma=gg_params,
        has_labels=with_labels,
        season_factor=same_season_factor(transactions, stamp, params, config.horizon_days),
    )
