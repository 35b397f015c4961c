"""Orders and order lines of one restaurant, generated day-vectorised.

1. orders per local day ~ Poisson(calendar), times from the lunch/dinner profile;
2. known customers' purchase events take a random order of their day (the rest stay
   anonymous), so customer behaviour follows BG/NBD while demand follows the calendar;
3. lines per (day, item) ~ Poisson(orders x weight x price effect), each order first gets
   one line, the rest go to orders in proportion to guests x the customer's spend;
   orders left without a line are dropped (a day with fewer lines than orders).

Internal frames are dicts of numpy arrays; timestamps are UTC epoch seconds and
``NULL`` is :data:`NULL` (int columns) or NaN (float columns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import NULL, Frame
from rms_ml_push.demo.calendar import Calendar, local_to_utc_s, order_local_hours
from rms_ml_push.demo.customers import Customers
from rms_ml_push.demo.menu import Menu
from rms_ml_push.demo.params import CATEGORIES, STATUS_P, RestaurantSpec

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

CHANNELS = np.array(["dine_in", "takeaway", "delivery"], dtype=object)
STATUSES = np.array(list(STATUS_P), dtype=object)


@dataclass(frozen=True)
class Sales:
    """Orders (index o, sorted by time) and lines (index l, grouped by order)."""

    order_day: I64
    created_s: I64
    closed_s: I64
    customer: I64  # customer index or -1
    channel: I64
    guests: I64  # NULL when unknown
    status: I64  # index into STATUSES
    line_order: I64
    line_item: I64
    line_qty: I64
    line_price: F64

    @property
    def line_day(self) -> I64:
        """Local day index of each line (its order's day)."""
        return self.order_day[self.line_order]


@dataclass(frozen=True)
class DayGroups:
    """Orders grouped by local day: count and first position per day, a shuffled order list."""

    per_day: I64
    start: I64
    shuffled: I64  # order positions grouped by day, random within the day


def _group_starts(counts: I64) -> I64:
    return np.cumsum(counts) - counts


def _rank_in_groups(groups: I64) -> I64:
    """Position of each element within its run of equal (sorted) group values."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.r_[True, groups[1:] != groups[:-1]]
    starts = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    return np.arange(n, dtype=np.int64) - starts


def generate_sales(
    spec: RestaurantSpec, cal: Calendar, menu: Menu, cust: Customers, rng: np.random.Generator
) -> Sales:
    """All orders and lines of one restaurant over its calendar."""
    n_days = len(cal.days)
    per_day = rng.poisson(cal.expected_orders).astype(np.int64)
    order_day = np.repeat(np.arange(n_days, dtype=np.int64), per_day)
    hours = order_local_hours(spec, len(order_day), rng)
    created = local_to_utc_s(cal.days[order_day], hours, spec.timezone, rng)
    order = np.lexsort((created, order_day))
    order_day, created = order_day[order], created[order]
    groups = DayGroups(
        per_day=per_day,
        start=_group_starts(per_day),
        shuffled=np.lexsort((rng.random(len(order_day)), order_day)),
    )
    customer = _assign_customers(cust, groups, rng)
    channel = rng.choice(3, size=len(order_day), p=[0.6, 0.25, 0.15]).astype(np.int64)
    guests = _guests(channel, rng)
    spend = np.where(customer >= 0, cust.spend[np.maximum(customer, 0)], 1.0)
    weight = np.maximum(guests, 1) * spend

    line_day, line_item = _line_counts(cal, menu, per_day, rng)
    line_order = _assign_lines(line_day, groups, weight, rng)
    keep = np.zeros(len(order_day), dtype=bool)
    keep[line_order] = True
    remap = np.cumsum(keep) - 1
    line_order = remap[line_order]
    by_order = np.lexsort((rng.random(len(line_order)), line_order))
    line_order, line_item, line_day = line_order[by_order], line_item[by_order], line_day[by_order]
    drink = np.array([c.name == "drink" for c in CATEGORIES])[menu.category[line_item]]
    qty = np.minimum(rng.geometric(np.where(drink, 0.6, 0.8)), 6).astype(np.int64)
    line_order, line_item, line_day, qty = _one_line_per_item(line_order, line_item, line_day, qty)

    channel, guests, created = channel[keep], guests[keep], created[keep]
    status = rng.choice(len(STATUSES), size=len(created), p=list(STATUS_P.values()))
    stay_min = np.where(
        channel == 0, rng.uniform(25, 100, len(created)), rng.uniform(10, 50, len(created))
    )
    closed = created + np.round(stay_min * 60).astype(np.int64)
    closed[STATUSES[status] == "open"] = NULL
    return Sales(
        order_day=order_day[keep],
        created_s=created,
        closed_s=closed,
        customer=customer[keep],
        channel=channel,
        guests=guests,
        status=status.astype(np.int64),
        line_order=line_order,
        line_item=line_item,
        line_qty=qty,
        line_price=menu.prices[line_day, line_item],
    )


def _one_line_per_item(
    line_order: I64, line_item: I64, line_day: I64, qty: I64
) -> tuple[I64, I64, I64, I64]:
    """A POS rings the same dish twice in one order up as one line with the quantities added.

    Keeping them apart would make legitimate repeats indistinguishable from the injected
    duplicates (the "same line twice" of the contract), which the quality step drops.
    """
    key = line_order * (int(line_item.max(initial=0)) + 1) + line_item
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    totals = np.bincount(inverse, weights=qty).astype(np.int64)
    keep = np.sort(first)
    return line_order[keep], line_item[keep], line_day[keep], totals[inverse[keep]]


def _assign_customers(cust: Customers, groups: DayGroups, rng: np.random.Generator) -> I64:
    """Each purchase event takes a distinct random order of its day, while any remain."""
    per_day, day_start, shuffled = groups.per_day, groups.start, groups.shuffled
    customer = np.full(len(shuffled), -1, dtype=np.int64)
    ev_day = np.floor(cust.event_time).astype(np.int64)
    order = np.lexsort((rng.random(len(ev_day)), ev_day))
    ev_day, ev_c = ev_day[order], cust.event_customer[order]
    rank = _rank_in_groups(ev_day)
    ok = rank < per_day[ev_day]
    customer[shuffled[day_start[ev_day[ok]] + rank[ok]]] = ev_c[ok]
    return customer


def _guests(channel: I64, rng: np.random.Generator) -> I64:
    n = len(channel)
    dine = 1 + np.minimum(rng.poisson(1.1, size=n), 9)
    takeaway = np.where(rng.random(n) < 0.5, 1, NULL)
    return np.where(channel == 0, dine, np.where(channel == 1, takeaway, NULL)).astype(np.int64)


def _line_counts(
    cal: Calendar, menu: Menu, per_day: I64, rng: np.random.Generator
) -> tuple[I64, I64]:
    """Lines per (day, item): orders x weight x (price / first price) ** elasticity."""
    n_days = len(cal.days)
    days = np.arange(n_days)[:, None]
    on_menu = (days >= menu.first_day[None, :]) & (days <= menu.last_day[None, :])
    price_effect = (menu.prices / menu.prices[0][None, :]) ** menu.elasticity[None, :]
    lam = per_day[:, None] * menu.weight[None, :] * price_effect * on_menu
    counts = rng.poisson(lam).astype(np.int64)
    flat = counts.ravel()
    cells = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    return cells // menu.n, cells % menu.n


def _assign_lines(line_day: I64, groups: DayGroups, weight: F64, rng: np.random.Generator) -> I64:
    """Order index of every line: one line per order first, then in proportion to weight."""
    per_day, day_start, shuffled = groups.per_day, groups.start, groups.shuffled
    order = np.lexsort((rng.random(len(line_day)), line_day))
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    sorted_day = line_day[order]
    rank = _rank_in_groups(sorted_day)
    first = rank < per_day[sorted_day]
    result = np.empty(len(order), dtype=np.int64)
    result[first] = shuffled[day_start[sorted_day[first]] + rank[first]]
    cum = np.r_[0.0, np.cumsum(weight)]
    rest_day = sorted_day[~first]
    lo = cum[day_start[rest_day]]
    hi = cum[day_start[rest_day] + per_day[rest_day]]
    target = lo + rng.random(len(rest_day)) * (hi - lo)
    picked = np.searchsorted(cum, target, side="right") - 1
    lo_idx = day_start[rest_day]
    result[~first] = np.clip(picked, lo_idx, lo_idx + per_day[rest_day] - 1)
    return result[inverse]


def payment_frame(sales: Sales, totals: F64, rng: np.random.Generator) -> Frame:
    """Payments: captured for completed orders (a few after a failed try), refunded ones."""
    status = STATUSES[sales.status]
    paid = (status == "completed") | (status == "refunded")
    idx = np.flatnonzero(paid)
    failed_first = idx[rng.random(len(idx)) < 0.02]
    methods = np.array(["cash", "card", "mobile", "voucher"], dtype=object)
    method_of = np.where(
        sales.channel == 0,
        rng.choice(4, size=len(status), p=[0.25, 0.58, 0.14, 0.03]),
        rng.choice(4, size=len(status), p=[0.05, 0.6, 0.35, 0.0]),
    )
    ok_status = np.where(status[idx] == "refunded", "refunded", "captured").astype(object)
    paid_at = np.where(sales.closed_s[idx] == NULL, sales.created_s[idx], sales.closed_s[idx])
    fail_at = np.where(
        sales.closed_s[failed_first] == NULL,
        sales.created_s[failed_first],
        sales.closed_s[failed_first],
    )
    order_idx = np.r_[failed_first, idx]
    rows = np.lexsort((np.r_[np.zeros(len(failed_first)), np.ones(len(idx))], order_idx))
    return {
        "order_idx": order_idx[rows],
        "method": methods[np.r_[method_of[failed_first], method_of[idx]]][rows],
        "amount": np.r_[totals[failed_first], totals[idx]][rows],
        "paid_at": np.r_[fail_at - 60, paid_at][rows],
        "status": np.r_[np.full(len(failed_first), "failed", dtype=object), ok_status][rows],
    }
