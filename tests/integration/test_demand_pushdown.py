"""The demand extract pushed down to PostgreSQL equals the row-level path, counts included.

Demo data (every dirty kind, a US and an EU clock change, Django table names) in a real
PostgreSQL schema; ``load_inputs`` with the rules and bucketing in SQL must give the same
daily and hourly series and the same quality report as cleaning every row in pandas.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from rms_ml_push.config import Settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.demand_data import load_inputs
from tests.rms_fixtures import DJANGO_NAMES

DJANGO = DJANGO_NAMES
# 75 days to mid-April 2024: the US (10 March) and EU (31 March) clock changes are inside.
END = date(2024, 4, 15)


@pytest.fixture(params=["id_keys", "no_keys"])
def settings(pg_schema_url: str, request: pytest.FixtureRequest) -> Settings:
    """A fresh demo RMS of 3 restaurants (Berlin, New York, Tokyo); without id keys, with
    some rows copied under the same id (a replica or view that keeps no constraints)."""
    engine = demo_engine(pg_schema_url)
    generate_demo(engine, DemoConfig(end=END, restaurants=3, days=75, seed=11, tables=DJANGO))
    if request.param == "no_keys":
        with engine.begin() as conn:
            for table in (DJANGO.orders, DJANGO.order_items, DJANGO.payments):
                conn.execute(sa.text(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey"))
                conn.execute(
                    sa.text(f"INSERT INTO {table} SELECT * FROM {table} WHERE id % 97 = 0")
                )
    engine.dispose()
    return Settings(rms_url=pg_schema_url, rms_tables=DJANGO)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("as_of", "restaurants"),
    [
        (datetime(2024, 4, 16, 6, tzinfo=UTC), None),
        (datetime(2024, 3, 31, 1, 30, tzinfo=UTC), (2, 3)),  # mid clock change in Berlin
    ],
)
def test_pushdown_equals_row_level(
    settings: Settings, as_of: datetime, restaurants: tuple[int, ...] | None
) -> None:
    """Same series, same per-rule counts; dirty rows were there to be counted."""
    with open_resources(settings) as res:
        assert res.reader.pushes_down
        unique = res.reader.unique_ids(["orders", "order_items", "payments"])
        pushed = load_inputs(res, as_of, restaurants)
        rows = load_inputs(res, as_of, restaurants, pushdown=False)
    for name in ("daily", "hourly"):
        left, right = getattr(pushed, name), getattr(rows, name)
        assert len(left) > 0
        pd.testing.assert_frame_equal(left, right, check_dtype=False)
    assert pushed.quality.to_dict() == rows.quality.to_dict()
    counts = pushed.quality.counts()
    for rule in ("duplicate_line", "order_cancelled", "line_voided", "payment_not_captured"):
        assert counts[rule] > 0, rule
    if unique:  # the keys were detected, and then no row can be a copy of its id
        assert unique == {"orders", "order_items", "payments"}
        assert counts["duplicate_row"] == 0
    else:
        assert counts["duplicate_row"] > 0
