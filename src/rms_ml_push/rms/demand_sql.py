"""PostgreSQL pushdown of the demand job's extract: quality rules and bucketing in SQL.

Two years of a 50-restaurant chain are about 17M order, line and payment rows; COPY
hands Python one message per row (about 10 us each here), so row-level extraction alone
took minutes. The demand series only need sums per local day (items, revenue) and per
local hour (orders, covers), so the database applies the same rules as
:mod:`rms_ml_push.features.quality`, in the same order, and returns one row per bucket
plus one count row per rule. Each bucket row keeps the earliest instant of its bucket
(``created_at``), so the Python bucketing (``features.calendar``) puts it in the same
local day or hour and the resulting series are identical to the row-level path
(``tests/integration/test_demand_pushdown.py`` checks this on the demo RMS).

Result rows: ``grp`` 1 = a count row (``rule`` NULL: kept), 0 = a bucket of one rule's rows;
only buckets with ``rule`` NULL are demand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rms_ml_push.features import quality as q
from rms_ml_push.features.report import AFTER_AS_OF
from rms_ml_push.rms.frames import Kind
from rms_ml_push.rms.queries import Query
from rms_ml_push.rms.tables import RmsTableSet

_KNOWN_STATUS = ("completed", "cancelled", "refunded", "open")
_COUNT_KINDS: dict[str, Kind] = {"rule": "text", "grp": "int", "restaurant_id": "id?"}
# The planner cannot estimate how many rows a CASE of rules keeps and guessed 1: a nested
# loop that re-sorted a window function per outer row timed out on 10k payments. Every
# join here is a bulk join, so hash joins are always the right plan.
# Sorts of a few restaurants' two years fit in 64 MB; the default 4 MB spilled to disk.
_PLANNER = {"enable_nestloop": "off", "work_mem": "64MB"}


def _utc(value: datetime) -> sa.BindParameter[Any]:
    if value.tzinfo is None:
        raise ValueError("naive datetime; bounds must be timezone-aware")
    return sa.literal(value.astimezone(UTC), sa.DateTime(timezone=True))


def _epoch(col: sa.ColumnElement[Any], name: str) -> sa.ColumnElement[float]:
    return sa.func.date_part("epoch", col, type_=sa.Float).label(name)


def _bucketed(
    rule: sa.ColumnElement[Any],
    restaurant_id: sa.ColumnElement[Any],
    created_at: sa.ColumnElement[Any],
    *,
    bucket: Sequence[sa.ColumnElement[Any]],
    total: tuple[str, sa.ColumnElement[Any]],
    source: Any,
    what: str,
    item: sa.ColumnElement[Any] | None = None,
) -> Query:
    """One count row per rule, and per rule one row per restaurant (and item) and bucket,
    with its earliest instant, its row count and the sum ``total``."""
    keys = [restaurant_id] if item is None else [restaurant_id, item]
    extra: dict[str, Kind] = {} if item is None else {"menu_item_id": "id?"}
    name, summed = total
    stmt = (
        sa.select(
            rule,
            sa.func.grouping(restaurant_id).label("grp"),
            restaurant_id.label("restaurant_id"),
            *([] if item is None else [item.label("menu_item_id")]),
            _epoch(sa.func.min(created_at), "created_at"),
            sa.func.count().label("n"),
            sa.cast(sa.func.sum(summed), sa.Float).label(name),
        )
        .select_from(source)
        .group_by(sa.func.grouping_sets(sa.tuple_(rule), sa.tuple_(rule, *keys, *bucket)))
    )
    kinds: dict[str, Kind] = {**_COUNT_KINDS, **extra, "created_at": "ts", "n": "int", name: "num"}
    return Query(stmt, kinds, what, _PLANNER)


class DemandSql:
    """The three bucketed statements for one table set, window and set of restaurants."""

    def __init__(
        self,
        tables: RmsTableSet,
        ctx: q.QualityContext,
        since: datetime,
        until: datetime,
        restaurant_ids: Sequence[int] | None,
        *,
        unique_ids: frozenset[str] = frozenset(),
    ) -> None:
        self.t = tables
        # Tables whose id the database keeps unique need no duplicate_row window: that
        # sort was half of the statements' time (Django's tables all have an id key).
        self.unique = unique_ids
        self.ctx = ctx
        self.since, self.until = _utc(since), _utc(until)
        self.ids = list(restaurant_ids) if restaurant_ids is not None else None

    # -- rules, in quality.py's order -------------------------------------------------------

    def _time_rules(self, col: sa.ColumnElement[Any]) -> list[tuple[Any, str]]:
        rules: list[tuple[Any, str]] = [
            (col.is_(None), q.TIMESTAMP_INVALID),
            (col < _utc(self.ctx.floor), q.TIMESTAMP_BEFORE_FLOOR),
            (col > _utc(self.ctx.now), q.TIMESTAMP_IN_FUTURE),
        ]
        if self.ctx.as_of is not None:
            rules.append((col > _utc(self.ctx.as_of), AFTER_AS_OF))
        return rules

    @staticmethod
    def _status_rules(status: sa.ColumnElement[Any]) -> list[tuple[Any, str]]:
        return [
            (status == "cancelled", q.ORDER_CANCELLED),
            (status == "refunded", q.ORDER_REFUNDED),
            (status == "open", q.ORDER_OPEN),
            (sa.or_(status.is_(None), status.not_in(_KNOWN_STATUS)), q.ORDER_STATUS_UNKNOWN),
        ]

    @staticmethod
    def _first_copy(*partition: sa.ColumnElement[Any], order: Any) -> sa.ColumnElement[int]:
        return sa.func.row_number().over(partition_by=list(partition), order_by=order)

    def _id_copy(self, tables: Sequence[str], col: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        """Which copy of its id a row is; 1 without a sort when every table's id is unique."""
        if all(t in self.unique for t in tables):
            return sa.literal(1, sa.Integer)
        return self._first_copy(col, order=col)

    def _ruled_orders(self) -> sa.CTE:
        o = self.t["orders"]
        base = sa.select(
            o.c.id,
            o.c.restaurant_id,
            o.c.created_at,
            o.c.status,
            o.c.guest_count,
            self._id_copy(["orders"], o.c.id).label("copy"),
        ).where(o.c.created_at >= self.since, o.c.created_at < self.until)
        if self.ids is not None:
            base = base.where(o.c.restaurant_id.in_(self.ids))
        b = base.subquery("orders_in_window")
        rule = sa.case(
            *self._time_rules(b.c.created_at),
            (b.c.copy > 1, q.DUPLICATE_ROW),
            *self._status_rules(b.c.status),
            else_=sa.null(),
        )
        return sa.select(b, rule.label("rule")).cte("ruled_orders")

    # -- statements ---------------------------------------------------------------------------

    def orders(self) -> Query:
        """Orders and covers per restaurant and local hour (both offsets of a repeated hour)."""
        ruled, r = self._ruled_orders(), self.t["restaurants"]
        local = sa.func.timezone(r.c.timezone, ruled.c.created_at)
        hour = sa.func.date_trunc("hour", local)
        offset = local - sa.func.timezone("UTC", ruled.c.created_at)
        return _bucketed(
            ruled.c.rule,
            ruled.c.restaurant_id,
            ruled.c.created_at,
            bucket=[hour, offset],
            total=("guests", sa.func.coalesce(ruled.c.guest_count, 1)),
            source=ruled.outerjoin(r, r.c.id == ruled.c.restaurant_id),
            what="orders",
        )

    def order_lines(self) -> Query:
        """Quantity per restaurant, menu item and local day."""
        items, o, m, r = (self.t[n] for n in ("order_items", "orders", "menu_items", "restaurants"))
        base = (
            sa.select(
                items.c.id,
                items.c.order_id,
                items.c.menu_item_id,
                items.c.quantity,
                items.c.unit_price,
                items.c.is_voided,
                o.c.restaurant_id,
                o.c.created_at,
                o.c.status,
                # A duplicated order id would repeat its lines through the join.
                self._id_copy(["order_items", "orders"], items.c.id).label("copy"),
            )
            .select_from(items.join(o, o.c.id == items.c.order_id))
            .where(o.c.created_at >= self.since, o.c.created_at < self.until)
        )
        known = sa.select(m.c.id).where(m.c.id == items.c.menu_item_id)
        if self.ids is not None:
            base = base.where(o.c.restaurant_id.in_(self.ids))
            known = known.where(m.c.restaurant_id.in_(self.ids))
        base = base.add_columns(sa.exists(known).label("known_item"))
        c = base.subquery("lines_in_window")
        # The same line twice is judged among first copies of ids only, as the row-level
        # path does after dropping duplicate_row: copies of one id are not told apart.
        content = [c.c[n] for n in ("order_id", "menu_item_id", "quantity", "unit_price")]
        line_copy = self._first_copy(*content, c.c.is_voided, c.c.copy > 1, order=c.c.id)
        b = sa.select(c, line_copy.label("line_copy")).subquery("lines_numbered")
        rule = sa.case(
            *self._time_rules(b.c.created_at),
            (b.c.copy > 1, q.DUPLICATE_ROW),
            (b.c.line_copy > 1, q.DUPLICATE_LINE),
            *self._status_rules(b.c.status),
            (b.c.is_voided.is_(sa.true()), q.LINE_VOIDED),
            (b.c.quantity <= 0, q.QUANTITY_NON_POSITIVE),
            (sa.not_(b.c.known_item), q.MENU_ITEM_UNKNOWN),
            else_=sa.null(),
        )
        ruled = sa.select(b, rule.label("rule")).cte("ruled_lines")
        day = sa.cast(sa.func.timezone(r.c.timezone, ruled.c.created_at), sa.Date)
        return _bucketed(
            ruled.c.rule,
            ruled.c.restaurant_id,
            ruled.c.created_at,
            item=ruled.c.menu_item_id,
            bucket=[day],
            total=("quantity", ruled.c.quantity),
            source=ruled.outerjoin(r, r.c.id == ruled.c.restaurant_id),
            what="order_lines",
        )

    def payments(self) -> Query:
        """Captured amounts per restaurant and local day of their kept order."""
        p, o, r = self.t["payments"], self.t["orders"], self.t["restaurants"]
        base = sa.select(
            p.c.order_id,
            p.c.paid_at,
            p.c.status,
            sa.cast(p.c.amount, sa.Float).label("amount"),
            self._id_copy(["payments"], p.c.id).label("copy"),
        ).where(p.c.paid_at >= self.since, p.c.paid_at < self.until)
        if self.ids is not None:
            own = sa.select(o.c.id).where(o.c.restaurant_id.in_(self.ids))
            base = base.where(p.c.order_id.in_(own))
        b = base.subquery("payments_in_window")
        rule = sa.case(
            *self._time_rules(b.c.paid_at),
            (b.c.copy > 1, q.DUPLICATE_ROW),
            (b.c.status.is_distinct_from("captured"), q.PAYMENT_NOT_CAPTURED),
            (sa.not_(sa.func.coalesce(b.c.amount > 0, sa.false())), q.PAYMENT_AMOUNT_NON_POSITIVE),
            else_=sa.null(),
        )
        ruled = sa.select(b, rule.label("rule")).cte("ruled_payments")
        orders = self._ruled_orders()
        kept = sa.select(orders.c.id, orders.c.restaurant_id, orders.c.created_at).where(
            orders.c.rule.is_(None)
        )
        k = kept.subquery("kept_orders")
        day = sa.cast(sa.func.timezone(r.c.timezone, k.c.created_at), sa.Date)
        return _bucketed(
            ruled.c.rule,
            k.c.restaurant_id,
            k.c.created_at,
            bucket=[day],
            total=("amount", ruled.c.amount),
            source=ruled.outerjoin(k, k.c.id == ruled.c.order_id).outerjoin(
                r, r.c.id == k.c.restaurant_id
            ),
            what="payments",
        )
