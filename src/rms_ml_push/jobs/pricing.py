"""Job ``pricing``: elasticities and margin-maximising prices per menu item (jobs/pricing.md).

    extract (pricing_inputs) -> held-out evaluation (latest price change per item) ->
    fit on everything -> registry.save (gate: held-out response error below the
    no-response baseline's) -> fallback chain per item (latest -> previous -> category
    prior of this run's data -> keep the current price) -> recommendations under the
    guardrails -> ``pricing.recommendations.updated`` per restaurant + ``model.trained``

Models are fitted on every restaurant (categories pool chain-wide); ``request.restaurants``
only narrows what is published. Monthly, always full: nothing is reused between runs
except through the registry's fallback rungs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rms_ml_push.config import Settings
from rms_ml_push.errors import ModelNotFoundError
from rms_ml_push.jobs.common import (
    JobResources,
    ModelRef,
    base_data,
    model_trained_event,
    open_resources,
    prediction_events,
)
from rms_ml_push.jobs.pricing_inputs import PricingData, load_pricing_data
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger
from rms_ml_push.models.fallback import (
    ChainResult,
    Rung,
    Source,
    constant_rung,
    lowest_source,
    run_chain,
)
from rms_ml_push.models.lifecycle import BacktestMetrics
from rms_ml_push.models.pricing.evaluate import HoldoutReport, evaluate_holdout
from rms_ml_push.models.pricing.model import FEATURES, PricingModel, fit_pricing_model
from rms_ml_push.models.pricing.output import MenuItem, basis_counts, build_pricing_rows
from rms_ml_push.models.pricing.shrinkage import Elasticity
from rms_ml_push.store.registry import LoadedModel, SaveResult, TrainedModel, TrainingWindow

MODEL_NAME = "pricing_optimization"
EVENT_TYPE = "pricing.recommendations.updated"
Value = Elasticity | None


def backtest_metrics(report: HoldoutReport) -> BacktestMetrics:
    """Held-out response error of the model vs the no-response baseline (lower is better)."""
    scores = {
        m: {k: v for k, v in s.to_json().items() if v is not None} for m, s in report.scores.items()
    }
    return BacktestMetrics(
        metric="response_mae",
        model=scores["model"],
        baseline=scores["no_response"],
        baseline_name="no_response",
        windows=({"held_out": "latest price change per item", "chain": scores["chain"]},),
    )


def fit_and_save(
    resources: JobResources, data: PricingData, request: JobRequest, run_id: str
) -> tuple[PricingModel, HoldoutReport, SaveResult | None]:
    """Evaluate, fit on all history, save a version (None when there is no history)."""
    report = evaluate_holdout(data.fit_input, data.active_ids)
    model = fit_pricing_model(data.fit_input, data.active_ids)
    daily = data.fit_input.daily
    if daily.empty:
        return model, report, None
    trained = TrainedModel(
        name=MODEL_NAME,
        model=model,
        metrics=backtest_metrics(report),
        window=TrainingWindow(request.as_of, daily["ds"].min().date(), daily["ds"].max().date()),
        data_fingerprint=data.fingerprint(),
        features=FEATURES,
        hyper_parameters={"pooling": "dersimonian_laird_by_category", "block_days": 28},
        run_id=run_id,
    )
    return model, report, resources.registry.save(trained)


def _from_loaded(loaded: LoadedModel, keys: Sequence[int]) -> Mapping[int, Value]:
    model: PricingModel = loaded.model
    return model.predict(list(keys))


def _usable(value: Value) -> bool:
    return value is None or (math.isfinite(value.estimate) and math.isfinite(value.sd))


def rule_rung(model: PricingModel) -> Rung[int, Value]:
    """This run's category prior per item (chain-wide for an unknown category)."""

    def predict(keys: Sequence[int]) -> Mapping[int, Value]:
        out: dict[int, Value] = {}
        for key in keys:
            prior = model.prior_for(model.category_of.get(key))
            out[key] = Elasticity(prior.mean, prior.predictive_sd, "category")
        return out

    return Rung("rule_based", predict, label="category_prior")


def predict(
    resources: JobResources, model: PricingModel, ids: Sequence[int]
) -> ChainResult[int, Value]:
    """Every item through the chain; the default rung keeps the current price."""
    default: Rung[int, Value] = constant_rung(None, label="keep_current_price")
    rungs = [*resources.registry.model_rungs(MODEL_NAME, _from_loaded), rule_rung(model), default]
    return run_chain(list(ids), rungs, usable=_usable)


def model_ref(
    resources: JobResources,
    chain: ChainResult[int, Value],
    sources: Sequence[Source],
    saved: SaveResult | None,
) -> ModelRef:
    """Provenance of one message: the version that answered its best rows, lowest rung."""
    lowest = lowest_source(sources)
    rungs: tuple[Source, ...] = ("model", "previous_model")
    for rung in rungs:
        label = chain.labels.get(rung)
        if rung in sources and label is not None:
            try:
                record = resources.registry.version_record(MODEL_NAME, label)
            except ModelNotFoundError:
                continue
            return ModelRef(MODEL_NAME, label, record.created_at, lowest)
    if saved is not None:
        return ModelRef(MODEL_NAME, str(saved.version), saved.created_at, lowest)
    return ModelRef(MODEL_NAME, "none", None, lowest)


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One run of the pricing job (see the module doc)."""
    log = get_logger(__name__)
    with open_resources(settings) as resources:
        data = load_pricing_data(resources, request)
        quality = {**data.quality.counts(), **data.dropped_items}
        model, report, saved = fit_and_save(resources, data, request, run_id)
        items = data.in_scope(request.restaurants)
        events = (
            []
            if saved is None
            else [model_trained_event(saved, settings=settings, now=resources.clock.now())]
        )
        if not items:
            log.warning("pricing_no_active_items")
            return JobResult(events=events, quality=quality, summary={"items": 0})
        chain = predict(resources, model, [i.menu_item_id for i in items])
        rows = build_pricing_rows(items, chain.values, chain.sources, settings.pricing)
        events.extend(_events(resources, request, rows, chain, saved))
        metrics = {m: s.to_json() for m, s in report.scores.items()}
        summary = {"items": len(items), "restaurants": len(rows), "basis": basis_counts(rows)}
        log.info("pricing_recommended", **summary, **chain.log_fields())
        return JobResult(
            events=events,
            quality=quality,
            metrics=metrics,
            summary=summary,
            model_name=MODEL_NAME,
            model_version=None if saved is None else str(saved.version),
            fallback_counts={k: v for k, v in chain.counts.items() if v},
        )


def _events(
    resources: JobResources,
    request: JobRequest,
    rows: Mapping[int, list[dict[str, Any]]],
    chain: ChainResult[int, Value],
    saved: SaveResult | None,
) -> list[Any]:
    now = resources.clock.now()
    events = []
    for restaurant_id, part in rows.items():
        sources: list[Source] = [r["source"] for r in part]
        data = base_data(
            restaurant_id=restaurant_id,
            as_of=request.as_of,
            generated_at=now,
            model=model_ref(resources, chain, sources, saved),
        )
        events.extend(
            prediction_events(EVENT_TYPE, data, "items", part, settings=resources.settings, now=now)
        )
    return events


__all__ = ["MODEL_NAME", "MenuItem", "compute"]
