"""The customer family's fallback chain, pure: rungs over one run's customer frame.

    model (latest promoted version) -> previous_model -> rule_based -> default

Keys are customer ids; a value is ``(churn_probability, expected_value_90d,
next_order_days)`` with NaN days meaning "no date". The model rungs apply a LOADED
version (:class:`~.model.CustomerAnalyticsModel`) to this run's frame, so a challenger
that the gate rejected never answers. :func:`assemble` turns the chain's answers into
the frame that :func:`~.output.rows_by_restaurant` publishes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from rms_ml_push.errors import ModelError
from rms_ml_push.models.customers.churn import IsotonicOnColumn
from rms_ml_push.models.customers.frames import CustomerModelConfig
from rms_ml_push.models.customers.model import CustomerAnalyticsModel
from rms_ml_push.models.customers.rules import default_predictions, rule_predictions
from rms_ml_push.models.fallback import ChainResult, Rung

Prediction = tuple[float, float, float]


class HasModel(Protocol):
    """What the registry hands a model rung (``LoadedModel``)."""

    @property
    def model(self) -> Any: ...


def answers(predictions: pd.DataFrame, keys: Sequence[int]) -> dict[int, Prediction]:
    """A predictions frame (indexed by customer id) as the chain's key -> value mapping."""
    part = predictions.reindex(pd.Index(list(keys), dtype="int64"))
    return {
        int(k): (float(c), float(v), float(d))
        for k, c, v, d in zip(
            part.index,
            part["churn_probability"].to_numpy(),
            part["expected_value_90d"].to_numpy(),
            part["next_order_days"].to_numpy(),
            strict=True,
        )
    }


def usable(value: Prediction) -> bool:
    """A probability in [0, 1] and a finite, non-negative value (the date may be NaN)."""
    churn, spend, _days = value
    return math.isfinite(churn) and 0.0 <= churn <= 1.0 and math.isfinite(spend) and spend >= 0


def model_predict(base: pd.DataFrame) -> Callable[[HasModel, Sequence[int]], dict[int, Prediction]]:
    """The model rungs' predict: a loaded version applied to this run's ``base`` frame."""

    def predict(loaded: HasModel, keys: Sequence[int]) -> dict[int, Prediction]:
        model = loaded.model
        if not isinstance(model, CustomerAnalyticsModel):
            raise ModelError(f"not a customer analytics model: {type(model).__name__}")
        rows = base.loc[base.index.isin(list(keys))]
        return answers(model.predict(rows), keys)

    return predict


def rule_rung(
    base: pd.DataFrame, rule: IsotonicOnColumn | None, config: CustomerModelConfig
) -> Rung[int, Prediction]:
    """The ``rule_based`` rung; without a fitted recency map it answers nothing."""

    def predict(keys: Sequence[int]) -> Mapping[int, Prediction]:
        if rule is None:
            raise ModelError("too little history for the recency rule")
        rows = base.loc[base.index.isin(list(keys))]
        return answers(rule_predictions(rows, rule, config), keys)

    return Rung("rule_based", predict, "recency_isotonic")


def default_rung(base: pd.DataFrame, config: CustomerModelConfig) -> Rung[int, Prediction]:
    """The ``default`` rung: constants computed from the whole frame."""
    constants = default_predictions(base, config)
    return Rung("default", lambda keys: answers(constants, keys), "base_rate")


def assemble(
    base: pd.DataFrame, result: ChainResult[int, Prediction], as_of: pd.Timestamp
) -> pd.DataFrame:
    """Publishable frame: home restaurant, the chain's values, RFM segment, ``source``."""
    index = pd.Index([k for k in base.index if k in result.values], name="customer_id")
    values = np.array([result.values[int(k)] for k in index], dtype=np.float64).reshape(-1, 3)
    days = pd.to_timedelta(values[:, 2], unit="D")
    return pd.DataFrame(
        {
            "restaurant_id": base.loc[index, "restaurant_id"].astype("Int64"),
            "churn_probability": values[:, 0],
            "expected_value_90d": values[:, 1],
            "rfm_segment": base.loc[index, "rfm_segment"].to_numpy(),
            "next_order_expected_by": pd.Series(as_of + days, index=index),
            "source": [result.sources[int(k)] for k in index],
        },
        index=index,
    )
