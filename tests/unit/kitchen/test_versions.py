"""Pure helpers of the one-name kitchen registry version: carry-over and pooled metrics."""

from __future__ import annotations

from typing import Any, cast

import pytest

from rms_ml_push.models.kitchen.publish import KitchenBundle
from rms_ml_push.models.kitchen.versions import (
    KitchenVersion,
    Weights,
    carried_scores,
    champion_scores,
    merge_bundles,
    pooled,
    restaurant_backtest,
    restaurant_scores,
)


def _bundle(rid: int, tag: str) -> KitchenBundle:
    return KitchenBundle(rid, cast(Any, tag), cast(Any, tag), ())


def test_merge_replaces_fitted_and_carries_the_rest() -> None:
    """A run's bundles replace the base's for its restaurants; the others are kept."""
    base = KitchenVersion({1: _bundle(1, "old1"), 2: _bundle(2, "old2")})
    merged = merge_bundles(base, {2: _bundle(2, "new2"), 3: _bundle(3, "new3")})
    assert sorted(merged.bundles) == [1, 2, 3]
    assert merged.bundle(1).model == "old1"
    assert merged.bundle(2).model == "new2"
    assert merge_bundles(None, {3: _bundle(3, "x")}).bundles.keys() == {3}
    with pytest.raises(KeyError):
        merged.bundle(9)


def test_pooled_weights_by_tickets_and_busy_tickets() -> None:
    """Each restaurant counts by its tickets; ``*_busy20`` metrics by its busy tickets."""
    scores = {1: {"mae": 10.0, "mae_busy20": 30.0}, 2: {"mae": 20.0, "mae_busy20": 60.0}}
    weights = {1: Weights(300, 10), 2: Weights(100, 20)}
    got = pooled(scores, weights)
    assert got["mae"] == pytest.approx((10 * 300 + 20 * 100) / 400)
    assert got["mae_busy20"] == pytest.approx((30 * 10 + 60 * 20) / 30)
    assert pooled({}, {}) == {}


def test_champion_fills_restaurants_it_lacks_with_the_baseline() -> None:
    """A restaurant without a champion bundle counts as the baseline; none at all is {}."""
    weights = {1: Weights(100, 10), 2: Weights(100, 10)}
    baseline = {1: {"mae": 50.0}, 2: {"mae": 70.0}}
    got = champion_scores({1: {"mae": 30.0}, 2: None}, baseline, weights)
    assert got["mae"] == pytest.approx(50.0)
    assert champion_scores({1: None, 2: None}, baseline, weights) == {}


def test_recorded_scores_per_restaurant() -> None:
    """``r<id>.`` keys are read back per restaurant; carried ones keep their prefix."""
    recorded = {"mae": 1.0, "r1.mae": 2.0, "r12.mae": 3.0, "r1.note": "x"}
    assert restaurant_scores(recorded, 1) == {"mae": 2.0}
    assert carried_scores(recorded, {1, 12}, {1}) == {"r12.mae": 3.0}
    metrics = {
        "metric": "mae",
        "model": recorded,
        "baseline": {"name": "median", "r1.mae": 4.0},
        "windows": [{"restaurant_id": 1, "tickets": 5}, {"restaurant_id": 12}],
    }
    one = restaurant_backtest(metrics, 1)
    assert one is not None
    assert one["model"] == {"mae": 2.0}
    assert one["baseline"] == {"name": "median", "mae": 4.0}
    assert one["windows"] == [{"restaurant_id": 1, "tickets": 5}]
    assert restaurant_backtest(metrics, 7) is None
