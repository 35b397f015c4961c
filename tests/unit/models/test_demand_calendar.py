"""Calendar features and closure detection."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.demand import HolidayCalendar, detect_closures
from rms_ml_push.models.demand.calendar import holiday_mask


def test_no_country_means_no_holidays() -> None:
    """An unset country yields the columns with no holiday set, not an error."""
    table = HolidayCalendar().features(pd.date_range("2024-12-20", periods=10))
    assert table["is_holiday"].sum() == 0
    assert list(table["dow"][:2]) == [4, 5]


def test_german_christmas_and_distances() -> None:
    """25 Dec is a holiday in DE; 23 Dec is two days before, 27 Dec one after the 26th."""
    table = HolidayCalendar("DE", "BY").features(pd.date_range("2024-12-20", periods=10))
    assert table.loc["2024-12-25", "is_holiday"] == 1
    assert table.loc["2024-12-23", "days_to_holiday"] == 2
    assert table.loc["2024-12-27", "days_since_holiday"] == 1


def test_detects_weekday_off_and_holiday_closures() -> None:
    """Zero Mondays close Monday; zero Christmases close the next Christmas too."""
    dates = pd.date_range("2023-01-02", "2024-12-20", freq="D")
    y = np.where(dates.dayofweek == 0, 0.0, 40.0)
    y[(dates.month == 12) & (dates.day == 25)] = 0.0
    frame = pd.DataFrame({"unique_id": "r1", "ds": dates, "y": y})
    closures = detect_closures(
        frame, calendars={"r1": HolidayCalendar("DE")}, until=pd.Timestamp("2025-01-03")
    )
    assert closures.positions["r1"] == frozenset({0})
    assert pd.Timestamp("2024-12-25") in closures.dates["r1"]
    assert pd.Timestamp("2024-12-26") not in closures.dates["r1"]
    future = pd.date_range("2024-12-23", periods=7)
    assert list(closures.mask("r1", future, "D")) == [True, False, True, False, False, False, False]


def test_a_sparse_weekday_with_some_sales_stays_open() -> None:
    """A weekday with sales in half of the recent weeks is not a closure."""
    dates = pd.date_range("2024-01-01", periods=70, freq="D")
    y = np.where(dates.dayofweek == 2, 0.0, 10.0)
    y[(dates.dayofweek == 2) & (np.arange(70) % 14 < 7)] = 3.0
    closures = detect_closures(pd.DataFrame({"unique_id": "a", "ds": dates, "y": y}))
    assert closures.positions["a"] == frozenset()


def test_holiday_mask_uses_each_series_own_calendar() -> None:
    """3 Oct is a holiday for the German series only; unknown keys have none."""
    rows = pd.DataFrame(
        {
            "unique_id": ["de", "de", "us", "xx"],
            "ds": pd.to_datetime(["2025-10-03", "2025-10-04", "2025-10-03", "2025-10-03"]),
        }
    )
    keys = pd.Series({"de": "DE", "us": "US", "xx": None})
    calendars = {"DE": HolidayCalendar("DE"), "US": HolidayCalendar("US")}
    assert holiday_mask(rows, keys, calendars).tolist() == [True, False, False, False]
