"""Extract and clean what the pricing job reads (I/O at the edge; jobs/pricing.md).

restaurants, menu items, order lines before as_of (clean_order_lines), inventory
items, batches received before as_of (clean_inventory_batches), recipe components
-> per-item daily quantity and price, orders per restaurant day, unit costs
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import pandas as pd

from rms_ml_push.features.quality import clean_inventory_batches, clean_order_lines
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.pricing.cost import inventory_unit_costs, menu_item_unit_costs
from rms_ml_push.models.pricing.daily import item_daily, restaurant_orders
from rms_ml_push.models.pricing.model import FitInput
from rms_ml_push.models.pricing.output import MenuItem

PRICE_INVALID = "menu_item_price_invalid"


@dataclass(frozen=True)
class PricingData:
    """One run's clean input: the fit's frames and the active items with price and cost."""

    fit_input: FitInput
    active: list[MenuItem]
    quality: QualityReport
    dropped_items: dict[str, int]

    @property
    def active_ids(self) -> list[int]:
        """Every active menu item id (all restaurants: pooling is chain-wide)."""
        return [i.menu_item_id for i in self.active]

    def in_scope(self, restaurants: tuple[int, ...] | None) -> list[MenuItem]:
        """The active items of the requested restaurants (all when None)."""
        if not restaurants:
            return list(self.active)
        wanted = set(restaurants)
        return [i for i in self.active if i.restaurant_id in wanted]

    def fingerprint(self) -> str:
        """A digest of the daily training frame, for the version's metadata."""
        daily = self.fit_input.daily
        hashed = pd.util.hash_pandas_object(daily, index=False).to_numpy()
        return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()


def load_pricing_data(resources: JobResources, request: JobRequest) -> PricingData:
    """Read and clean everything the pricing job needs, as of ``request.as_of``."""
    reader, ctx = resources.reader, resources.quality_context(request.as_of)
    restaurants = reader.restaurants()
    zones = {
        int(r): str(tz) for r, tz in zip(restaurants["id"], restaurants["timezone"], strict=True)
    }
    menu = reader.menu_items()
    menu = menu.loc[menu["restaurant_id"].isin(list(zones))]
    lines, report = clean_order_lines(
        reader.order_lines(until=request.as_of), ctx, menu_item_ids=menu["id"].tolist()
    )
    batches, batch_report = clean_inventory_batches(
        reader.inventory_batches(until=request.as_of), ctx
    )
    inventory_costs = inventory_unit_costs(reader.inventory_items(), batches)
    costs = menu_item_unit_costs(reader.recipe_components(), inventory_costs)
    active, dropped = _active_items(menu, costs)
    categories = {
        int(i): (None if c is None or (isinstance(c, float) and math.isnan(c)) else str(c))
        for i, c in zip(menu["id"], menu["category"], strict=True)
    }
    fit_input = FitInput(
        daily=item_daily(lines, zones, request.as_of),
        orders=restaurant_orders(lines, zones, request.as_of),
        category_of=categories,
        holidays=resources.settings.holidays,
        traffic_control=resources.settings.pricing.traffic_control,
    )
    return PricingData(fit_input, active, report.merge(batch_report), dropped)


def _active_items(
    menu: pd.DataFrame, costs: dict[int, float]
) -> tuple[list[MenuItem], dict[str, int]]:
    active = menu.loc[menu["is_active"].astype(bool)]
    valid = active["price"].notna() & (active["price"] > 0)
    items = [
        MenuItem(int(i), int(r), float(p), costs.get(int(i)))
        for i, r, p in zip(
            active.loc[valid, "id"],
            active.loc[valid, "restaurant_id"],
            active.loc[valid, "price"],
            strict=True,
        )
    ]
    invalid = int((~valid).sum())
    return items, ({PRICE_INVALID: invalid} if invalid else {})
