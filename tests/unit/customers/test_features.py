"""Per-customer summary at a cutoff."""

from __future__ import annotations

import pandas as pd
import pytest

from rms_ml_push.models.customers.features import future_activity, summarise

AS_OF = pd.Timestamp("2024-03-01", tz="UTC")


def _tx(rows: list[tuple[int, int | None, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "restaurant_id": pd.array([r[1] for r in rows], dtype="Int64"),
            "ts": pd.to_datetime([r[2] for r in rows], utc=True),
            "amount": [r[3] for r in rows],
        }
    )


TX = _tx(
    [
        (1, 10, "2024-01-01T12:00Z", 20.0),
        (1, 10, "2024-01-01T19:00Z", 10.0),  # same day: one occasion of 30
        (1, 10, "2024-01-15T12:00Z", 40.0),
        (1, 10, "2024-01-29T12:00Z", 60.0),
        (1, 10, "2024-03-05T12:00Z", 999.0),  # after as_of: ignored
        (2, None, "2024-02-20T08:00Z", 15.0),  # single order, chain-wide
        (3, 11, "2024-04-01T08:00Z", 15.0),  # only after as_of: not a customer yet
    ]
)


def test_summary_of_a_hand_made_log() -> None:
    """Occasions merge same-day orders; x, t_x, T, monetary follow the paper's definitions."""
    summary = summarise(TX, AS_OF)
    assert list(summary.index) == [1, 2]
    one = summary.loc[1]
    assert one["n_orders"] == 4
    assert one["frequency"] == 2
    assert one["t_x"] == pytest.approx(28 / 7)
    assert one["T"] == pytest.approx(60 / 7)
    assert one["monetary_value"] == pytest.approx(50.0)  # repeats only: (40 + 60) / 2
    assert one["mean_spend"] == pytest.approx(130.0 / 3)
    assert one["recency_days"] == pytest.approx(31.5)
    assert one["occasions_30d"] == 0
    assert one["occasions_90d"] == 3
    assert one["restaurant_id"] == 10


def test_single_order_customer() -> None:
    """One order: frequency 0, t_x 0, monetary 0, no gap, chain-wide home kept as null."""
    two = summarise(TX, AS_OF).loc[2]
    assert two["frequency"] == 0
    assert two["t_x"] == 0.0
    assert two["monetary_value"] == 0.0
    assert pd.isna(two["mean_gap_days"])
    assert pd.isna(two["restaurant_id"])


def test_rows_after_as_of_change_nothing() -> None:
    """Appending later orders leaves the summary at as_of unchanged (no look-ahead)."""
    later = _tx([(1, 10, "2024-03-01T00:00Z", 5.0), (2, None, "2024-06-01T00:00Z", 5.0)])
    pd.testing.assert_frame_equal(
        summarise(TX, AS_OF), summarise(pd.concat([TX, later], ignore_index=True), AS_OF)
    )


def test_future_activity_window_is_half_open() -> None:
    """Labels count orders in [start, start + horizon)."""
    at_start = _tx([(2, None, "2024-03-01T00:00Z", 7.0)])
    future = future_activity(pd.concat([TX, at_start], ignore_index=True), AS_OF, 31)
    assert list(future.index) == [1, 2]  # customer 3 orders 8 h after the window closes
    assert future.loc[1, "spend"] == 999.0
    assert list(future_activity(TX, AS_OF, 31.5).index) == [1, 3]


def test_naive_timestamps_and_missing_columns_are_rejected() -> None:
    """The input contract is enforced with one clear error."""
    with pytest.raises(ValueError, match="lack columns"):
        summarise(TX.drop(columns=["amount"]), AS_OF)
    with pytest.raises(TypeError, match="tz-aware"):
        summarise(TX.assign(ts=TX["ts"].dt.tz_localize(None)), AS_OF)
    with pytest.raises(ValueError, match="timezone-aware"):
        summarise(TX, pd.Timestamp("2024-03-01"))


def test_empty_history_gives_an_empty_summary() -> None:
    """No order before as_of: an empty frame with the usual columns."""
    summary = summarise(TX, pd.Timestamp("2020-01-01", tz="UTC"))
    assert summary.empty
    assert "frequency" in summary.columns
