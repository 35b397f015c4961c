"""Contract rows of ``pricing.recommendations.updated``, per restaurant (pure).

Row: ``{menu_item_id, current_price, unit_cost, elasticity, elasticity_interval,
recommended_price, expected_quantity_change_pct, expected_margin_change_pct, basis}``
(webhook-contract.md) plus ``expected_quantity_change_interval``,
``expected_margin_change_interval`` (90 %, the elasticity interval propagated) and the
row's fallback ``source``. ``recommended_price`` is always a number: the current price
when ``basis`` is ``keep`` or ``no_cost``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rms_ml_push.config import PricingSettings
from rms_ml_push.models.fallback import Source
from rms_ml_push.models.pricing.recommend import recommend
from rms_ml_push.models.pricing.shrinkage import Elasticity

PricingRow = dict[str, Any]


@dataclass(frozen=True)
class MenuItem:
    """An active menu item as the recommendation needs it."""

    menu_item_id: int
    restaurant_id: int
    current_price: float
    unit_cost: float | None


def _pair(values: tuple[float, float] | None, digits: int) -> list[float] | None:
    return None if values is None else [round(values[0], digits), round(values[1], digits)]


def pricing_row(
    item: MenuItem, elasticity: Elasticity | None, source: Source, settings: PricingSettings
) -> PricingRow:
    """One item's row."""
    rec = recommend(item.current_price, item.unit_cost, elasticity, settings)
    return {
        "menu_item_id": item.menu_item_id,
        "current_price": round(item.current_price, 2),
        "unit_cost": None if item.unit_cost is None else round(item.unit_cost, 4),
        "elasticity": None if elasticity is None else round(elasticity.estimate, 3),
        "elasticity_interval": None if elasticity is None else _pair(elasticity.interval, 3),
        "recommended_price": round(rec.recommended_price, 2),
        "expected_quantity_change_pct": rec.quantity_change_pct,
        "expected_quantity_change_interval": _pair(rec.quantity_change_interval, 2),
        "expected_margin_change_pct": rec.margin_change_pct,
        "expected_margin_change_interval": _pair(rec.margin_change_interval, 2),
        "basis": rec.basis,
        "source": source,
    }


def build_pricing_rows(
    items: Sequence[MenuItem],
    elasticities: Mapping[int, Elasticity | None],
    sources: Mapping[int, Source],
    settings: PricingSettings,
) -> dict[int, list[PricingRow]]:
    """Rows per restaurant id, sorted by menu item id; every item given appears."""
    rows: dict[int, list[PricingRow]] = {}
    for item in sorted(items, key=lambda i: (i.restaurant_id, i.menu_item_id)):
        elasticity = elasticities.get(item.menu_item_id)
        source = sources.get(item.menu_item_id, "default")
        rows.setdefault(item.restaurant_id, []).append(
            pricing_row(item, elasticity, source, settings)
        )
    return rows


def basis_counts(rows: Mapping[int, Sequence[PricingRow]]) -> dict[str, int]:
    """How many rows of each basis (for the run summary and logs)."""
    counts: dict[str, int] = {}
    for part in rows.values():
        for row in part:
            counts[row["basis"]] = counts.get(row["basis"], 0) + 1
    return dict(sorted(counts.items()))
