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

# Daily models look at two years at most; hourly ones at a few weeks (local_input_size).
HISTORY_DAYS = 2 * 365 + 35
HOURLY_HISTORY_DAYS = 10 * 7
TARGETS = ("orders", "covers", "revenue")
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
    res: JobResources, as_of: datetime, restaurant_ids: Sequence[int] | None
) -> DemandInputs:
    """Extract, clean (every dropped row counted) and bucket the RMS history before as_of."""
    restaurants = _restaurants(res, restaurant_ids)
    ids = [r.id for r in restaurants]
    since = as_of - timedelta(days=HISTORY_DAYS)
    ctx = res.quality_context(as_of)
    menu = res.reader.menu_items(ids)
    orders, report = q.clean_orders(res.reader.orders(since, as_of, ids), ctx)
    lines, lines_report = q.clean_order_lines(
        res.reader.order_lines(since, as_of, ids), ctx, set(menu["id"].tolist())
    )
    payments, pay_report = q.clean_payments(res.reader.payments(since, as_of), ctx)
    report = report.merge(lines_report).merge(pay_report)
    # Lines of orders that were dropped (cancelled, clock errors) are not demand either.
    lines = lines[lines["order_id"].isin(orders["id"])]
    payments = payments.merge(
        orders[["id", "restaurant_id", "created_at"]],
        left_on="order_id",
        right_on="id",
        suffixes=("", "_order"),
    )
    daily, hourly = [], []
    for r in restaurants:
        daily.append(_daily_frames(r, as_of, orders, lines, payments))
        hourly.append(_hourly_orders(r, as_of, orders))
    daily_frame = _concat(daily, ["unique_id", "ds", "y"])
    hourly_frame = _concat(hourly, ["unique_id", "ds", "local_hour", "y"])
    info = _info(daily_frame, hourly_frame, menu)
    return DemandInputs(restaurants, daily_frame, hourly_frame, info, menu, report)


def _restaurants(res: JobResources, wanted: Sequence[int] | None) -> list[Restaurant]:
    frame = res.reader.restaurants()
    if wanted:
        frame = frame[frame["id"].isin(list(wanted))]
    return [
        Restaurant(int(rid), str(tz))
        for rid, tz in zip(frame["id"].tolist(), frame["timezone"].tolist(), strict=True)
    ]


def _daily_frames(
    r: Restaurant,
    as_of: datetime,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    payments: pd.DataFrame,
) -> pd.DataFrame:
    own = orders[orders["restaurant_id"] == r.id]
    if own.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    first = calendar.local_days(own["created_at"], r.timezone).min().date()
    covers = own.assign(guests=own["guest_count"].astype("Float64").fillna(1.0).astype(float))
    parts = [
        _named(
            calendar.daily_totals(own, "created_at", r.timezone, as_of, start=first),
            series_id(r.id, "orders"),
        ),
        _named(
            calendar.daily_totals(
                covers, "created_at", r.timezone, as_of, value_col="guests", start=first
            ),
            series_id(r.id, "covers"),
        ),
        _named(
            calendar.daily_totals(
                payments[payments["restaurant_id"] == r.id],
                "created_at",
                r.timezone,
                as_of,
                value_col="amount",
                start=first,
            ),
            series_id(r.id, "revenue"),
        ),
    ]
    items = lines[lines["restaurant_id"] == r.id]
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
    frame = calendar.hourly_totals(own, "created_at", r.timezone, as_of, start=start)
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
