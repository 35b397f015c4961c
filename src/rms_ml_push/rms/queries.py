"""SELECT statements of the extract step, each paired with the kinds of its columns.

Money is cast to a float in SQL so that PostgreSQL sends ``float8`` and no Decimal is
built per value. Time windows compare in UTC on both back ends: SQLite stores ISO 8601
text whose offsets vary, so there the column is normalised with ``strftime`` first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rms_ml_push.rms.frames import Kind
from rms_ml_push.rms.tables import RmsTableSet

_SQLITE_UTC = "%Y-%m-%d %H:%M:%f"


@dataclass(frozen=True)
class Query:
    """A statement, the kinds of its result columns (in order) and a name for messages."""

    stmt: sa.Select[Any]
    kinds: Mapping[str, Kind]
    what: str
    # PostgreSQL planner settings for this statement only (SET LOCAL), e.g. for the
    # pushdown statements whose row estimates through CASE and window functions are poor.
    planner: Mapping[str, str] = field(default_factory=dict)


class QueryBuilder:
    """Builds the extract statements for one table set and dialect."""

    def __init__(self, tables: RmsTableSet, dialect: str) -> None:
        self.t = tables
        self.dialect = dialect

    def _cols(self, table: sa.Table, kinds: Mapping[str, Kind]) -> list[sa.ColumnElement[Any]]:
        out: list[sa.ColumnElement[Any]] = []
        for name, kind in kinds.items():
            col = table.c[name]
            if kind == "num":
                out.append(sa.cast(col, sa.Float).label(name))
            elif kind == "ts" and self.dialect == "postgresql":
                # Epoch seconds as float8: see frames._timestamps.
                out.append(sa.func.date_part("epoch", col, type_=sa.Float).label(name))
            else:
                out.append(col)
        return out

    def _window(
        self, col: sa.ColumnElement[Any], since: datetime | None, until: datetime | None
    ) -> list[sa.ColumnElement[bool]]:
        conds: list[sa.ColumnElement[bool]] = []
        for bound, is_lower in ((since, True), (until, False)):
            if bound is None:
                continue
            if bound.tzinfo is None:
                raise ValueError("naive datetime; window bounds must be timezone-aware")
            utc = bound.astimezone(UTC)
            if self.dialect == "sqlite":
                lhs: sa.ColumnElement[Any] = sa.func.strftime(_SQLITE_UTC, col)
                rhs: Any = sa.literal(
                    utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"
                )
            else:
                lhs, rhs = col, sa.literal(utc, sa.DateTime(timezone=True))
            conds.append(lhs >= rhs if is_lower else lhs < rhs)
        return conds

    def _simple(self, canonical: str, kinds: Mapping[str, Kind]) -> Query:
        table = self.t[canonical]
        stmt = sa.select(*self._cols(table, kinds)).order_by(*table.primary_key.columns)
        return Query(stmt, kinds, canonical)

    def _by_restaurant(
        self, canonical: str, kinds: Mapping[str, Kind], restaurant_ids: Sequence[int] | None
    ) -> Query:
        query = self._simple(canonical, kinds)
        if restaurant_ids is not None:
            stmt = query.stmt.where(self.t[canonical].c.restaurant_id.in_(list(restaurant_ids)))
            query = Query(stmt, kinds, canonical)
        return query

    def _windowed(
        self,
        canonical: str,
        kinds: Mapping[str, Kind],
        ts: str,
        since: datetime | None,
        until: datetime | None,
    ) -> Query:
        query = self._simple(canonical, kinds)
        conds = self._window(self.t[canonical].c[ts], since, until)
        return Query(query.stmt.where(*conds), kinds, canonical)

    def restaurants(self) -> Query:
        return self._simple("restaurants", {"id": "id", "name": "text", "timezone": "text"})

    def menu_items(self, restaurant_ids: Sequence[int] | None) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "restaurant_id": "id",
            "name": "text",
            "category": "text",
            "price": "num",
            "is_active": "bool",
        }
        return self._by_restaurant("menu_items", kinds, restaurant_ids)

    def kitchen_stations(self, restaurant_ids: Sequence[int] | None) -> Query:
        kinds: dict[str, Kind] = {"id": "id", "restaurant_id": "id", "name": "text"}
        return self._by_restaurant("kitchen_stations", kinds, restaurant_ids)

    def customer_profiles(self) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "restaurant_id": "id?",
            "created_at": "ts",
            "loyalty_tier": "text",
            "loyalty_points": "int?",
        }
        return self._simple("customer_profiles", kinds)

    def inventory_items(self, restaurant_ids: Sequence[int] | None) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "restaurant_id": "id",
            "name": "text",
            "unit": "text",
            "reorder_level": "num",
            "lead_time_days": "int",
            "unit_cost": "num",
        }
        return self._by_restaurant("inventory_items", kinds, restaurant_ids)

    def recipe_components(self) -> Query:
        kinds: dict[str, Kind] = {
            "menu_item_id": "id",
            "inventory_item_id": "id",
            "quantity": "num",
        }
        return self._simple("recipe_components", kinds)

    def orders(
        self, since: datetime | None, until: datetime | None, restaurant_ids: Sequence[int] | None
    ) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "restaurant_id": "id",
            "customer_id": "id?",
            "created_at": "ts",
            "closed_at": "ts",
            "status": "text",
            "channel": "text",
            "guest_count": "int?",
            "total_amount": "num",
        }
        query = self._windowed("orders", kinds, "created_at", since, until)
        if restaurant_ids is not None:
            cond = self.t["orders"].c.restaurant_id.in_(list(restaurant_ids))
            query = Query(query.stmt.where(cond), kinds, "orders")
        return query

    def order_lines(
        self, since: datetime | None, until: datetime | None, restaurant_ids: Sequence[int] | None
    ) -> Query:
        items, orders = self.t["order_items"], self.t["orders"]
        item_kinds: dict[str, Kind] = {
            "id": "id",
            "order_id": "id",
            "menu_item_id": "id",
            "quantity": "int",
            "unit_price": "num",
            "is_voided": "bool",
        }
        order_kinds: dict[str, Kind] = {
            "restaurant_id": "id",
            "customer_id": "id?",
            "created_at": "ts",
            "status": "text",
            "channel": "text",
        }
        stmt = (
            sa.select(*self._cols(items, item_kinds), *self._cols(orders, order_kinds))
            .select_from(items.join(orders, orders.c.id == items.c.order_id))
            .where(*self._window(orders.c.created_at, since, until))
            .order_by(items.c.id)
        )
        if restaurant_ids is not None:
            stmt = stmt.where(orders.c.restaurant_id.in_(list(restaurant_ids)))
        return Query(stmt, {**item_kinds, **order_kinds}, "order_lines")

    def kitchen_tickets(
        self, since: datetime | None, until: datetime | None, restaurant_ids: Sequence[int] | None
    ) -> Query:
        ois, items, orders = self.t["order_item_stations"], self.t["order_items"], self.t["orders"]
        kinds: dict[str, Kind] = {
            "id": "id",
            "order_item_id": "id",
            "station_id": "id",
            "queued_at": "ts",
            "started_at": "ts",
            "completed_at": "ts",
        }
        joined = ois.outerjoin(items, items.c.id == ois.c.order_item_id).outerjoin(
            orders, orders.c.id == items.c.order_id
        )
        stmt = (
            sa.select(
                *self._cols(ois, kinds),
                items.c.order_id,
                items.c.menu_item_id,
                items.c.quantity,
                orders.c.restaurant_id,
            )
            .select_from(joined)
            .where(*self._window(ois.c.queued_at, since, until))
            .order_by(ois.c.id)
        )
        if restaurant_ids is not None:
            stmt = stmt.where(orders.c.restaurant_id.in_(list(restaurant_ids)))
        extra: dict[str, Kind] = {
            "order_id": "id?",
            "menu_item_id": "id?",
            "quantity": "int?",
            "restaurant_id": "id?",
        }
        return Query(stmt, {**kinds, **extra}, "kitchen_tickets")

    def payments(
        self,
        since: datetime | None,
        until: datetime | None,
        restaurant_ids: Sequence[int] | None = None,
        status: str | None = None,
    ) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "order_id": "id",
            "method": "text",
            "amount": "num",
            "paid_at": "ts",
            "status": "text",
        }
        query = self._windowed("payments", kinds, "paid_at", since, until)
        if restaurant_ids is not None:
            orders = self.t["orders"]
            own = sa.select(orders.c.id).where(orders.c.restaurant_id.in_(list(restaurant_ids)))
            query = Query(
                query.stmt.where(self.t["payments"].c.order_id.in_(own)), kinds, "payments"
            )
        if status is not None:
            cond = self.t["payments"].c.status == status
            query = Query(query.stmt.where(cond), kinds, "payments")
        return query

    def inventory_batches(self, since: datetime | None, until: datetime | None) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "inventory_item_id": "id",
            "received_at": "ts",
            "quantity_received": "num",
            "quantity_remaining": "num",
            "expires_at": "ts",
            "unit_cost": "num",
        }
        return self._windowed("inventory_batches", kinds, "received_at", since, until)

    def inventory_movements(self, since: datetime | None, until: datetime | None) -> Query:
        kinds: dict[str, Kind] = {
            "id": "id",
            "inventory_item_id": "id",
            "occurred_at": "ts",
            "quantity_delta": "num",
            "reason": "text",
        }
        return self._windowed("inventory_movements", kinds, "occurred_at", since, until)
