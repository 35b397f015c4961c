"""The inventory job: consumption forecast, reorder points, stockout and expiry risk (issue 9).

    extract + clean (inventory_frames) -> per restaurant: histories, demand x recipes,
    stock facts -> fit the consumption model (full: choose by backtest; plain: keep the
    choices) -> registry.save (gate: WAPE vs same-weekday baseline) -> per restaurant:
    run_chain(model, previous_model, rule_based, default) -> policy -> contract rows ->
    inventory.recommendations.updated (parts) + model.trained

Page for operators: ``jobs/inventory.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import Event
from rms_ml_push.errors import ModelError
from rms_ml_push.features.calendar import forecast_days
from rms_ml_push.jobs.common import (
    JobResources,
    ModelRef,
    base_data,
    model_trained_event,
    open_resources,
    prediction_events,
)
from rms_ml_push.jobs.forecasts import demand_series
from rms_ml_push.jobs.inventory_frames import StockFrames, extract_stock_frames
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger
from rms_ml_push.models.fallback import ChainResult, Rung, constant_rung, lowest_source, run_chain
from rms_ml_push.models.inventory import fit as fitting
from rms_ml_push.models.inventory.demand_path import usage_from_demand
from rms_ml_push.models.inventory.inputs import ItemFacts, item_facts, restaurant_inputs
from rms_ml_push.models.inventory.model import (
    ConsumptionModel,
    Forecast,
    ItemFit,
    RestaurantInputs,
    rule_forecast,
    usable_forecast,
)
from rms_ml_push.models.inventory.output import item_row
from rms_ml_push.models.inventory.policy import ItemInputs, PolicyParams, needed_days, recommend
from rms_ml_push.models.lifecycle import BacktestMetrics
from rms_ml_push.store.registry import LoadedModel, SaveResult, TrainedModel, TrainingWindow

NAME = "inventory_optimization"
EVENT_TYPE = "inventory.recommendations.updated"
HORIZON_DAYS = 14
FEATURES = ("daily_use_recipes", "daily_use_movements", "weekday")


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One inventory run for ``request.as_of`` (the runtime commits what it returns)."""
    with open_resources(settings) as resources:
        return _InventoryRun(resources, request, run_id).execute()


class _InventoryRun:
    """One run's sequence; holds only what the steps hand each other."""

    def __init__(self, resources: JobResources, request: JobRequest, run_id: str) -> None:
        self.res, self.request, self.run_id = resources, request, run_id
        inv = resources.settings.inventory
        self.params = PolicyParams(inv.service_level, inv.review_period_days, HORIZON_DAYS)
        self.log = get_logger(__name__)
        self.summary: dict[str, Any] = {"demand_forecast": {}}

    def execute(self) -> JobResult:
        as_of = self.request.as_of
        frames = extract_stock_frames(
            self.res, as_of=as_of, restaurant_ids=self.request.restaurants
        )
        previous = self._previous_model()
        restaurants = self._restaurants(frames)
        saved = self._train(restaurants, previous)
        now = self.res.clock.now()
        events: list[Event] = []
        counts: dict[str, int] = {}
        for rid, (inputs, facts, length) in restaurants.items():
            chain = self._predict(inputs, facts, length)
            for source, n in chain.counts.items():
                counts[source] = counts.get(source, 0) + n
            events.extend(self._events(rid, facts, chain, now, saved))
        events.append(model_trained_event(saved, settings=self.res.settings, now=now))
        quality = {**frames.quality.counts(), "after_as_of": frames.quality.after_as_of}
        return JobResult(
            events=events,
            quality=quality,
            metrics=dict(saved.metrics),
            summary={**self.summary, "restaurants": len(restaurants)},
            model_name=NAME,
            model_version=str(saved.version),
            fallback_counts=counts,
        )

    # -- inputs ---------------------------------------------------------------------------

    def _restaurants(
        self, frames: StockFrames
    ) -> dict[int, tuple[RestaurantInputs, list[ItemFacts], int]]:
        as_of = self.request.as_of
        out = {}
        stats = {"items": 0, "items_without_batch": 0, "expired_batches_with_stock": 0}
        for rid, tz in zip(frames.restaurants["id"], frames.restaurants["timezone"], strict=True):
            items, recipes, lines, batches, movements = frames.for_restaurant(int(rid))
            leads = [int(lead) for lead in items["lead_time_days"]]
            length = max([needed_days(self.params, lead) for lead in leads] or [HORIZON_DAYS])
            facts = item_facts(items, batches, as_of=as_of, tz=tz, days=length)
            demand = self._demand(int(rid), tz, recipes, length)
            inputs = restaurant_inputs(
                int(rid),
                tz=tz,
                as_of=as_of,
                item_ids=[f.inventory_item_id for f in facts],
                lines=lines,
                recipes=recipes,
                movements=None if frames.movements is None else movements,
                demand=demand,
            )
            out[int(rid)] = (inputs, facts, length)
            stats["items"] += len(facts)
            stats["items_without_batch"] += int(
                (~items["id"].isin(batches["inventory_item_id"])).sum()
            )
            stats["expired_batches_with_stock"] += sum(f.expired_with_stock for f in facts)
        self.summary.update(stats, movements=frames.movements is not None)
        return out

    def _demand(self, rid: int, tz: str, recipes: pd.DataFrame, length: int) -> dict[int, Forecast]:
        """Menu-item demand x recipes; empty (and noted) when no forecast can be had."""
        as_of = self.request.as_of
        try:
            series, how = demand_series(self.res, as_of=as_of, restaurant_id=rid, granularity="day")
        except Exception as exc:  # no demand forecast: the model's history path answers
            self.log.info("demand_forecast_unavailable", restaurant_id=rid, error=str(exc)[:300])
            self.summary["demand_forecast"][str(rid)] = "unavailable"
            return {}
        self.summary["demand_forecast"][str(rid)] = how
        return usage_from_demand(series, recipes, forecast_days(as_of, tz, length), length)

    # -- model ----------------------------------------------------------------------------

    def _previous_model(self) -> ConsumptionModel | None:
        registry = self.res.registry
        if registry.latest_version(NAME) is None:
            return None
        try:
            loaded: LoadedModel = registry.load_latest(NAME)
        except ModelError as exc:
            self.log.warning("inventory_previous_model_unloadable", error=str(exc)[:300])
            return None
        model = loaded.model
        return model if isinstance(model, ConsumptionModel) else None

    def _train(
        self,
        restaurants: Mapping[int, tuple[RestaurantInputs, list[ItemFacts], int]],
        previous: ConsumptionModel | None,
    ) -> SaveResult:
        full = self.request.full or previous is None
        fits: dict[int, Mapping[int, ItemFit]] = dict(previous.fits) if previous else {}
        model_scores, baseline_scores = fitting.Scores(), fitting.Scores()
        origins = 0
        for rid, (inputs, _facts, _length) in restaurants.items():
            kept = None if full or previous is None else previous.fits.get(rid)
            result = fitting.fit_restaurant(inputs, previous=kept, horizon_days=HORIZON_DAYS)
            fits[rid] = result.fits
            model_scores.merge(result.model)
            baseline_scores.merge(result.baseline)
            origins = max(origins, result.origins)
        model = ConsumptionModel(fits, HORIZON_DAYS)
        metrics = _metrics(model_scores, baseline_scores, origins, full=full)
        saved = self.res.registry.save(
            TrainedModel(
                name=NAME,
                model=model,
                metrics=metrics,
                window=_window(self.request.as_of, restaurants),
                data_fingerprint=_fingerprint(restaurants),
                features=FEATURES,
                hyper_parameters={
                    "alphas": list(fitting.ALPHAS),
                    "gammas": list(fitting.GAMMAS),
                    "eval_origins": fitting.EVAL_ORIGINS,
                    "horizon_days": HORIZON_DAYS,
                },
                run_id=self.run_id,
            )
        )
        self.summary["full"] = full
        return saved

    # -- prediction and events ------------------------------------------------------------

    def _predict(
        self, inputs: RestaurantInputs, facts: Sequence[ItemFacts], length: int
    ) -> ChainResult[int, Forecast]:
        def by_model(loaded: LoadedModel, keys: Sequence[int]) -> Mapping[int, Forecast]:
            result: Mapping[int, Forecast] = loaded.model.predict(inputs, keys, length)
            return result

        rungs: list[Rung[int, Forecast]] = [
            *self.res.registry.model_rungs(NAME, by_model),
            Rung("rule_based", lambda keys: rule_forecast(inputs, keys, length), "same_weekday"),
            constant_rung((np.zeros(length), np.zeros(length)), label="zero_use"),
        ]
        keys = [f.inventory_item_id for f in facts]
        return run_chain(keys, rungs, usable=usable_forecast(length))

    def _events(
        self,
        rid: int,
        facts: Sequence[ItemFacts],
        chain: ChainResult[int, Forecast],
        now: datetime,
        saved: SaveResult,
    ) -> list[Event]:
        rows = []
        for f in facts:
            mean, sigma = chain.values[f.inventory_item_id]
            rec = recommend(
                ItemInputs(
                    f.inventory_item_id,
                    f.unit,
                    f.lead_time_days,
                    f.lots,
                    mean,
                    sigma,
                    f.shelf_life_days,
                ),
                self.params,
            )
            rows.append(item_row(rec, chain.sources[f.inventory_item_id], f.expiry_labels))
        if not rows:
            return []
        data = base_data(
            restaurant_id=rid,
            as_of=self.request.as_of,
            generated_at=now,
            model=self._model_ref(chain, saved),
        )
        return prediction_events(
            EVENT_TYPE, data, "items", rows, settings=self.res.settings, now=now
        )

    def _model_ref(self, chain: ChainResult[int, Forecast], saved: SaveResult) -> ModelRef:
        source = lowest_source(chain.sources.values())
        used = {chain.sources[k] for k in chain.sources}
        version = next(
            (chain.labels.get(s) for s in ("model", "previous_model") if s in used), None
        )
        if version is None:
            return ModelRef(NAME, str(saved.version), saved.created_at, source)
        record = self.res.registry.version_record(NAME, version)
        return ModelRef(NAME, version, record.created_at, source)


def _metrics(
    model: fitting.Scores, baseline: fitting.Scores, origins: int, *, full: bool
) -> BacktestMetrics:
    return BacktestMetrics(
        metric="wape",
        model=model.to_json(),
        baseline=baseline.to_json(),
        baseline_name="same_weekday_mean_4w",
        windows=({"origins": origins, "horizon_days": HORIZON_DAYS, "full": full},),
    )


def _window(
    as_of: datetime, restaurants: Mapping[int, tuple[RestaurantInputs, list[ItemFacts], int]]
) -> TrainingWindow:
    histories = [inputs.target for inputs, _, _ in restaurants.values()]
    if not histories:
        day = as_of.date()
        return TrainingWindow(as_of, day, day)
    first = min(h.first_day for h in histories)
    last = max(h.end_day for h in histories) - timedelta(days=1)
    return TrainingWindow(as_of, first, max(first, last))


def _fingerprint(
    restaurants: Mapping[int, tuple[RestaurantInputs, list[ItemFacts], int]],
) -> str:
    digest = hashlib.sha256()
    for rid in sorted(restaurants):
        for source, history in sorted(restaurants[rid][0].histories.items()):
            digest.update(f"{rid}:{source}:{history.first_day}".encode())
            digest.update(np.ascontiguousarray(history.values).tobytes())
    return digest.hexdigest()
