"""Candidate screening: large groups judged on a fixed sample, the rest on what won there."""

from __future__ import annotations

import pandas as pd
from structlog.testing import capture_logs

from rms_ml_push.models.demand import DemandConfig, forecast_demand
from rms_ml_push.models.demand.screening import kept_candidates, plan_screening
from tests.unit.models.demand_helpers import daily_frame


def test_small_groups_are_sampled_whole_large_ones_by_a_stable_hash() -> None:
    """Same sample every time; every series is in the sample or in its group's rest."""
    groups = pd.Series(
        {**{f"i{k}": "menu_item" for k in range(10)}, "orders": "orders", "covers": "covers"}
    )
    plan = plan_screening(groups, sample_size=4)
    again = plan_screening(groups.sample(frac=1.0, random_state=1), sample_size=4)
    assert plan == again
    assert {"orders", "covers"} <= set(plan.sample)
    assert list(plan.rest) == ["menu_item"]
    assert len(plan.rest["menu_item"]) == 6
    assert sorted(plan.sample + plan.rest["menu_item"]) == sorted(groups.index)


def test_kept_candidates_keep_baseline_and_ensemble_members() -> None:
    """Rarely picked models go; the baseline and an ensemble's members stay."""
    chosen = pd.Series(["gbm"] * 90 + ["ets_gbm"] * 9 + ["theta"])
    candidates = ("seasonal_naive", "theta", "ets_ana", "gbm", "ets_gbm")
    assert kept_candidates(chosen, candidates, 0.02) == (
        "seasonal_naive",
        "ets_ana",
        "gbm",
        "ets_gbm",
    )


def test_screened_run_forecasts_everything_and_backtests_the_rest_on_winners() -> None:
    """Rest series only get candidates kept by the sample; each series has metrics."""
    frame = daily_frame(n_series=8, days=150, level=15.0, seed=5)
    info = pd.DataFrame(
        {
            "unique_id": sorted(frame["unique_id"].unique()),
            "group": "menu_item",
            "is_count": True,
            "category": "c",
            "closure_key": None,
        }
    )
    config = DemandConfig.daily(
        candidates=("seasonal_naive", "window_average", "theta", "gbm"),
        screen_sample=3,
        screen_min_share=0.5,
    )
    with capture_logs() as logs:
        result = forecast_demand(frame, info, config)
    screened = [e for e in logs if e["event"] == "demand.screened"]
    assert len(screened) == 1
    kept = set(screened[0]["kept"])
    assert "seasonal_naive" in kept
    assert len(kept) < len(config.candidates)  # at 50 % at most two winners and the baseline
    assert set(result.series.index) == set(info["unique_id"])
    assert result.series["mase"].notna().all()
    assert len(result.forecasts) == 8 * config.h
    sample = set(plan_screening(info.set_index("unique_id")["group"], 3).sample)
    rest_models = result.series.loc[~result.series.index.isin(sample), "model"]
    assert set(rest_models) <= kept
