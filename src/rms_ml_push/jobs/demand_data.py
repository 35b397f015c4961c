"""The demand job's inputs: RMS rows -> cleaned, counted -> local-time series frames.

Series ids are ``r<restaurant>|<target>`` for restaurant totals (orders, covers, revenue)
and ``r<restaurant>|item<menu_item>`` for menu items; frames are statsforecast-shaped
(``unique_id, ds, y``), daily ``ds`` a naive local midnight, hourly ``ds`` the UTC start
of the local hour (``local_hour`` keeps the label with its offset).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from rms_ml_push.features import calendar
from rms_ml_push.features import quality as q
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.rms.demand_sql import DemandSql

# Daily models look at two years at most; hourly ones at a few weeks (local_input_size).
HISTORY_DAYS = 2 * 365 + 35
HOURLY_HISTORY_DAYS = 10 * 7
TARGETS = ("orders", "covers", "revenue")
PUSHDOWN_RESTAURANTS = 8  # restaurants per pushed-down statement
_EMPTY_DTYPES = {"unique_id": "object", "ds": "datetime64[ns]", "local_hour": "object"}


@dataclass
class Restaurant:
    """One restaurant's facts for a run."""

    id: int
    timezone: str


@dataclass
class DemandInputs:
    """Everything the demand models need for a set of restaurants."""

    restaurants: list[Restaurant]
    daily: pd.DataFrame  # unique_id, ds, y
    hourly: pd.DataFrame  # unique_id, ds, local_hour, y
    info: pd.DataFrame  # unique_id, group, is_count, category, closure_key, calendar_key
    menu_items: pd.DataFrame  # id, restaurant_id, category, is_active
    quality: QualityReport = field(default_factory=QualityReport)


def series_id(restaurant_id: int, target: str, menu_item_id: int | None = None) -> str:
    """The unique_id of a series."""
    if menu_item_id is not None:
        return f"r{restaurant_id}|item{menu_item_id}"
    return f"r{restaurant_id}|{target}"


def parse_series_id(uid: str) -> tuple[int, str, int | None]:
    """(restaurant_id, target, menu_item_id) of a series id."""
    head, tail = uid.split("|", 1)
    rid = int(head[1:])
    if tail.startswith("item"):
        return rid, "menu_item", int(tail[4:])
    return rid, tail, None


def load_inputs(
    res: JobResources,
    as_of: datetime,
    restaurant_ids: Sequence[int] | None,
    *,
    pushdown: bool | None = None,
) -> DemandInputs:
    """Extract, clean (every dropped row counted) and bucket the RMS history before as_of.

    On PostgreSQL the rules and the bucketing run in the database (``rms.demand_sql``;
    ``pushdown=False`` forces the row-level path, which SQLite always takes): the same
    series and counts from a few hundred thousand bucket rows instead of millions of rows.
    """
    restaurants = _restaurants(res, restaurant_ids)
    ids = [r.id for r in restaurants]
    since = as_of - timedelta(days=HISTORY_DAYS)
    ctx = res.quality_context(as_of)
    menu = res.reader.menu_items(ids)
    if pushdown if pushdown is not None else res.reader.pushes_down:
        events = _bucketed_events(res, ctx, since, as_of, ids)
    else:
        events = _row_events(
            res, ctx=ctx, since=since, as_of=as_of, ids=ids, menu_ids=set(menu["id"].tolist())
        )
    daily, hourly = [], []
    for r in restaurants:
        daily.append(_daily_frames(r, as_of, events))
        hourly.append(_hourly_orders(r, as_of, events.orders))
    daily_frame = _concat(daily, ["unique_id", "ds", "y"])
    hourly_frame = _concat(hourly, ["unique_id", "ds", "local_hour", "y"])
    info = _info(daily_frame, hourly_frame, menu)
    return DemandInputs(restaurants, daily_frame, hourly_frame, info, menu, events.report)


_ORDER_COLS = {"restaurant_id": "int64", "created_at": "datetime64[ns, UTC]", "n": "int64"}
_ORDER_COLS["guests"] = "float64"
_LINE_COLS = {"restaurant_id": "int64", "menu_item_id": "int64"}
_LINE_COLS |= {"created_at": "datetime64[ns, UTC]", "quantity": "float64"}
_PAYMENT_COLS = {"restaurant_id": "int64", "created_at": "datetime64[ns, UTC]", "amount": "float64"}


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})


@dataclass
class _Events:
    """Kept demand events, one row per event or per bucket of events (same local hour/day).

    orders: restaurant_id, created_at, n, guests; lines: restaurant_id, menu_item_id,
    created_at, quantity; payments: restaurant_id, created_at (the order's), amount.
    """

    orders: pd.DataFrame
    lines: pd.DataFrame
    payments: pd.DataFrame
    report: QualityReport


def _row_events(
    res: JobResources,
    *,
    ctx: q.QualityContext,
    since: datetime,
    as_of: datetime,
    ids: list[int],
    menu_ids: set[int],
) -> _Events:
    orders, report = q.clean_orders(res.reader.orders(since, as_of, ids), ctx)
    lines, lines_report = q.clean_order_lines(
        res.reader.order_lines(since, as_of, ids), ctx, menu_ids
    )
    payments, pay_report = q.clean_payments(res.reader.payments(since, as_of, ids), ctx)
    # Lines of orders that were dropped (cancelled, clock errors) are not demand either.
    lines = lines[lines["order_id"].isin(orders["id"])]
    payments = payments.merge(
        orders[["id", "restaurant_id", "created_at"]],
        left_on="order_id",
        right_on="id",
        suffixes=("", "_order"),
    )
    guests = orders["guest_count"].astype("Float64").fillna(1.0).astype(float)
    return _Events(
        orders[["restaurant_id", "created_at"]].assign(n=1, guests=guests),
        lines[["restaurant_id", "menu_item_id", "created_at", "quantity"]],
        payments[["restaurant_id", "created_at", "amount"]],
        report.merge(lines_report).merge(pay_report),
    )


def _bucketed_events(
    res: JobResources, ctx: q.QualityContext, since: datetime, as_of: datetime, ids: list[int]
) -> _Events:
    report = QualityReport()
    kept: dict[str, list[pd.DataFrame]] = {"orders": [], "order_lines": [], "payments": []}
    unique = res.reader.unique_ids(["orders", "order_items", "payments"])
    # A statement per few restaurants: each stays far below the statement timeout and
    # sorts in memory, whatever the chain's size.
    for start in range(0, len(ids), PUSHDOWN_RESTAURANTS):
        batch = ids[start : start + PUSHDOWN_RESTAURANTS]
        sql = DemandSql(res.reader.tables, ctx, since, as_of, batch, unique_ids=unique)
        for query, rules in (
            (sql.orders(), q.ORDER_RULES),
            (sql.order_lines(), q.LINE_RULES),
            (sql.payments(), q.PAYMENT_RULES),
        ):
            rows = res.reader.fetch(query)
            counted = rows[rows["grp"] == 1]
            rule_names = [None if pd.isna(r) else str(r) for r in counted["rule"]]
            counts = dict(zip(rule_names, counted["n"].astype(int).tolist(), strict=True))
            report = report.merge(q.report_from_counts(query.what, rules, counts))
            # Payments of orders that were not kept have no restaurant: not revenue.
            buckets = rows[(rows["grp"] == 0) & rows["rule"].isna() & rows["restaurant_id"].notna()]
            kept[query.what].append(buckets)
    if not ids:
        return _Events(_empty(_ORDER_COLS), _empty(_LINE_COLS), _empty(_PAYMENT_COLS), report)
    orders, lines, payments = (
        pd.concat(kept[name], ignore_index=True).astype({"restaurant_id": "int64"})
        for name in ("orders", "order_lines", "payments")
    )
    return _Events(
        orders[["restaurant_id", "created_at", "n", "guests"]],
        lines[["restaurant_id", "menu_item_id", "created_at", "quantity"]].astype(
            {"menu_item_id": "int64"}
        ),
        payments[["restaurant_id", "created_at", "amount"]],
        report,
    )


def _restaurants(res: JobResources, wanted: Sequence[int] | None) -> list[Restaurant]:
    frame = res.reader.restaurants()
    if wanted:
        frame = frame[frame["id"].isin(list(wanted))]
    return [
        Restaurant(int(rid), str(tz))
        for rid, tz in zip(frame["id"].tolist(), frame["timezone"].tolist(), strict=True)
    ]


def _daily_frames(r: Restaurant, as_of: datetime, events: _Events) -> pd.DataFrame:
    own = events.orders[events.orders["restaurant_id"] == r.id]
    if own.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    first = calendar.local_days(own["created_at"], r.timezone).min().date()

    def daily(frame: pd.DataFrame, value: str, uid: str) -> pd.DataFrame:
        totals = calendar.daily_totals(
            frame, "created_at", r.timezone, as_of, value_col=value, start=first
        )
        return _named(totals, uid)

    payments = events.payments[events.payments["restaurant_id"] == r.id]
    parts = [
        daily(own, "n", series_id(r.id, "orders")),
        daily(own, "guests", series_id(r.id, "covers")),
        daily(payments, "amount", series_id(r.id, "revenue")),
    ]
    items = events.lines[events.lines["restaurant_id"] == r.id]
    if not items.empty:
        per_item = calendar.daily_totals(
            items, "created_at", r.timezone, as_of, keys=("menu_item_id",), value_col="quantity"
        )
        per_item["unique_id"] = "r" + str(r.id) + "|item" + per_item["menu_item_id"].astype(str)
        parts.append(per_item[["unique_id", "ds", "y"]])
    return pd.concat(parts, ignore_index=True)


def _hourly_orders(r: Restaurant, as_of: datetime, orders: pd.DataFrame) -> pd.DataFrame:
    own = orders[orders["restaurant_id"] == r.id]
    if own.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "local_hour", "y"])
    start = as_of - timedelta(days=HOURLY_HISTORY_DAYS)
    frame = calendar.hourly_totals(own, "created_at", r.timezone, as_of, value_col="n", start=start)
    frame["unique_id"] = series_id(r.id, "orders")
    return frame[["unique_id", "ds", "local_hour", "y"]]


def _named(frame: pd.DataFrame, uid: str) -> pd.DataFrame:
    return frame.assign(unique_id=uid)[["unique_id", "ds", "y"]]


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if not f.empty]
    if not frames:
        # Typed, so a run with no history before as_of gets empty series, not a crash.
        return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES.get(c, "float64")) for c in columns})
    return pd.concat(frames, ignore_index=True)[columns]


def _info(daily: pd.DataFrame, hourly: pd.DataFrame, menu: pd.DataFrame) -> pd.DataFrame:
    uids = sorted(set(daily["unique_id"].tolist()) | set(hourly["unique_id"].tolist()))
    category = menu.set_index("id")["category"]
    rows = []
    for uid in uids:
        rid, target, item = parse_series_id(str(uid))
        rows.append(
            {
                "unique_id": uid,
                "group": target,
                "is_count": target != "revenue",
                "category": None if item is None else _category(category, rid, item),
                "closure_key": str(rid),
                "calendar_key": str(rid),
            }
        )
    return pd.DataFrame(rows)


def _category(category: pd.Series, rid: int, item: int) -> str:
    value = category.get(item)
    return f"r{rid}|{value if isinstance(value, str) and value else 'uncategorised'}"
