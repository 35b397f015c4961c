"""The customers job's output: one ``customer.scores.updated`` set per restaurant (and one
with ``restaurant_id: null`` for chain-wide customers), ``model.trained``, and the run's
summary and metrics.

Every restaurant in scope gets a set, an empty one when none of its customers has an
order yet, so that the RMS replaces last week's set. The contract's customer rows carry
no per-row ``source``; a set's ``data.model.source`` is the lowest rung used for any of
its rows, and ``data.model.version`` names the version whose predictions it carries
(``"none"`` when only the rules answered).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from rms_ml_push.delivery.payloads import Event
from rms_ml_push.errors import ModelNotFoundError
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import (
    JobResources,
    ModelRef,
    base_data,
    model_trained_event,
    prediction_events,
)
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger
from rms_ml_push.models.customers import CustomerScores
from rms_ml_push.models.customers.chain import Prediction
from rms_ml_push.models.customers.metrics import message_metrics
from rms_ml_push.models.customers.output import registry_metrics, rows_by_restaurant
from rms_ml_push.models.fallback import SOURCES, ChainResult, Source, lowest_source
from rms_ml_push.store.registry import ModelRegistry, SaveResult

EVENT_TYPE = "customer.scores.updated"
MODEL_NAME = "customer_analytics"
NO_VERSION = "none"  # data.model.version when no saved version answered (rules only)


@dataclass(frozen=True)
class CustomerData:
    """One run's clean input: transactions of every known customer, and their context."""

    transactions: pd.DataFrame
    quality: QualityReport
    timezones: dict[int, str]
    restaurant_ids: list[int]
    profiles: int


@dataclass(frozen=True)
class Outcome:
    """What the run produced: published frame, chain answers, fit and save (if any)."""

    frame: pd.DataFrame
    chain: ChainResult[int, Prediction]
    scores: CustomerScores | None
    saved: SaveResult | None


def set_keys(request: JobRequest, data: CustomerData, frame: pd.DataFrame) -> list[int | None]:
    """The restaurant ids (None = chain-wide) that get a set in this run."""
    homes = {int(r) for r in frame["restaurant_id"].dropna()}
    ids = set(data.restaurant_ids) | homes
    chosen = sorted(ids if request.restaurants is None else ids & set(request.restaurants))
    keys: list[int | None] = [*chosen]
    return keys if request.restaurants is not None else [None, *keys]


def _model_ref(
    registry: ModelRegistry, labels: Mapping[Source, str | None], used: Collection[Source]
) -> ModelRef:
    """The best version whose predictions a set carries (``"none"`` when only the rules
    answered), with the lowest rung used in the set as ``source``."""
    source = lowest_source(used)
    best = next(s for s in SOURCES if s in used)
    label = labels.get(best) if best in ("model", "previous_model") else None
    if label is None:
        return ModelRef(MODEL_NAME, NO_VERSION, None, source)
    trained_at: datetime | None
    try:
        trained_at = registry.version_record(MODEL_NAME, label).created_at
    except ModelNotFoundError:
        trained_at = None
    return ModelRef(MODEL_NAME, label, trained_at, source)


def events(
    resources: JobResources, request: JobRequest, data: CustomerData, outcome: Outcome
) -> list[Event]:
    """Every set of this run, split into parts, then ``model.trained`` when a version was saved."""
    now = resources.clock.now()
    rows = rows_by_restaurant(outcome.frame, timezones=data.timezones)
    sources = outcome.frame["source"]
    homes = outcome.frame["restaurant_id"]
    everywhere = {s for s, n in outcome.chain.counts.items() if n}
    metrics = {} if outcome.scores is None else message_metrics(outcome.scores)
    out: list[Event] = []
    for key in set_keys(request, data, outcome.frame):
        mine = set(sources[homes.isna()] if key is None else sources[homes == key])
        model = _model_ref(resources.registry, outcome.chain.labels, mine or everywhere)
        payload = base_data(
            restaurant_id=key,
            as_of=request.as_of,
            generated_at=now,
            model=model,
            metrics=metrics,
        )
        out += prediction_events(
            EVENT_TYPE,
            payload,
            "customers",
            rows.get(key, []),
            settings=resources.settings,
            now=now,
        )
    if outcome.saved is not None:
        out.append(model_trained_event(outcome.saved, settings=resources.settings, now=now))
    return out


def _backtest_choice(scores: CustomerScores | None) -> str | None:
    report = None if scores is None else scores.report
    return None if report is None else report.chosen_churn_model


def refund_counts(data: CustomerData) -> dict[str, Any]:
    """Orders whose spend was lowered by a partial refund (a refunded payment of a
    completed order), and the amount subtracted; full refunds are quality drops."""
    if "refunded" not in data.transactions.columns:
        return {"partial_refunds": 0, "refunded_amount": 0.0}
    refunded = data.transactions["refunded"]
    return {
        "partial_refunds": int((refunded > 0).sum()),
        "refunded_amount": round(float(refunded.sum()), 2),
    }


def summary(data: CustomerData, outcome: Outcome) -> dict[str, Any]:
    """Counts for the run record and ``jobs run``: customers per segment, model chosen."""
    frame = outcome.frame
    saved = outcome.saved
    return {
        "customers_scored": len(frame),
        "chain_wide_customers": int(frame["restaurant_id"].isna().sum()),
        "profiles_without_orders": max(
            data.profiles - data.transactions["customer_id"].nunique(), 0
        ),
        "segments": dict(sorted(Counter(frame["rfm_segment"]).items())),
        **refund_counts(data),
        "churn_model": None if outcome.scores is None else outcome.scores.churn_model,
        "spend_model": None if outcome.scores is None else outcome.scores.spend_model,
        "backtest_churn_model": _backtest_choice(outcome.scores),
        "model_version": None if saved is None else str(saved.version),
        "promoted": None if saved is None else saved.promoted,
        "gate": None if saved is None else saved.reason,
        "source": outcome.chain.lowest_source,
    }


def publish(
    resources: JobResources, request: JobRequest, data: CustomerData, outcome: Outcome
) -> JobResult:
    """The run's JobResult: events, quality counts, metrics, summary, fallback counts."""
    result = JobResult(
        events=events(resources, request, data, outcome),
        quality=data.quality.counts(),
        metrics={} if outcome.scores is None else registry_metrics(outcome.scores),
        summary=summary(data, outcome),
        model_name=MODEL_NAME,
        model_version=None if outcome.saved is None else str(outcome.saved.version),
        fallback_counts={k: v for k, v in outcome.chain.counts.items() if v},
    )
    get_logger(__name__).info(
        "customers_scored",
        customers=len(outcome.frame),
        sets=sum(1 for e in result.events if e.type == EVENT_TYPE and e.part_index in (1, None)),
        **outcome.chain.log_fields(),
    )
    return result
