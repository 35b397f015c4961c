"""One registry version for every restaurant: bundles, carry-over and pooled metrics.

The kitchen job saves ONE registry name (``kitchen_performance``); a version's model is a
:class:`KitchenVersion`, the per-restaurant :class:`KitchenBundle` s. A run for some
restaurants only (``--restaurant``, a time zone's schedule entry) refits those and carries
the others over unchanged from the version it started from, so that promoting it never
hides another restaurant's model (as ``jobs/inventory.py`` does with its fits).

``metrics.json`` keeps every restaurant's scores as ``r<id>.<metric>`` (carried ones
included, so a later run for that restaurant finds them) and, unprefixed, the scores
pooled over the restaurants fitted in THIS run: the gate compares those with the
champion's on the same restaurants and the same tickets. Pooling weights each
restaurant's score by its ticket count (``busy_tickets`` for ``*_busy20``), which is
exactly the score over all the run's tickets for means such as MAE and coverage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rms_ml_push.models.kitchen.publish import KitchenBundle

BUSY_SUFFIX = "_busy20"


@dataclass(frozen=True)
class KitchenVersion:
    """The model object of one ``kitchen_performance`` version."""

    bundles: Mapping[int, KitchenBundle] = field(default_factory=dict)

    def bundle(self, restaurant_id: int) -> KitchenBundle:
        """The restaurant's bundle; KeyError when this version has none for it."""
        return self.bundles[restaurant_id]


def merge_bundles(
    base: KitchenVersion | None, fitted: Mapping[int, KitchenBundle]
) -> KitchenVersion:
    """``base``'s bundles with this run's fits replacing theirs (others carried over)."""
    bundles: dict[int, KitchenBundle] = dict(base.bundles) if base is not None else {}
    bundles.update(fitted)
    return KitchenVersion(dict(sorted(bundles.items())))


def prefixed(restaurant_id: int, scores: Mapping[str, float]) -> dict[str, float]:
    """``scores`` under the restaurant's prefix: ``r<id>.<metric>``."""
    return {f"r{restaurant_id}.{name}": value for name, value in scores.items()}


def restaurant_scores(recorded: Mapping[str, Any], restaurant_id: int) -> dict[str, float]:
    """The ``r<id>.*`` scores of one restaurant in a recorded mapping, unprefixed."""
    prefix = f"r{restaurant_id}."
    return {
        key[len(prefix) :]: float(value)
        for key, value in recorded.items()
        if key.startswith(prefix) and _is_number(value)
    }


def carried_scores(
    recorded: Mapping[str, Any], restaurant_ids: set[int], fitted: set[int]
) -> dict[str, float]:
    """The prefixed scores of the carried restaurants (in the new version, not refitted)."""
    out: dict[str, float] = {}
    for rid in sorted(restaurant_ids - fitted):
        out |= prefixed(rid, restaurant_scores(recorded, rid))
    return out


@dataclass(frozen=True)
class Weights:
    """A restaurant's ticket counts on the run's scoring slice."""

    tickets: int
    busy_tickets: int

    def of(self, metric: str) -> int:
        """The weight a metric is pooled with."""
        return self.busy_tickets if metric.endswith(BUSY_SUFFIX) else self.tickets


def pooled(
    scores: Mapping[int, Mapping[str, float]], weights: Mapping[int, Weights]
) -> dict[str, float]:
    """Ticket-weighted means over restaurants of each metric every one of them has."""
    if not scores:
        return {}
    names = set.intersection(*(set(s) for s in scores.values()))
    out: dict[str, float] = {}
    for name in sorted(names):
        total = sum(weights[rid].of(name) for rid in scores)
        if total <= 0:
            continue
        value = sum(scores[rid][name] * weights[rid].of(name) for rid in scores) / total
        out[name] = round(value, 4)
    return out


def champion_scores(
    found: Mapping[int, Mapping[str, float] | None],
    baseline: Mapping[int, Mapping[str, float]],
    weights: Mapping[int, Weights],
) -> dict[str, float]:
    """The champion pooled over the run's restaurants; ``{}`` when it covers none.

    A restaurant the champion has no figures for is served by the rule-based rung, so it
    counts with the baseline's scores: the champion is judged on the same restaurants.
    """
    if not any(v is not None for v in found.values()):
        return {}
    filled = {rid: found[rid] or baseline[rid] for rid in found}
    return pooled({rid: dict(s) for rid, s in filled.items()}, weights)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def restaurant_backtest(recorded: Mapping[str, Any], restaurant_id: int) -> dict[str, Any] | None:
    """One restaurant's part of a version's ``metrics.json`` (a message's ``backtest``)."""
    model = restaurant_scores(recorded.get("model") or {}, restaurant_id)
    if not model:
        return None
    baseline_recorded = recorded.get("baseline") or {}
    windows = [
        w
        for w in recorded.get("windows") or ()
        if isinstance(w, Mapping) and w.get("restaurant_id") == restaurant_id
    ]
    return {
        "metric": recorded.get("metric"),
        "higher_is_better": recorded.get("higher_is_better", False),
        "windows": windows,
        "model": model,
        "baseline": {
            "name": baseline_recorded.get("name"),
            **restaurant_scores(baseline_recorded, restaurant_id),
        },
    }
