"""The object the registry keeps for ``customer_analytics``, and how it predicts.

A saved version is the fitted parameters of one run (BG/NBD, Gamma-Gamma, the chosen
churn predictor). Predicting applies them to a LATER run's customer frame
(:func:`~.frames.base_frame` at that run's ``as_of``), so the fallback chain can answer
with the latest promoted version, or the previous stable one, whatever this run fitted.
Pure and picklable: dataclasses of numbers and scikit-learn estimators. The spend
factor is the same-season factor measured at the saving run's ``as_of`` (1.0 for the
plain model): it describes the 90 days after that run, so a version answering a later
run (the fallback chain) applies last week's season, not a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rms_ml_push.models.customers import bgnbd, gammagamma
from rms_ml_push.models.customers.churn import CANDIDATE_FEATURES, ChurnPredictor
from rms_ml_push.models.customers.frames import CustomerModelConfig, model_columns
from rms_ml_push.models.customers.scoring import CustomerScores

PREDICTION_COLUMNS: tuple[str, ...] = (
    "churn_probability",
    "expected_value_90d",
    "next_order_days",
)
BGNBD_INPUTS: tuple[str, ...] = ("frequency", "t_x", "T", "monetary_value")


@dataclass(frozen=True)
class CustomerAnalyticsModel:
    """Fitted parameters of one run; ``predictor`` None means BG/NBD's own probability."""

    bgnbd: bgnbd.BgNbdParams
    gamma_gamma: gammagamma.GammaGammaParams | None
    predictor: ChurnPredictor | None
    churn_model: str
    config: CustomerModelConfig
    # Defaults let versions saved before the seasonal spend model unpickle unchanged.
    spend_model: str = "bgnbd_gg"
    spend_factor: float = 1.0

    @classmethod
    def from_scores(
        cls, scores: CustomerScores, config: CustomerModelConfig
    ) -> CustomerAnalyticsModel:
        """What :func:`~.scoring.score_customers` fitted, ready for the registry."""
        return cls(
            bgnbd=scores.bgnbd,
            gamma_gamma=scores.gamma_gamma,
            predictor=scores.predictor,
            churn_model=scores.churn_model,
            config=config,
            spend_model=scores.spend_model,
            spend_factor=scores.spend_factor,
        )

    @property
    def features(self) -> tuple[str, ...]:
        """The inputs the churn probability reads (part of the version's signature)."""
        return CANDIDATE_FEATURES.get(self.churn_model, BGNBD_INPUTS)

    def predict(self, base: pd.DataFrame) -> pd.DataFrame:
        """Churn probability, 90-day expected value and days to the next order (NaN: none
        expected) for every row of a base frame; indexed like ``base``."""
        data = model_columns(base, self.bgnbd, self.gamma_gamma, self.config)
        if self.predictor is None:
            churn = data["churn_bgnbd"].to_numpy(dtype=np.float64)
        else:
            churn = self.predictor.predict(data)
        return pd.DataFrame(
            {
                "churn_probability": np.clip(churn, 0.0, 1.0),
                "expected_value_90d": np.maximum(
                    data["expected_value"].to_numpy() * self.spend_factor, 0.0
                ),
                "next_order_days": data["next_order_days"].to_numpy(dtype=np.float64),
            },
            index=base.index,
        )
