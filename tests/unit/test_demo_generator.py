"""The demo generator's frames: deterministic, dirty as the contract says, truth embedded."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.demo.arrays import NULL
from rms_ml_push.demo.generator import iter_restaurants
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.restaurant import RestaurantData, restaurant_spec

# 60 days ending mid-April cover the US (10 March) and EU (31 March) clock changes.
CONFIG = DemoConfig(end=date(2024, 4, 15), restaurants=2, days=60, seed=7)


@pytest.fixture(scope="module")
def demo() -> list[RestaurantData]:
    """Two restaurants x 60 days, generated once for this module."""
    return list(iter_restaurants(CONFIG))


def _concat(demo: list[RestaurantData], table: str) -> dict[str, np.ndarray]:
    keys = demo[0].frames[table].keys()
    return {k: np.concatenate([d.frames[table][k] for d in demo]) for k in keys}


def test_same_seed_same_rows(demo: list[RestaurantData]) -> None:
    """A second run with the same seed yields identical frames for every table."""
    again = list(iter_restaurants(CONFIG))
    for first, second in zip(demo, again, strict=True):
        assert first.frames.keys() == second.frames.keys()
        for table, frame in first.frames.items():
            for col, values in frame.items():
                nan_ok = values.dtype.kind == "f"
                same = np.array_equal(values, second.frames[table][col], equal_nan=nan_ok)
                assert same, (table, col)


def test_other_seed_other_rows(demo: list[RestaurantData]) -> None:
    """A different seed changes the orders."""
    other = next(iter_restaurants(DemoConfig(end=CONFIG.end, restaurants=1, days=60, seed=8)))
    mine = demo[0].frames["orders"]["created_at"]
    theirs = other.frames["orders"]["created_at"]
    assert len(mine) != len(theirs) or not np.array_equal(mine, theirs)


def test_every_dirty_kind_is_present_and_counted(demo: list[RestaurantData]) -> None:
    """Each dirty-data kind has rows, and the counts match what the frames hold."""
    for data in demo:
        assert all(n > 0 for n in data.dirty.values()), data.dirty
        orders = data.frames["orders"]
        floor = 631_152_000
        assert np.count_nonzero(orders["created_at"] < floor) == data.dirty["orders_before_floor"]
        future = orders["created_at"] > 2_000_000_000  # 2033: well past any test clock
        assert np.count_nonzero(future) == data.dirty["orders_future_timestamp"]
        lines = data.frames["order_items"]
        assert np.count_nonzero(lines["is_voided"]) == data.dirty["lines_voided"]
        assert np.count_nonzero(lines["quantity"] <= 0) == data.dirty["lines_nonpositive_quantity"]
        cols = ["order_id", "menu_item_id", "quantity", "unit_price", "is_voided"]
        dup = pd.DataFrame({c: lines[c] for c in cols}).duplicated().sum()
        assert dup >= data.dirty["lines_duplicate"]
        known = set(data.frames["menu_items"]["id"].tolist())
        missing = ~np.isin(lines["menu_item_id"], list(known))
        assert np.count_nonzero(missing) == data.dirty["lines_deleted_menu_item"]
        t = data.frames["order_item_stations"]
        assert np.count_nonzero(t["started_at"] == NULL) == data.dirty["kitchen_missing_started"]
        ok = (t["started_at"] != NULL) & (t["completed_at"] != NULL)
        back = ok & (t["completed_at"] < t["started_at"])
        assert np.count_nonzero(back) == data.dirty["kitchen_completed_before_started"]
        assert np.count_nonzero(ok & (t["completed_at"] - t["started_at"] > 3 * 3600)) >= 1
        for status in ("cancelled", "refunded", "open"):
            assert np.count_nonzero(orders["status"] == status) == data.dirty[f"orders_{status}"]


def test_expected_conditions_are_present(demo: list[RestaurantData]) -> None:
    """Closed days, new and retired items, one-order and no-order customers, stock edge cases."""
    for key in (
        "anonymous_orders",
        "customers_one_order",
        "customers_no_orders",
        "new_items",
        "deactivated_items",
        "batches_zero_remaining",
        "inventory_items_without_batch",
        "orders_near_midnight",
        "items_never_repriced",
    ):
        assert all(d.conditions[key] > 0 for d in demo), key
    assert demo[0].conditions["closed_days"] >= 8  # closed on Mondays
    assert sum(d.conditions["dst_days"] for d in demo) == 2  # Berlin 31 March, New York 10 March


def test_prices_follow_changes_and_truth(demo: list[RestaurantData]) -> None:
    """Unit prices are the price in force; some items were repriced, some never; truth exists."""
    for data in demo:
        truth = data.frames["demo_truth_elasticity"]
        assert len(truth["menu_item_id"]) >= len(data.frames["menu_items"]["id"])
        assert np.all(truth["elasticity"] < 0)
        changes = data.frames["demo_truth_price_changes"]
        assert len(changes["menu_item_id"]) > 0
        assert len(set(changes["menu_item_id"].tolist())) < len(truth["menu_item_id"])
        lines, orders = data.frames["order_items"], data.frames["orders"]
        order_pos = {o: i for i, o in enumerate(orders["id"].tolist())}
        item, new_price = int(changes["menu_item_id"][0]), float(changes["new_price"][0])
        old_price = float(changes["old_price"][0])
        mine = lines["menu_item_id"] == item
        prices = set(np.round(lines["unit_price"][mine], 2).tolist())
        assert {round(old_price, 2), round(new_price, 2)} <= prices
        current = data.frames["menu_items"]
        if item in current["id"].tolist():
            last = changes["new_price"][changes["menu_item_id"] == item][-1]
            assert current["price"][current["id"].tolist().index(item)] == pytest.approx(last)
        assert order_pos  # orders exist for the lines checked


def test_load_slows_the_kitchen(demo: list[RestaurantData]) -> None:
    """Busy stations (top fifth of load at arrival) have longer queue waits and cook times."""
    t = _concat(demo, "order_item_stations")
    ok = (t["started_at"] != NULL) & (t["completed_at"] != NULL)
    ok &= (t["completed_at"] > t["started_at"]) & (t["completed_at"] - t["started_at"] < 3 * 3600)
    frame = pd.DataFrame({k: v[ok] for k, v in t.items()})
    loads = []
    for _station, g in frame.groupby("station_id"):
        arrived = np.searchsorted(np.sort(g["queued_at"].to_numpy()), g["queued_at"], "left")
        done = np.searchsorted(np.sort(g["completed_at"].to_numpy()), g["queued_at"], "right")
        loads.append(pd.Series(arrived - done, index=g.index))
    frame["load"] = pd.concat(loads)
    frame["cook"] = frame["completed_at"] - frame["started_at"]
    frame["wait"] = frame["started_at"] - frame["queued_at"]
    busy = frame["load"] >= frame.groupby("station_id")["load"].transform(lambda s: s.quantile(0.8))
    assert frame.loc[busy, "wait"].median() > frame.loc[~busy, "wait"].median()
    assert frame.loc[busy, "cook"].median() > frame.loc[~busy, "cook"].median()


def test_customers_churn(demo: list[RestaurantData]) -> None:
    """Some repeat customers stop ordering well before the end; the truth says who dropped out."""
    truth = _concat(demo, "demo_truth_customers")
    assert 0 < np.count_nonzero(truth["alive_at_end"]) < len(truth["alive_at_end"])
    orders = _concat(demo, "orders")
    known = (orders["customer_id"] != NULL) & (orders["created_at"] > 631_152_000)
    known &= orders["created_at"] < 2_000_000_000
    frame = pd.DataFrame({"c": orders["customer_id"][known], "t": orders["created_at"][known]})
    per = frame.groupby("c")["t"].agg(["count", "max"])
    end_s = frame["t"].max()
    repeaters = per[per["count"] >= 2]
    assert (repeaters["max"] < end_s - 20 * 86400).sum() > 0
    assert (per["count"] == 1).sum() > 0
    profiles = _concat(demo, "customer_profiles")
    assert np.count_nonzero(profiles["restaurant_id"] == NULL) > 0  # chain-wide customers


def test_order_times_are_local_business_hours(demo: list[RestaurantData]) -> None:
    """Order instants fall inside each restaurant's local opening hours, DST days included."""
    for index, data in enumerate(demo):
        spec = restaurant_spec(index)
        orders = data.frames["orders"]
        sane = (orders["created_at"] > 631_152_000) & (orders["created_at"] < 2_000_000_000)
        local = (
            pd.DatetimeIndex(orders["created_at"][sane] * 1_000_000_000)
            .tz_localize("UTC")
            .tz_convert(ZoneInfo(spec.timezone))
        )
        hour = np.asarray(local.hour + local.minute / 60.0)
        hour = np.where(hour < spec.open_hour - 0.5, hour + 24, hour)
        # One extra hour of slack: a time in a spring-forward gap moves forward.
        assert hour.min() >= spec.open_hour - 0.01
        assert hour.max() <= spec.close_hour + 1.0


def test_menu_size_can_be_fixed() -> None:
    """``menu_items`` sets every restaurant's menu size (the 50 x 60 x 730 benchmark's)."""
    config = DemoConfig(end=CONFIG.end, restaurants=2, days=30, seed=7, menu_items=15)
    for data in iter_restaurants(config):
        # One dish per restaurant was deleted from the menu; its old order lines remain.
        assert len(data.frames["menu_items"]["id"]) == 15 - 1
