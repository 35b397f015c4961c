"""Score every customer at ``as_of``: churn probability, 90-day value, segment, next order.

Steps: backtest ending at ``as_of`` (see :mod:`.evaluate`) picks the churn model by
holdout Brier score; the chosen predictor is refitted one horizon later (trained on
features at ``as_of - h`` with labels from ``[as_of - h, as_of)``) and applied to the
frame at ``as_of``. Without enough history for a backtest the BG/NBD probability is used
and ``report`` is None. Expected value is BG/NBD x Gamma-Gamma, times the same-season
factor measured at ``as_of`` (:mod:`.seasonal`) when the backtest's earlier split chose
``bgnbd_gg_seasonal`` (:func:`~.evaluate.choose_spend_model`).

``next_order_expected_by`` is ``as_of`` plus the time by which, under the fitted BG/NBD,
the customer has ordered again with probability 50 % (the median of the unconditional
time to the next order, dropout included). It is null when that probability never
reaches 50 % (P(alive) <= 0.5: the customer is more likely gone than not) or when the
date lies more than ``next_order_max_days`` (365) ahead: a date the RMS cannot act on.
It comes from BG/NBD even when the classifier supplies the churn probability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from rms_ml_push.errors import FitError
from rms_ml_push.models.customers import bgnbd, gammagamma
from rms_ml_push.models.customers.churn import CANDIDATES, ChurnPredictor, fit_predictors
from rms_ml_push.models.customers.evaluate import (
    EvaluationReport,
    backtest,
    backtest_frames,
)
from rms_ml_push.models.customers.features import validate_transactions
from rms_ml_push.models.customers.frames import CustomerModelConfig, CutoffFrame, build_frame

OUTPUT_COLUMNS: tuple[str, ...] = (
    "restaurant_id",
    "churn_probability",
    "expected_value_90d",
    "rfm_segment",
    "next_order_expected_by",
    "churn_model",
    "p_alive",
    "r_score",
    "f_score",
    "m_score",
    "frequency",
    "recency_days",
)


@dataclass(frozen=True)
class CustomerScores:
    """Per-customer results (indexed by ``customer_id``) and what produced them."""

    as_of: pd.Timestamp
    customers: pd.DataFrame
    churn_model: str
    report: EvaluationReport | None
    bgnbd: bgnbd.BgNbdParams
    gamma_gamma: gammagamma.GammaGammaParams | None
    predictor: ChurnPredictor | None
    spend_model: str = "bgnbd_gg"
    spend_factor: float = 1.0


def spend_choice(report: EvaluationReport | None, current: CutoffFrame) -> tuple[str, float]:
    """The spend model the backtest chose and its factor at ``as_of`` (plain: 1.0); the
    plain model when the season cannot be measured at ``as_of``."""
    if report is None or report.chosen_spend_model != "bgnbd_gg_seasonal":
        return "bgnbd_gg", 1.0
    if current.season_factor is None:
        return "bgnbd_gg", 1.0
    return "bgnbd_gg_seasonal", current.season_factor


def _try_backtest(
    transactions: pd.DataFrame, as_of: pd.Timestamp, config: CustomerModelConfig
) -> tuple[EvaluationReport | None, CutoffFrame | None]:
    try:
        train, holdout = backtest_frames(transactions, as_of, config)
    except FitError:
        return None, None
    return backtest(train, holdout, config), holdout


def _labelled_frame(
    transactions: pd.DataFrame, as_of: pd.Timestamp, config: CustomerModelConfig
) -> CutoffFrame | None:
    try:
        cutoff = as_of - pd.Timedelta(days=config.horizon_days)
        return build_frame(transactions, cutoff, config, with_labels=True)
    except FitError:
        return None


def _refit_chosen(
    chosen: str, training: CutoffFrame | None, config: CustomerModelConfig
) -> ChurnPredictor | None:
    """The chosen predictor refitted on the latest labelled frame (None: use BG/NBD)."""
    if chosen == "bgnbd" or training is None:
        return None
    predictors = fit_predictors(training.data, config, with_classifier=chosen == "classifier")
    return predictors.get(chosen)


def score_customers(
    transactions: pd.DataFrame,
    as_of: datetime | pd.Timestamp,
    config: CustomerModelConfig | None = None,
    *,
    churn_model: str | None = None,
) -> CustomerScores:
    """Score every customer with an order before ``as_of``.

    ``churn_model`` None (a full run) lets the backtest choose among
    :data:`~.churn.CANDIDATES`; a name (a plain run, reusing the registry's choice)
    forces that model, and the backtest still runs for the metrics. A forced model that
    the history cannot train falls back to ``bgnbd`` (see ``churn_model`` of the result).

    Raises :class:`~rms_ml_push.errors.FitError` when no customer has an order before
    ``as_of`` or BG/NBD cannot be fitted; ``ValueError`` for an unknown ``churn_model``.
    """
    if churn_model is not None and churn_model not in CANDIDATES:
        raise ValueError(f"unknown churn model {churn_model!r}; one of {', '.join(CANDIDATES)}")
    cfg = config or CustomerModelConfig()
    validate_transactions(transactions)
    stamp = pd.Timestamp(as_of).tz_convert("UTC")
    past = transactions.loc[transactions["ts"] < stamp]
    current = build_frame(past, stamp, cfg, with_labels=False)
    report, latest_labelled = _try_backtest(past, stamp, cfg)
    chosen = churn_model or (report.chosen_churn_model if report is not None else "bgnbd")
    if latest_labelled is None and churn_model is not None:
        # No backtest history, but a forced model can still learn from the last horizon.
        latest_labelled = _labelled_frame(past, stamp, cfg)
    predictor = _refit_chosen(chosen, latest_labelled, cfg)
    data = current.data
    if predictor is None:
        chosen = "bgnbd"
        churn = data["churn_bgnbd"].to_numpy(dtype=np.float64)
    else:
        churn = predictor.predict(data)
    out = data.copy()
    spend_model, spend_factor = spend_choice(report, current)
    out["churn_probability"] = np.clip(churn, 0.0, 1.0)
    out["expected_value_90d"] = np.maximum(data["expected_value"].to_numpy() * spend_factor, 0.0)
    out["next_order_expected_by"] = stamp + pd.to_timedelta(data["next_order_days"], unit="D")
    out["churn_model"] = chosen
    return CustomerScores(
        as_of=stamp,
        customers=out.loc[:, list(OUTPUT_COLUMNS)],
        churn_model=chosen,
        report=report,
        bgnbd=current.bgnbd,
        gamma_gamma=current.gamma_gamma,
        predictor=predictor,
        spend_model=spend_model,
        spend_factor=spend_factor,
    )
