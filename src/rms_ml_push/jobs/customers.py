"""Job ``customers``: churn risk, 90-day value and segment per customer (jobs/customers.md).

    extract (orders before as_of, profiles, restaurants) -> clean (features.quality, then
    features.customer_orders) -> score_customers (backtest; full run re-selects the churn
    model, a plain run reuses the registry's) -> registry.save (promotion gate) ->
    fallback chain (latest -> previous -> recency rule -> constant) -> events per restaurant

Models are fitted on every customer's history; ``request.restaurants`` only narrows which
customers are published (those whose home restaurant is listed; chain-wide customers
only in an unfiltered run), so a customer's scores and segment do not depend on the run's
filter.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.errors import FitError, ModelNotFoundError
from rms_ml_push.features.customer_orders import (
    REFUNDED,
    customer_transactions,
    in_scope,
    order_refunds,
)
from rms_ml_push.features.quality import clean_customers, clean_orders
from rms_ml_push.jobs.common import JobResources, model_trained_event, open_resources
from rms_ml_push.jobs.customers_output import (
    MODEL_NAME,
    CustomerData,
    Outcome,
    publish,
    refund_counts,
)
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger
from rms_ml_push.models.customers import CustomerModelConfig, CustomerScores, score_customers
from rms_ml_push.models.customers.chain import (
    Prediction,
    assemble,
    default_rung,
    model_predict,
    rule_rung,
    usable,
)
from rms_ml_push.models.customers.churn import CANDIDATES
from rms_ml_push.models.customers.frames import base_frame
from rms_ml_push.models.customers.metrics import backtest_metrics
from rms_ml_push.models.customers.model import CustomerAnalyticsModel
from rms_ml_push.models.customers.rules import fit_recency_rule
from rms_ml_push.models.fallback import ChainResult, run_chain
from rms_ml_push.store.registry import ModelRegistry, SaveResult, TrainedModel, TrainingWindow


def extract(resources: JobResources, request: JobRequest) -> CustomerData:
    """Completed orders before ``as_of`` joined to their customer's home restaurant, net
    of the refunded payments paid before ``as_of``."""
    ctx = resources.quality_context(request.as_of)
    reader = resources.reader
    orders, report = clean_orders(reader.orders(until=request.as_of), ctx)
    profiles, profile_report = clean_customers(reader.customer_profiles(), ctx)
    refunds, refund_report = order_refunds(
        reader.payments(until=request.as_of, status=REFUNDED), ctx
    )
    transactions, tx_report = customer_transactions(orders, profiles, refunds)
    restaurants = reader.restaurants()
    return CustomerData(
        transactions=transactions,
        quality=report.merge(profile_report).merge(refund_report).merge(tx_report),
        timezones=dict(zip(restaurants["id"], restaurants["timezone"], strict=True)),
        restaurant_ids=[int(r) for r in restaurants["id"]],
        profiles=len(profiles),
    )


def current_choice(registry: ModelRegistry, request: JobRequest) -> str | None:
    """The churn model a plain run reuses: the latest version's; None means choose."""
    if request.full:
        return None
    latest = registry.latest_version(MODEL_NAME)
    if latest is None:
        return None  # a fresh registry: every first run is full (design.md, "Cadence")
    try:
        record = registry.version_record(MODEL_NAME, latest)
    except ModelNotFoundError:
        return None
    params = record.metadata.get("hyper_parameters") or {}
    choice = params.get("churn_model")
    return choice if choice in CANDIDATES else None


def fingerprint(transactions: pd.DataFrame) -> str:
    """A digest of the training data (row hashes), for the version's metadata."""
    hashed = pd.util.hash_pandas_object(
        transactions[["customer_id", "ts", "amount"]], index=False
    ).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()


def trained_model(
    scores: CustomerScores,
    data: CustomerData,
    request: JobRequest,
    run_id: str,
    config: CustomerModelConfig,
) -> TrainedModel:
    """What the registry saves: the fitted parameters and their backtest."""
    model = CustomerAnalyticsModel.from_scores(scores, config)
    ts = data.transactions["ts"]
    return TrainedModel(
        name=MODEL_NAME,
        model=model,
        metrics=backtest_metrics(scores),
        window=TrainingWindow(request.as_of, ts.min().date(), ts.max().date()),
        data_fingerprint=fingerprint(data.transactions),
        features=model.features,
        hyper_parameters={
            "churn_model": scores.churn_model,
            "spend_model": scores.spend_model,
            "spend_factor": round(scores.spend_factor, 6),
            "horizon_days": config.horizon_days,
            "time_unit_days": config.time_unit_days,
        },
        run_id=run_id,
    )


def fit_and_save(
    resources: JobResources,
    data: CustomerData,
    request: JobRequest,
    run_id: str,
    config: CustomerModelConfig,
) -> tuple[CustomerScores | None, SaveResult | None]:
    """Fit, backtest and save a version; (None, None) when the history cannot be fitted."""
    choice = current_choice(resources.registry, request)
    try:
        scores = score_customers(data.transactions, request.as_of, config, churn_model=choice)
    except FitError as exc:
        get_logger(__name__).warning("customers_fit_skipped", error=str(exc))
        return None, None
    saved = resources.registry.save(trained_model(scores, data, request, run_id, config))
    return scores, saved


def predict(
    registry: ModelRegistry,
    base: pd.DataFrame,
    transactions: pd.DataFrame,
    as_of: pd.Timestamp,
    config: CustomerModelConfig,
) -> tuple[pd.DataFrame, ChainResult[int, Prediction]]:
    """Every customer of ``base`` through the fallback chain."""
    rule = fit_recency_rule(transactions, as_of, config)
    rungs = [
        *registry.model_rungs(MODEL_NAME, model_predict(base)),
        rule_rung(base, rule, config),
        default_rung(base, config),
    ]
    result = run_chain([int(k) for k in base.index], rungs, usable=usable)
    return assemble(base, result, as_of), result


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One run of the customers job (see the module doc)."""
    config = CustomerModelConfig()
    as_of = pd.Timestamp(request.as_of).tz_convert("UTC")
    with open_resources(settings) as resources:
        data = extract(resources, request)
        quality = data.quality.counts()
        if data.transactions.empty:
            get_logger(__name__).warning("customers_no_transactions")
            return JobResult(
                quality=quality, summary={"customers_scored": 0, **refund_counts(data)}
            )
        scores, saved = fit_and_save(resources, data, request, run_id, config)
        base = base_frame(data.transactions, as_of, config)
        base = base.loc[in_scope(base["restaurant_id"], request.restaurants)]
        if base.empty:  # a filter whose restaurants have no customer with an order yet
            now = resources.clock.now()
            trained = (
                [] if saved is None else [model_trained_event(saved, settings=settings, now=now)]
            )
            return JobResult(
                events=trained,
                quality=quality,
                summary={"customers_scored": 0, **refund_counts(data)},
                model_name=MODEL_NAME,
                model_version=None if saved is None else str(saved.version),
            )
        frame, chain = predict(resources.registry, base, data.transactions, as_of, config)
        return publish(resources, request, data, Outcome(frame, chain, scores, saved))
