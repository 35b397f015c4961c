"""One restaurant of the kitchen job, first half: extract, clean, fit, backtest.

The second half, the fallback chain and the events, is ``jobs/kitchen_predict.py``;
``jobs/kitchen.py`` saves every restaurant's bundle as one version in between.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.features.calendar import history_end
from rms_ml_push.features.kitchen_tickets import prepare_tickets
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.jobs.kitchen_orders import HourlyOrders, hourly_orders, recent_orders
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.kitchen import (
    FitOptions,
    MedianRung,
    ModelParams,
    StationProfile,
    build_features,
    fit_kitchen,
    station_profiles,
)
from rms_ml_push.models.kitchen.backtest import Backtest, calib_backtest
from rms_ml_push.models.kitchen.publish import Key, KitchenBundle, load_keys, prep_keys

MODEL_NAME = "kitchen_performance"


def fit_options(settings: Settings) -> FitOptions:
    """The fit's knobs from ``RMS_ML_KITCHEN__*`` (hyper-parameters otherwise fixed)."""
    kitchen = settings.kitchen
    return FitOptions(
        max_train_rows=kitchen.max_train_rows,
        min_model_rows=kitchen.min_model_rows,
        params=ModelParams(max_iter=kitchen.max_iter),
    )


def hyper_parameters(options: FitOptions) -> dict[str, Any]:
    """What the version number depends on besides the features."""
    return dataclasses.asdict(options.params) | {
        "calib_days": options.calib_days,
        "max_train_rows": options.max_train_rows,
    }


@dataclass
class Prepared:
    """One restaurant after extract, clean and fit: what the save and the chain need.

    Only small things are kept (the bundle, the rule rungs, the keys, the hourly orders),
    so that a run over many restaurants holds one restaurant's history at a time.
    """

    restaurant_id: int
    quality: QualityReport
    keys: list[Key] = field(default_factory=list)
    bundle: KitchenBundle | None = None
    backtest: Backtest | None = None
    history_start: date | None = None
    history_end: date | None = None
    fingerprint: str = ""
    rules: MedianRung | None = None
    rule_profiles: list[StationProfile] = field(default_factory=list)
    shares: dict[int, float] = field(default_factory=dict)
    orders: HourlyOrders | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)


def prepare_restaurant(
    resources: JobResources,
    request: JobRequest,
    restaurant_id: int,
    tz: str,
    *,
    champion: KitchenBundle | None,
) -> Prepared:
    """Extract, clean, fit and backtest one restaurant (``champion`` re-scored alongside)."""
    as_of = request.as_of
    end = history_end(as_of, tz)
    tickets = resources.reader.kitchen_tickets(
        until=end.to_pydatetime(), restaurant_ids=[restaurant_id]
    )
    menu = resources.reader.menu_items([restaurant_id])
    clean, quality = prepare_tickets(tickets, menu, resources.quality_context(as_of))
    del tickets
    recent = recent_orders(resources, as_of=as_of, restaurant_id=restaurant_id, tz=tz)
    prepared = Prepared(restaurant_id, quality.merge(recent.quality))
    if clean.empty:
        prepared.summary = {"tickets": 0, "skipped": "no clean kitchen tickets in history"}
        prepared.log = {"tickets": 0}
        return prepared
    features = build_features(clean, {restaurant_id: tz})
    del clean
    options = fit_options(resources.settings)
    fit = fit_kitchen(features, options)
    # Item mix, capacity and the served (station, item) pairs come from the last 28 days;
    # a kitchen idle that long keeps its whole history instead of going silent.
    window = features[features["queued_at"] >= recent.since]
    recent_fit = dataclasses.replace(fit, history=window if not window.empty else features)
    n_orders = recent.orders_before_day0
    backtest = calib_backtest(
        features,
        fit,
        calib_days=options.calib_days,
        champion=None if champion is None else champion.table,
    )
    if fit.model is not None and backtest is not None:
        profiles = station_profiles(recent_fit, orders_in_history=n_orders)
        prepared.bundle = KitchenBundle(restaurant_id, fit.model, fit.table, tuple(profiles))
        prepared.backtest = backtest
    queued = features["queued_at"]
    prepared.history_start, prepared.history_end = queued.min().date(), queued.max().date()
    prepared.fingerprint = _fingerprint(features)
    history = recent_fit.history
    prepared.keys = prep_keys(history) + load_keys(history)
    prepared.rules = recent_fit.rules
    prepared.rule_profiles = station_profiles(
        dataclasses.replace(recent_fit, model=None), orders_in_history=n_orders
    )
    prepared.shares = {p.station_id: p.tickets_per_order for p in prepared.rule_profiles}
    prepared.orders = hourly_orders(
        resources, as_of=as_of, restaurant_id=restaurant_id, tz=tz, recent=recent
    )
    prepared.summary = {"tickets": len(features), "fit": fit.source}
    return prepared


def _fingerprint(features: pd.DataFrame) -> str:
    hashed = pd.util.hash_pandas_object(
        features[["order_item_id", "station_id", "queued_at", "completed_at"]], index=False
    )
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:32]
