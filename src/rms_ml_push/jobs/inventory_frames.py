"""The inventory job's extract and clean step: every RMS frame it reads, cleaned, counted.

Reads the restaurants asked for, their inventory items and menu items, recipes, order
lines and (where the optional table exists) movements from the history window, and all
batches (a delivery of long ago can still hold stock). Every dropped row is counted in
the returned :class:`~rms_ml_push.features.report.QualityReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from rms_ml_push.features.calendar import local_day_bounds
from rms_ml_push.features.quality import (
    clean_inventory_batches,
    clean_inventory_movements,
    clean_order_lines,
)
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.models.inventory.inputs import HISTORY_DAYS, history_start


@dataclass(frozen=True)
class StockFrames:
    """Clean frames for the restaurants of one run."""

    restaurants: pd.DataFrame  # id, name, timezone
    items: pd.DataFrame
    recipes: pd.DataFrame
    lines: pd.DataFrame
    batches: pd.DataFrame
    movements: pd.DataFrame | None  # None: the optional table does not exist
    quality: QualityReport

    def for_restaurant(self, restaurant_id: int) -> tuple[pd.DataFrame, ...]:
        """``(items, recipes, lines, batches, movements-or-empty)`` of one restaurant."""
        items = self.items.loc[self.items["restaurant_id"] == restaurant_id]
        ids = items["id"]
        recipes = self.recipes.loc[self.recipes["inventory_item_id"].isin(ids)]
        lines = self.lines.loc[self.lines["restaurant_id"] == restaurant_id]
        batches = self.batches.loc[self.batches["inventory_item_id"].isin(ids)]
        movements = (
            self.batches.iloc[0:0]
            if self.movements is None
            else self.movements.loc[self.movements["inventory_item_id"].isin(ids)]
        )
        return items, recipes, lines, batches, movements


def extract_stock_frames(
    resources: JobResources,
    *,
    as_of: datetime,
    restaurant_ids: tuple[int, ...] | None,
    history_days: int = HISTORY_DAYS,
) -> StockFrames:
    """Read and clean what the inventory job needs for ``as_of``."""
    reader = resources.reader
    ctx = resources.quality_context(as_of)
    restaurants = reader.restaurants()
    if restaurant_ids:
        restaurants = restaurants.loc[restaurants["id"].isin(list(restaurant_ids))]
    rids = [int(r) for r in restaurants["id"]]
    since = _window_start(restaurants, as_of, history_days)
    menu = reader.menu_items(rids)
    items = reader.inventory_items(rids)
    recipes = reader.recipe_components()
    recipes = recipes.loc[recipes["inventory_item_id"].isin(items["id"])]
    lines, quality = clean_order_lines(
        reader.order_lines(since, None, rids), ctx, menu_item_ids=set(menu["id"].tolist())
    )
    known = items["id"]
    raw_batches = reader.inventory_batches()
    batches, batch_quality = clean_inventory_batches(
        raw_batches.loc[raw_batches["inventory_item_id"].isin(known)], ctx
    )
    quality = quality.merge(batch_quality)
    movements = None
    if reader.has_inventory_movements():
        raw = reader.inventory_movements(since, None)
        movements, movement_quality = clean_inventory_movements(
            raw.loc[raw["inventory_item_id"].isin(known)], ctx
        )
        quality = quality.merge(movement_quality)
    return StockFrames(restaurants, items, recipes, lines, batches, movements, quality)


def _window_start(restaurants: pd.DataFrame, as_of: datetime, history_days: int) -> datetime:
    """UTC start of the earliest restaurant's first history day (one day of slack)."""
    if restaurants.empty:
        return as_of - timedelta(days=history_days + 2)
    starts = [
        local_day_bounds(history_start(as_of, tz, history_days), tz)[0]
        for tz in restaurants["timezone"]
    ]
    earliest: datetime = min(starts).to_pydatetime()
    return earliest - timedelta(days=1)
