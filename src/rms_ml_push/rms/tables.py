"""SQLAlchemy Core tables of the RMS data contract, under the operator's table names.

Only the contract's columns are declared (``/work/shared/rms-data-contract.md``, "Tables"),
so a query built from these tables can never select a column the contract does not name:
customer names, e-mails, phone numbers and birth dates stay in the database.

The tables are built per call by :func:`build_tables` from the ``RMS_ML_RMS_TABLES__*``
map; nothing is held at module level. A name with a dot (``rms.orders``) means
``schema.table``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from rms_ml_push.config import CANONICAL_TABLES, RmsTables

OPTIONAL_TABLES: frozenset[str] = frozenset({"inventory_movements"})
REQUIRED_TABLES: tuple[str, ...] = tuple(t for t in CANONICAL_TABLES if t not in OPTIONAL_TABLES)


class UtcTimestamp(sa.types.TypeDecorator[Any]):
    """``timestamptz`` on PostgreSQL, ISO 8601 text with an offset on SQLite.

    Results are passed through untouched (an aware datetime from psycopg, a string from
    SQLite); the extract step parses both to ``datetime64[ns, UTC]`` in one vectorised call,
    which also copes with offsets that SQLite's own DATETIME parser rejects.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Text())
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if dialect.name == "sqlite" and isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.isoformat()
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return value


def _money() -> sa.Numeric[Any]:
    return sa.Numeric(12, 2, asdecimal=False)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, UtcTimestamp(), nullable=nullable)


def _id(name: str = "id") -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger, primary_key=True, autoincrement=False)


def _ref(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger, nullable=nullable)


def _columns(canonical: str) -> list[sa.Column[Any]]:  # noqa: PLR0911 - one branch per table
    text, boolean, integer, num = sa.Text, sa.Boolean, sa.Integer, _money
    if canonical == "restaurants":
        return [_id(), sa.Column("name", text), sa.Column("timezone", text, nullable=False)]
    if canonical == "menu_items":
        return [
            _id(),
            _ref("restaurant_id"),
            sa.Column("name", text),
            sa.Column("category", text, nullable=True),
            sa.Column("price", num()),
            sa.Column("is_active", boolean, nullable=False),
        ]
    if canonical == "kitchen_stations":
        return [_id(), _ref("restaurant_id"), sa.Column("name", text)]
    if canonical == "customer_profiles":
        return [
            _id(),
            _ref("restaurant_id", nullable=True),
            _ts("created_at"),
            sa.Column("loyalty_tier", text, nullable=True),
            sa.Column("loyalty_points", integer, nullable=True),
        ]
    if canonical == "orders":
        return [
            _id(),
            _ref("restaurant_id"),
            _ref("customer_id", nullable=True),
            _ts("created_at"),
            _ts("closed_at", nullable=True),
            sa.Column("status", text, nullable=False),
            sa.Column("channel", text),
            sa.Column("guest_count", integer, nullable=True),
            sa.Column("total_amount", num()),
        ]
    if canonical == "order_items":
        return [
            _id(),
            _ref("order_id"),
            _ref("menu_item_id"),
            sa.Column("quantity", integer, nullable=False),
            sa.Column("unit_price", num()),
            sa.Column("is_voided", boolean, nullable=False),
        ]
    if canonical == "order_item_stations":
        return [
            _id(),
            _ref("order_item_id"),
            _ref("station_id"),
            _ts("queued_at"),
            _ts("started_at", nullable=True),
            _ts("completed_at", nullable=True),
        ]
    return _stock_columns(canonical)


def _stock_columns(canonical: str) -> list[sa.Column[Any]]:
    text, integer, num = sa.Text, sa.Integer, _money
    if canonical == "inventory_items":
        return [
            _id(),
            _ref("restaurant_id"),
            sa.Column("name", text),
            sa.Column("unit", text),
            sa.Column("reorder_level", num(), nullable=True),
            sa.Column("lead_time_days", integer, nullable=False),
            sa.Column("unit_cost", num(), nullable=True),
        ]
    if canonical == "inventory_batches":
        return [
            _id(),
            _ref("inventory_item_id"),
            _ts("received_at"),
            sa.Column("quantity_received", num()),
            sa.Column("quantity_remaining", num()),
            _ts("expires_at", nullable=True),
            sa.Column("unit_cost", num(), nullable=True),
        ]
    if canonical == "recipe_components":
        # No surrogate key in the contract; (menu item, inventory item) identifies a row.
        return [
            sa.Column("menu_item_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("inventory_item_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("quantity", num()),
        ]
    if canonical == "payments":
        return [
            _id(),
            _ref("order_id"),
            sa.Column("method", text),
            sa.Column("amount", num()),
            _ts("paid_at"),
            sa.Column("status", text, nullable=False),
        ]
    if canonical == "inventory_movements":
        return [
            _id(),
            _ref("inventory_item_id"),
            _ts("occurred_at"),
            sa.Column("quantity_delta", num()),
            sa.Column("reason", text),
        ]
    raise KeyError(f"not a contract table: {canonical}")


def setting_name(canonical: str) -> str:
    """The environment variable that maps ``canonical`` to an actual table name."""
    return f"RMS_ML_RMS_TABLES__{canonical.upper()}"


def split_name(actual: str) -> tuple[str | None, str]:
    """``schema.table`` -> (schema, table); ``table`` -> (None, table)."""
    schema, _, name = actual.rpartition(".")
    return (schema or None), name


@dataclass(frozen=True)
class RmsTableSet:
    """The contract's tables under their actual names, keyed by canonical name."""

    metadata: sa.MetaData
    tables: dict[str, sa.Table]
    names: RmsTables

    def __getitem__(self, canonical: str) -> sa.Table:
        return self.tables[canonical]

    def contract_columns(self, canonical: str) -> list[str]:
        """Column names the contract requires of ``canonical``."""
        return [c.name for c in self.tables[canonical].columns]


def build_tables(names: RmsTables | None = None) -> RmsTableSet:
    """Fresh metadata with one Table per contract table, named by ``names``."""
    names = names if names is not None else RmsTables()
    metadata = sa.MetaData()
    tables: dict[str, sa.Table] = {}
    for canonical in CANONICAL_TABLES:
        schema, table_name = split_name(getattr(names, canonical))
        tables[canonical] = sa.Table(table_name, metadata, *_columns(canonical), schema=schema)
    return RmsTableSet(metadata=metadata, tables=tables, names=names)
