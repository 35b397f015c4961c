"""Test RMS databases: the contract tables from ``rms/tables.py`` plus PII columns.

The tables are created through a WRITABLE engine (the RMS engine cannot write), with
extra columns the real RMS has and the service must never select.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from rms_ml_push.config import RmsTables
from rms_ml_push.rms.tables import RmsTableSet, build_tables

# canonical table -> PII columns that exist in a real RMS but not in the contract.
PII_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_profiles": ("full_name", "email", "phone", "birth_date"),
    "orders": ("customer_name", "delivery_address", "customer_phone"),
    "payments": ("card_holder", "card_last4"),
}

DJANGO_NAMES = RmsTables(
    restaurants="core_restaurant",
    menu_items="menu_menuitem",
    kitchen_stations="kitchen_station",
    customer_profiles="customers_customerprofile",
    orders="orders_order",
    order_items="orders_orderitem",
    order_item_stations="kitchen_orderitemstation",
    inventory_items="inventory_item",
    inventory_batches="inventory_batch",
    recipe_components="menu_recipecomponent",
    payments="payments_payment",
    inventory_movements="inventory_movement",
)


def create_rms(
    url: str,
    names: RmsTables | None = None,
    *,
    with_movements: bool = True,
    with_pii: bool = True,
) -> RmsTableSet:
    """Create the contract tables (and PII columns) at ``url``; return the table set."""
    tables = build_tables(names)
    engine = sa.create_engine(url)
    try:
        selected = [
            t
            for canonical, t in tables.tables.items()
            if with_movements or canonical != "inventory_movements"
        ]
        tables.metadata.create_all(engine, tables=selected)
        if with_pii:
            with engine.begin() as conn:
                for canonical, columns in PII_COLUMNS.items():
                    name = tables[canonical].fullname
                    for column in columns:
                        conn.execute(sa.text(f"ALTER TABLE {name} ADD COLUMN {column} TEXT"))
    finally:
        engine.dispose()
    return tables


def insert_rows(
    url: str, tables: RmsTableSet, rows: Mapping[str, Sequence[Mapping[str, Any]]]
) -> None:
    """Insert ``rows`` per canonical table (PII columns included) via a writable engine."""
    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.begin() as conn:
            for canonical, contract_table in tables.tables.items():
                if not rows.get(canonical):
                    continue
                # Reflect, so the PII columns the contract does not declare can be filled.
                table = sa.Table(
                    contract_table.name,
                    sa.MetaData(),
                    schema=contract_table.schema,
                    autoload_with=conn,
                )
                conn.execute(table.insert(), [_params(row, sqlite) for row in rows[canonical]])
    finally:
        engine.dispose()


def _params(row: Mapping[str, Any], sqlite: bool) -> dict[str, Any]:
    # SQLite stores the contract's timestamps as ISO 8601 text with an offset.
    return {k: v.isoformat() if sqlite and isinstance(v, datetime) else v for k, v in row.items()}


def _ts(text: str) -> datetime:
    # Keep the local offset: SQLite then holds text with varied offsets, as a real RMS would.
    return datetime.fromisoformat(text)


def small_dataset() -> dict[str, list[dict[str, Any]]]:
    """Two restaurants (Berlin, New York), a 1990s order, and one of each dirty case."""
    base = _ts("2024-03-05T12:00:00+01:00")
    orders = [
        # id, restaurant, customer, created_at, status
        (1, 1, 10, _ts("1994-06-01T12:30:00+02:00"), "completed"),
        (2, 1, None, base, "completed"),
        (3, 1, 10, base + timedelta(hours=1), "cancelled"),
        (4, 2, 11, _ts("2024-03-10T01:30:00-05:00"), "completed"),
        (5, 2, None, _ts("2024-03-10T23:59:00-04:00"), "refunded"),
        (6, 2, None, _ts("2024-03-11T00:01:00-04:00"), "open"),
    ]
    return {
        "restaurants": [
            {"id": 1, "name": "Mitte", "timezone": "Europe/Berlin"},
            {"id": 2, "name": "SoHo", "timezone": "America/New_York"},
        ],
        "menu_items": [
            {
                "id": 100,
                "restaurant_id": 1,
                "name": "Schnitzel",
                "category": "main",
                "price": 18.5,
                "is_active": True,
            },
            {
                "id": 101,
                "restaurant_id": 1,
                "name": "Old soup",
                "category": None,
                "price": 6.0,
                "is_active": False,
            },
            {
                "id": 200,
                "restaurant_id": 2,
                "name": "Bagel",
                "category": "breakfast",
                "price": 4.25,
                "is_active": True,
            },
        ],
        "kitchen_stations": [
            {"id": 1, "restaurant_id": 1, "name": "grill"},
            {"id": 2, "restaurant_id": 2, "name": "cold"},
        ],
        "customer_profiles": [
            {
                "id": 10,
                "restaurant_id": 1,
                "created_at": _ts("1993-01-02T10:00:00+01:00"),
                "loyalty_tier": "gold",
                "loyalty_points": 1200,
                "full_name": "Erika Mustermann",
                "email": "erika@example.com",
                "phone": "+49 30 1234567",
                "birth_date": "1970-01-01",
            },
            {
                "id": 11,
                "restaurant_id": None,
                "created_at": base,
                "loyalty_tier": None,
                "loyalty_points": None,
                "full_name": "John Doe",
                "email": "john@example.com",
                "phone": "+1 212 555 0100",
                "birth_date": "1980-02-02",
            },
        ],
        "orders": [
            {
                "id": i,
                "restaurant_id": r,
                "customer_id": c,
                "created_at": ts,
                "closed_at": ts + timedelta(minutes=40),
                "status": st,
                "channel": "dine_in",
                "guest_count": 2 if i % 2 else None,
                "total_amount": 20.5,
                "customer_name": "Erika Mustermann",
                "delivery_address": "Street 1",
                "customer_phone": "+49 30 1234567",
            }
            for i, r, c, ts, st in orders
        ],
        "order_items": [
            {
                "id": 1000,
                "order_id": 1,
                "menu_item_id": 100,
                "quantity": 2,
                "unit_price": 9.5,
                "is_voided": False,
            },
            {
                "id": 1001,
                "order_id": 2,
                "menu_item_id": 100,
                "quantity": 1,
                "unit_price": 18.5,
                "is_voided": False,
            },
            {
                "id": 1002,
                "order_id": 2,
                "menu_item_id": 101,
                "quantity": 1,
                "unit_price": 6.0,
                "is_voided": True,
            },
            {
                "id": 1003,
                "order_id": 3,
                "menu_item_id": 100,
                "quantity": 1,
                "unit_price": 18.5,
                "is_voided": False,
            },
            {
                "id": 1004,
                "order_id": 4,
                "menu_item_id": 200,
                "quantity": 3,
                "unit_price": 4.25,
                "is_voided": False,
            },
            {
                "id": 1005,
                "order_id": 4,
                "menu_item_id": 999,
                "quantity": 1,
                "unit_price": 1.0,
                "is_voided": False,
            },
            {
                "id": 1006,
                "order_id": 4,
                "menu_item_id": 200,
                "quantity": 0,
                "unit_price": 4.25,
                "is_voided": False,
            },
        ],
        "order_item_stations": [
            {
                "id": 1,
                "order_item_id": 1001,
                "station_id": 1,
                "queued_at": base,
                "started_at": base + timedelta(minutes=1),
                "completed_at": base + timedelta(minutes=9),
            },
            {
                "id": 2,
                "order_item_id": 1004,
                "station_id": 2,
                "queued_at": base,
                "started_at": None,
                "completed_at": None,
            },
        ],
        "inventory_items": [
            {
                "id": 1,
                "restaurant_id": 1,
                "name": "veal",
                "unit": "kg",
                "reorder_level": 5.0,
                "lead_time_days": 2,
                "unit_cost": 21.0,
            },
        ],
        "inventory_batches": [
            {
                "id": 1,
                "inventory_item_id": 1,
                "received_at": base,
                "quantity_received": 10.0,
                "quantity_remaining": 4.5,
                "expires_at": base + timedelta(days=5),
                "unit_cost": 20.0,
            },
        ],
        "recipe_components": [
            {"menu_item_id": 100, "inventory_item_id": 1, "quantity": 0.2},
        ],
        "payments": [
            {
                "id": 1,
                "order_id": 2,
                "method": "card",
                "amount": 18.5,
                "paid_at": base,
                "status": "captured",
                "card_holder": "Erika Mustermann",
                "card_last4": "4242",
            },
        ],
        "inventory_movements": [
            {
                "id": 1,
                "inventory_item_id": 1,
                "occurred_at": base,
                "quantity_delta": -0.2,
                "reason": "sale",
            },
        ],
    }
