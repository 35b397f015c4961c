"""Customer analytics (pure): RFM segments, churn probability and 90-day expected value.

Entry points::

    scores = score_customers(transactions, as_of, CustomerModelConfig())
    rows_by_restaurant = build_customer_rows(scores, timezones={1: "Europe/Paris"})
    metrics = registry_metrics(scores)
    report = evaluate(transactions, as_of)        # the backtest on its own

``transactions`` is described in :mod:`.features`.
"""

from rms_ml_push.models.customers.evaluate import EvaluationReport, evaluate
from rms_ml_push.models.customers.features import summarise
from rms_ml_push.models.customers.frames import CustomerModelConfig
from rms_ml_push.models.customers.output import build_customer_rows, registry_metrics
from rms_ml_push.models.customers.rfm import SEGMENTS, rfm_scores
from rms_ml_push.models.customers.scoring import CustomerScores, score_customers

__all__ = [
    "SEGMENTS",
    "CustomerModelConfig",
    "CustomerScores",
    "EvaluationReport",
    "build_customer_rows",
    "evaluate",
    "registry_metrics",
    "rfm_scores",
    "score_customers",
    "summarise",
]
