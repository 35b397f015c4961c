"""Customer transactions from clean orders: every dropped row counted, homes mapped."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from rms_ml_push.features.customer_orders import customer_transactions, in_scope, order_refunds
from rms_ml_push.features.quality import QualityContext


def _orders() -> pd.DataFrame:
    ts = pd.to_datetime(
        [
            "2026-01-01T10:00Z",
            "2026-01-02T10:00Z",
            "2026-01-03T10:00Z",
            "2026-01-04T10:00Z",
            "2026-01-05T10:00Z",
            "2026-01-06T10:00Z",
        ],
        utc=True,
    )
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "restaurant_id": [1, 1, 2, 2, 1, 2],
            "customer_id": pd.array([10, None, 11, 99, 12, 10], dtype="Int64"),
            "created_at": ts,
            "status": ["completed"] * 6,
            "total_amount": [20.0, 15.0, 30.0, 12.0, 0.0, 25.0],
        }
    )


def _profiles() -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [10, 11, 12], "restaurant_id": pd.array([1, None, 2], dtype="Int64")}
    )


def test_anonymous_unknown_and_zero_orders_are_dropped_and_counted() -> None:
    """Walk-ins, customers without a profile and zero bills leave, each under its rule."""
    tx, report = customer_transactions(_orders(), _profiles())
    assert report.counts() == {
        "amount_non_positive": 1,
        "anonymous_order": 1,
        "customer_unknown": 1,
        "refunded_in_full_by_payments": 0,
    }
    quality = report.frames["customer_orders"]
    assert quality.rows_in == 6
    assert quality.rows_out == 3
    assert list(tx.columns) == ["customer_id", "restaurant_id", "ts", "amount", "refunded"]
    assert tx["customer_id"].tolist() == [10, 11, 10]
    assert tx["amount"].tolist() == [20.0, 30.0, 25.0]


def test_home_restaurant_comes_from_the_profile_not_the_order() -> None:
    """Customer 11 ordered at restaurant 2 but is chain-wide; 10 stays home at 1."""
    tx, _ = customer_transactions(_orders(), _profiles())
    homes = dict(zip(tx["customer_id"], tx["restaurant_id"], strict=True))
    assert homes[10] == 1
    assert pd.isna(homes[11])
    assert str(tx["restaurant_id"].dtype) == "Int64"
    assert str(tx["ts"].dtype) == "datetime64[ns, UTC]"


@pytest.mark.parametrize(
    ("restaurants", "expected"),
    [(None, [True, True, True]), ((1,), [True, False, False]), ((2,), [False, False, True])],
)
def test_scope_keeps_chain_wide_customers_only_unfiltered(
    restaurants: tuple[int, ...] | None, expected: list[bool]
) -> None:
    """A restaurant filter publishes that restaurant's customers and never chain-wide ones."""
    homes = pd.Series(pd.array([1, None, 2], dtype="Int64"))
    assert in_scope(homes, restaurants).tolist() == expected


def _payments() -> pd.DataFrame:
    paid = pd.to_datetime(
        [
            "2026-01-01T11:00Z",
            "2026-01-03T11:00Z",
            "2026-01-03T12:00Z",
            "2026-01-03T12:00Z",
            "2026-01-06T11:00Z",
            "2026-01-06T11:00Z",
            "2026-02-01T00:00Z",
        ],
        utc=True,
    )
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 3, 4, 5, 6],
            "order_id": [1, 3, 3, 3, 6, 6, 1],
            "method": ["card"] * 7,
            # order 3: two partial refunds, one row twice; order 6: captured + refunded
            # in full (stored negative); order 1: a refund after as_of.
            "amount": [20.0, 4.0, 6.0, 6.0, 25.0, -25.0, 20.0],
            "paid_at": paid,
            "status": [
                "captured",
                "refunded",
                "refunded",
                "refunded",
                "captured",
                "refunded",
                "refunded",
            ],
        }
    )


def _ctx() -> QualityContext:
    return QualityContext(
        now=datetime(2026, 3, 1, tzinfo=UTC), as_of=datetime(2026, 1, 10, tzinfo=UTC)
    )


def test_refunded_payments_are_summed_per_order_and_cleaned() -> None:
    """Only refunded payments count, by absolute value; a duplicate and a later refund
    are left out and counted."""
    refunds, report = order_refunds(_payments(), _ctx())
    assert refunds.to_dict() == {3: 10.0, 6: 25.0}
    quality = report.frames["customer_refunds"]
    assert quality.dropped["duplicate_row"] == 1
    assert quality.after_as_of == 1


def test_partial_refund_lowers_spend_and_full_refund_drops_the_order() -> None:
    """Order 3 (30) keeps 20 after 10 refunded; order 6 (25) refunded in full leaves."""
    refunds, _ = order_refunds(_payments(), _ctx())
    tx, report = customer_transactions(_orders(), _profiles(), refunds)
    assert report.counts()["refunded_in_full_by_payments"] == 1
    assert tx["customer_id"].tolist() == [10, 11]
    assert tx["amount"].tolist() == [20.0, 20.0]
    assert tx["refunded"].tolist() == [0.0, 10.0]
