"""The kitchen performance job: prep-time lookup table and station load, per restaurant.

Sequence (jobs/kitchen.md has the operator's view)::

    restaurants -> for each, one at a time (memory is one restaurant's history):
      extract tickets + menu -> clean (every dropped row counted) -> features
      -> fit (quantile GBM, table, station profiles) -> registry.save (gate)
      -> run_chain(model, previous_model, rule_based, default) -> events

Each restaurant has its own registry name (``kitchen_performance-r<id>``): the gate then
judges each kitchen against its own median, and a run restricted to some restaurants
(one time zone of a chain) never hides another restaurant's promoted version.
"""

from __future__ import annotations

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.errors import JobError
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources, open_resources
from rms_ml_push.jobs.kitchen_restaurant import MODEL_FAMILY, RestaurantOutcome, run_restaurant
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One kitchen run: every (requested) restaurant in turn; see the module docstring."""
    log = get_logger(__name__)
    result = JobResult(model_name=MODEL_FAMILY)
    quality = QualityReport()
    versions: dict[str, str | None] = {}
    with open_resources(settings) as resources:
        for restaurant_id, tz in _restaurants(resources, request):
            outcome = run_restaurant(resources, request, run_id, restaurant_id, tz)
            quality = quality.merge(outcome.quality)
            _fold(result, outcome)
            versions[str(restaurant_id)] = outcome.version
            log.info("kitchen_restaurant_done", restaurant_id=restaurant_id, **outcome.log)
    result.quality = quality.counts()
    result.summary["quality"] = quality.to_dict()
    result.summary["versions"] = versions
    if len(versions) == 1:
        result.model_version = next(iter(versions.values()))
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
    result.metrics[str(outcome.restaurant_id)] = outcome.metrics
    result.summary.setdefault("restaurants", {})[str(outcome.restaurant_id)] = outcome.summary
