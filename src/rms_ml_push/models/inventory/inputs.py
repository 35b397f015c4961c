"""From clean RMS frames to one restaurant's forecast inputs and per-item stock facts. Pure.

* :func:`restaurant_inputs`: daily use histories (``recipes`` always, ``movements`` where
  the table exists) over the restaurant's inventory items;
* :func:`item_facts`: per item its lots on hand at ``as_of`` (received before it, not
  expired at it, quantity left), each lot's first unusable day index, the batch expiry
  labels (local ISO 8601 with offset) and the shelf life seen in its deliveries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

import pandas as pd

from rms_ml_push.features.calendar import day0, local_day_bounds
from rms_ml_push.models.inventory.history import (
    HistorySource,
    daily_history,
    movement_use,
    recipe_use,
)
from rms_ml_push.models.inventory.model import Forecast, RestaurantInputs
from rms_ml_push.models.inventory.stock import Lot, expiry_day_index, on_hand_lots

HISTORY_DAYS = 182


@dataclass(frozen=True)
class ItemFacts:
    """One inventory item as the policy sees it."""

    inventory_item_id: int
    unit: str
    lead_time_days: int
    reorder_level: float | None
    lots: tuple[Lot, ...]
    expiry_labels: Mapping[int, str] = field(default_factory=dict)  # batch_id -> expires_at
    shelf_life_days: int | None = None
    expired_with_stock: int = 0  # batches received before as_of, expired, stock left


def history_start(as_of: datetime, tz: str, days: int = HISTORY_DAYS) -> date:
    """The first local day of the history window."""
    return day0(as_of, tz) - timedelta(days=days)


def restaurant_inputs(
    restaurant_id: int,
    *,
    tz: str,
    as_of: datetime,
    item_ids: list[int],
    lines: pd.DataFrame,
    recipes: pd.DataFrame,
    movements: pd.DataFrame | None,
    demand: Mapping[int, Forecast] | None = None,
    history_days: int = HISTORY_DAYS,
) -> RestaurantInputs:
    """Histories of the restaurant's items; ``movements`` None when the table is absent."""
    uses: dict[HistorySource, pd.DataFrame] = {"recipes": recipe_use(lines, recipes)}
    if movements is not None:
        uses["movements"] = movement_use(movements)
    first = _first_day(uses.values(), tz, history_start(as_of, tz, history_days))
    histories = {
        source: daily_history(use, item_ids, tz=tz, as_of=as_of, first_day=first)
        for source, use in uses.items()
    }
    return RestaurantInputs(restaurant_id, histories, dict(demand or {}))


def _first_day(uses: Iterable[pd.DataFrame], tz: str, floor: date) -> date:
    """The history's first day: the first day with any recorded use, not before ``floor``
    (days before a restaurant's data begins are unknown, not days without use)."""
    firsts = [use["created_at"].min() for use in uses if len(use)]
    if not firsts:
        return floor
    first_local: date = pd.Timestamp(min(firsts)).tz_convert(tz).date()
    return max(first_local, floor)


def shelf_life_days(batches: pd.DataFrame) -> int | None:
    """Median days from receipt to expiry over an item's batches, rounded (None: no expiry).

    Rounded, not floored: a batch received in the morning and expiring at midnight
    ``n`` days later is usable on ``n`` days."""
    dated = batches.loc[batches["expires_at"].notna()]
    if dated.empty:
        return None
    days = (dated["expires_at"] - dated["received_at"]).dt.total_seconds() / 86400.0
    return max(round(float(days.median())), 1)


def item_facts(
    items: pd.DataFrame,
    batches: pd.DataFrame,
    *,
    as_of: datetime,
    tz: str,
    days: int,
) -> list[ItemFacts]:
    """Stock facts of every row of ``items`` (one restaurant's), lots indexed over ``days``."""
    first = day0(as_of, tz)
    starts = pd.DatetimeIndex(
        [local_day_bounds(first + timedelta(days=k), tz)[0] for k in range(days + 1)]
    )
    by_item = {int(cast(int, k)): g for k, g in batches.groupby("inventory_item_id", sort=False)}
    empty = batches.iloc[0:0]
    out = []
    for record in items.to_dict("records"):
        item_id = int(record["id"])
        own = by_item.get(item_id, empty)
        level = record.get("reorder_level")
        lots, labels = _lots(own, as_of, tz, starts)
        out.append(
            ItemFacts(
                inventory_item_id=item_id,
                unit=str(record.get("unit") or ""),
                lead_time_days=max(int(record["lead_time_days"]), 0),
                reorder_level=None if level is None or pd.isna(level) else float(level),
                lots=lots,
                expiry_labels=labels,
                shelf_life_days=shelf_life_days(own),
                expired_with_stock=_expired_with_stock(own, as_of),
            )
        )
    return out


def _lots(
    batches: pd.DataFrame, as_of: datetime, tz: str, starts: pd.DatetimeIndex
) -> tuple[tuple[Lot, ...], dict[int, str]]:
    """Lots on hand at ``as_of`` in receipt order, and their expiry labels."""
    held = on_hand_lots(batches, as_of).sort_values(["received_at", "id"])
    ids = [int(b) for b in held["id"].tolist()]
    quantities = [float(q) for q in held["quantity_remaining"].tolist()]
    expiry = expiry_day_index(held["expires_at"], starts)
    lots = tuple(
        Lot(b, q, e, order=i)
        for i, (b, q, e) in enumerate(zip(ids, quantities, expiry, strict=True))
    )
    labels = {
        b: pd.Timestamp(e).tz_convert(tz).isoformat(timespec="seconds")
        for b, e in zip(ids, held["expires_at"].tolist(), strict=True)
        if pd.notna(e)
    }
    return lots, labels


def _expired_with_stock(batches: pd.DataFrame, as_of: datetime) -> int:
    ts = pd.Timestamp(as_of)
    mask = (
        (batches["received_at"] < ts)
        & batches["expires_at"].notna()
        & (batches["expires_at"] <= ts)
        & (batches["quantity_remaining"] > 0)
    )
    return int(mask.sum())
