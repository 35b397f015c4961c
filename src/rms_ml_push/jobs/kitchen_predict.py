"""One restaurant of the kitchen job, second half: the fallback chain and the events."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rms_ml_push.errors import ModelError, ModelNotFoundError
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources, ModelRef, base_data
from rms_ml_push.jobs.kitchen_events import kitchen_events
from rms_ml_push.jobs.kitchen_orders import HourlyOrders
from rms_ml_push.jobs.kitchen_restaurant import MODEL_NAME, Prepared
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.fallback import ChainResult, Rung, run_chain
from rms_ml_push.models.kitchen.publish import (
    Key,
    default_rows,
    flat_profiles,
    load_rows,
    rule_rows,
    table_rows,
    usable,
)
from rms_ml_push.models.kitchen.versions import KitchenVersion, restaurant_backtest
from rms_ml_push.store.registry import LoadedModel


@dataclass
class RestaurantOutcome:
    """What one restaurant adds to the run's result."""

    restaurant_id: int
    quality: QualityReport
    events: list[Any] = field(default_factory=list)
    fallback_counts: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)


ModelRungs = Callable[
    [Callable[[LoadedModel, Sequence[Key]], Mapping[Key, Any]]], list[Rung[Key, Any]]
]


@dataclass
class _Served:
    """What the model rungs loaded, for the message's provenance."""

    trained_at: dict[str, datetime] = field(default_factory=dict)
    backtest: dict[str, dict[str, Any] | None] = field(default_factory=dict)


def predict_restaurant(
    resources: JobResources,
    request: JobRequest,
    prepared: Prepared,
    model_rungs: ModelRungs,
) -> RestaurantOutcome:
    """Run the fallback chain over every (station, item) and station; build the events.

    ``model_rungs`` gives the ``model`` and ``previous_model`` rungs of the one registry
    name; each answers from the restaurant's bundle in its version (a version without
    one raises, so the chain moves on, down to the per-station median).
    """
    rid = prepared.restaurant_id
    outcome = RestaurantOutcome(rid, prepared.quality, summary=dict(prepared.summary))
    outcome.log = dict(prepared.log)
    if not prepared.keys or prepared.rules is None or prepared.orders is None:
        return outcome
    rules, orders, rule_profiles = prepared.rules, prepared.orders, prepared.rule_profiles
    served = _Served()

    def from_version(loaded: LoadedModel, asked: Sequence[Key]) -> dict[Key, Any]:
        version = loaded.model
        if not isinstance(version, KitchenVersion):
            raise ModelError(f"{MODEL_NAME} {loaded.version}: not a kitchen version")
        try:
            bundle = version.bundle(rid)
        except KeyError:
            raise ModelNotFoundError(
                f"{MODEL_NAME} {loaded.version}: no bundle for restaurant {rid}"
            ) from None
        served.trained_at[str(loaded.version)] = loaded.created_at
        served.backtest[str(loaded.version)] = restaurant_backtest(loaded.metrics, rid)
        rows: dict[Key, Any] = dict(table_rows(bundle.table, asked))
        return rows | load_rows(bundle.profiles, orders.frame, asked)

    flat = flat_profiles(rules, prepared.shares)
    rungs: list[Rung[Key, Any]] = [
        *model_rungs(from_version),
        Rung(
            "rule_based",
            lambda k: rule_rows(rules, k) | load_rows(rule_profiles, orders.frame, k),
        ),
        Rung("default", lambda k: default_rows(rules, k) | load_rows(flat, orders.frame, k)),
    ]
    chain = run_chain(prepared.keys, rungs, usable=usable)
    outcome.events.extend(
        _events(resources, request, rid=rid, chain=chain, served=served, orders=orders)
    )
    outcome.fallback_counts = {s: n for s, n in chain.counts.items() if n}
    outcome.log |= chain.log_fields() | {"orders_forecast": orders.source}
    outcome.summary["orders_forecast"] = orders.source
    return outcome


def _events(
    resources: JobResources,
    request: JobRequest,
    *,
    rid: int,
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
    model = ModelRef(MODEL_NAME, version, served.trained_at.get(version or ""), chain.lowest_source)
    data = base_data(
        restaurant_id=rid,
        as_of=request.as_of,
        generated_at=now,
        model=model,
        backtest=served.backtest.get(version or ""),
        orders_forecast={"source": orders.source, "detail": orders.detail},
    )
    return kitchen_events(
        data,
        {"station_load": load, "prep_times": prep},
        now=now,
        max_body_bytes=resources.settings.delivery.max_body_bytes,
    )
