"""The final fit: only chosen models, and a full run's backtest fits reused."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.demand import DemandConfig
from rms_ml_push.models.demand.backtest import Reuse
from rms_ml_push.models.demand.fit import fit_forecast
from rms_ml_push.models.demand.prepare import prepare_frame
from tests.unit.models.demand_helpers import daily_frame

CONFIG = DemandConfig.daily(candidates=("seasonal_naive", "ets_ana"))


def test_reused_points_replace_the_refit_only_for_their_series_and_model() -> None:
    data = prepare_frame(daily_frame(n_series=3), CONFIG)
    last = data["ds"].max()
    days = pd.date_range(last + pd.Timedelta(days=1), periods=14)
    # A marker value no model would produce: s0's ets_ana forecast from the backtest.
    ready = pd.DataFrame({"unique_id": "s0", "ds": days, "yhat": 123.0, "model": "ets_ana"})
    chosen = pd.Series({"s0": "ets_ana", "s1": "ets_ana", "s2": "seasonal_naive"})
    points, _ = fit_forecast(data, chosen, None, CONFIG, reuse=Reuse(points=[ready]))
    by = points.set_index(["unique_id", "ds"])["yhat"]
    assert (by.loc["s0"] == 123.0).all()
    assert len(by.loc["s1"]) == 14
    assert not np.isclose(by.loc["s1"], 123.0).any()
    last_week = data[data["unique_id"] == "s2"]["y"].to_numpy()[-7:]
    np.testing.assert_allclose(by.loc["s2"].to_numpy(), np.tile(last_week, 2))


def test_a_series_whose_reused_points_are_not_finite_is_refit() -> None:
    data = prepare_frame(daily_frame(n_series=2), CONFIG)
    last = data["ds"].max()
    days = pd.date_range(last + pd.Timedelta(days=1), periods=14)
    ready = pd.DataFrame({"unique_id": "s0", "ds": days, "yhat": 123.0, "model": "ets_ana"})
    ready.loc[3, "yhat"] = np.nan  # the backtest's forward failed on one step
    chosen = pd.Series({"s0": "ets_ana", "s1": "ets_ana"})
    points, _ = fit_forecast(data, chosen, None, CONFIG, reuse=Reuse(points=[ready]))
    s0 = points[points["unique_id"] == "s0"]["yhat"]
    assert len(s0) == 14
    assert np.isfinite(s0).all()
    assert not np.isclose(s0, 123.0).any()
