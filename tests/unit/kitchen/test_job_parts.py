"""Pure parts of the kitchen job: ticket rules, hourly orders (DST), two-list parts, rungs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import chain

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.features.calendar import forecast_hours, hourly_totals
from rms_ml_push.features.kitchen_tickets import prepare_tickets
from rms_ml_push.features.quality import QualityContext
from rms_ml_push.jobs.kitchen_events import kitchen_events
from rms_ml_push.models.kitchen.hourly_orders import (
    hours_frame,
    orders_from_profile,
    orders_from_series,
)
from rms_ml_push.models.kitchen.publish import usable

NOW = datetime(2026, 11, 28, 6, tzinfo=UTC)
CTX = QualityContext(now=NOW, as_of=NOW, kitchen_max_duration_s=3600)


def _tickets() -> pd.DataFrame:
    t0 = pd.Timestamp("2026-11-20T12:00:00Z")
    minute = pd.Timedelta(minutes=1)
    rows = []
    for i in range(10):  # ten clean tickets
        q = t0 + i * 5 * minute
        rows.append((i + 1, 100 + i, 1, q, q + minute, q + 5 * minute, 7, 1, 1, 50 + i))
    q = t0
    rows += [
        (20, 200, 1, q, pd.NaT, pd.NaT, 7, 1, 1, 60),  # kitchen_not_started
        (21, 201, 1, q, q + minute, pd.NaT, 7, 1, 1, 60),  # kitchen_not_completed
        (22, 202, 1, q, q + 5 * minute, q + minute, 7, 1, 1, 60),  # completed before started
        (23, 203, 1, q, q + minute, q + 2 * 3600 * minute / 60, 7, 1, 1, 60),  # hours long
        (24, 204, 1, q, q + minute, q + 2 * minute, pd.NA, pd.NA, pd.NA, pd.NA),  # line missing
        (25, 205, 1, q, q + minute, q + 2 * minute, 7, 0, 1, 60),  # quantity 0
        (26, 206, 1, q, q - minute, q + 2 * minute, 7, 1, 1, 60),  # started before queued
        (27, 207, 1, q - 3 * 3600 * minute / 60, q, q + minute, 7, 1, 1, 60),  # wait too long
        (28, 100, 1, q, q + minute, q + 2 * minute, 7, 1, 1, 60),  # same line + station as id 1
        (29, 209, 1, NOW + pd.Timedelta(days=1), pd.NaT, pd.NaT, 7, 1, 1, 60),  # future
    ]
    cols = ["id", "order_item_id", "station_id", "queued_at", "started_at", "completed_at"]
    cols += ["menu_item_id", "quantity", "restaurant_id", "order_id"]
    frame = pd.DataFrame(rows, columns=cols)
    for col in ("queued_at", "started_at", "completed_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("menu_item_id", "quantity", "restaurant_id", "order_id"):
        frame[col] = frame[col].astype("Int64")
    return frame


def test_every_dirty_ticket_is_dropped_by_its_own_rule() -> None:
    """One row per rule, each counted once; the clean rows keep their category."""
    menu = pd.DataFrame({"id": [7], "category": ["mains"]})
    clean, report = prepare_tickets(_tickets(), menu, CTX)
    assert len(clean) == 10
    assert set(clean["category"]) == {"mains"}
    assert report.frames["kitchen_tickets"].rows_in == 20
    dropped = {k: v for k, v in report.counts().items() if v}
    assert dropped == {
        "kitchen_not_started": 1,
        "kitchen_not_completed": 1,
        "kitchen_completed_before_started": 1,
        "kitchen_duration_too_long": 1,
        "ticket_line_missing": 1,
        "quantity_non_positive": 1,
        "kitchen_started_before_queued": 1,
        "kitchen_wait_too_long": 1,
        "duplicate_line": 1,
        "timestamp_in_future": 1,
    }


def test_forecast_hours_across_fall_back_repeat_the_local_hour() -> None:
    """On Berlin's fall-back night the 24 hours are distinct instants; 02:00 appears twice."""
    as_of = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 local, summer time
    hours = hours_frame(forecast_hours(as_of, "Europe/Berlin", 24), "Europe/Berlin")
    assert len(hours) == 24
    assert hours["ts"].iloc[0] == "2026-10-25T01:00:00+02:00"
    assert list(hours["ts"].iloc[1:3]) == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    assert hours["start"].is_unique


def test_orders_from_series_matches_by_instant_and_rejects_gaps() -> None:
    """Labels in any offset spelling match; a missing hour makes the series unusable."""
    as_of = datetime(2026, 11, 28, 6, 20, tzinfo=UTC)
    hours = hours_frame(forecast_hours(as_of, "Asia/Tokyo", 24), "Asia/Tokyo")
    starts = pd.DatetimeIndex(hours["start"])
    points = [
        {"ts": s.strftime("%Y-%m-%dT%H:%M:%SZ"), "yhat": float(i)} for i, s in enumerate(starts)
    ]
    series = [{"target": "orders", "menu_item_id": None, "points": points}]
    frame = orders_from_series(series, hours)
    assert frame is not None
    assert list(frame["orders"]) == [float(i) for i in range(24)]
    assert list(frame["ts"]) == list(hours["ts"])
    assert orders_from_series([{**series[0], "points": points[:-1]}], hours) is None
    assert orders_from_series([{**series[0], "target": "covers"}], hours) is None


def test_profile_is_the_same_weekday_hour_mean_of_recent_weeks() -> None:
    """Each forecast hour gets the mean of the same local weekday and hour, zeros included."""
    tz = "America/New_York"
    as_of = datetime(2026, 11, 28, 17, 5, tzinfo=UTC)  # Saturday 12:05 local
    # One order every Saturday at 12:30 local for three of the last four weeks.
    created = [
        pd.Timestamp(f"2026-11-{d}T12:30", tz=tz).tz_convert("UTC") for d in ("07", "14", "21")
    ]
    created.append(pd.Timestamp("2026-10-31T09:10", tz=tz).tz_convert("UTC"))  # older
    orders = pd.DataFrame({"created_at": pd.to_datetime(created, utc=True)})
    start = datetime(2026, 10, 31, 4, tzinfo=UTC)
    hourly = hourly_totals(orders, "created_at", tz, as_of, start=start)
    hours = hours_frame(forecast_hours(as_of, tz, 24), tz)
    frame = orders_from_profile(hourly[["ds", "y"]], hours, tz, weeks=4)
    assert frame["orders"].iloc[0] == pytest.approx(3 / 4)
    assert (frame["orders"].iloc[1:] == 0).all()


def test_two_lists_split_into_parts_and_rebuild_exactly() -> None:
    """Every part fits the limit and concatenating each list over the parts gives it back."""
    data = {"restaurant_id": 3, "generated_at": "2026-11-28T06:00:01.000Z", "as_of": "x"}
    load = [
        {"station_id": s, "ts": f"h{h}", "expected_tickets": 1.0}
        for s in range(3)
        for h in range(24)
    ]
    prep = [
        {"station_id": 1, "menu_item_id": i, "by_load": [{"q": j} for j in range(6)]}
        for i in range(40)
    ]
    events = kitchen_events(
        data, {"station_load": load, "prep_times": prep}, now=NOW, max_body_bytes=2048
    )
    assert len(events) > 2
    bodies = [json.loads(e.body) for e in events]
    assert all(len(e.body) <= 2048 for e in events)
    assert [b["data"]["part"]["index"] for b in bodies] == list(range(1, len(events) + 1))
    assert {e.supersede_key for e in events} == {"kitchen.prep_time.updated|3|-"}
    assert list(chain.from_iterable(b["data"]["station_load"] for b in bodies)) == load
    assert list(chain.from_iterable(b["data"]["prep_times"] for b in bodies)) == prep


def test_usable_refuses_nan_anywhere_in_a_row() -> None:
    """A NaN in a bucket makes the whole row fall to the next rung."""
    figures = {"p50_s": 1.0, "p90_s": 2.0, "total_p50_s": 3.0, "total_p90_s": 4.0}
    row = {**figures, "by_load": [dict(figures)], "by_hour": []}
    assert usable(row)
    assert not usable({**row, "by_load": [{**figures, "total_p90_s": np.nan}]})
    assert usable([{"expected_tickets": 1.0, "expected_wait_s": 2.0}])
    assert not usable([])
