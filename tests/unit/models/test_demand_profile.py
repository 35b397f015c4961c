"""DayProfile: day totals by ETS, split by the same hours of the same weekday."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsforecast import StatsForecast

from rms_ml_push.models.demand.profile import DayProfile, day_profile_forecast


def _hours(days: int, weekday_scale: np.ndarray, shape: np.ndarray) -> np.ndarray:
    return np.concatenate([weekday_scale[d % 7] * shape for d in range(days)])


SHAPE = np.r_[np.zeros(11), [4, 9, 8, 3, 1, 1, 2, 6, 10, 9, 5, 2, 0]].astype(float)
WEEK = np.array([1.0, 1.0, 1.1, 1.2, 1.6, 1.8, 0.5])


def test_a_repeating_week_is_forecast_exactly() -> None:
    y = _hours(70, WEEK, SHAPE)
    out = day_profile_forecast(y, 169)
    expected = _hours(78, WEEK, SHAPE)[len(y) : len(y) + 169]
    np.testing.assert_allclose(out, expected, rtol=0.02, atol=0.05)


def test_each_weekday_keeps_its_own_hours() -> None:
    """Sundays open late: their forecast has no lunch, other days do."""
    late = np.r_[np.zeros(17), [5, 9, 9, 6, 3, 1, 0]].astype(float)
    y = np.concatenate([(late if d % 7 == 6 else SHAPE) * 10 for d in range(63)])
    out = day_profile_forecast(y, 168).reshape(7, 24)
    # Day 63 has weekday 0 (63 % 7), so forecast day 6 is the Sunday-like day.
    assert out[6, 11:14].sum() == pytest.approx(0.0, abs=1e-6)
    assert out[0, 11:14].sum() > 100


def test_too_short_history_raises_so_the_caller_falls_back() -> None:
    with pytest.raises(ValueError, match="at least 14 days"):
        day_profile_forecast(np.ones(24 * 10), 24)


def test_speaks_the_statsforecast_protocol() -> None:
    y = _hours(56, WEEK, SHAPE)
    ds = pd.date_range("2026-01-05", periods=len(y), freq="h")
    df = pd.DataFrame({"unique_id": "a", "ds": ds, "y": y})
    sf = StatsForecast(models=[DayProfile(alias="day_profile")], freq="h", n_jobs=1)
    out = sf.forecast(df=df, h=48)
    np.testing.assert_allclose(out["day_profile"].to_numpy(), day_profile_forecast(y, 48))
    cv = sf.cross_validation(df=df, h=24, n_windows=2, step_size=24)
    assert len(cv) == 48
    assert np.isfinite(cv["day_profile"]).all()
