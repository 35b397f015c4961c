"""forecast_demand: output shape, closures, bounds, new items, fallbacks, full vs refit."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.demand import (
    OUTPUT_COLUMNS,
    DemandConfig,
    DemandResult,
    DemandState,
    detect_closures,
    forecast_demand,
)
from rms_ml_push.models.demand.local import forecast_local
from tests.unit.models.demand_helpers import daily_frame

CONFIG = DemandConfig.daily(candidates=("seasonal_naive", "window_average", "theta", "gbm"))


def _restaurant() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Totals closed on Mondays, three items in one category, one new item."""
    frame = daily_frame(n_series=4, days=150, level=20.0, seed=3)
    frame["unique_id"] = frame["unique_id"].map(
        {"s0": "r1:orders", "s1": "r1:item1", "s2": "r1:item2", "s3": "r1:item3"}
    )
    frame.loc[frame["ds"].dt.dayofweek == 0, "y"] = 0.0
    last = frame["ds"].max()
    new = pd.DataFrame(
        {"unique_id": "r1:item4", "ds": pd.date_range(end=last, periods=10), "y": 6.0}
    )
    frame = pd.concat([frame, new], ignore_index=True)
    info = pd.DataFrame(
        {
            "unique_id": ["r1:orders", "r1:item1", "r1:item2", "r1:item3", "r1:item4"],
            "group": ["orders", "menu_item", "menu_item", "menu_item", "menu_item"],
            "is_count": True,
            "category": [None, "r1:c", "r1:c", "r1:c", "r1:c"],
            "closure_key": "r1:orders",
        }
    )
    return frame, info


@pytest.fixture(scope="module")
def full_run() -> tuple[pd.DataFrame, pd.DataFrame, DemandResult]:
    """One full run shared by the tests that only read it."""
    frame, info = _restaurant()
    closures = detect_closures(frame[frame["unique_id"] == "r1:orders"])
    return frame, info, forecast_demand(frame, info, CONFIG, closures=closures)


def test_output_has_every_series_and_step(full_run) -> None:  # type: ignore[no-untyped-def]
    """Each series gets 14 consecutive days after the history, in the output columns."""
    frame, _, result = full_run
    out = result.forecasts
    assert list(out.columns) == list(OUTPUT_COLUMNS)
    assert out.groupby("unique_id").size().to_dict() == dict.fromkeys(
        frame["unique_id"].unique(), 14
    )
    assert out["ds"].min() == frame["ds"].max() + pd.Timedelta(days=1)


def test_closed_weekday_forecasts_exactly_zero(full_run) -> None:  # type: ignore[no-untyped-def]
    """Mondays (closed) are 0 with zero-width intervals for the totals and the items."""
    _, _, result = full_run
    monday = result.forecasts[result.forecasts["ds"].dt.dayofweek == 0]
    assert len(monday) == 2 * 5
    assert (monday[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]] == 0).all().all()
    open_days = result.forecasts[result.forecasts["ds"].dt.dayofweek != 0]
    assert (open_days["yhat"] > 0).all()


def test_bounds_are_ordered_non_negative_whole_numbers(full_run) -> None:  # type: ignore[no-untyped-def]
    """0 <= lo_95 <= lo_80 <= yhat <= hi_80 <= hi_95, and count bounds are integers."""
    out = full_run[2].forecasts
    cols = ["lo_95", "lo_80", "yhat", "hi_80", "hi_95"]
    values = out[cols].to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= -1e-9).all()
    bounds = out[["lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy()
    assert np.array_equal(bounds, np.round(bounds))


def test_new_item_gets_a_share_of_its_category(full_run) -> None:  # type: ignore[no-untyped-def]
    """The 10-day-old item is rule-based and proportional to the category's forecast."""
    frame, _, result = full_run
    out = result.forecasts.set_index(["unique_id", "ds"])
    new = out.loc["r1:item4"]
    assert (new["source"] == "rule_based").all()
    others = out.loc[["r1:item1", "r1:item2", "r1:item3"], "yhat"].groupby(level="ds").sum()
    open_days = new.index.dayofweek != 0
    ratio = new.loc[open_days, "yhat"] / others[open_days]
    recent = frame[frame["ds"] > frame["ds"].max() - pd.Timedelta(days=10)]
    cat = recent[recent["unique_id"].isin(["r1:item1", "r1:item2", "r1:item3"])]["y"].sum()
    assert ratio.to_numpy() == pytest.approx(60.0 / cat, rel=1e-3)
    assert (
        result.forecasts.loc[result.forecasts["unique_id"] != "r1:item4", "source"] == "model"
    ).all()


def test_state_is_json_and_selection_covers_modelled_series(full_run) -> None:  # type: ignore[no-untyped-def]
    """The state (minus the GBM object) serialises to JSON and names a model per series."""
    _, _, result = full_run
    text = json.dumps(result.state.to_json_dict())
    assert set(json.loads(text)["selection"]) == {"r1:orders", "r1:item1", "r1:item2", "r1:item3"}
    assert set(result.state.selection.values()) <= set(CONFIG.candidates)
    assert {"mase", "base_mase", "cov_80", "base_cov_95", "wape"} <= set(result.series.columns)


def test_refit_reuses_the_selection_and_selects_only_new_series(full_run) -> None:  # type: ignore[no-untyped-def]
    """full=False keeps each known series' model; an unknown series is selected afresh."""
    frame, info, result = full_run
    selection = {k: "window_average" for k in result.state.selection if k != "r1:item3"}
    saved = json.loads(json.dumps(replace(result.state, selection=selection).to_json_dict()))
    state = DemandState.from_json_dict(saved, gbm=result.state.gbm)
    refit = forecast_demand(frame, info, CONFIG, state=state, full=False)
    chosen = refit.state.selection
    assert all(chosen[k] == "window_average" for k in ("r1:orders", "r1:item1", "r1:item2"))
    assert "r1:item3" in chosen
    closures = detect_closures(frame[frame["unique_id"] == "r1:orders"])
    again = forecast_demand(frame, info, CONFIG, closures=closures, state=state, full=True)
    assert again.state.selection == result.state.selection  # full re-selects from scratch


def test_unbuildable_model_falls_back_to_the_rule_rung(full_run) -> None:  # type: ignore[no-untyped-def]
    """A selection naming a model this version lacks yields rule-based rows, not a failure."""
    frame, info, result = full_run
    state = replace(
        result.state, selection=dict.fromkeys(result.state.selection, "model_from_the_future")
    )
    out = forecast_demand(frame, info, CONFIG, state=state, full=False).forecasts
    modelled = out[out["unique_id"] != "r1:item4"]
    assert (modelled["source"] == "rule_based").all()
    item1 = frame[frame["unique_id"] == "r1:item1"].tail(28)
    tuesday = item1[item1["ds"].dt.dayofweek == 1]["y"].mean()
    first_tue = out[(out["unique_id"] == "r1:item1") & (out["ds"].dt.dayofweek == 1)].iloc[0]
    assert first_tue["yhat"] == pytest.approx(tuesday, rel=1e-6)


def test_a_series_that_fails_to_fit_costs_only_itself() -> None:
    """AutoETS refuses a 5-point series; the other series in the batch still get forecasts."""
    frame = daily_frame(n_series=2, days=120)
    tiny = pd.DataFrame(
        {"unique_id": "tiny", "ds": frame["ds"].iloc[-5:], "y": [1.0, 3.0, 1.0, 3.0, 2.0]}
    )
    data = pd.concat([frame, tiny], ignore_index=True)
    chosen = pd.Series({"s0": "ets_ana", "s1": "ets_ana", "tiny": "ets_ana"})
    out = forecast_local(data, chosen, season=7, freq="D", h=14, input_size=None)
    assert set(out["unique_id"]) == {"s0", "s1"}
    assert out["yhat"].notna().all()


def test_hourly_series_get_168_hours_with_closed_hours_at_zero() -> None:
    """Hourly orders: 7 x 24 steps; night hours and the closed weekday forecast exactly 0."""
    rng = np.random.default_rng(2)
    ds = pd.date_range("2025-01-06", periods=24 * 7 * 10, freq="h")
    profile = np.array([0.0] * 11 + [4, 8, 6, 3, 2, 3, 7, 9, 6, 3] + [0.0] * 3)
    mu = profile[ds.hour] * np.where(ds.dayofweek == 0, 0.0, 1.0)
    frame = pd.DataFrame({"unique_id": "r1:orders_h", "ds": ds, "y": rng.poisson(mu) * 1.0})
    closures = detect_closures(frame, freq="h")
    info = pd.DataFrame({"unique_id": ["r1:orders_h"], "closure_key": ["r1:orders_h"]})
    out = forecast_demand(frame, info, DemandConfig.hourly(), closures=closures).forecasts
    assert len(out) == 168
    assert out["ds"].iloc[0] == ds[-1] + pd.Timedelta(hours=1)
    hour = out["ds"].dt.hour
    shut = (hour < 11) | (hour >= 21) | (out["ds"].dt.dayofweek == 0)
    assert (out.loc[shut, ["yhat", "hi_95"]] == 0).all().all()
    assert (out.loc[~shut, "hi_95"] > 0).all()


def test_short_and_empty_inputs_do_not_fail() -> None:
    """Ten days of history is rule-based; no rows at all gives an empty forecast frame."""
    frame = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2025-01-01", periods=10), "y": 2.0}
    )
    out = forecast_demand(frame, None, CONFIG).forecasts
    assert (out["source"] == "rule_based").all()
    assert out["yhat"].tolist() == [2.0] * 14
    empty = forecast_demand(frame.iloc[:0], None, CONFIG)
    assert list(empty.forecasts.columns) == list(OUTPUT_COLUMNS)
    assert empty.forecasts.empty


def test_hourly_across_spring_dst_keeps_the_local_hour_profile() -> None:
    """tz-aware hours: 168 real hours after the history; after the clocks jump, the forecast
    at 11:00 local still follows the 11:00 profile and closed hours stay exactly zero."""
    rng = np.random.default_rng(4)
    ds = pd.date_range("2025-01-06", "2025-03-29 22:00", freq="h", tz="UTC").tz_convert(
        "Europe/Berlin"
    )
    profile = np.array([0.0] * 11 + [4, 8, 6, 3, 2, 3, 7, 9, 6, 3] + [0.0] * 3)
    mu = profile[ds.hour] * np.where(ds.dayofweek == 0, 0.0, 1.0)
    frame = pd.DataFrame({"unique_id": "r", "ds": ds, "y": rng.poisson(mu) * 1.0})
    closures = detect_closures(frame, freq="h")
    info = pd.DataFrame({"unique_id": ["r"], "closure_key": ["r"]})
    out = forecast_demand(frame, info, DemandConfig.hourly(), closures=closures).forecasts
    assert len(out) == 168
    assert out["ds"].iloc[0] == ds[-1] + pd.Timedelta(hours=1)
    assert (out["ds"].diff().dropna() == pd.Timedelta(hours=1)).all()
    sunday = out[out["ds"].dt.date == pd.Timestamp("2025-03-30").date()]
    sunday = sunday.set_index(sunday["ds"].dt.hour)
    assert 2 not in sunday.index  # 02:00 does not exist that night
    assert sunday.loc[10, "yhat"] == 0.0
    assert sunday.loc[11, "yhat"] == pytest.approx(4.0, abs=2.0)
    assert sunday.loc[12, "yhat"] == pytest.approx(8.0, abs=3.0)
