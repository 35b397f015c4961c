"""The RMS read side against real SQLite and PostgreSQL databases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from rms_ml_push.config import RmsSettings, RmsTables
from rms_ml_push.errors import RmsSchemaError, RmsUnavailableError
from rms_ml_push.rms.engine import create_rms_engine
from rms_ml_push.rms.extract import RmsReader
from rms_ml_push.rms.tables import build_tables
from tests.rms_fixtures import DJANGO_NAMES, PII_COLUMNS, create_rms, insert_rows, small_dataset

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]


@pytest.fixture(params=BACKENDS)
def rms_url(request: pytest.FixtureRequest) -> str:
    """A SQLite file or a fresh PostgreSQL schema for one test."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_schema_url"))


def _reader(url: str, names: RmsTables | None = None, chunk_rows: int = 1000) -> RmsReader:
    engine = create_rms_engine(url, RmsSettings(chunk_rows=chunk_rows))
    return RmsReader(engine, build_tables(names), chunk_rows=chunk_rows)


@pytest.fixture
def django_reader(rms_url: str) -> Iterator[RmsReader]:
    """A reader over a seeded RMS whose tables carry Django-style names and PII columns."""
    tables = create_rms(rms_url, DJANGO_NAMES)
    insert_rows(rms_url, tables, small_dataset())
    reader = _reader(rms_url, DJANGO_NAMES)
    yield reader
    reader.dispose()


def test_write_through_rms_engine_fails(rms_url: str) -> None:
    """INSERT, CREATE and UPDATE through the RMS engine are refused by the session."""
    create_rms(rms_url)
    engine = create_rms_engine(rms_url, RmsSettings())
    statements = [
        "INSERT INTO restaurants (id, name, timezone) VALUES (1, 'x', 'UTC')",
        "CREATE TABLE sneaky (x INTEGER)",
        "UPDATE restaurants SET name = 'y'",
    ]
    try:
        for statement in statements:
            with (
                pytest.raises(sa.exc.DBAPIError, match=r"read-only|readonly"),
                engine.begin() as conn,
            ):
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_django_names_extract_typed_frames(django_reader: RmsReader) -> None:
    """Through the Django table map, orders and lines come back typed and in UTC."""
    orders = django_reader.orders()
    assert list(orders["id"]) == [1, 2, 3, 4, 5, 6]
    assert str(orders["created_at"].dtype) == "datetime64[ns, UTC]"
    assert orders.loc[0, "created_at"] == pd.Timestamp("1994-06-01T10:30:00Z")
    assert str(orders["customer_id"].dtype) == "Int64"
    assert orders["customer_id"].isna().sum() == 3
    assert orders["total_amount"].dtype == "float64"
    lines = django_reader.order_lines()
    assert list(lines.columns) == [
        "id", "order_id", "menu_item_id", "quantity", "unit_price", "is_voided",
        "restaurant_id", "customer_id", "created_at", "status", "channel",
    ]  # fmt: skip
    assert lines["is_voided"].dtype == bool
    assert lines.loc[lines.id == 1004, "restaurant_id"].item() == 2
    assert lines.loc[lines.id == 1003, "status"].item() == "cancelled"
    assert lines["unit_price"].dtype == "float64"


def test_window_is_half_open_in_utc(django_reader: RmsReader) -> None:
    """since <= created_at < until, compared as instants whatever the stored offset."""
    since = datetime(2024, 3, 10, 6, 30, tzinfo=UTC)  # order 4 is 06:30Z exactly
    until = datetime(2024, 3, 11, 3, 59, tzinfo=UTC)  # order 5 is 03:59Z exactly
    assert list(django_reader.orders(since, until)["id"]) == [4]
    assert list(django_reader.orders(until=datetime(1995, 1, 1, tzinfo=UTC))["id"]) == [1]
    lines = django_reader.order_lines(since, until, restaurant_ids=[2])
    assert list(lines["id"]) == [1004, 1005, 1006]
    assert django_reader.order_lines(since, until, restaurant_ids=[1]).empty


def test_chunks_are_bounded(django_reader: RmsReader) -> None:
    """iter_order_lines yields frames of at most chunk_rows rows that add up to all lines."""
    django_reader.chunk_rows = 2
    chunks = list(django_reader.iter_order_lines())
    assert [len(c) for c in chunks] == [2, 2, 2, 1]
    assert list(pd.concat(chunks)["id"]) == list(range(1000, 1007))


def test_every_table_reads(django_reader: RmsReader) -> None:
    """Each reader method returns the documented columns for the seeded rows."""
    assert list(django_reader.restaurants()["timezone"]) == ["Europe/Berlin", "America/New_York"]
    items = django_reader.menu_items()
    assert list(items["is_active"]) == [True, False, True]
    assert items["category"].isna().sum() == 1
    assert len(django_reader.kitchen_stations(restaurant_ids=[2])) == 1
    customers = django_reader.customer_profiles()
    assert list(customers.columns) == [
        "id", "restaurant_id", "created_at", "loyalty_tier", "loyalty_points",
    ]  # fmt: skip
    assert customers["restaurant_id"].isna().sum() == 1
    tickets = django_reader.kitchen_tickets()
    assert tickets["started_at"].isna().sum() == 1
    assert list(tickets["menu_item_id"]) == [100, 200]
    assert django_reader.inventory_items()["lead_time_days"].tolist() == [2]
    assert django_reader.inventory_batches()["quantity_remaining"].tolist() == [4.5]
    assert django_reader.recipe_components()["quantity"].tolist() == [0.2]
    assert django_reader.payments()["status"].tolist() == ["captured"]
    assert django_reader.has_inventory_movements()
    assert django_reader.inventory_movements()["reason"].tolist() == ["sale"]


def test_missing_movements_table_is_empty_not_error(rms_url: str) -> None:
    """Without the optional inventory_movements table the reader returns a typed empty frame."""
    create_rms(rms_url, with_movements=False)
    reader = _reader(rms_url)
    try:
        assert not reader.has_inventory_movements()
        frame = reader.inventory_movements()
        assert frame.empty
        assert str(frame["occurred_at"].dtype) == "datetime64[ns, UTC]"
    finally:
        reader.dispose()


def test_no_pii_column_is_ever_selected(django_reader: RmsReader) -> None:
    """Every statement the reader sends names no PII column, though the tables have them."""
    statements: list[str] = []

    def _capture(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement.lower())

    sa.event.listen(django_reader.engine, "before_cursor_execute", _capture)
    for method in (
        django_reader.restaurants, django_reader.menu_items, django_reader.kitchen_stations,
        django_reader.customer_profiles, django_reader.orders, django_reader.order_lines,
        django_reader.kitchen_tickets, django_reader.inventory_items,
        django_reader.inventory_batches, django_reader.recipe_components,
        django_reader.payments, django_reader.inventory_movements,
    ):  # fmt: skip
        method()
    # PostgreSQL reads through COPY (SELECT ...) TO STDOUT; SQLite through a plain SELECT.
    selects = [s.removeprefix("copy (") for s in statements if "from pg_catalog" not in s]
    selects = [s for s in selects if s.lstrip().startswith("select")]
    assert len(selects) >= 12
    assert any("from orders_order" in s for s in selects)
    pii = [c for cols in PII_COLUMNS.values() for c in cols]
    for statement in selects:
        assert "*" not in statement.split("from")[0]
        for column in pii:
            assert column not in statement, statement


def test_unreachable_postgres_is_unavailable_error() -> None:
    """A closed port gives RmsUnavailableError without the password in the message."""
    url = "postgresql+psycopg://ml:hunter2secret@127.0.0.1:1/rms"
    reader = _reader(url)
    with pytest.raises(RmsUnavailableError) as exc:
        reader.orders()
    assert "hunter2secret" not in str(exc.value)
    assert "127.0.0.1" in str(exc.value)


def test_missing_sqlite_file_is_unavailable(tmp_path: object) -> None:
    """A SQLite RMS path that does not exist is an error, not a new empty database."""
    with pytest.raises(RmsUnavailableError, match="not found"):
        create_rms_engine("sqlite:////nonexistent/dir/rms.sqlite3")


def test_awkward_values_round_trip(rms_url: str) -> None:
    """Tabs, newlines, backslashes, empty vs NULL text, microseconds and year 9999 survive."""
    tables = create_rms(rms_url)
    odd = "Tab\there\nnew line \\ back\\N"
    exact = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    far = datetime(9999, 12, 31, tzinfo=UTC)
    insert_rows(
        rms_url,
        tables,
        {
            "menu_items": [
                {"id": 1, "restaurant_id": 1, "name": odd, "category": "", "price": 1.5,
                 "is_active": True},
                {"id": 2, "restaurant_id": 1, "name": "x", "category": None, "price": 2.0,
                 "is_active": False},
            ],
            "orders": [
                {"id": 1, "restaurant_id": 1, "customer_id": None, "created_at": exact,
                 "closed_at": far, "status": "completed", "channel": "dine_in",
                 "guest_count": None, "total_amount": 0.1},
            ],
        },
    )  # fmt: skip
    reader = _reader(rms_url)
    try:
        items = reader.menu_items()
        assert items["name"].tolist() == [odd, "x"]
        assert items["category"].tolist() == ["", None]
        orders = reader.orders()
        assert orders.loc[0, "created_at"] == pd.Timestamp(exact)
        assert pd.isna(orders.loc[0, "closed_at"])  # out of range: NaT, counted by quality
        assert orders.loc[0, "total_amount"] == 0.1
    finally:
        reader.dispose()


def test_missing_mapped_table_is_schema_error(rms_url: str) -> None:
    """A mapped table that does not exist is an RmsSchemaError naming the setting, not an outage."""
    create_rms(rms_url)
    reader = _reader(rms_url, RmsTables(orders="orders_order"))
    try:
        with pytest.raises(RmsSchemaError, match="RMS_ML_RMS_TABLES__"):
            reader.orders()
    finally:
        reader.dispose()


def test_quality_on_extracted_lines(django_reader: RmsReader) -> None:
    """Extract then clean: the seeded dirty lines are each counted, the rest kept."""
    from rms_ml_push.features import quality as q  # noqa: PLC0415

    ctx = q.QualityContext(now=datetime(2024, 3, 12, tzinfo=UTC))
    lines = django_reader.order_lines()
    menu_ids = django_reader.menu_items()["id"]
    clean, report = q.clean_order_lines(lines, ctx, menu_item_ids=menu_ids)
    assert sorted(clean["id"]) == [1000, 1001, 1004]  # 1994, 2024 Berlin, 2024 New York
    assert report.counts() == {
        q.DUPLICATE_LINE: 0, q.DUPLICATE_ROW: 0, q.LINE_VOIDED: 1, q.MENU_ITEM_UNKNOWN: 1,
        q.ORDER_CANCELLED: 1, q.ORDER_OPEN: 0, q.ORDER_REFUNDED: 0, q.ORDER_STATUS_UNKNOWN: 0,
        q.QUANTITY_NON_POSITIVE: 1, q.TIMESTAMP_BEFORE_FLOOR: 0, q.TIMESTAMP_IN_FUTURE: 0,
        q.TIMESTAMP_INVALID: 0,
    }  # fmt: skip
