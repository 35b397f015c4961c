"""Backtest windows: non-overlapping, h steps each, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.demand import DemandConfig
from rms_ml_push.models.demand.backtest import cutoffs, run_backtest
from rms_ml_push.models.demand.panel import build_panel
from rms_ml_push.models.demand.prepare import prepare_frame, prepare_info
from tests.unit.models.demand_helpers import daily_frame

CONFIG = DemandConfig.daily(
    candidates=("seasonal_naive", "window_average", "theta", "gbm"),
)


def _backtest(frame: pd.DataFrame) -> pd.DataFrame:
    data = prepare_frame(frame, CONFIG)
    info = prepare_info(None, data["unique_id"].unique())
    closed = pd.Series(np.zeros(len(data), dtype=bool))
    panel = build_panel(data, closed, info, calendars={}, h=CONFIG.h, group_codes={"default": 0})
    return run_backtest(data, panel, CONFIG)


def test_windows_are_the_last_non_overlapping_blocks() -> None:
    """Three windows of 14 days, disjoint, each right after its cutoff, ending at the end."""
    frame = daily_frame()
    bt = _backtest(frame)
    last = frame["ds"].max()
    assert sorted(bt["cutoff"].unique()) == cutoffs(last, CONFIG)
    per_window = bt.groupby("cutoff")["ds"].agg(["min", "max", "nunique"])
    assert (per_window["nunique"] == 14).all()
    assert (per_window["min"] == per_window.index + pd.Timedelta(days=1)).all()
    assert per_window["max"].max() == last
    spans = [set(g) for _, g in bt.groupby("cutoff")["ds"]]
    assert all(a.isdisjoint(b) for i, a in enumerate(spans) for b in spans[i + 1 :])


def test_data_after_a_cutoff_does_not_change_its_forecast() -> None:
    """Tripling every value after the middle cutoff leaves the first two windows unchanged."""
    frame = daily_frame()
    middle = cutoffs(frame["ds"].max(), CONFIG)[1]
    perturbed = frame.copy()
    later = perturbed["ds"] > middle
    perturbed.loc[later, "y"] = perturbed.loc[later, "y"] * 3 + 5
    before, after = _backtest(frame), _backtest(perturbed)
    models = ["seasonal_naive", "window_average", "theta", "gbm"]
    keep = before["cutoff"] <= middle
    key = ["unique_id", "ds"]
    a = before[keep].sort_values(key)[models].to_numpy()
    b = after[after["cutoff"] <= middle].sort_values(key)[models].to_numpy()
    np.testing.assert_allclose(a, b)
    # The perturbation is visible to the last window, so the test can fail.
    c = before[~keep].sort_values(key)["seasonal_naive"].to_numpy()
    d = after[after["cutoff"] > middle].sort_values(key)["seasonal_naive"].to_numpy()
    assert not np.allclose(c, d)
