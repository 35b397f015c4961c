"""Data-quality rules: every dirty-data rule counted, nothing dropped uncounted."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.config import RmsSettings
from rms_ml_push.features import quality as q
from rms_ml_push.features.report import FrameQuality, QualityReport

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
AS_OF = datetime(2024, 5, 31, 4, tzinfo=UTC)
CTX = q.QualityContext(now=NOW, as_of=AS_OF, kitchen_max_duration_s=3600)


def _ts(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, utc=True), dtype="datetime64[ns, UTC]")


def _lines() -> pd.DataFrame:
    """One order line per rule, in rule order, plus one clean line."""
    ok = "2024-05-01T12:00Z"
    rows = [
        # id, order, item, qty, price, voided, created_at, status
        (1, 1, 10, 1, 5.0, False, ok, "completed"),  # clean
        (2, 2, 10, 1, 5.0, False, None, "completed"),  # timestamp_invalid
        (3, 3, 10, 1, 5.0, False, "1989-12-31T23:00Z", "completed"),  # before floor
        (4, 4, 10, 1, 5.0, False, "2024-06-02T00:00Z", "completed"),  # in the future
        (5, 5, 10, 1, 5.0, False, "2024-05-31T05:00Z", "completed"),  # after as_of
        (1, 1, 10, 1, 5.0, False, ok, "completed"),  # duplicate_row (same id)
        (7, 1, 10, 1, 5.0, False, ok, "completed"),  # duplicate_line (same content)
        (8, 8, 10, 1, 5.0, False, ok, "cancelled"),
        (9, 9, 10, 1, 5.0, False, ok, "refunded"),
        (10, 10, 10, 1, 5.0, False, ok, "open"),
        (11, 11, 10, 1, 5.0, False, ok, "lost"),  # order_status_unknown
        (12, 12, 10, 1, 5.0, True, ok, "completed"),  # line_voided
        (13, 13, 10, 0, 5.0, False, ok, "completed"),  # quantity_non_positive
        (14, 14, 99, 1, 5.0, False, ok, "completed"),  # menu_item_unknown
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "id", "order_id", "menu_item_id", "quantity", "unit_price", "is_voided",
            "created_at", "status",
        ],
    )  # fmt: skip
    df["created_at"] = _ts(list(df["created_at"]))
    return df


def test_order_lines_every_rule_counted_once() -> None:
    """Each dirty line is dropped by its own rule; the clean line stays."""
    clean, report = q.clean_order_lines(_lines(), CTX, menu_item_ids=[10])
    assert list(clean["id"]) == [1]
    frame = report.frames["order_lines"]
    assert frame.after_as_of == 1
    assert dict(frame.dropped) == {
        q.TIMESTAMP_INVALID: 1, q.TIMESTAMP_BEFORE_FLOOR: 1, q.TIMESTAMP_IN_FUTURE: 1,
        q.DUPLICATE_ROW: 1, q.DUPLICATE_LINE: 1, q.ORDER_CANCELLED: 1, q.ORDER_REFUNDED: 1,
        q.ORDER_OPEN: 1, q.ORDER_STATUS_UNKNOWN: 1, q.LINE_VOIDED: 1,
        q.QUANTITY_NON_POSITIVE: 1, q.MENU_ITEM_UNKNOWN: 1,
    }  # fmt: skip
    assert report.to_dict()["after_as_of"] == 1
    assert report.dropped_total == 12


def test_without_as_of_later_rows_stay() -> None:
    """Without an as_of no row is 'after' it; the future rule still applies."""
    ctx = q.QualityContext(now=NOW)
    clean, report = q.clean_order_lines(_lines(), ctx)
    assert 5 in set(clean["id"])
    assert 14 in set(clean["id"])
    assert report.after_as_of == 0
    assert q.MENU_ITEM_UNKNOWN not in report.counts()


def test_kitchen_rules() -> None:
    """Unstarted, uncompleted, reversed and hours-long tickets are each counted."""
    q_at = "2024-05-01T12:00Z"
    df = pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5],
            "queued_at": _ts([q_at] * 5),
            "started_at": _ts([q_at, None, q_at, "2024-05-01T12:10Z", q_at]),
            "completed_at": _ts(
                ["2024-05-01T12:08Z", q_at, None, "2024-05-01T12:05Z", "2024-05-01T15:00Z"]
            ),
        }
    )
    clean, report = q.clean_kitchen_tickets(df, CTX)
    assert list(clean["id"]) == [1]
    counts = report.counts()
    for rule in (
        q.KITCHEN_NOT_STARTED, q.KITCHEN_NOT_COMPLETED, q.KITCHEN_COMPLETED_BEFORE_STARTED,
        q.KITCHEN_DURATION_TOO_LONG,
    ):  # fmt: skip
        assert counts[rule] == 1, rule


def test_payments_orders_batches_movements_customers() -> None:
    """The other frames' rules drop what the contract calls dirty and keep empty batches."""
    ts = _ts(["2024-05-01T12:00Z"] * 3)
    payments = pd.DataFrame(
        {"id": [1, 2, 3], "amount": [5.0, 5.0, 0.0], "paid_at": ts,
         "status": ["captured", "failed", "captured"]}
    )  # fmt: skip
    _, report = q.clean_payments(payments, CTX)
    assert report.counts()[q.PAYMENT_NOT_CAPTURED] == 1
    assert report.counts()[q.PAYMENT_AMOUNT_NON_POSITIVE] == 1
    orders = pd.DataFrame({"id": [1, 1, 2], "created_at": ts, "status": ["completed"] * 3})
    clean, report = q.clean_orders(orders, CTX)
    assert len(clean) == 2
    assert report.counts()[q.DUPLICATE_ROW] == 1
    batches = pd.DataFrame(
        {"id": [1, 2, 3], "received_at": ts, "quantity_received": [5.0, 0.0, 3.0],
         "quantity_remaining": [0.0, 0.0, -1.0]}
    )  # fmt: skip
    clean, report = q.clean_inventory_batches(batches, CTX)
    assert list(clean["id"]) == [1]  # empty batch kept: it is a fact, not dirt
    assert report.counts()[q.BATCH_QUANTITY_INVALID] == 2
    movements = pd.DataFrame({"id": [1, 2], "occurred_at": ts[:2], "reason": ["sale", "theft"]})
    _, report = q.clean_inventory_movements(movements, CTX)
    assert report.counts()[q.MOVEMENT_REASON_UNKNOWN] == 1
    customers = pd.DataFrame({"id": [1, 2], "created_at": _ts(["2024-05-01T00:00Z", None])})
    _, report = q.clean_customers(customers, CTX)
    assert report.counts()[q.TIMESTAMP_INVALID] == 1


def test_report_merge_and_invariant_guard() -> None:
    """Merging adds per frame and rule; a FrameQuality that loses rows cannot be built."""
    a = QualityReport({"orders": FrameQuality(3, 2, {"x": 1})})
    b = QualityReport({"orders": FrameQuality(2, 0, {"x": 1, "y": 1}), "p": FrameQuality(1, 1, {})})
    merged = a.merge(b)
    assert merged.frames["orders"] == FrameQuality(5, 2, {"x": 2, "y": 1})
    assert merged.counts() == {"x": 2, "y": 1}
    with pytest.raises(ValueError, match="uncounted"):
        FrameQuality(3, 1, {"x": 1})


def test_context_from_settings_reads_floor() -> None:
    """The floor and kitchen bound come from RMS_ML_RMS__* settings."""
    ctx = q.QualityContext.from_settings(
        RmsSettings(timestamp_floor="2000-01-01", kitchen_max_duration_s=60), now=NOW
    )
    assert ctx.floor == datetime(2000, 1, 1, tzinfo=UTC)
    assert ctx.kitchen_max_duration_s == 60


TIMES = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1985, 1, 1), max_value=datetime(2030, 1, 1)).map(  # noqa: DTZ001 - hypothesis wants naive bounds
        lambda d: d.replace(tzinfo=UTC)
    ),
)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(1, 15),
            st.integers(1, 4),
            st.integers(1, 4),
            st.integers(-2, 3),
            st.booleans(),
            TIMES,
            st.sampled_from(["completed", "cancelled", "refunded", "open", "?"]),
        ),
        max_size=40,
    )
)
def test_no_row_dropped_uncounted(rows: list[tuple[object, ...]]) -> None:
    """rows_in == rows_out + dropped + after_as_of for any mix of dirty lines."""
    df = pd.DataFrame(
        rows,
        columns=["id", "order_id", "menu_item_id", "quantity", "is_voided", "created_at", "status"],
    )
    df["unit_price"] = 1.0
    df["created_at"] = pd.Series(pd.to_datetime(list(df["created_at"]), utc=True))
    df["created_at"] = df["created_at"].astype("datetime64[ns, UTC]")
    clean, report = q.clean_order_lines(df, CTX, menu_item_ids=[1, 2])
    frame = report.frames["order_lines"]
    assert frame.rows_in == len(df)
    assert frame.rows_out == len(clean)
    assert len(df) == len(clean) + sum(frame.dropped.values()) + frame.after_as_of
    assert clean["status"].eq("completed").all() if len(clean) else True
