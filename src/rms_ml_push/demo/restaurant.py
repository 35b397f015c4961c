"""Everything one restaurant contributes to the demo database, as column frames.

Deterministic: the restaurant's random stream is ``default_rng([seed, index])``, and ids
come from counters shared across restaurants in order, so the same (seed, end, sizes)
always gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import NULL
from rms_ml_push.demo.calendar import Calendar, build_calendar, dst_days, local_to_utc_s
from rms_ml_push.demo.customers import Customers, profile_columns, simulate_customers
from rms_ml_push.demo.dirty import dirty_lines, dirty_orders, dirty_tickets
from rms_ml_push.demo.kitchen import Kitchen, simulate_kitchen
from rms_ml_push.demo.menu import Menu, build_menu
from rms_ml_push.demo.orders import (
    CHANNELS,
    STATUSES,
    Sales,
    generate_sales,
    payment_frame,
)
from rms_ml_push.demo.params import (
    CUSTOMER_KNOWN_SHARE,
    RESTAURANTS,
    STATIONS,
    DemoConfig,
    RestaurantSpec,
)
from rms_ml_push.demo.stock import stock_frames
from rms_ml_push.demo.truth import truth_frames

I64 = npt.NDArray[np.int64]
Frame = dict[str, npt.NDArray[Any]]


@dataclass
class Ids:
    """Next free id per table, shared by all restaurants of one run."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str, n: int) -> I64:
        """``n`` consecutive new ids for ``table``."""
        start = self.next.get(table, 1)
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class RestaurantData:
    """Frames per table key, dirty-data counts and expected-condition counts."""

    frames: dict[str, Frame]
    dirty: dict[str, int]
    conditions: dict[str, int]


@dataclass(frozen=True)
class World:
    """The simulated restaurant before it becomes rows."""

    rid: int
    spec: RestaurantSpec
    cal: Calendar
    menu: Menu
    cust: Customers
    sales: Sales
    kitchen: Kitchen


def restaurant_spec(index: int) -> RestaurantSpec:
    """The spec of the ``index``-th restaurant (cycled, with a branch number past ten)."""
    spec = RESTAURANTS[index % len(RESTAURANTS)]
    if index < len(RESTAURANTS):
        return spec
    branch = index // len(RESTAURANTS) + 1
    return RestaurantSpec(
        f"{spec.name} {branch}",
        spec.timezone,
        spec.country,
        spec.subdivision,
        spec.open_hour,
        spec.close_hour,
        spec.southern,
    )


def simulate_world(index: int, config: DemoConfig, rid: int, rng: np.random.Generator) -> World:
    """Calendar, menu, customers, sales and kitchen of one restaurant."""
    spec = restaurant_spec(index)
    first = config.end - timedelta(days=config.days - 1)
    cal = build_calendar(spec, index, first, config.days, rng)
    menu = build_menu(config.days, rng, n_items=config.menu_items)
    cust = simulate_customers(
        config.days, int(cal.expected_orders.sum() * CUSTOMER_KNOWN_SHARE), rng
    )
    sales = generate_sales(spec, cal, menu, cust, rng)
    return World(rid, spec, cal, menu, cust, sales, simulate_kitchen(menu, sales, rng))


def generate_restaurant(index: int, config: DemoConfig, ids: Ids) -> RestaurantData:
    """Generate one restaurant's rows (all tables) with its dirty data injected."""
    rng = np.random.default_rng([config.seed, index])
    w = simulate_world(index, config, int(ids.take("restaurants", 1)[0]), rng)
    item_ids = ids.take("menu_items", w.menu.n)
    station_ids = ids.take("kitchen_stations", len(STATIONS))
    cust_ids = ids.take("customer_profiles", w.cust.n)
    frames = _static_frames(w, item_ids, station_ids)
    sales_frames, dirty = _sales_frames(
        w, ids, item_ids=item_ids, station_ids=station_ids, cust_ids=cust_ids, rng=rng
    )
    frames.update(sales_frames)
    frames["customer_profiles"], conditions = _profiles(w, cust_ids, rng)
    lines = sales_frames["order_items"]
    n_lines = len(w.sales.line_item)
    valid = (lines["quantity"][:n_lines] > 0) & ~lines["is_voided"][:n_lines]
    statuses = STATUSES[w.sales.status[w.sales.line_order]]
    consumed = valid & np.isin(statuses, ("completed", "open"))
    stock, stock_conditions = stock_frames(
        w.menu,
        sales=w.sales,
        consumed=consumed,
        item_ids=item_ids,
        rid=w.rid,
        days=w.cal.days,
        timezone=w.spec.timezone,
        ids=ids,
        movements=config.movements,
        rng=rng,
    )
    frames.update(stock)
    frames.update(truth_frames(w, item_ids, station_ids, cust_ids))
    conditions.update(stock_conditions)
    conditions.update(_conditions(w))
    frames["demo_truth_dirty"] = {
        "restaurant_id": np.full(len(dirty), w.rid),
        "kind": np.array(list(dirty), dtype=object),
        "count": np.array(list(dirty.values()), dtype=np.int64),
    }
    return RestaurantData(frames, dirty, conditions)


def _static_frames(w: World, item_ids: I64, station_ids: I64) -> dict[str, Frame]:
    live = ~w.menu.deleted  # the deleted dish is gone from menu_items; its lines remain
    categories = np.array([w.menu.category_name(i) for i in range(w.menu.n)], dtype=object)
    return {
        "restaurants": {
            "id": np.array([w.rid]),
            "name": np.array([w.spec.name], dtype=object),
            "timezone": np.array([w.spec.timezone], dtype=object),
            "address": np.array([f"{9 + w.rid} Demo Street, {w.spec.name}"], dtype=object),
        },
        "menu_items": {
            "id": item_ids[live],
            "restaurant_id": np.full(int(live.sum()), w.rid),
            "name": np.array(w.menu.names, dtype=object)[live],
            "category": categories[live],
            "price": w.menu.prices[-1][live],
            "is_active": w.menu.active[live],
        },
        "kitchen_stations": {
            "id": station_ids,
            "restaurant_id": np.full(len(STATIONS), w.rid),
            "name": np.array([s.name for s in STATIONS], dtype=object),
        },
    }


def _sales_frames(
    w: World,
    ids: Ids,
    *,
    item_ids: I64,
    station_ids: I64,
    cust_ids: I64,
    rng: np.random.Generator,
) -> tuple[dict[str, Frame], dict[str, int]]:
    """Orders, lines, kitchen rows and payments, with the dirty data injected and counted."""
    sales, kitchen = w.sales, w.kitchen
    order_ids = ids.take("orders", len(sales.created_s))
    line_ids = ids.take("order_items", len(sales.line_item))
    orders: Frame = {
        "id": order_ids,
        "restaurant_id": np.full(len(order_ids), w.rid),
        "customer_id": np.where(sales.customer >= 0, cust_ids[np.maximum(sales.customer, 0)], NULL),
        "created_at": sales.created_s.copy(),
        "closed_at": sales.closed_s.copy(),
        "status": STATUSES[sales.status],
        "channel": CHANNELS[sales.channel],
        "guest_count": sales.guests,
        "total_amount": np.zeros(len(order_ids)),
    }
    lines: Frame = {
        "id": line_ids,
        "order_id": order_ids[sales.line_order],
        "menu_item_id": item_ids[sales.line_item],
        "quantity": sales.line_qty.copy(),
        "unit_price": sales.line_price,
        "is_voided": np.zeros(len(line_ids), dtype=bool),
    }
    tickets: Frame = {
        "id": ids.take("order_item_stations", len(kitchen.ticket_line)),
        "order_item_id": line_ids[kitchen.ticket_line],
        "station_id": station_ids[kitchen.ticket_station],
        "queued_at": kitchen.queued_s,
        "started_at": kitchen.started_s.copy(),
        "completed_at": kitchen.completed_s.copy(),
    }
    end_s = int(local_to_utc_s(w.cal.days[-1:] + 1, np.zeros(1), w.spec.timezone, rng)[0])
    dirty = dirty_orders(orders, end_s, rng)
    n_lines = len(line_ids)
    lines, line_counts = dirty_lines(lines, lambda n: ids.take("order_items", n), rng)
    dirty.update(line_counts)
    dirty.update(dirty_tickets(tickets, rng))
    for status in ("cancelled", "refunded", "open"):
        dirty[f"orders_{status}"] = int(np.count_nonzero(orders["status"] == status))
    deleted_ids = item_ids[w.menu.deleted]
    dirty["lines_deleted_menu_item"] = int(
        np.count_nonzero(np.isin(lines["menu_item_id"], deleted_ids))
    )

    valid = (lines["quantity"][:n_lines] > 0) & ~lines["is_voided"][:n_lines]
    amount = np.where(valid, lines["quantity"][:n_lines] * sales.line_price, 0.0)
    totals = np.bincount(sales.line_order, weights=amount, minlength=len(order_ids))
    orders["total_amount"] = np.round(totals, 2)
    pay = payment_frame(sales, totals.astype(np.float64), rng)
    payments: Frame = {
        "id": ids.take("payments", len(pay["order_idx"])),
        "order_id": order_ids[pay["order_idx"]],
        **{k: v for k, v in pay.items() if k != "order_idx"},
    }
    frames = {"orders": orders, "order_items": lines, "order_item_stations": tickets}
    frames["payments"] = payments
    return frames, dirty


def _profiles(w: World, cust_ids: I64, rng: np.random.Generator) -> tuple[Frame, dict[str, int]]:
    cust, sales, spec = w.cust, w.sales, w.spec
    per_customer = np.bincount(sales.customer[sales.customer >= 0], minlength=cust.n)
    signup_day = np.floor(cust.signup_day).astype(np.int64)
    hours = spec.open_hour + (cust.signup_day - signup_day) * (22.0 - spec.open_hour)
    created = local_to_utc_s(w.cal.days[signup_day], hours, spec.timezone, rng)
    first_order = np.full(cust.n, np.iinfo(np.int64).max)
    known = sales.customer >= 0
    np.minimum.at(first_order, sales.customer[known], sales.created_s[known])
    frame: Frame = {
        "id": cust_ids,
        "restaurant_id": np.where(cust.chain, NULL, w.rid),
        # Signing up happens at or before the first order.
        "created_at": np.minimum(created, first_order),
        **profile_columns(cust, cust_ids, per_customer, rng),
    }
    conditions = {
        "customers_no_orders": int(np.count_nonzero(per_customer == 0)),
        "customers_one_order": int(np.count_nonzero(per_customer == 1)),
        "customers_chain_wide": int(np.count_nonzero(cust.chain)),
    }
    return frame, conditions


def _conditions(w: World) -> dict[str, int]:
    """Counts of the contract's expected (not dirty) conditions."""
    import pandas as pd  # noqa: PLC0415 - zone conversion only

    local = pd.DatetimeIndex(w.sales.created_s * 1_000_000_000).tz_localize("UTC")
    local = local.tz_convert(w.spec.timezone)
    minutes = np.asarray(local.hour * 60 + local.minute)
    return {
        "closed_days": int(np.count_nonzero(~w.cal.open)),
        "holidays": int(np.count_nonzero(w.cal.holiday)),
        "dst_days": dst_days(w.cal.days, w.spec.timezone),
        "orders_near_midnight": int(np.count_nonzero((minutes < 30) | (minutes >= 23 * 60 + 30))),
        "new_items": int(np.count_nonzero(w.menu.first_day > 0)),
        "deactivated_items": int(np.count_nonzero(~w.menu.active & ~w.menu.deleted)),
        "items_never_repriced": int(sum(len(c) == 0 for c in w.menu.change_days)),
        "anonymous_orders": int(np.count_nonzero(w.sales.customer < 0)),
    }
