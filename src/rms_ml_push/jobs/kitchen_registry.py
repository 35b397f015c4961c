"""The kitchen job's one registry name: where a run starts from, the save, the rungs.

A version of ``kitchen_performance`` holds every restaurant's bundle
(``models/kitchen/versions.py``). A run starts from the current ``latest`` (or, when its
files fail their check, the previous stable version) and carries over the bundles of the
restaurants it does not refit; the gate compares the run's restaurants with the champion
on those same restaurants. Each version is loaded (and verified) once per run, however
many restaurants the chain serves from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rms_ml_push.errors import ModelError, ModelNotFoundError
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.jobs.kitchen_restaurant import (
    MODEL_NAME,
    Prepared,
    fit_options,
    hyper_parameters,
)
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.logs import get_logger
from rms_ml_push.models.fallback import Rung
from rms_ml_push.models.kitchen import FEATURES
from rms_ml_push.models.kitchen.backtest import PRIMARY_METRIC
from rms_ml_push.models.kitchen.publish import Key, KitchenBundle
from rms_ml_push.models.kitchen.versions import (
    KitchenVersion,
    Weights,
    carried_scores,
    champion_scores,
    merge_bundles,
    pooled,
    prefixed,
    restaurant_scores,
)
from rms_ml_push.models.lifecycle import BacktestMetrics, Version
from rms_ml_push.store.registry import (
    LoadedModel,
    ModelRegistry,
    SaveResult,
    TrainedModel,
    TrainingWindow,
)

Predict = Callable[[LoadedModel, Sequence[Key]], Mapping[Key, Any]]


class VersionCache:
    """Versions of ``kitchen_performance`` loaded at most once per run (failures too)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry
        self._loaded: dict[Version, LoadedModel | ModelError] = {}

    def load(self, version: Version) -> LoadedModel:
        """The verified version; the ModelError of its first load, raised again."""
        if version not in self._loaded:
            try:
                self._loaded[version] = self._registry.load(MODEL_NAME, version)
            except ModelError as exc:
                self._loaded[version] = exc
        found = self._loaded[version]
        if isinstance(found, ModelError):
            raise found
        return found

    def kitchen_version(self, version: Version | None) -> KitchenVersion | None:
        """The version's bundles, None when there is no such version or it fails to load."""
        if version is None:
            return None
        try:
            model = self.load(version).model
        except ModelError as exc:
            get_logger(__name__).warning(
                "kitchen_version_unloadable", version=str(version), error=str(exc)[:300]
            )
            return None
        return model if isinstance(model, KitchenVersion) else None

    def retain(self, keep: set[Version | None]) -> None:
        """Forget every loaded version not in ``keep`` (frees its memory)."""
        self._loaded = {v: m for v, m in self._loaded.items() if v in keep}

    def rungs(self, predict: Predict) -> list[Rung[Key, Any]]:
        """The ``model`` (latest) and ``previous_model`` rungs, as ``model_rungs`` builds."""
        latest = self._registry.latest_version(MODEL_NAME)
        previous = self._registry.previous_stable_version(MODEL_NAME)

        def rung_for(version: Version | None) -> Callable[[Sequence[Key]], Mapping[Key, Any]]:
            def run(keys: Sequence[Key]) -> Mapping[Key, Any]:
                if version is None:
                    raise ModelNotFoundError(f"model {MODEL_NAME!r}: no such version")
                return predict(self.load(version), keys)

            return run

        return [
            Rung("model", rung_for(latest), None if latest is None else str(latest)),
            Rung("previous_model", rung_for(previous), None if previous is None else str(previous)),
        ]


@dataclass(frozen=True)
class StartingPoint:
    """The champion (``latest``) and the version whose bundles are carried over."""

    champion: KitchenVersion | None = None
    champion_recorded: Mapping[str, Any] = field(default_factory=dict)
    carry: KitchenVersion | None = None
    carry_version: Version | None = None
    carry_recorded: Mapping[str, Any] = field(default_factory=dict)

    def champion_bundle(self, restaurant_id: int) -> KitchenBundle | None:
        """The champion's bundle for a restaurant, to re-score on this run's tickets."""
        return None if self.champion is None else self.champion.bundles.get(restaurant_id)


def starting_point(registry: ModelRegistry, cache: VersionCache) -> StartingPoint:
    """Load ``latest`` (else the previous stable version) to carry over and to re-score."""
    latest = registry.latest_version(MODEL_NAME)
    if latest is None:
        return StartingPoint()
    champion = cache.kitchen_version(latest)
    recorded = registry.version_record(MODEL_NAME, latest).metrics
    if champion is not None:
        return StartingPoint(champion, recorded, champion, latest, recorded)
    previous = registry.previous_stable_version(MODEL_NAME)
    carry = cache.kitchen_version(previous)
    if carry is None or previous is None:
        get_logger(__name__).warning("kitchen_carry_over_unavailable", latest=str(latest))
        return StartingPoint(champion_recorded=recorded)
    carried = registry.version_record(MODEL_NAME, previous).metrics
    return StartingPoint(None, recorded, carry, previous, carried)


def save_version(
    resources: JobResources,
    request: JobRequest,
    run_id: str,
    prepared: Sequence[Prepared],
    start: StartingPoint,
) -> SaveResult | None:
    """One version: this run's bundles plus the carried ones; None when nothing was fitted."""
    fitted = [p for p in prepared if p.bundle is not None and p.backtest is not None]
    if not fitted:
        return None
    bundles = {p.restaurant_id: p.bundle for p in fitted if p.bundle is not None}
    model = merge_bundles(start.carry, bundles)
    options = fit_options(resources.settings)
    trained = TrainedModel(
        name=MODEL_NAME,
        model=model,
        metrics=run_metrics(fitted, start, set(model.bundles)),
        window=TrainingWindow(
            request.as_of,
            min(p.history_start for p in fitted if p.history_start is not None),
            max(p.history_end for p in fitted if p.history_end is not None),
        ),
        data_fingerprint=_fingerprint(fitted, start, set(model.bundles)),
        features=FEATURES,
        hyper_parameters=hyper_parameters(options),
        run_id=run_id,
    )
    return resources.registry.save(trained)


def run_metrics(
    fitted: Sequence[Prepared], start: StartingPoint, in_version: set[int]
) -> BacktestMetrics:
    """Pooled scores of the run's restaurants, every restaurant's own, the champion's."""
    model: dict[int, dict[str, float]] = {}
    baseline: dict[int, dict[str, float]] = {}
    champion: dict[int, Mapping[str, float] | None] = {}
    weights: dict[int, Weights] = {}
    windows: list[dict[str, Any]] = []
    recorded_champion = start.champion_recorded.get("model") or {}
    for p in fitted:
        if p.backtest is None:
            continue
        rid, bt = p.restaurant_id, p.backtest
        model[rid], baseline[rid] = bt.model, bt.baseline
        champion[rid] = bt.champion or restaurant_scores(recorded_champion, rid) or None
        weights[rid] = Weights(int(bt.window["tickets"]), int(bt.window["busy_tickets"]))
        windows.append({"restaurant_id": rid, **bt.window})
    carry_model = start.carry_recorded.get("model") or {}
    carry_baseline = start.carry_recorded.get("baseline") or {}
    windows += _carried_windows(start, in_version - set(model))
    return BacktestMetrics(
        metric=PRIMARY_METRIC,
        model=_all_scores(model, weights) | carried_scores(carry_model, in_version, set(model)),
        baseline=_all_scores(baseline, weights)
        | carried_scores(carry_baseline, in_version, set(model)),
        baseline_name="median_per_station_item",
        windows=tuple(windows),
        champion=champion_scores(champion, baseline, weights),
    )


def _all_scores(
    scores: Mapping[int, dict[str, float]], weights: Mapping[int, Weights]
) -> dict[str, float]:
    out = pooled(scores, weights)
    for rid in sorted(scores):
        out |= prefixed(rid, scores[rid])
    return out


def _carried_windows(start: StartingPoint, carried: set[int]) -> list[dict[str, Any]]:
    recorded = {
        w.get("restaurant_id"): dict(w)
        for w in start.carry_recorded.get("windows") or ()
        if isinstance(w, Mapping)
    }
    source = None if start.carry_version is None else str(start.carry_version)
    out = []
    for rid in sorted(carried):
        window = recorded.get(rid, {"restaurant_id": rid})
        out.append({**window, "carried_from": window.get("carried_from", source)})
    return out


def _fingerprint(fitted: Sequence[Prepared], start: StartingPoint, in_version: set[int]) -> str:
    digest = hashlib.sha256()
    for p in sorted(fitted, key=lambda p: p.restaurant_id):
        digest.update(f"{p.restaurant_id}:{p.fingerprint};".encode())
    carried = sorted(in_version - {p.restaurant_id for p in fitted})
    digest.update(f"carried {carried} from {start.carry_version}".encode())
    return digest.hexdigest()[:32]
