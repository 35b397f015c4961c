"""The kitchen performance job: prep-time lookup table and station load, per restaurant.

Sequence (jobs/kitchen.md has the operator's view)::

    start from latest (bundles to carry over, the champion to re-score)
    restaurants -> for each, one at a time (memory is one restaurant's history):
      extract tickets + menu -> clean (every dropped row counted) -> features
      -> fit (quantile GBM, table, station profiles) -> backtest (and the champion's)
    -> registry.save: ONE version of ``kitchen_performance`` with every bundle (gate)
    -> for each restaurant: run_chain(model, previous_model, rule_based, default) -> events

One registry name for all restaurants (the seed's): a version holds a bundle per
restaurant, a run for some restaurants (one time zone of a chain) carries the others'
bundles over unchanged, and the gate judges the run's restaurants against the champion on
the same restaurants and tickets (``jobs/kitchen_registry.py``), as ``jobs/inventory.py``
does with its fits.
"""

from __future__ import annotations

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.errors import JobError
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources, model_trained_event, open_resources
from rms_ml_push.jobs.kitchen_predict import RestaurantOutcome, predict_restaurant
from rms_ml_push.jobs.kitchen_registry import VersionCache, save_version, starting_point
from rms_ml_push.jobs.kitchen_restaurant import MODEL_NAME, prepare_restaurant
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One kitchen run: every (requested) restaurant; see the module docstring."""
    log = get_logger(__name__)
    result = JobResult(model_name=MODEL_NAME)
    quality = QualityReport()
    with open_resources(settings) as resources:
        registry = resources.registry
        cache = VersionCache(registry)
        start = starting_point(registry, cache)
        prepared = [
            prepare_restaurant(resources, request, rid, tz, champion=start.champion_bundle(rid))
            for rid, tz in _restaurants(resources, request)
        ]
        saved = save_version(resources, request, run_id, prepared, start)
        del start  # the rungs load what they serve; keep one copy of each version
        cache.retain(
            {registry.latest_version(MODEL_NAME), registry.previous_stable_version(MODEL_NAME)}
        )
        if saved is not None:
            now = resources.clock.now()
            result.events.append(model_trained_event(saved, settings=settings, now=now))
            result.model_version = str(saved.version)
            result.metrics = dict(saved.metrics)
            result.summary["gate"] = {"promoted": saved.promoted, "reason": saved.reason}
        for item in prepared:
            item.bundle = None  # saved: the chain serves the verified copy on disk
        for item in prepared:
            outcome = predict_restaurant(resources, request, item, cache.rungs)
            quality = quality.merge(outcome.quality)
            _fold(result, outcome)
            log.info("kitchen_restaurant_done", restaurant_id=outcome.restaurant_id, **outcome.log)
    result.quality = quality.counts()
    result.summary["quality"] = quality.to_dict()
    result.summary["version"] = result.model_version
    return result


def _restaurants(resources: JobResources, request: JobRequest) -> list[tuple[int, str]]:
    frame: pd.DataFrame = resources.reader.restaurants()
    known = {int(rid): str(tz) for rid, tz in zip(frame["id"], frame["timezone"], strict=True)}
    wanted = sorted(set(request.restaurants)) if request.restaurants else sorted(known)
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise JobError(f"kitchen: unknown restaurant ids {unknown}")
    return [(r, known[r]) for r in wanted]


def _fold(result: JobResult, outcome: RestaurantOutcome) -> None:
    result.events.extend(outcome.events)
    for source, count in outcome.fallback_counts.items():
        result.fallback_counts[source] = result.fallback_counts.get(source, 0) + count
    result.summary.setdefault("restaurants", {})[str(outcome.restaurant_id)] = outcome.summary
