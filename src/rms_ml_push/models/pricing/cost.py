"""Unit cost of a menu item: its recipe components x the inventory items' unit costs.

An inventory item's unit cost is the ``unit_cost`` of its most recently received batch
that has one, else the item's own ``unit_cost``; a menu item whose recipe has a
component without any cost, or that has no recipe at all, has no unit cost (the
recommendation then says ``no_cost`` instead of guessing a margin).
"""

from __future__ import annotations

import math

import pandas as pd


def inventory_unit_costs(inventory_items: pd.DataFrame, batches: pd.DataFrame) -> dict[int, float]:
    """Per inventory item id: the latest batch's unit cost where present, else the item's."""
    costs: dict[int, float] = {}
    for item_id, cost in zip(inventory_items["id"], inventory_items["unit_cost"], strict=True):
        if _usable(cost):
            costs[int(item_id)] = float(cost)
    if len(batches):
        priced = batches.loc[batches["unit_cost"].notna() & (batches["unit_cost"] >= 0)]
        latest = priced.sort_values(["received_at", "id"]).groupby("inventory_item_id").tail(1)
        for item_id, cost in zip(latest["inventory_item_id"], latest["unit_cost"], strict=True):
            costs[int(item_id)] = float(cost)
    return costs


def menu_item_unit_costs(
    recipe_components: pd.DataFrame, inventory_costs: dict[int, float]
) -> dict[int, float]:
    """Per menu item id with a complete recipe: sum of quantity x component unit cost."""
    costs: dict[int, float] = {}
    incomplete: set[int] = set()
    for menu_item_id, inventory_item_id, quantity in zip(
        recipe_components["menu_item_id"],
        recipe_components["inventory_item_id"],
        recipe_components["quantity"],
        strict=True,
    ):
        key = int(menu_item_id)
        unit = inventory_costs.get(int(inventory_item_id))
        if unit is None or not _usable(quantity):
            incomplete.add(key)
            continue
        costs[key] = costs.get(key, 0.0) + float(quantity) * unit
    return {k: round(v, 4) for k, v in costs.items() if k not in incomplete}


def _usable(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number >= 0
