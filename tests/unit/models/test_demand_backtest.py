"""Backtest windows: non-overlapping, h steps each, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.demand import DemandConfig
from rms_ml_push.models.demand.backtest import cutoffs, run_backtest
from rms_ml_push.models.demand.local import backtest_local, forecast_local
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


def _local(frame: pd.DataFrame, models: list[str], *, final: bool) -> tuple[pd.DataFrame, ...]:
    data = prepare_frame(frame, CONFIG)
    return backtest_local(
        data,
        models,
        season=7,
        freq="D",
        h=CONFIG.h,
        n_windows=CONFIG.n_windows,
        input_size=CONFIG.local_input_size,
        final=final,
    )


def test_final_window_forecasts_the_days_after_history_from_its_end() -> None:
    """The forward models' extra window starts the day after the last one and sees it."""
    frame = daily_frame()
    last = frame["ds"].max()
    bt, ahead = _local(frame, ["seasonal_naive", "ets_ana", "window_average"], final=True)
    plain, none = _local(frame, ["seasonal_naive", "ets_ana", "window_average"], final=False)
    assert none.empty
    # The backtest windows are the same with and without the extra window.
    key = ["unique_id", "ds", "cutoff"]
    pd.testing.assert_frame_equal(
        bt.sort_values(key, ignore_index=True), plain.sort_values(key, ignore_index=True)
    )
    assert set(ahead["model"]) == {"seasonal_naive", "ets_ana"}  # forward models only
    naive = ahead[ahead["model"] == "seasonal_naive"].sort_values(["unique_id", "ds"])
    for uid, rows in naive.groupby("unique_id"):
        assert list(rows["ds"]) == list(pd.date_range(last + pd.Timedelta(days=1), periods=14))
        last_week = frame[frame["unique_id"] == uid].sort_values("ds")["y"].to_numpy()[-7:]
        np.testing.assert_allclose(rows["yhat"].to_numpy(), np.tile(last_week, 2))


def test_reused_ets_forecast_is_close_to_a_fresh_fit() -> None:
    """Parameters from the first cutoff, state rolled to the end: within 5 % of a refit."""
    frame = daily_frame(n_series=3, days=300)
    _, ahead = _local(frame, ["ets_ana"], final=True)
    data = prepare_frame(frame, CONFIG)
    chosen = pd.Series("ets_ana", index=sorted(data["unique_id"].unique()))
    fresh = forecast_local(data, chosen, season=7, freq="D", h=14, input_size=364)
    both = ahead.merge(fresh, on=["unique_id", "ds"], suffixes=("_reused", "_fresh"))
    assert len(both) == 3 * 14
    ratio = both["yhat_reused"].sum() / both["yhat_fresh"].sum()
    assert abs(ratio - 1) < 0.05
