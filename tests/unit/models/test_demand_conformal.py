"""Conformal intervals: held-out coverage near nominal for counts and continuous targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.demand import DemandConfig, forecast_demand
from rms_ml_push.models.demand.conformal import (
    apply_intervals,
    calibrate,
    conformal_rank,
    point_scale,
)


def _rows(rng: np.random.Generator, n: int, is_count: bool) -> pd.DataFrame:
    mu = rng.uniform(2, 40, n)
    y = rng.poisson(mu).astype(float) if is_count else mu + rng.normal(0, 0.2 * mu)
    scale = np.sqrt(mu)
    return pd.DataFrame(
        {
            "group": "g",
            "step": rng.integers(1, 15, n),
            "y": y,
            "yhat": mu,
            "s": point_scale(mu, scale, mu),
            "is_count": is_count,
        }
    )


@pytest.mark.parametrize("is_count", [True, False])
def test_calibrated_intervals_cover_fresh_draws_at_nominal(is_count: bool) -> None:
    """Calibrate on 3,000 residuals, then 80/95 % intervals cover fresh draws within 3 points."""
    rng = np.random.default_rng(11)
    table = calibrate(_rows(rng, 3000, is_count))
    fresh = apply_intervals(_rows(rng, 5000, is_count), table)
    for level in (80, 95):
        inside = (fresh["y"] >= fresh[f"lo_{level}"]) & (fresh["y"] <= fresh[f"hi_{level}"])
        assert inside.mean() == pytest.approx(level / 100, abs=0.03)
    if is_count:
        bounds = fresh[["lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy()
        assert np.array_equal(bounds, np.floor(bounds))


def test_pipeline_coverage_on_known_noise() -> None:
    """Series with known Gaussian noise: the next 14 days land inside at about 80 / 95 %."""
    rng = np.random.default_rng(5)
    days = 200
    dates = pd.date_range("2024-01-01", periods=days + 14, freq="D")
    weekly = np.array([1.0, 1.0, 1.1, 1.2, 1.5, 1.7, 1.3])
    parts = []
    for i in range(40):
        mu = (50 + 5 * i) * weekly[dates.dayofweek]
        y = mu + rng.normal(0, 6, len(dates))
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": y}))
    frame = pd.concat(parts, ignore_index=True)
    cut = dates[days - 1]
    info = pd.DataFrame({"unique_id": [f"s{i}" for i in range(40)], "is_count": False})
    config = DemandConfig.daily(candidates=("seasonal_naive", "window_average", "theta"))
    result = forecast_demand(frame[frame["ds"] <= cut], info, config)
    joined = result.forecasts.merge(frame, on=["unique_id", "ds"])
    assert len(joined) == 40 * 14
    for level in (80, 95):
        inside = (joined["y"] >= joined[f"lo_{level}"]) & (joined["y"] <= joined[f"hi_{level}"])
        assert inside.mean() == pytest.approx(level / 100, abs=0.06)


@pytest.mark.parametrize("n", [1, 5, 9, 19, 20, 99, 165, 1000])
@pytest.mark.parametrize("tail", [0.025, 0.1])
def test_conformal_rank_is_the_smallest_rank_with_nominal_cover(n: int, tail: float) -> None:
    """k/(n+1) >= 1 - tail and (k-1)/(n+1) < 1 - tail, capped at n for tiny samples."""
    k = conformal_rank(n, tail)
    assert 1 <= k <= n
    if (n + 1) * (1 - tail) <= n:
        assert k / (n + 1) >= 1 - tail - 1e-12
        assert (k - 1) / (n + 1) < 1 - tail
    else:
        assert k == n


def test_calibration_quantiles_are_order_statistics_of_the_scores() -> None:
    """Scores 1..199 (continuous): the 80 % bounds are the 20th and 180th order statistics."""
    scores = np.arange(1.0, 200.0)
    rows = pd.DataFrame(
        {"group": "g", "step": 1, "y": scores, "yhat": 0.0, "s": 1.0, "is_count": False}
    )
    table = calibrate(rows)["g"]["pooled"]
    assert table["hi_80"][0] == pytest.approx(180.0)
    assert table["lo_80"][0] == pytest.approx(20.0)
    assert table["hi_95"][0] == pytest.approx(195.0)
    assert table["lo_95"][0] == pytest.approx(5.0)


def _holiday_rows(rng: np.random.Generator, n: int, holiday_share: float) -> pd.DataFrame:
    """Regular days with unit noise; holidays (known in advance) with four times as much."""
    holiday = rng.random(n) < holiday_share
    noise = rng.normal(0, 1, n) * np.where(holiday, 4.0, 1.0)
    return pd.DataFrame(
        {
            "group": "g",
            "step": rng.integers(1, 15, n),
            "y": 100 + noise,
            "yhat": 100.0,
            "s": 1.0,
            "is_count": False,
            "holiday": holiday,
        }
    )


def test_holidays_are_their_own_conformal_class() -> None:
    """Regular days cover 80/95 % despite noisy holidays, and so do the holidays themselves."""
    rng = np.random.default_rng(21)
    table = calibrate(_holiday_rows(rng, 4000, 0.05))
    assert table["g"]["n_holiday"] >= 150
    fresh = apply_intervals(_holiday_rows(rng, 20000, 0.1), table)
    for holiday in (False, True):
        part = fresh[fresh["holiday"] == holiday]
        for level in (80, 95):
            inside = (part["y"] >= part[f"lo_{level}"]) & (part["y"] <= part[f"hi_{level}"])
            assert inside.mean() == pytest.approx(level / 100, abs=0.03)


def test_few_holidays_borrow_all_of_the_groups_scores() -> None:
    """Under MIN_HOLIDAY holiday scores: holidays get the all-days quantiles, never narrower."""
    rng = np.random.default_rng(4)
    rows = _holiday_rows(rng, 600, 0.0)
    rows.loc[rows.index[:5], "holiday"] = True
    entry = calibrate(rows)["g"]
    assert entry["n_holiday"] == 5
    everything = calibrate(rows.drop(columns="holiday"))["g"]["pooled"]
    assert entry["holiday"] == everything
    assert entry["n"] == 595


def test_tables_without_a_holiday_class_still_apply() -> None:
    """A calibration saved before the holiday class: holiday rows use the regular quantiles."""
    rng = np.random.default_rng(2)
    table = calibrate(_holiday_rows(rng, 800, 0.0).drop(columns="holiday"))
    points = _holiday_rows(rng, 50, 0.5)
    with_class = apply_intervals(points, table)
    without = apply_intervals(points.drop(columns="holiday"), table)
    assert np.array_equal(with_class["hi_80"].to_numpy(), without["hi_80"].to_numpy())
