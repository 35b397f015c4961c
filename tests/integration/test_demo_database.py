"""The demo written to real SQLite and PostgreSQL: contract schema, name map, refusal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from rms_ml_push.config import RmsTables
from rms_ml_push.demo.generator import DemoTargetNotEmptyError, generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.schema import PII_COLUMNS, RMS_COLUMNS, split_name
from rms_ml_push.demo.target import demo_engine

DJANGO = RmsTables(
    restaurants="core_restaurant",
    menu_items="menu_menuitem",
    kitchen_stations="kitchen_station",
    customer_profiles="crm_customerprofile",
    orders="orders_order",
    order_items="orders_orderitem",
    order_item_stations="kitchen_orderitemstation",
    inventory_items="inventory_item",
    inventory_batches="inventory_batch",
    recipe_components="inventory_recipecomponent",
    payments="orders_payment",
    inventory_movements="inventory_movement",
)
SMALL = {"end": date(2024, 4, 15), "restaurants": 1, "days": 30, "seed": 3}
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")

# Contract columns (from rms-data-contract.md), to check the schema against the document.
CONTRACT = {
    "restaurants": {"id", "name", "timezone"},
    "menu_items": {"id", "restaurant_id", "name", "category", "price", "is_active"},
    "kitchen_stations": {"id", "restaurant_id", "name"},
    "customer_profiles": {"id", "restaurant_id", "created_at", "loyalty_tier", "loyalty_points"},
    "orders": {
        "id", "restaurant_id", "customer_id", "created_at", "closed_at", "status", "channel",
        "guest_count", "total_amount",
    },
    "order_items": {"id", "order_id", "menu_item_id", "quantity", "unit_price", "is_voided"},
    "order_item_stations": {
        "id", "order_item_id", "station_id", "queued_at", "started_at", "completed_at",
    },
    "inventory_items": {
        "id", "restaurant_id", "name", "unit", "reorder_level", "lead_time_days", "unit_cost",
    },
    "inventory_batches": {
        "id", "inventory_item_id", "received_at", "quantity_received", "quantity_remaining",
        "expires_at", "unit_cost",
    },
    "recipe_components": {"menu_item_id", "inventory_item_id", "quantity"},
    "payments": {"id", "order_id", "method", "amount", "paid_at", "status"},
    "inventory_movements": {"id", "inventory_item_id", "occurred_at", "quantity_delta", "reason"},
}  # fmt: skip


def _columns(engine: sa.Engine, name: str) -> dict[str, str]:
    schema, table = split_name(name)
    return {c["name"]: str(c["type"]) for c in sa.inspect(engine).get_columns(table, schema)}


@pytest.mark.parametrize("tables", [RmsTables(), DJANGO], ids=["canonical", "django"])
def test_sqlite_schema_follows_contract(sqlite_url: str, tables: RmsTables) -> None:
    """Every contract table and column exists under the mapped name, PII columns too."""
    engine = demo_engine(sqlite_url)
    summary = generate_demo(engine, DemoConfig(**SMALL, tables=tables, movements=True))
    for canonical, expected in CONTRACT.items():
        cols = _columns(engine, getattr(tables, canonical))
        assert expected <= cols.keys(), canonical
        assert set(PII_COLUMNS.get(canonical, ())) <= cols.keys()
        assert [c.name for c in RMS_COLUMNS[canonical]] == list(cols)
    with engine.connect() as conn:
        orders = sa.table(tables.orders, sa.column("created_at"), sa.column("status"))
        stamps = conn.execute(sa.select(orders.c.created_at).limit(50)).scalars().all()
        count = conn.execute(sa.select(sa.func.count()).select_from(orders)).scalar_one()
    assert all(ISO_WITH_OFFSET.match(s) for s in stamps), stamps[:3]
    assert all(datetime.fromisoformat(s).tzinfo == UTC for s in stamps)
    assert count == summary.rows["orders"]
    assert summary.rows["inventory_movements"] > 0
    engine.dispose()


def test_movements_table_only_when_asked(sqlite_url: str) -> None:
    """Without the flag the optional inventory_movements table does not exist."""
    engine = demo_engine(sqlite_url)
    generate_demo(engine, DemoConfig(**SMALL))
    assert not sa.inspect(engine).has_table("inventory_movements")
    assert sa.inspect(engine).has_table("demo_truth_elasticity")
    engine.dispose()


def test_refuses_existing_orders_then_replaces(sqlite_url: str) -> None:
    """A database with an RMS orders table is refused; replace rebuilds it identically."""
    engine = demo_engine(sqlite_url)
    first = generate_demo(engine, DemoConfig(**SMALL))
    with pytest.raises(DemoTargetNotEmptyError, match="already has an RMS orders table"):
        generate_demo(engine, DemoConfig(**SMALL))
    again = generate_demo(engine, DemoConfig(**SMALL), replace=True)
    assert again.rows == first.rows
    engine.dispose()


@pytest.mark.pg
def test_postgres_types_counts_and_django_names(pg_schema_url: str) -> None:
    """On PostgreSQL: timestamptz, numeric(12,2), COPY row counts, and the dirty-data ledger."""
    engine = demo_engine(pg_schema_url)
    config = DemoConfig(**{**SMALL, "restaurants": 2}, tables=DJANGO, movements=True)
    summary = generate_demo(engine, config)
    cols = _columns(engine, DJANGO.orders)
    assert cols["created_at"] == "TIMESTAMP" or "TIME ZONE" in cols["created_at"]
    with engine.connect() as conn:
        kinds = conn.execute(
            sa.text(
                "SELECT data_type, numeric_precision, numeric_scale "
                "FROM information_schema.columns WHERE table_name = 'orders_order' "
                "AND column_name IN ('created_at', 'total_amount') "
                "AND table_schema = current_schema() ORDER BY column_name"
            )
        ).all()
        assert [tuple(k) for k in kinds] == [
            ("timestamp with time zone", None, None),
            ("numeric", 12, 2),
        ]
        for canonical in ("orders", "order_items", "order_item_stations", "payments"):
            table = getattr(DJANGO, canonical)
            n = conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar_one()
            assert n == summary.rows[canonical], canonical
        ledger = dict(
            conn.execute(
                sa.text("SELECT kind, sum(count) FROM demo_truth_dirty GROUP BY kind")
            ).all()
        )
        floor = conn.execute(
            sa.text("SELECT count(*) FROM orders_order WHERE created_at < '1990-01-01T00:00:00Z'")
        ).scalar_one()
    assert {k: int(v) for k, v in ledger.items()} == summary.dirty
    assert floor == summary.dirty["orders_before_floor"]
    engine.dispose()
