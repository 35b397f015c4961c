"""Unit cost per menu item from recipes x inventory unit costs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rms_ml_push.models.pricing.cost import inventory_unit_costs, menu_item_unit_costs

UTC = "UTC"


def _inventory() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "unit_cost": [2.0, 0.5, math.nan]})


def _batches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [10, 11, 12, 13],
            "inventory_item_id": [1, 1, 2, 2],
            "received_at": pd.to_datetime(
                ["2026-01-01", "2026-02-01", "2026-01-15", "2026-03-01"], utc=True
            ),
            "unit_cost": [2.2, 2.4, 0.6, math.nan],
        }
    )


def test_latest_batch_cost_wins_over_item_cost() -> None:
    """Item 1 takes its newest batch's cost; item 2 the newest batch that has a cost."""
    costs = inventory_unit_costs(_inventory(), _batches())
    assert costs == {1: 2.4, 2: 0.6}


def test_item_cost_without_batches() -> None:
    """Without batches, the inventory item's own unit_cost; NaN gives no cost."""
    empty = _batches().iloc[0:0]
    assert inventory_unit_costs(_inventory(), empty) == {1: 2.0, 2: 0.5}


def test_menu_item_cost_is_sum_of_quantity_times_unit_cost() -> None:
    """Recipe 100: 0.25 x 2.4 + 2 x 0.6; 101 uses an item without cost; 102 has no recipe."""
    recipes = pd.DataFrame(
        {
            "menu_item_id": [100, 100, 101, 101],
            "inventory_item_id": [1, 2, 1, 3],
            "quantity": [0.25, 2.0, 1.0, 1.0],
        }
    )
    costs = menu_item_unit_costs(recipes, inventory_unit_costs(_inventory(), _batches()))
    assert costs[100] == pytest.approx(0.25 * 2.4 + 2 * 0.6)
    assert 101 not in costs
    assert 102 not in costs
