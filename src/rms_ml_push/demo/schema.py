"""The RMS schema of ``rms-data-contract.md`` as the demo writes it, plus side tables.

Columns are the contract's, in its order, plus the personal data a real RMS holds and
the service must never select (names, e-mail, phone, birth date, addresses). Table
names come from :class:`~rms_ml_push.config.RmsTables`, so Django-style names work; a
dotted name (``app.orders``) is a schema-qualified table on PostgreSQL.

Timestamps are ``timestamptz`` on PostgreSQL and ISO 8601 text with an offset on SQLite;
money is ``numeric(12,2)``. No foreign keys: a real RMS keeps order lines of deleted
menu items (the contract's dirty data), which a constraint would forbid.

The ``demo_truth_*`` tables hold the parameters the generator used, so evaluations can
compare what a model recovers against the truth. A real RMS has none of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from rms_ml_push.config import RmsTables

Kind = Literal["id", "int", "text", "ts", "money", "num", "bool", "date"]


@dataclass(frozen=True)
class Col:
    """One column: name, value kind, nullability; ``pk`` marks the primary key."""

    name: str
    kind: Kind
    nullable: bool = False
    pk: bool = False


def _id(name: str = "id") -> Col:
    return Col(name, "id", pk=True)


# Canonical table -> columns. PII columns follow the contract's columns.
RMS_COLUMNS: dict[str, tuple[Col, ...]] = {
    "restaurants": (
        _id(),
        Col("name", "text"),
        Col("timezone", "text"),
        Col("address", "text", nullable=True),
    ),
    "menu_items": (
        _id(),
        Col("restaurant_id", "int"),
        Col("name", "text"),
        Col("category", "text", nullable=True),
        Col("price", "money"),
        Col("is_active", "bool"),
    ),
    "kitchen_stations": (_id(), Col("restaurant_id", "int"), Col("name", "text")),
    "customer_profiles": (
        _id(),
        Col("restaurant_id", "int", nullable=True),
        Col("created_at", "ts"),
        Col("loyalty_tier", "text", nullable=True),
        Col("loyalty_points", "int", nullable=True),
        Col("first_name", "text"),
        Col("last_name", "text"),
        Col("email", "text", nullable=True),
        Col("phone", "text", nullable=True),
        Col("birth_date", "date", nullable=True),
    ),
    "orders": (
        _id(),
        Col("restaurant_id", "int"),
        Col("customer_id", "int", nullable=True),
        Col("created_at", "ts"),
        Col("closed_at", "ts", nullable=True),
        Col("status", "text"),
        Col("channel", "text"),
        Col("guest_count", "int", nullable=True),
        Col("total_amount", "money"),
    ),
    "order_items": (
        _id(),
        Col("order_id", "int"),
        Col("menu_item_id", "int"),
        Col("quantity", "int"),
        Col("unit_price", "money"),
        Col("is_voided", "bool"),
    ),
    "order_item_stations": (
        _id(),
        Col("order_item_id", "int"),
        Col("station_id", "int"),
        Col("queued_at", "ts"),
        Col("started_at", "ts", nullable=True),
        Col("completed_at", "ts", nullable=True),
    ),
    "inventory_items": (
        _id(),
        Col("restaurant_id", "int"),
        Col("name", "text"),
        Col("unit", "text"),
        Col("reorder_level", "num", nullable=True),
        Col("lead_time_days", "int"),
        Col("unit_cost", "money", nullable=True),
    ),
    "inventory_batches": (
        _id(),
        Col("inventory_item_id", "int"),
        Col("received_at", "ts"),
        Col("quantity_received", "num"),
        Col("quantity_remaining", "num"),
        Col("expires_at", "ts", nullable=True),
        Col("unit_cost", "money", nullable=True),
    ),
    "recipe_components": (
        Col("menu_item_id", "int", pk=True),
        Col("inventory_item_id", "int", pk=True),
        Col("quantity", "num"),
    ),
    "payments": (
        _id(),
        Col("order_id", "int"),
        Col("method", "text"),
        Col("amount", "money"),
        Col("paid_at", "ts"),
        Col("status", "text"),
    ),
    "inventory_movements": (
        _id(),
        Col("inventory_item_id", "int"),
        Col("occurred_at", "ts"),
        Col("quantity_delta", "num"),
        Col("reason", "text"),
    ),
}

PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "restaurants": ("address",),
    "customer_profiles": ("first_name", "last_name", "email", "phone", "birth_date"),
}

# Side tables with the generator's truth (never part of a real RMS; names are fixed).
TRUTH_COLUMNS: dict[str, tuple[Col, ...]] = {
    "demo_truth_elasticity": (
        Col("menu_item_id", "int", pk=True),
        Col("elasticity", "num"),
        Col("category_elasticity", "num"),
    ),
    "demo_truth_price_changes": (
        Col("menu_item_id", "int"),
        Col("effective_date", "date"),
        Col("old_price", "money"),
        Col("new_price", "money"),
    ),
    "demo_truth_restaurants": (
        Col("restaurant_id", "int", pk=True),
        Col("country", "text"),
        Col("subdivision", "text", nullable=True),
        Col("closed_weekday", "int", nullable=True),
        Col("base_orders_per_day", "num"),
        Col("trend_per_year", "num"),
        Col("yearly_amplitude", "num"),
        Col("yearly_peak_doy", "int"),
    ),
    "demo_truth_stations": (
        Col("station_id", "int", pk=True),
        Col("servers", "int"),
        Col("load_cook_factor", "num"),
    ),
    "demo_truth_customers": (
        Col("customer_id", "int", pk=True),
        Col("purchase_rate_per_day", "num"),
        Col("dropout_probability", "num"),
        Col("spend_factor", "num"),
        Col("alive_at_end", "bool"),
    ),
    "demo_truth_dirty": (
        Col("restaurant_id", "int"),
        Col("kind", "text"),
        Col("count", "int"),
    ),
}

RMS_REQUIRED: tuple[str, ...] = tuple(t for t in RMS_COLUMNS if t != "inventory_movements")


def _sa_type(kind: Kind) -> sa.types.TypeEngine[Any]:
    types: dict[Kind, sa.types.TypeEngine[Any]] = {
        "id": sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        "int": sa.BigInteger(),
        "text": sa.Text(),
        "ts": sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite"),
        "money": sa.Numeric(12, 2),
        "num": sa.Numeric(14, 4),
        "bool": sa.Boolean(),
        "date": sa.Date().with_variant(sa.Text(), "sqlite"),
    }
    return types[kind]


def split_name(name: str) -> tuple[str | None, str]:
    """``schema.table`` -> (schema, table); a plain name has no schema."""
    if "." in name:
        schema, table = name.split(".", 1)
        return schema, table
    return None, name


def demo_tables(tables: RmsTables, *, movements: bool) -> dict[str, tuple[str | None, str]]:
    """Table key (canonical or truth name) -> (schema, table name) in the database."""
    out: dict[str, tuple[str | None, str]] = {}
    for canonical in RMS_COLUMNS:
        if canonical == "inventory_movements" and not movements:
            continue
        out[canonical] = split_name(getattr(tables, canonical))
    for name in TRUTH_COLUMNS:
        out[name] = (None, name)
    return out


def all_columns() -> dict[str, tuple[Col, ...]]:
    """Columns of every demo table key."""
    return {**RMS_COLUMNS, **TRUTH_COLUMNS}


def demo_metadata(tables: RmsTables, *, movements: bool, primary_keys: bool = True) -> sa.MetaData:
    """SQLAlchemy tables for the demo: contract tables under mapped names, plus truth.

    ``primary_keys=False`` leaves the keys out so that a bulk load need not maintain
    them; :func:`create_indexes` adds them afterwards.
    """
    metadata = sa.MetaData()
    columns = all_columns()
    for key, (schema, name) in demo_tables(tables, movements=movements).items():
        cols = [
            sa.Column(
                c.name,
                _sa_type(c.kind),
                primary_key=c.pk and primary_keys,
                nullable=c.nullable and not c.pk,
                autoincrement=False,
            )
            for c in columns[key]
        ]
        sa.Table(name, metadata, *cols, schema=schema)
    return metadata


def _quoted(schema: str | None, name: str) -> str:
    return f'"{schema}"."{name}"' if schema else f'"{name}"'


# Indexes a real RMS would have; created after the bulk load (faster than during it).
_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "orders": (("restaurant_id", "created_at"), ("customer_id",)),
    "order_items": (("order_id",), ("menu_item_id",)),
    "order_item_stations": (("order_item_id",), ("station_id", "queued_at")),
    "payments": (("order_id",),),
    "inventory_batches": (("inventory_item_id",),),
    "menu_items": (("restaurant_id",),),
}


def create_indexes(engine: sa.Engine, tables: RmsTables, *, movements: bool) -> None:
    """Create the primary keys left out for the load (PostgreSQL) and the usual indexes."""
    keys = dict(_INDEXES)
    if movements:
        keys["inventory_movements"] = (("inventory_item_id", "occurred_at"),)
    metadata = sa.MetaData()
    columns = all_columns()
    with engine.begin() as conn:
        if not _keys_inline(engine):
            for key, (schema, name) in demo_tables(tables, movements=movements).items():
                pk = ", ".join(f'"{c.name}"' for c in columns[key] if c.pk)
                if not pk:
                    continue
                conn.execute(sa.text(f"ALTER TABLE {_quoted(schema, name)} ADD PRIMARY KEY ({pk})"))
        for canonical, index_cols in keys.items():
            schema, name = split_name(getattr(tables, canonical))
            table = sa.Table(name, metadata, autoload_with=conn, schema=schema)
            for cols in index_cols:
                index_name = f"ix_{name}_{'_'.join(cols)}"[:63]
                sa.Index(index_name, *(table.c[c] for c in cols)).create(conn, checkfirst=True)


def _keys_inline(engine: sa.Engine) -> bool:
    # SQLite's INTEGER PRIMARY KEY is the rowid itself (free); PostgreSQL builds its key
    # index faster once, after the COPY, than row by row during it.
    return engine.dialect.name != "postgresql"


def has_rms_orders(engine: sa.Engine, tables: RmsTables) -> bool:
    """Whether the database already holds an RMS ``orders`` table (under its mapped name)."""
    schema, name = split_name(tables.orders)
    return sa.inspect(engine).has_table(name, schema=schema)


def drop_demo_tables(engine: sa.Engine, tables: RmsTables) -> None:
    """Drop every RMS and truth table the demo would create (for ``--replace``)."""
    metadata = demo_metadata(tables, movements=True)
    metadata.drop_all(engine, checkfirst=True)


def create_demo_schema(engine: sa.Engine, tables: RmsTables, *, movements: bool) -> sa.MetaData:
    """Create the demo's tables (no indexes yet); returns their metadata."""
    metadata = demo_metadata(tables, movements=movements, primary_keys=_keys_inline(engine))
    schemas = {t.schema for t in metadata.tables.values() if t.schema}
    with engine.begin() as conn:
        for schema in sorted(schemas):
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        metadata.create_all(conn)
    return metadata
