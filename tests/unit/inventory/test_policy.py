"""Safety stock, reorder point, order quantity and rounding of the reorder policy."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rms_ml_push.models.inventory.output import item_row
from rms_ml_push.models.inventory.policy import (
    ItemInputs,
    PolicyParams,
    cover_days,
    recommend,
    round_up,
    safety_stock,
    z_value,
)
from rms_ml_push.models.inventory.stock import Lot

PARAMS = PolicyParams(service_level=0.95, review_period_days=7, horizon_days=14)


def _item(
    lots: tuple[Lot, ...],
    *,
    mean: float = 2.0,
    sigma: float = 1.0,
    lead: int = 2,
    unit: str = "kg",
    shelf: int | None = None,
) -> ItemInputs:
    return ItemInputs(5, unit, lead, lots, np.full(21, mean), np.full(21, sigma), shelf)


def test_z_for_the_service_level() -> None:
    """z is the normal quantile: 1.645 for 95 %, 2.326 for 99 %."""
    assert z_value(0.95) == pytest.approx(1.6449, abs=1e-4)
    assert z_value(0.99) == pytest.approx(2.3263, abs=1e-4)


def test_safety_stock_is_z_sigma_sqrt_lead_time() -> None:
    """Constant sigma: z * sigma * sqrt(L); per-day sigmas add as variances; L = 0 -> 0."""
    z = z_value(0.95)
    assert safety_stock(z, np.full(14, 2.0), 4) == pytest.approx(z * 2.0 * 2.0)
    assert safety_stock(z, np.array([3.0, 4.0]), 2) == pytest.approx(z * 5.0)
    assert safety_stock(z, np.full(14, 2.0), 0) == 0.0


def test_rounding_to_sensible_units() -> None:
    """Countable items round up to whole units, kg and l to 0.1; nothing is never rounded up."""
    assert round_up(2.1, "unit") == 3.0
    assert round_up(2.0, "unit") == 2.0
    assert round_up(2.01, "kg") == 2.1
    assert round_up(2.0, "l") == 2.0
    assert round_up(0.0, "kg") == 0.0
    assert round_up(-1.0, "unit") == 0.0


def test_cover_is_capped_by_shelf_life() -> None:
    """An order covers the review period, at most the shelf life less a day, at least one."""
    assert cover_days(7, None) == 7
    assert cover_days(7, 3) == 2
    assert cover_days(7, 30) == 7
    assert cover_days(7, 1) == 1


def test_item_without_batch_orders_lead_time_plus_review() -> None:
    """No stock: stockout on day 0, order up to lead time + review use plus safety stock."""
    rec = recommend(_item(()), PARAMS)
    ss = z_value(0.95) * 1.0 * math.sqrt(2)
    assert rec.on_hand == 0.0
    assert rec.days_until_stockout == 0
    assert rec.safety_stock == pytest.approx(ss)
    assert rec.reorder_point == pytest.approx(6.0 + ss)  # lead time + the day to the refresh
    assert rec.suggested_order_qty == pytest.approx(math.ceil((18.0 + ss) * 10) / 10)
    assert rec.daily_usage_forecast == (2.0,) * 14


def test_enough_stock_orders_nothing_and_reports_stockout_day() -> None:
    """Above the reorder point nothing is ordered; the stockout day follows the forecast."""
    rec = recommend(_item((Lot(1, 9.0, None),)), PARAMS)
    assert rec.suggested_order_qty == 0.0
    assert rec.days_until_stockout == 4  # 2 a day: days 0-3 use 8, day 4 needs 2, has 1


def test_stock_expiring_before_use_does_not_count_towards_the_position() -> None:
    """Plenty on hand that expires on day 1 still triggers an order."""
    rec = recommend(_item((Lot(1, 100.0, 1),)), PARAMS)
    assert rec.on_hand == 100.0
    assert rec.at_risk == {1: pytest.approx(98.0)}
    assert rec.days_until_stockout == 1
    assert rec.suggested_order_qty > 0


def test_shelf_life_limits_the_order() -> None:
    """A three-day shelf life orders two days of cover after the lead time, not seven."""
    short = recommend(_item((), shelf=3), PARAMS)
    long = recommend(_item(()), PARAMS)
    assert long.suggested_order_qty - short.suggested_order_qty == pytest.approx(10.0, abs=0.11)


def test_negative_forecast_is_clipped_and_row_is_contract_shaped() -> None:
    """Negative use becomes 0; the row has the contract's keys and rounded numbers."""
    item = ItemInputs(5, "unit", 1, (Lot(3, 4.0, 2),), np.full(14, -1.0), np.zeros(14))
    rec = recommend(item, PARAMS)
    row = item_row(rec, "rule_based", {3: "2026-03-12T00:00:00+01:00"})
    assert row["daily_usage_forecast"] == [0.0] * 14
    assert row["days_until_stockout"] is None
    assert row["expiring"] == [
        {"batch_id": 3, "expires_at": "2026-03-12T00:00:00+01:00", "quantity_at_risk": 4.0}
    ]
    assert row["source"] == "rule_based"
    assert set(row) == {
        "inventory_item_id",
        "on_hand",
        "daily_usage_forecast",
        "days_until_stockout",
        "safety_stock",
        "reorder_point",
        "suggested_order_qty",
        "expiring",
        "source",
    }
