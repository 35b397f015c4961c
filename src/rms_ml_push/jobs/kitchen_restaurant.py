"""One restaurant of the kitchen job: extract, clean, fit, save, predict, build events."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.errors import ModelError
from rms_ml_push.features.calendar import history_end
from rms_ml_push.features.kitchen_tickets import prepare_tickets
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources, ModelRef, base_data, model_trained_event
from rms_ml_push.jobs.kitchen_events import kitchen_events
from rms_ml_push.jobs.kitchen_orders import HourlyOrders, hourly_orders, recent_orders
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.fallback import ChainResult, Rung, run_chain
from rms_ml_push.models.kitchen import (
    FEATURES,
    FitOptions,
    KitchenFit,
    ModelParams,
    build_features,
    fit_kitchen,
    station_profiles,
)
from rms_ml_push.models.kitchen.backtest import PRIMARY_METRIC, calib_backtest
from rms_ml_push.models.kitchen.publish import (
    Key,
    KitchenBundle,
    default_rows,
    flat_profiles,
    load_keys,
    load_rows,
    prep_keys,
    rule_rows,
    table_rows,
    usable,
)
from rms_ml_push.models.lifecycle import BacktestMetrics
from rms_ml_push.store.registry import LoadedModel, SaveResult, TrainedModel, TrainingWindow

MODEL_FAMILY = "kitchen_performance"


def fit_options(settings: Settings) -> FitOptions:
    """The fit's knobs from ``RMS_ML_KITCHEN__*`` (hyper-parameters otherwise fixed)."""
    kitchen = settings.kitchen
    return FitOptions(
        max_train_rows=kitchen.max_train_rows,
        min_model_rows=kitchen.min_model_rows,
        params=ModelParams(max_iter=kitchen.max_iter),
    )


def model_name(restaurant_id: int) -> str:
    """The registry name of a restaurant's kitchen model."""
    return f"{MODEL_FAMILY}-r{restaurant_id}"


@dataclass
class RestaurantOutcome:
    """What one restaurant adds to the run's result."""

    restaurant_id: int
    quality: QualityReport
    events: list[Any] = field(default_factory=list)
    fallback_counts: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)
    version: str | None = None


@dataclass
class _Served:
    """What the model rungs loaded, for the message's provenance."""

    trained_at: dict[str, datetime] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def run_restaurant(
    resources: JobResources, request: JobRequest, run_id: str, restaurant_id: int, tz: str
) -> RestaurantOutcome:
    """The whole pipeline for one restaurant (see ``jobs/kitchen.py``)."""
    as_of = request.as_of
    end = history_end(as_of, tz)
    tickets = resources.reader.kitchen_tickets(
        until=end.to_pydatetime(), restaurant_ids=[restaurant_id]
    )
    menu = resources.reader.menu_items([restaurant_id])
    clean, quality = prepare_tickets(tickets, menu, resources.quality_context(as_of))
    del tickets
    recent = recent_orders(resources, as_of=as_of, restaurant_id=restaurant_id, tz=tz)
    quality = quality.merge(recent.quality)
    outcome = RestaurantOutcome(restaurant_id, quality)
    if clean.empty:
        outcome.summary = {"tickets": 0, "skipped": "no clean kitchen tickets in history"}
        outcome.log = {"tickets": 0}
        return outcome
    features = build_features(clean, {restaurant_id: tz})
    del clean
    options = fit_options(resources.settings)
    fit = fit_kitchen(features, options)
    # Item mix, capacity and the served (station, item) pairs come from the last 28 days;
    # a kitchen idle that long keeps its whole history instead of going silent.
    window = features[features["queued_at"] >= recent.since]
    recent_fit = dataclasses.replace(fit, history=window if not window.empty else features)
    saved = _save(
        resources,
        request,
        run_id=run_id,
        fit=fit,
        recent_fit=recent_fit,
        n_orders=recent.orders_before_day0,
        options=options,
    )
    if saved is not None:
        outcome.events.append(
            model_trained_event(saved, settings=resources.settings, now=resources.clock.now())
        )
        outcome.version = str(saved.version)
        outcome.metrics = dict(saved.metrics)
    orders = hourly_orders(
        resources, as_of=as_of, restaurant_id=restaurant_id, tz=tz, recent=recent
    )
    _predict(
        resources,
        request,
        outcome=outcome,
        recent_fit=recent_fit,
        orders=orders,
        n_orders=recent.orders_before_day0,
    )
    outcome.summary |= {"tickets": len(features), "fit": fit.source, "gate": _gate(saved)}
    return outcome


def _gate(saved: SaveResult | None) -> dict[str, Any] | None:
    if saved is None:
        return None
    return {"version": str(saved.version), "promoted": saved.promoted, "reason": saved.reason}


def _save(
    resources: JobResources,
    request: JobRequest,
    *,
    run_id: str,
    fit: KitchenFit,
    recent_fit: KitchenFit,
    n_orders: int,
    options: FitOptions,
) -> SaveResult | None:
    """Save the fitted version (the gate decides); None on the rule-based rung."""
    backtest = calib_backtest(fit.history, fit, calib_days=options.calib_days)
    if fit.model is None or backtest is None:
        return None
    restaurant_id = int(fit.history["restaurant_id"].iloc[0])
    profiles = station_profiles(recent_fit, orders_in_history=n_orders)
    bundle = KitchenBundle(restaurant_id, fit.model, fit.table, tuple(profiles))
    queued = fit.history["queued_at"]
    metrics = BacktestMetrics(
        metric=PRIMARY_METRIC,
        model=backtest.model,
        baseline=backtest.baseline,
        baseline_name="median_per_station_item",
        windows=(backtest.window,),
    )
    trained = TrainedModel(
        name=model_name(restaurant_id),
        model=bundle,
        metrics=metrics,
        window=TrainingWindow(request.as_of, queued.min().date(), queued.max().date()),
        data_fingerprint=_fingerprint(fit.history),
        features=FEATURES,
        hyper_parameters=dataclasses.asdict(options.params)
        | {"calib_days": options.calib_days, "max_train_rows": options.max_train_rows},
        run_id=run_id,
    )
    return resources.registry.save(trained)


def _fingerprint(features: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(
        features[["order_item_id", "station_id", "queued_at", "completed_at"]], index=False
    )
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:32]


def _predict(
    resources: JobResources,
    request: JobRequest,
    *,
    outcome: RestaurantOutcome,
    recent_fit: KitchenFit,
    orders: HourlyOrders,
    n_orders: int,
) -> None:
    """Run the fallback chain over every (station, item) and station; build the events."""
    history = recent_fit.history
    name = model_name(outcome.restaurant_id)
    served = _Served()
    keys = prep_keys(history) + load_keys(history)
    rules = recent_fit.rules
    rule_profiles = station_profiles(
        dataclasses.replace(recent_fit, model=None), orders_in_history=n_orders
    )
    shares = {p.station_id: p.tickets_per_order for p in rule_profiles}

    def from_version(loaded: LoadedModel, asked: Sequence[Key]) -> dict[Key, Any]:
        bundle = loaded.model
        if not isinstance(bundle, KitchenBundle):
            raise ModelError(f"{name} {loaded.version}: not a kitchen bundle")
        served.trained_at[str(loaded.version)] = loaded.created_at
        served.metrics[str(loaded.version)] = dict(loaded.metrics)
        rows: dict[Key, Any] = dict(table_rows(bundle.table, asked))
        return rows | load_rows(bundle.profiles, orders.frame, asked)

    rungs: list[Rung[Key, Any]] = [
        *resources.registry.model_rungs(name, from_version),
        Rung(
            "rule_based",
            lambda k: rule_rows(rules, k) | load_rows(rule_profiles, orders.frame, k),
        ),
        Rung(
            "default",
            lambda k: (
                default_rows(rules, k) | load_rows(flat_profiles(rules, shares), orders.frame, k)
            ),
        ),
    ]
    chain = run_chain(keys, rungs, usable=usable)
    outcome.events.extend(
        _events(resources, request, outcome=outcome, chain=chain, served=served, orders=orders)
    )
    outcome.fallback_counts = {s: n for s, n in chain.counts.items() if n}
    outcome.log |= chain.log_fields() | {"orders_forecast": orders.source}
    outcome.summary["orders_forecast"] = orders.source


def _events(
    resources: JobResources,
    request: JobRequest,
    *,
    outcome: RestaurantOutcome,
    chain: ChainResult[Key, Any],
    served: _Served,
    orders: HourlyOrders,
) -> list[Any]:
    prep, load = [], []
    for key in sorted(chain.values):
        value = chain.values[key]
        if key[0] == "prep":
            prep.append({**value, "source": chain.sources[key]})
        else:
            load.extend(value)
    version = next(
        (chain.labels[s] for s in ("model", "previous_model") if chain.counts.get(s)), None
    )
    now = resources.clock.now()
    model = ModelRef(
        model_name(outcome.restaurant_id),
        version,
        served.trained_at.get(version or ""),
        chain.lowest_source,
    )
    data = base_data(
        restaurant_id=outcome.restaurant_id,
        as_of=request.as_of,
        generated_at=now,
        model=model,
        backtest=served.metrics.get(version or ""),
        orders_forecast={"source": orders.source, "detail": orders.detail},
    )
    return kitchen_events(
        data,
        {"station_load": load, "prep_times": prep},
        now=now,
        max_body_bytes=resources.settings.delivery.max_body_bytes,
    )
