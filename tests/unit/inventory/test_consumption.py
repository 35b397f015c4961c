"""Consumption forecasts: smoothing, same-weekday rule, demand x recipes, backtest choice."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.inventory.demand_path import point_sigma, usage_from_demand
from rms_ml_push.models.inventory.fit import fit_restaurant
from rms_ml_push.models.inventory.history import History, daily_history, recipe_use
from rms_ml_push.models.inventory.model import ConsumptionModel, RestaurantInputs, rule_forecast
from rms_ml_push.models.inventory.smoothing import same_weekday, smooth

WEEK = np.array([3.0, 3.0, 4.0, 5.0, 8.0, 9.0, 0.0])
MONDAY = date(2026, 1, 5)


def _history(values: np.ndarray, ids: tuple[int, ...] = (1,)) -> History:
    return History(ids, MONDAY, values.reshape(len(values), -1))


def test_smoothing_recovers_a_weekly_pattern() -> None:
    """On an exact weekly pattern the forecast is that pattern, starting at the right weekday."""
    y = np.tile(WEEK, 12)[:, None]
    final, past = smooth(y, 0, np.array([0.2]), np.array([0.1]), horizon=9, origins=[70])
    assert final[:, 0] == pytest.approx(np.concatenate([WEEK, WEEK[:2]]), abs=1e-6)
    assert past[0, :, 0] == pytest.approx(np.concatenate([WEEK, WEEK[:2]]), abs=1e-6)


def test_same_weekday_mean_of_the_last_four_weeks() -> None:
    """Day h's forecast is the mean of the last four same weekdays before the origin."""
    y = np.arange(56, dtype=float)[:, None]
    forecast = same_weekday(y, 56, 8)
    assert forecast[0, 0] == pytest.approx(np.mean([49, 42, 35, 28]))
    assert forecast[7, 0] == pytest.approx(np.mean([49, 42, 35, 28]))
    assert np.isnan(same_weekday(y[:3], 3, 7)[3, 0])  # no Thursday in the history


def test_point_sigma_from_interval_widths() -> None:
    """Sigma is the mean of the 80 and 95 % half-widths over their z; clipped intervals widen it."""
    point = {
        "yhat": 10.0,
        "lo_80": 10 - 1.2816,
        "hi_80": 10 + 1.2816,
        "lo_95": 10 - 1.96,
        "hi_95": 10 + 1.96,
    }
    assert point_sigma(point) == pytest.approx(1.0, abs=1e-3)
    clipped = {"yhat": 1.0, "lo_95": 0.0, "hi_95": 1.0 + 2 * 1.96}
    assert point_sigma(clipped) == pytest.approx(2.0, abs=1e-3)
    assert point_sigma({"yhat": 1.0}) == 0.0


def test_demand_times_recipes_propagates_intervals() -> None:
    """Mean adds quantity x yhat; variances add (independent dishes); later days repeat."""
    days = [MONDAY + timedelta(days=k) for k in range(7)]

    def series(item: int, yhat: float, sigma: float) -> dict[str, object]:
        pts = [
            {
                "ts": d.isoformat(),
                "yhat": yhat,
                "lo_95": yhat - 1.959964 * sigma,
                "hi_95": yhat + 1.959964 * sigma,
                "lo_80": None,
                "hi_80": None,
            }
            for d in days
        ]
        return {"target": "menu_item", "menu_item_id": item, "source": "model", "points": pts}

    recipes = pd.DataFrame(
        {"menu_item_id": [10, 11, 12], "inventory_item_id": [1, 1, 2], "quantity": [0.2, 0.5, 1.0]}
    )
    restaurant = {"target": "orders", "menu_item_id": None, "source": "model", "points": []}
    out = usage_from_demand(
        [restaurant, series(10, 20.0, 3.0), series(11, 4.0, 2.0)], recipes, days, 10
    )
    mean, sigma = out[1]
    assert mean == pytest.approx(np.full(10, 0.2 * 20 + 0.5 * 4))
    assert sigma == pytest.approx(np.full(10, np.hypot(0.2 * 3.0, 0.5 * 2.0)), rel=1e-4)
    assert 2 not in out  # its only dish has no forecast


def test_choice_by_backtest_prefers_the_history_that_matches_observed_use() -> None:
    """When line-derived use is half of what movements show, the movement history is chosen."""
    rng = np.random.default_rng(3)
    truth = np.tile(WEEK, 20) * rng.uniform(0.8, 1.2, 140)
    inputs = RestaurantInputs(1, {"recipes": _history(truth * 0.5), "movements": _history(truth)})
    result = fit_restaurant(inputs)
    assert result.fits[1].source == "movements"
    assert result.origins == 49
    assert result.model.to_json()["wape"] < 0.2
    assert len(result.fits[1].sigma) == 14


def test_model_uses_demand_for_recipe_items_and_smoothing_otherwise() -> None:
    """A recipes item with a demand forecast takes it; without one, the smoother answers."""
    truth = np.tile(WEEK, 20)
    inputs = RestaurantInputs(1, {"recipes": _history(truth)})
    model = ConsumptionModel({1: fit_restaurant(inputs).fits}, 14)
    smoothed = model.predict(inputs, [1], 14)[1][0]
    assert smoothed[:7] == pytest.approx(WEEK, abs=0.05)  # 140 days end on a Sunday
    demand = {1: (np.full(14, 42.0), np.full(14, 1.0))}
    with_demand = RestaurantInputs(1, inputs.histories, demand)
    assert model.predict(with_demand, [1], 14)[1][0] == pytest.approx(np.full(14, 42.0))
    assert model.predict(inputs, [99], 14) == {}  # an item the model never saw


def test_rule_leaves_items_without_use_to_the_default() -> None:
    """The rule answers items with recorded use only; a never-used item is left out."""
    values = np.zeros((35, 2))
    values[:, 0] = np.tile(WEEK, 5)
    inputs = RestaurantInputs(1, {"recipes": History((1, 2), MONDAY, values)})
    out = rule_forecast(inputs, [1, 2], 14)
    assert set(out) == {1}
    assert out[1][0][:7] == pytest.approx(WEEK)


def test_daily_history_from_order_lines_in_local_days() -> None:
    """Lines x recipes land on the restaurant's local day; days without sales are zeros."""
    lines = pd.DataFrame(
        {
            "menu_item_id": [10, 10, 11],
            "quantity": [2, 1, 3],
            "created_at": pd.to_datetime(
                ["2026-01-05T22:30Z", "2026-01-05T23:30Z", "2026-01-07T12:00Z"], utc=True
            ),
        }
    )
    recipes = pd.DataFrame(
        {"menu_item_id": [10, 11], "inventory_item_id": [1, 1], "quantity": [0.25, 1.0]}
    )
    as_of = datetime(2026, 1, 8, 6, tzinfo=UTC)
    history = daily_history(
        recipe_use(lines, recipes), [1, 2], tz="Europe/Berlin", as_of=as_of, first_day=MONDAY
    )
    # 23:30 UTC on the 5th is 00:30 on the 6th in Berlin.
    assert history.values[:, 0] == pytest.approx([0.5, 0.25, 3.0])
    assert history.values[:, 1] == pytest.approx([0.0, 0.0, 0.0])
    assert history.end_day == date(2026, 1, 8)
