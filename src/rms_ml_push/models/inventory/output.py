"""Contract rows of ``inventory.recommendations.updated`` (webhook-contract.md). Pure.

One object per inventory item: ``inventory_item_id, on_hand, daily_usage_forecast,
days_until_stockout, safety_stock, reorder_point, suggested_order_qty, expiring, source``;
``expiring`` lists ``{batch_id, expires_at, quantity_at_risk}`` in the order the batches
expire. Quantities
are rounded to 3 decimals (grams, millilitres); a negative total on hand shows as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rms_ml_push.models.fallback import Source
from rms_ml_push.models.inventory.policy import Recommendation

DECIMALS = 3


def _q(value: float) -> float:
    rounded = round(float(value), DECIMALS)
    return 0.0 if rounded == 0 else rounded  # no -0.0 on the wire


def item_row(rec: Recommendation, source: Source, labels: Mapping[int, str]) -> dict[str, Any]:
    """The contract's object for one item."""
    expiring = [
        {"batch_id": batch_id, "expires_at": labels[batch_id], "quantity_at_risk": _q(qty)}
        for batch_id, qty in rec.at_risk.items()
        if batch_id in labels and _q(qty) > 0
    ]
    return {
        "inventory_item_id": rec.inventory_item_id,
        "on_hand": _q(max(rec.on_hand, 0.0)),
        "daily_usage_forecast": [_q(v) for v in rec.daily_usage_forecast],
        "days_until_stockout": rec.days_until_stockout,
        "safety_stock": _q(rec.safety_stock),
        "reorder_point": _q(rec.reorder_point),
        "suggested_order_qty": _q(rec.suggested_order_qty),
        "expiring": expiring,
        "source": source,
    }
