"""Everything one restaurant contributes to the demo database, as column frames.

Deterministic: the restaurant's random stream is ``default_rng([seed, index])``, and ids
come from counters shared across restaurants in order, so the same (seed, end, sizes)
always gives the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.calendar import Calendar, build_calendar, dst_days, local_to_utc_s
from rms_ml_push.demo.customers import Customers, profile_columns, simulate_customers
from rms_ml_push.demo.dirty import dirty_lines, dirty_orders, dirty_tickets
from rms_ml_push.demo.kitchen import simulate_kitchen
from rms_ml_push.demo.menu import Menu, build_menu
from rms_ml_push.demo.orders import CHANNELS, NULL, STATUSES, Sales, generate_sales, payment_frame
from rms_ml_push.demo.params import (
    CATEGORIES,
    CUSTOMER_KNOWN_SHARE,
    RESTAURANTS,
    STATIONS,
    DemoConfig,
    RestaurantSpec,
)
from rms_ml_push.demo.stock import stock_frames

I64 = npt.NDArray[np.int64]
Frame = dict[str, npt.NDArray[np.generic]]


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


def restaurant_spec(index: int) -> RestaurantSpec:
    """The spec of the ``index``-th restaurant (cycled, with a branch number past ten)."""
    spec = RESTAURANTS[index % len(RESTAURANTS)]
    if index >= len(RESTAURANTS):
        spec = RestaurantSpec(
            f"{spec.name} {index // len(RESTAURANTS) + 1}", spec.timezone, spec.country,
            spec.subdivision, spec.open_hour, spec.close_hour, spec.southern,
        )
    return spec


def generate_restaurant(index: int, config: DemoConfig, ids: Ids) -> RestaurantData:
    """Generate one restaurant's rows (all tables) with its dirty data injected."""
    rng = np.random.default_rng([config.seed, index])
    spec = restaurant_spec(index)
    first = config.end - timedelta(days=config.days - 1)
    cal = build_calendar(spec, index, first, config.days, rng)
    menu = build_menu(config.days, rng)
    target = int(cal.expected_orders.sum() * CUSTOMER_KNOWN_SHARE)
    cust = simulate_customers(config.days, target, rng)
    sales = generate_sales(spec, cal, menu, cust, rng)
    kitchen = simulate_kitchen(menu, sales, rng)

    rid = int(ids.take("restaurants", 1)[0])
    item_ids = ids.take("menu_items", menu.n)
    station_ids = ids.take("kitchen_stations", len(STATIONS))
    cust_ids = ids.take("customer_profiles", cust.n)
    order_ids = ids.take("orders", len(sales.created_s))
    line_ids = ids.take("order_items", len(sales.line_item))
    end_s = int(local_to_utc_s(cal.days[-1:] + 1, np.zeros(1), spec.timezone, rng)[0])

    frames: dict[str, Frame] = {}
    frames["restaurants"] = {
        "id": np.array([rid]),
        "name": np.array([spec.name], dtype=object),
        "timezone": np.array([spec.timezone], dtype=object),
        "address": np.array([f"{10 + index} Demo Street, {spec.name}"], dtype=object),
    }
    live = ~menu.deleted
    frames["menu_items"] = {
        "id": item_ids[live],
        "restaurant_id": np.full(int(live.sum()), rid),
        "name": np.array(menu.names, dtype=object)[live],
        "category": np.array([menu.category_name(i) for i in range(menu.n)], dtype=object)[live],
        "price": menu.prices[-1][live],
        "is_active": menu.active[live],
    }
    frames["kitchen_stations"] = {
        "id": station_ids,
        "restaurant_id": np.full(len(STATIONS), rid),
        "name": np.array([s.name for s in STATIONS], dtype=object),
    }
    orders = _order_frame(sales, rid, order_ids, cust_ids)
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
    dirty = dirty_orders(orders, end_s, rng)
    n_lines = len(line_ids)
    lines, line_counts = dirty_lines(lines, lambda n: ids.take("order_items", n), rng)
    dirty.update(line_counts)
    dirty.update(dirty_tickets(tickets, rng))
    for status in ("cancelled", "refunded", "open"):
        dirty[f"orders_{status}"] = int(np.count_nonzero(orders["status"] == status))
    dirty["lines_deleted_menu_item"] = int(np.count_nonzero(menu.deleted[sales.line_item]))
    dirty["lines_deleted_menu_item"] += int(np.count_nonzero(np.isin(
        lines["id"][n_lines:], line_ids[menu.deleted[sales.line_item]]
    )))

    valid = (lines["quantity"][:n_lines] > 0) & ~lines["is_voided"][:n_lines]
    amount = np.where(valid, lines["quantity"][:n_lines] * sales.line_price, 0.0)
    totals = np.bincount(sales.line_order, weights=amount, minlength=len(order_ids))
    orders["total_amount"] = np.round(totals, 2)
    pay = payment_frame(sales, totals, rng)
    frames["orders"] = orders
    frames["order_items"] = lines
    frames["order_item_stations"] = tickets
    frames["payments"] = {
        "id": ids.take("payments", len(pay["order_idx"])),
        "order_id": order_ids[pay["order_idx"]],
        **{k: v for k, v in pay.items() if k != "order_idx"},
    }
    frames["customer_profiles"], customer_conditions = _profiles(
        cust, sales, cal.days, spec, rid, cust_ids, rng
    )
    consumed = valid & np.isin(STATUSES[sales.status[sales.line_order]], ("completed", "open"))
    stock, stock_conditions = stock_frames(
        menu, sales, consumed, item_ids, rid, cal.days, spec.timezone, ids, config.movements, rng
    )
    frames.update(stock)
    frames.update(_truth(menu, item_ids, kitchen.servers, station_ids, cust, cust_ids, cal, spec, rid))
    conditions = {
        "closed_days": int(np.count_nonzero(~cal.open)),
        "holidays": int(np.count_nonzero(cal.holiday)),
        "dst_days": dst_days(cal.days, spec.timezone),
        "orders_near_midnight": _near_midnight(sales.created_s, spec.timezone),
        "new_items": int(np.count_nonzero(menu.first_day > 0)),
        "deactivated_items": int(np.count_nonzero(~menu.active & ~menu.deleted)),
        "items_never_repriced": int(sum(len(c) == 0 for c in menu.change_days)),
        "anonymous_orders": int(np.count_nonzero(sales.customer < 0)),
        **customer_conditions,
        **stock_conditions,
    }
    frames["demo_truth_dirty"] = {
        "restaurant_id": np.full(len(dirty), rid),
        "kind": np.array(list(dirty), dtype=object),
        "count": np.array(list(dirty.values()), dtype=np.int64),
    }
    return RestaurantData(frames, dirty, conditions)


def _order_frame(sales: Sales, rid: int, order_ids: I64, cust_ids: I64) -> Frame:
    return {
        "id": order_ids,
        "restaurant_id": np.full(len(order_ids), rid),
        "customer_id": np.where(sales.customer >= 0, cust_ids[np.maximum(sales.customer, 0)], NULL),
        "created_at": sales.created_s.copy(),
        "closed_at": sales.closed_s.copy(),
        "status": STATUSES[sales.status],
        "channel": CHANNELS[sales.channel],
        "guest_count": sales.guests,
        "total_amount": np.zeros(len(order_ids)),
    }


def _near_midnight(created_s: I64, timezone: str) -> int:
    """Orders within 30 minutes either side of local midnight."""
    import pandas as pd  # noqa: PLC0415 - only for the zone conversion

    local = pd.DatetimeIndex(created_s * 1_000_000_000).tz_localize("UTC").tz_convert(timezone)
    minutes = np.asarray(local.hour * 60 + local.minute)
    return int(np.count_nonzero((minutes < 30) | (minutes >= 23 * 60 + 30)))


def _profiles(
    cust: Customers, sales: Sales, days: npt.NDArray[np.datetime64], spec: RestaurantSpec,
    rid: int, cust_ids: I64, rng: np.random.Generator,
) -> tuple[Frame, dict[str, int]]:
    per_customer = np.bincount(sales.customer[sales.customer >= 0], minlength=cust.n)
    signup_day = np.floor(cust.signup_day).astype(np.int64)
    hours = spec.open_hour + (cust.signup_day - signup_day) * (22.0 - spec.open_hour)
    created = local_to_utc_s(days[signup_day], hours, spec.timezone, rng)
    first_order = np.full(cust.n, np.iinfo(np.int64).max)
    known = sales.customer >= 0
    np.minimum.at(first_order, sales.customer[known], sales.created_s[known])
    created = np.minimum(created, first_order)  # signing up happens at or before the first order
    frame: Frame = {
        "id": cust_ids,
        "restaurant_id": np.where(cust.chain, NULL, rid),
        "created_at": created,
        **profile_columns(cust, cust_ids, per_customer, rng),  # type: ignore[dict-item]
    }
    conditions = {
        "customers_no_orders": int(np.count_nonzero(per_customer == 0)),
        "customers_one_order": int(np.count_nonzero(per_customer == 1)),
        "customers_chain_wide": int(np.count_nonzero(cust.chain)),
    }
    return frame, conditions


def _truth(
    menu: Menu, item_ids: I64, servers: I64, station_ids: I64, cust: Customers,
    cust_ids: I64, cal: Calendar, spec: RestaurantSpec, rid: int,
) -> dict[str, Frame]:
    cat_mean = np.array([c.elasticity for c in CATEGORIES])[menu.category]
    change_item, change_day = [], []
    for i, days in enumerate(menu.change_days):
        change_item.extend([i] * len(days))
        change_day.extend(days.tolist())
    ci, cd = np.array(change_item, dtype=np.int64), np.array(change_day, dtype=np.int64)
    return {
        "demo_truth_elasticity": {
            "menu_item_id": item_ids, "elasticity": menu.elasticity, "category_elasticity": cat_mean,
        },
        "demo_truth_price_changes": {
            "menu_item_id": item_ids[ci],
            "effective_date": cal.days[cd],
            "old_price": menu.prices[cd - 1, ci],
            "new_price": menu.prices[cd, ci],
        },
        "demo_truth_restaurants": {
            "restaurant_id": np.array([rid]),
            "country": np.array([spec.country], dtype=object),
            "subdivision": np.array([spec.subdivision], dtype=object),
            "closed_weekday": np.array([NULL if cal.closed_weekday is None else cal.closed_weekday]),
            "base_orders_per_day": np.array([cal.base_orders]),
            "trend_per_year": np.array([cal.trend_per_year]),
            "yearly_amplitude": np.array([cal.yearly_amplitude]),
            "yearly_peak_doy": np.array([cal.yearly_peak_doy]),
        },
        "demo_truth_stations": {
            "station_id": station_ids,
            "servers": servers,
            "load_cook_factor": np.array([s.load_cook_factor for s in STATIONS]),
        },
        "demo_truth_customers": {
            "customer_id": cust_ids,
            "purchase_rate_per_day": cust.rate,
            "dropout_probability": cust.dropout,
            "spend_factor": cust.spend,
            "alive_at_end": cust.alive_at_end,
        },
    }
