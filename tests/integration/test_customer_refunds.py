"""Partial refunds recorded only as refunded payments lower customer spend: the
customers job's extract on real SQLite and PostgreSQL databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rms_ml_push.config import load_settings
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.customers import extract
from rms_ml_push.jobs.customers_output import refund_counts
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.customers import summarise
from tests.rms_fixtures import create_rms, insert_rows

BACKENDS = ["sqlite", pytest.param("pg", marks=pytest.mark.pg)]
AS_OF = datetime(2024, 6, 1, tzinfo=UTC)
DAY = datetime(2024, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def rms_url(request: pytest.FixtureRequest) -> str:
    """A SQLite file or a fresh PostgreSQL schema for one test."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_schema_url"))


def _order(order_id: int, customer: int, days: int, amount: float) -> dict[str, Any]:
    at = DAY + timedelta(days=days)
    return {
        "id": order_id,
        "restaurant_id": 1,
        "customer_id": customer,
        "created_at": at,
        "closed_at": at,
        "status": "completed",
        "channel": "dine_in",
        "guest_count": 2,
        "total_amount": amount,
    }


def _payment(pid: int, order_id: int, days: int, amount: float, status: str) -> dict[str, Any]:
    return {
        "id": pid,
        "order_id": order_id,
        "method": "card",
        "amount": amount,
        "paid_at": DAY + timedelta(days=days, hours=1),
        "status": status,
    }


def _rows() -> dict[str, list[dict[str, Any]]]:
    created = DAY - timedelta(days=30)
    return {
        "restaurants": [{"id": 1, "name": "Mitte", "timezone": "Europe/Berlin"}],
        "customer_profiles": [
            {"id": 10, "restaurant_id": 1, "created_at": created},
            {"id": 11, "restaurant_id": 1, "created_at": created},
        ],
        "orders": [_order(1, 10, 0, 40.0), _order(2, 10, 7, 30.0), _order(3, 11, 2, 50.0)],
        "payments": [
            _payment(1, 1, 0, 40.0, "captured"),
            # A refund paid after as_of is not known to the run.
            _payment(2, 1, 120, 40.0, "refunded"),
            _payment(3, 2, 7, 30.0, "captured"),
            _payment(4, 2, 8, 12.0, "refunded"),  # partial: 18 of 30 stays spend
            _payment(5, 2, 8, 5.0, "failed"),  # not money back
            _payment(6, 3, 2, 50.0, "captured"),
            _payment(7, 3, 3, -50.0, "refunded"),  # in full, stored negative
        ],
    }


def test_refunded_payments_are_subtracted_from_spend(rms_url: str, tmp_path: Path) -> None:
    """Customer 10 spent 40 + 18; customer 11's order was refunded in full and left."""
    tables = create_rms(rms_url)
    insert_rows(rms_url, tables, _rows())
    settings = load_settings(
        rms_url=rms_url,
        store_url=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        model_dir=tmp_path / "models",
    )
    with open_resources(settings) as resources:
        data = extract(resources, JobRequest("customers", AS_OF))
    tx = data.transactions.sort_values("ts")
    assert tx["customer_id"].tolist() == [10, 10]
    assert tx["amount"].tolist() == pytest.approx([40.0, 18.0])
    counts = data.quality.counts()
    assert counts["refunded_in_full_by_payments"] == 1
    # Only refunds paid before as_of are read (SQL filters status and window).
    assert data.quality.frames["customer_refunds"].rows_in == 2
    assert refund_counts(data) == {"partial_refunds": 1, "refunded_amount": 12.0}
    summary = summarise(data.transactions, AS_OF)
    assert summary.loc[10, "total_spend"] == pytest.approx(58.0)
    assert summary.loc[10, "monetary_value"] == pytest.approx(18.0)
