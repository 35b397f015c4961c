"""Every dirty-data rule of the contract is counted on the demo generator's data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine
from rms_ml_push.features import quality as q
from rms_ml_push.features.quality import QualityContext
from rms_ml_push.rms.engine import create_rms_engine
from rms_ml_push.rms.extract import RmsReader
from rms_ml_push.rms.tables import build_tables

END = date(2024, 3, 31)


def test_every_injected_kind_is_counted(tmp_path: Path) -> None:
    """Each kind the generator injects shows up under its rule, and no row goes uncounted."""
    url = f"sqlite:///{tmp_path / 'rms.sqlite3'}"
    engine = demo_engine(url)
    summary = generate_demo(engine, DemoConfig(end=END, restaurants=1, days=60, seed=7))
    engine.dispose()
    reader = RmsReader(create_rms_engine(url), build_tables(None))
    # "now" is the day after the data ends; as_of at the end leaves nothing after it.
    now = datetime(2024, 4, 1, 12, tzinfo=UTC)
    ctx = QualityContext(now=now, as_of=now)
    try:
        orders, orders_report = q.clean_orders(reader.orders(), ctx)
        menu_ids = set(reader.menu_items()["id"])
        lines, lines_report = q.clean_order_lines(reader.order_lines(), ctx, menu_ids)
        tickets, kitchen_report = q.clean_kitchen_tickets(reader.kitchen_tickets(), ctx)
    finally:
        reader.dispose()
    counts = orders_report.merge(lines_report).merge(kitchen_report).counts()
    injected = summary.dirty
    expected = {
        "orders_future_timestamp": q.TIMESTAMP_IN_FUTURE,
        "orders_before_floor": q.TIMESTAMP_BEFORE_FLOOR,
        "orders_cancelled": q.ORDER_CANCELLED,
        "orders_refunded": q.ORDER_REFUNDED,
        "orders_open": q.ORDER_OPEN,
        "lines_voided": q.LINE_VOIDED,
        "lines_nonpositive_quantity": q.QUANTITY_NON_POSITIVE,
        "lines_duplicate": q.DUPLICATE_LINE,
        "lines_deleted_menu_item": q.MENU_ITEM_UNKNOWN,
        "kitchen_missing_started": q.KITCHEN_NOT_STARTED,
        "kitchen_missing_completed": q.KITCHEN_NOT_COMPLETED,
        "kitchen_completed_before_started": q.KITCHEN_COMPLETED_BEFORE_STARTED,
        "kitchen_hours_long": q.KITCHEN_DURATION_TOO_LONG,
    }
    assert set(expected) <= set(injected), "the generator stopped injecting a kind"
    for kind, rule in expected.items():
        assert injected[kind] > 0, kind
        assert counts.get(rule, 0) > 0, f"{kind} injected {injected[kind]}x, {rule} counted 0"
    # Only the injected copies are duplicates: legitimate lines are never dropped as such.
    assert counts[q.DUPLICATE_LINE] == injected["lines_duplicate"]
    assert len(orders) > 0
    assert len(lines) > 0
    assert len(tickets) > 0
    with sa.create_engine(url).connect() as conn:
        n_orders = conn.execute(sa.text("SELECT count(*) FROM orders")).scalar()
    # rows in = rows kept + rows dropped, per frame (FrameQuality refuses anything else)
    frame = orders_report.frames["orders"]
    assert frame.rows_in == n_orders
    assert frame.rows_out == len(orders)
