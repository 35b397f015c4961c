"""FEFO projection, days until stockout, expiry risk and the on-hand rule at as_of."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.inventory.inputs import item_facts
from rms_ml_push.models.inventory.stock import Lot, expiry_day_index, on_hand_lots, project_fefo

AS_OF = datetime(2026, 3, 10, 6, tzinfo=UTC)  # 07:00 in Berlin, day 0 = 2026-03-10


def _batches(rows: list[tuple[int, int, str, float, float, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            "inventory_item_id",
            "received_at",
            "quantity_received",
            "quantity_remaining",
            "expires_at",
        ],
    )
    frame["received_at"] = pd.to_datetime(frame["received_at"], utc=True)
    frame["expires_at"] = pd.to_datetime(frame["expires_at"], utc=True)
    frame["unit_cost"] = np.nan
    return frame


def test_fefo_draws_the_lot_that_expires_first() -> None:
    """The lot expiring first is used first, even when it was received later."""
    lots = [Lot(1, 10.0, None, order=0), Lot(2, 10.0, 5, order=1)]
    projection = project_fefo(lots, np.array([4.0, 4.0]))
    assert projection.end_of_day == (16.0, 12.0)
    assert projection.days_until_stockout is None
    assert projection.at_risk == {}
    later = project_fefo(lots, np.array([4.0, 4.0, 0.0, 0.0, 0.0, 0.0]))
    assert later.at_risk == {2: 2.0}  # 10 - 8 left in lot 2 when it expires on day 5


def test_expiry_mid_horizon_removes_stock_and_brings_stockout_forward() -> None:
    """A lot unusable from day 2 on leaves what it still holds at risk; the rest runs out."""
    lots = [Lot(7, 10.0, 2), Lot(8, 5.0, None, order=1)]
    projection = project_fefo(lots, np.full(6, 3.0))
    assert projection.at_risk == {7: pytest.approx(4.0)}
    assert projection.days_until_stockout == 3  # day 2 uses 3 of lot 8, day 3 needs 3, has 2
    assert projection.unmet[3] == pytest.approx(1.0)


def test_expiry_at_the_end_of_the_horizon_counts_as_at_risk() -> None:
    """A lot unusable from the day after the horizon still expires within it."""
    projection = project_fefo([Lot(1, 10.0, 3)], np.array([1.0, 1.0, 1.0]))
    assert projection.at_risk == {1: pytest.approx(7.0)}
    assert project_fefo([Lot(1, 10.0, 4)], np.array([1.0, 1.0, 1.0])).at_risk == {}


def test_no_stock_and_zero_use() -> None:
    """No lots: a stockout on the first day with use; none when nothing is used."""
    assert project_fefo([], np.array([0.0, 2.0])).days_until_stockout == 1
    assert project_fefo([], np.zeros(14)).days_until_stockout is None
    assert project_fefo([Lot(1, 0.0, None)], np.array([1.0])).days_until_stockout == 0


def test_exactly_enough_stock_is_no_stockout() -> None:
    """Stock that meets the last day exactly (up to float rounding) lasts the horizon."""
    projection = project_fefo([Lot(1, 0.3, None)], np.array([0.1, 0.1, 0.1]))
    assert projection.days_until_stockout is None


def test_on_hand_rule_at_as_of() -> None:
    """On hand: received before as_of, not expired at as_of, quantity left."""
    batches = _batches(
        [
            (1, 5, "2026-03-01T08:00Z", 10, 4, None),  # counts
            (2, 5, "2026-03-09T08:00Z", 10, 3, "2026-03-12T23:00Z"),  # counts
            (3, 5, "2026-03-10T07:00Z", 10, 10, None),  # received after as_of
            (4, 5, "2026-03-01T08:00Z", 10, 2, "2026-03-10T06:00Z"),  # expired at as_of
            (5, 5, "2026-03-01T08:00Z", 10, 0, None),  # empty
        ]
    )
    assert sorted(on_hand_lots(batches, AS_OF)["id"]) == [1, 2]


def test_expiry_day_index_uses_local_day_starts() -> None:
    """A batch is usable on the local day it expires; at local midnight it is not."""
    starts = pd.DatetimeIndex(
        [pd.Timestamp(f"2026-03-{10 + k}T00:00", tz="Europe/Berlin") for k in range(4)]
    ).tz_convert("UTC")
    expires = pd.to_datetime(pd.Series(["2026-03-11T23:00Z", "2026-03-11T13:00Z", None]), utc=True)
    # 2026-03-12 00:00 Berlin is 2026-03-11 23:00 UTC: unusable from day 2 on;
    # 14:00 Berlin on day 1: still usable on day 1, so unusable from day 2 on too.
    assert expiry_day_index(expires, starts) == [2, 2, None]


def test_item_facts_lots_labels_and_expired_batches() -> None:
    """Facts: lots on hand in receipt order, local expiry labels, expired batches counted."""
    items = pd.DataFrame(
        {
            "id": [5, 6],
            "restaurant_id": [1, 1],
            "name": ["Milk", "Salt"],
            "unit": ["l", "kg"],
            "reorder_level": [4.0, np.nan],
            "lead_time_days": [2, 3],
            "unit_cost": [1.0, np.nan],
        }
    )
    batches = _batches(
        [
            (2, 5, "2026-03-09T08:00Z", 10, 3, "2026-03-11T23:00Z"),
            (1, 5, "2026-03-01T08:00Z", 10, 4, "2026-03-20T23:00Z"),
            (4, 5, "2026-03-01T08:00Z", 10, 2, "2026-03-10T06:00Z"),
        ]
    )
    milk, salt = item_facts(items, batches, as_of=AS_OF, tz="Europe/Berlin", days=14)
    assert [lot.batch_id for lot in milk.lots] == [1, 2]
    assert [lot.expiry_day for lot in milk.lots] == [11, 2]
    assert milk.expiry_labels[2] == "2026-03-12T00:00:00+01:00"
    assert milk.expired_with_stock == 1
    assert milk.reorder_level == 4.0
    assert milk.shelf_life_days == 9  # the median of 2.6, 8.9 and 19.6 days, rounded
    assert salt.lots == ()
    assert salt.reorder_level is None
    assert salt.shelf_life_days is None
