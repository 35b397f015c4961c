"""Per-item daily quantity and the average unit price actually charged, per local day.

From clean order lines (``features.quality.clean_order_lines``): quantity is the sum of
``quantity``; price is revenue / quantity (``order_items.unit_price`` weighted by
quantity). A day without a sale has no observed price: it carries the last observed
price forward (the list price does not change because nobody ordered), and the days
before the first sale take the first price. Restaurant orders per day give the closing
days (zero orders) and the evaluation's traffic adjustment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import cast

import numpy as np
import pandas as pd

from rms_ml_push.features.calendar import daily_totals

ITEM_COLUMNS = ["restaurant_id", "menu_item_id", "ds", "quantity", "price"]


def item_daily(lines: pd.DataFrame, zones: Mapping[int, str], as_of: datetime) -> pd.DataFrame:
    """Columns ``restaurant_id, menu_item_id, ds, quantity, price``; one row per item and
    local day from the item's first sale to the day before day 0."""
    parts = []
    frame = lines.assign(revenue=lines["quantity"] * lines["unit_price"])
    for rid, group in frame.groupby("restaurant_id", sort=True):
        restaurant_id = int(cast(int, rid))
        tz = zones[restaurant_id]
        keys = ["menu_item_id"]
        qty = daily_totals(group, "created_at", tz, as_of, keys=keys, value_col="quantity")
        rev = daily_totals(group, "created_at", tz, as_of, keys=keys, value_col="revenue")
        merged = qty.merge(rev, on=["menu_item_id", "ds"], suffixes=("_q", "_r"))
        merged["price"] = np.where(
            merged["y_q"] > 0, merged["y_r"] / merged["y_q"].where(merged["y_q"] > 0), np.nan
        )
        merged["price"] = merged.groupby("menu_item_id")["price"].transform(
            lambda s: s.ffill().bfill()
        )
        merged = merged.rename(columns={"y_q": "quantity"}).assign(restaurant_id=restaurant_id)
        parts.append(merged[ITEM_COLUMNS])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in ITEM_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def restaurant_orders(
    lines: pd.DataFrame, zones: Mapping[int, str], as_of: datetime
) -> dict[int, pd.DataFrame]:
    """Per restaurant, orders per local day (``ds, y``, zeros filled): an order counts once."""
    orders = lines.drop_duplicates("order_id")
    out: dict[int, pd.DataFrame] = {}
    for rid, group in orders.groupby("restaurant_id", sort=True):
        key = int(cast(int, rid))
        out[key] = daily_totals(group, "created_at", zones[key], as_of)
    return out
