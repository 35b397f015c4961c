"""Per-series scales: closed days leave the seasonal lag one season long."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.demand import DemandConfig, detect_closures, forecast_demand
from rms_ml_push.models.demand.metrics import naive_scale
from rms_ml_push.models.demand.prepare import series_facts
from tests.unit.models.demand_helpers import WEEKLY


def test_naive_scale_skips_closed_pairs_without_shifting_the_lag() -> None:
    """Weekly profile + trend, Mondays NaN: the scale is the trend's weekly step, 0.7."""
    t = np.arange(140)
    y = 10 * WEEKLY[t % 7] + 0.1 * t
    y[t % 7 == 0] = np.nan
    assert naive_scale(y, 7) == pytest.approx(0.7)


def test_series_facts_scale_of_a_weekday_closed_series_matches_an_open_one() -> None:
    """A Monday-closed copy of a series has its open twin's scale, not a cross-weekday one."""
    dates = pd.date_range("2025-01-06", periods=140, freq="D")
    rng = np.random.default_rng(3)
    y = 40 * WEEKLY[dates.dayofweek] * np.exp(rng.normal(0, 0.1, len(dates)))
    closed_y = np.where(dates.dayofweek == 0, 0.0, y)
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": "open", "ds": dates, "y": y}),
            pd.DataFrame({"unique_id": "shut", "ds": dates, "y": closed_y}),
        ],
        ignore_index=True,
    )
    closed = ((frame["unique_id"] == "shut") & (frame["ds"].dt.dayofweek == 0)).to_numpy()
    facts = series_facts(frame, closed, dates[-1] + pd.Timedelta(days=1), DemandConfig.daily())
    # Same noise on the six open weekdays: the scales differ only by the Monday pairs.
    assert facts.loc["shut", "scale"] == pytest.approx(facts.loc["open", "scale"], rel=0.2)


def test_weekday_closed_series_gets_intervals_as_tight_as_an_open_twin() -> None:
    """Pooled conformal scores: a Monday-closed restaurant's 80 % width matches its open twin's."""
    rng = np.random.default_rng(8)
    dates = pd.date_range("2025-01-06", periods=182, freq="D")
    parts, info = [], []
    for i in range(6):
        shut = i % 2 == 1
        mu = 60 * (1 + 0.2 * i) * WEEKLY[dates.dayofweek]
        y = mu * np.exp(rng.normal(0, 0.08, len(dates)))
        y = np.where(shut & (dates.dayofweek == 0), 0.0, y)
        parts.append(pd.DataFrame({"unique_id": f"r{i}", "ds": dates, "y": y}))
        info.append({"unique_id": f"r{i}", "group": "revenue", "closure_key": f"r{i}"})
    frame = pd.concat(parts, ignore_index=True)
    closures = detect_closures(frame)
    config = DemandConfig.daily(candidates=("seasonal_naive", "window_average"))
    info_frame = pd.DataFrame(info).assign(is_count=False)
    out = forecast_demand(frame, info_frame, config, closures=closures).forecasts
    out = out[out["ds"].dt.dayofweek != 0]
    rel_width = ((out["hi_80"] - out["lo_80"]) / out["yhat"]).groupby(out["unique_id"]).mean()
    shut = rel_width[["r1", "r3", "r5"]].mean()
    open_ = rel_width[["r0", "r2", "r4"]].mean()
    # Same noise law; before the fix the closed ones were about twice as wide.
    assert shut == pytest.approx(open_, rel=0.25)
