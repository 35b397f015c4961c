"""Local-time bucketing: as_of rules, DST days, closed days as zeros, 1990s history."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.features import calendar as cal


def _utc(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True), dtype="datetime64[ns, UTC]")


@pytest.mark.parametrize(
    ("tz", "spring", "autumn"),
    [
        ("Europe/Berlin", date(2024, 3, 31), date(2024, 10, 27)),
        ("America/New_York", date(2024, 3, 10), date(2024, 11, 3)),
    ],
)
def test_dst_days_have_23_and_25_hours(tz: str, spring: date, autumn: date) -> None:
    """A spring-forward day has 23 local hours, a fall-back day 25, an ordinary day 24."""
    assert len(cal.day_hours(spring, tz)) == 23
    assert len(cal.day_hours(autumn, tz)) == 25
    assert len(cal.day_hours(spring - timedelta(days=1), tz)) == 24


def test_fall_back_hourly_buckets_are_25_distinct() -> None:
    """Events every 10 minutes through a Berlin fall-back day fill 25 hourly buckets of 6."""
    start, end = cal.local_day_bounds(date(2024, 10, 27), "Europe/Berlin")
    ts = pd.Series(pd.date_range(start, end, freq="10min", inclusive="left"))
    events = pd.DataFrame({"t": ts})
    as_of = datetime(2024, 10, 28, 12, tzinfo=UTC)
    out = cal.hourly_totals(events, "t", "Europe/Berlin", as_of)
    assert len(out) == 25 + 13  # the day, then 28 Oct 00:00-12:00 (hour 0 is 13:00 CET)
    day = out[out["local_hour"].str.startswith("2024-10-27")]
    assert len(day) == 25
    assert set(day["y"]) == {6.0}
    labels = list(day["local_hour"])
    assert labels[2] == "2024-10-27T02:00:00+02:00"
    assert labels[3] == "2024-10-27T02:00:00+01:00"


def test_spring_forward_daily_and_hourly_new_york() -> None:
    """New York's spring-forward day counts its 23 hours and buckets by local date."""
    start, end = cal.local_day_bounds(date(2024, 3, 10), "America/New_York")
    assert end - start == pd.Timedelta(hours=23)
    events = pd.DataFrame({"t": pd.Series(pd.date_range(start, end, freq="h", inclusive="left"))})
    as_of = datetime(2024, 3, 11, 15, tzinfo=UTC)
    hourly = cal.hourly_totals(events, "t", "America/New_York", as_of)
    assert (hourly["local_hour"].str.startswith("2024-03-10")).sum() == 23
    assert "2024-03-10T02:00:00-05:00" not in set(hourly["local_hour"])
    daily = cal.daily_totals(events, "t", "America/New_York", as_of)
    assert daily.to_dict("list") == {"ds": [pd.Timestamp("2024-03-10")], "y": [23.0]}


def test_day0_and_history_end_follow_local_midnight() -> None:
    """as_of 23:30Z is already the next day in Berlin; history ends at Berlin midnight."""
    as_of = datetime(2024, 6, 1, 23, 30, tzinfo=UTC)
    assert cal.day0(as_of, "Europe/Berlin") == date(2024, 6, 2)
    assert cal.day0(as_of, "America/New_York") == date(2024, 6, 1)
    assert cal.history_end(as_of, "Europe/Berlin") == pd.Timestamp("2024-06-01T22:00Z")
    assert cal.hour0(as_of, "Asia/Kolkata") == pd.Timestamp("2024-06-01T23:30Z")
    assert cal.forecast_days(as_of, "Europe/Berlin", 2) == [date(2024, 6, 2), date(2024, 6, 3)]
    assert list(cal.forecast_hours(as_of, "UTC", 2)) == [
        pd.Timestamp("2024-06-01T23:00Z"),
        pd.Timestamp("2024-06-02T00:00Z"),
    ]


def test_closed_days_are_zeros_and_day0_is_excluded() -> None:
    """Days without orders between two sales days are zero rows; day 0's orders are left out."""
    events = pd.DataFrame(
        {
            "t": _utc("2024-01-01T11:00Z", "2024-01-04T11:00Z", "2024-01-06T09:00Z"),
            "item": [1, 1, 1],
            "qty": [2, 3, 7],
        }
    )
    as_of = datetime(2024, 1, 6, 12, tzinfo=UTC)
    out = cal.daily_totals(events, "t", "Europe/Berlin", as_of, keys=["item"], value_col="qty")
    assert list(out["y"]) == [2.0, 0.0, 0.0, 3.0, 0.0]
    assert list(out["ds"]) == list(pd.date_range("2024-01-01", "2024-01-05"))


def test_each_series_starts_at_its_first_event_unless_start_given() -> None:
    """A new item's series starts at its first sale; `start` aligns every series."""
    events = pd.DataFrame({"t": _utc("2024-01-01T12:00Z", "2024-01-03T12:00Z"), "item": [1, 2]})
    as_of = datetime(2024, 1, 4, 12, tzinfo=UTC)
    out = cal.daily_totals(events, "t", "UTC", as_of, keys=["item"])
    assert out.groupby("item").size().to_dict() == {1: 3, 2: 1}
    aligned = cal.daily_totals(events, "t", "UTC", as_of, keys=["item"], start=date(2024, 1, 1))
    assert aligned.groupby("item").size().to_dict() == {1: 3, 2: 3}


def test_orders_from_the_1990s_bucket_correctly() -> None:
    """History from 1994 buckets into local days with every day since filled."""
    events = pd.DataFrame({"t": _utc("1994-06-01T22:30Z", "1994-06-03T10:00Z")})
    as_of = datetime(1994, 6, 10, tzinfo=UTC)
    out = cal.daily_totals(events, "t", "Europe/Berlin", as_of)
    assert out["ds"].iloc[0] == pd.Timestamp("1994-06-02")  # 00:30 local, next day
    assert len(out) == 8  # 2 .. 9 June
    assert out["y"].sum() == 2.0


def test_per_restaurant_uses_each_zone() -> None:
    """The same instant falls on different local days in Berlin and New York."""
    events = pd.DataFrame(
        {"t": _utc("2024-05-01T23:30Z", "2024-05-01T23:30Z"), "restaurant_id": [1, 2]}
    )
    zones = {1: "Europe/Berlin", 2: "America/New_York"}
    out = cal.per_restaurant(events, zones, datetime(2024, 5, 3, 12, tzinfo=UTC), ts_col="t")
    first = out.groupby("restaurant_id")["ds"].min().to_dict()
    assert first == {1: pd.Timestamp("2024-05-02"), 2: pd.Timestamp("2024-05-01")}


def test_unknown_zone_is_value_error() -> None:
    """A zone name that does not exist raises ValueError naming it."""
    with pytest.raises(ValueError, match="Mars/Olympus"):
        cal.day0(datetime(2024, 1, 1, tzinfo=UTC), "Mars/Olympus")


ZONES = st.sampled_from(
    ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)


@settings(max_examples=40, deadline=None)
@given(
    tz=ZONES,
    offsets=st.lists(st.integers(0, 400 * 24 * 60), min_size=1, max_size=40),
)
def test_bucketing_counts_every_event_once(tz: str, offsets: list[int]) -> None:
    """Hourly and daily totals each add up to the events before day 0 / hour 0, none lost."""
    base = pd.Timestamp("2023-01-01T00:00Z")
    ts = pd.Series([base + pd.Timedelta(minutes=m) for m in offsets], dtype="datetime64[ns, UTC]")
    events = pd.DataFrame({"t": ts})
    as_of = datetime(2024, 3, 1, tzinfo=UTC)  # after every event: none is cut off
    hourly = cal.hourly_totals(events, "t", tz, as_of)
    daily = cal.daily_totals(events, "t", tz, as_of)
    assert hourly["y"].sum() == len(offsets) == daily["y"].sum()
    assert hourly["ds"].is_unique
    steps = hourly["ds"].diff().dropna().unique()
    assert list(steps) == [pd.Timedelta(hours=1)] or len(hourly) == 1
    per_day = hourly.groupby(hourly["local_hour"].str[:10]).size()
    assert set(per_day.iloc[1:-1]) <= {23, 24, 25}
