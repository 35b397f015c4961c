"""Inventory frames of one restaurant: items, recipes, batches and optional movements."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.calendar import local_midnights_utc_s
from rms_ml_push.demo.inventory import (
    build_pantry,
    reorder_levels,
    simulate_stock,
    stock_times,
)
from rms_ml_push.demo.menu import Menu
from rms_ml_push.demo.orders import Sales

if TYPE_CHECKING:
    from rms_ml_push.demo.restaurant import Ids

B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]
Frame = dict[str, npt.NDArray[Any]]


def daily_usage(
    menu: Menu, sales: Sales, consumed: B, recipe: npt.NDArray[np.float64], n_days: int
) -> npt.NDArray[np.float64]:
    """Ingredient use per local day: sold quantities x recipe components."""
    cells = sales.line_day[consumed] * menu.n + sales.line_item[consumed]
    sold = np.bincount(cells, weights=sales.line_qty[consumed], minlength=n_days * menu.n)
    return sold.reshape(n_days, menu.n) @ recipe


def stock_frames(
    menu: Menu,
    *,
    sales: Sales,
    consumed: B,
    item_ids: I64,
    rid: int,
    days: npt.NDArray[np.datetime64],
    timezone: str,
    ids: Ids,
    movements: bool,
    rng: np.random.Generator,
) -> tuple[dict[str, Frame], dict[str, int]]:
    """Frames for the inventory tables and counts of the contract's stock conditions."""
    n_days = len(days)
    pantry = build_pantry(menu, rng)
    usage = daily_usage(menu, sales, consumed, pantry.recipe, n_days)
    levels = reorder_levels(pantry, usage, rng)
    stock = simulate_stock(pantry, usage, levels, rng)
    inv_ids = ids.take("inventory_items", len(pantry.names))
    unit_cost = np.where(rng.random(len(inv_ids)) < 0.1, np.nan, pantry.unit_cost)
    frames: dict[str, Frame] = {
        "inventory_items": {
            "id": inv_ids,
            "restaurant_id": np.full(len(inv_ids), rid),
            "name": np.array(pantry.names, dtype=object),
            "unit": np.array(pantry.unit, dtype=object),
            "reorder_level": levels,
            "lead_time_days": pantry.lead_days,
            "unit_cost": unit_cost,
        }
    }
    item_idx, inv_idx = np.nonzero(pantry.recipe)
    frames["recipe_components"] = {
        "menu_item_id": item_ids[item_idx],
        "inventory_item_id": inv_ids[inv_idx],
        "quantity": pantry.recipe[item_idx, inv_idx],
    }
    b_item = np.array(stock.batch_item, dtype=np.int64)
    b_day = np.array(stock.batch_day, dtype=np.int64)
    expiry = np.array(stock.batch_expiry_day, dtype=np.int64)
    perishable = expiry < 10**6
    ext_days = np.arange(days[0], days[0] + np.timedelta64(n_days + 400, "D"))
    midnights = local_midnights_utc_s(ext_days, timezone)
    remaining = np.array(stock.batch_remaining)
    frames["inventory_batches"] = {
        "id": ids.take("inventory_batches", len(b_item)),
        "inventory_item_id": inv_ids[b_item] if len(b_item) else np.zeros(0, dtype=np.int64),
        "received_at": stock_times(days, b_day, np.full(len(b_day), 8.0), timezone, rng),
        "quantity_received": np.array(stock.batch_received),
        "quantity_remaining": remaining,
        "expires_at": np.where(
            perishable, midnights[np.minimum(expiry, len(ext_days) - 1)], -(2**62)
        ),
        "unit_cost": np.array(stock.batch_cost),
    }
    if movements:
        m_item = np.array(stock.mov_item, dtype=np.int64)
        frames["inventory_movements"] = {
            "id": ids.take("inventory_movements", len(m_item)),
            "inventory_item_id": inv_ids[m_item],
            "occurred_at": stock_times(
                days,
                np.array(stock.mov_day, dtype=np.int64),
                np.array(stock.mov_hour),
                timezone,
                rng,
            ),
            "quantity_delta": np.array(stock.mov_delta),
            "reason": np.array(stock.mov_reason, dtype=object),
        }
    with_batch = np.zeros(len(inv_ids), dtype=bool)
    with_batch[b_item] = True
    conditions = {
        "batches_zero_remaining": int(np.count_nonzero(remaining <= 0)),
        "batches_expired_with_stock": int(
            np.count_nonzero(perishable & (expiry <= n_days) & (remaining > 0))
        ),
        "inventory_items_without_batch": int(np.count_nonzero(~with_batch)),
        "menu_items_without_recipe": int(np.count_nonzero(pantry.recipe.sum(axis=1) == 0)),
    }
    return frames, conditions
