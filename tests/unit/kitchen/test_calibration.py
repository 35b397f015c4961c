"""Split conformal p90 factors: pooled, per group (Mondrian), per band of load, and the
table's per-bucket calibration."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.models.kitchen.calibration import (
    LoadScales,
    conformal_scale,
    fit_load_scales,
    group_scales,
)
from rms_ml_push.models.kitchen.table import LookupTable
from rms_ml_push.models.kitchen.table_build import calibrate_table


@settings(max_examples=60, deadline=None)
@given(
    ratios=st.lists(st.floats(0.05, 20.0), min_size=1, max_size=300),
    coverage=st.sampled_from([0.5, 0.8, 0.9, 0.95]),
)
def test_conformal_scale_covers_its_finite_sample_share(
    ratios: list[float], coverage: float
) -> None:
    """Scaled by the factor, at least ceil((n + 1) coverage) of n calibration points
    (all of them when that exceeds n) fall at or below the p90."""
    actual = np.asarray(ratios) * 100.0
    p90 = np.full(len(ratios), 100.0)
    factor = conformal_scale(actual, p90, coverage)
    covered = int(np.sum(actual <= p90 * factor))
    assert covered >= min(len(ratios), math.ceil((len(ratios) + 1) * coverage))


def test_conformal_scale_without_tickets_is_one() -> None:
    """No calibration tickets: the p90 is left as it is."""
    assert conformal_scale([], [], 0.9) == 1.0


def test_group_scales_cover_each_group_where_one_factor_does_not() -> None:
    """A wide group and a narrow one: the pooled factor under-covers the wide group, the
    per-group factors cover both; a group without tickets takes the pooled factor."""
    rng = np.random.default_rng(3)
    groups = np.repeat([0, 1], [800, 200])
    actual = np.exp(rng.normal(0.0, np.where(groups == 0, 0.1, 0.8)))
    p90 = np.ones_like(actual)
    pooled = conformal_scale(actual, p90)
    assert np.mean(actual[groups == 1] <= pooled) < 0.85
    scales = group_scales(actual, p90, groups, n_groups=3)
    for g in (0, 1):
        assert np.mean(actual[groups == g] <= scales[g]) >= 0.9
    assert scales[2] == pooled


def _queueing(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Loads and times whose spread grows with load, as a queue's wait does."""
    loads = rng.geometric(0.25, n) - 1
    times = 100.0 * (1.0 + loads) * np.exp(rng.normal(0.0, 0.2 + 0.08 * loads))
    return loads, times


def test_load_scales_hold_coverage_at_the_busiest_fifth_on_new_tickets() -> None:
    """Fitted on one sample, the per-load factors cover 85-95 % of the busiest fifth of a
    fresh sample, where the pooled factor falls short; overall stays 85-95 % too."""
    rng = np.random.default_rng(7)
    calib_loads, calib_times = _queueing(6000, rng)
    loads, times = _queueing(6000, rng)

    def naive(load: np.ndarray) -> np.ndarray:
        return 100.0 * (1.0 + load)  # a p90 that follows the mean but not the spread

    scales = fit_load_scales(calib_times, naive(calib_loads), calib_loads)
    pooled = conformal_scale(calib_times, naive(calib_loads))
    busy = loads >= np.quantile(loads, 0.8)
    mondrian = naive(loads) * scales.at(loads)
    assert 0.85 <= np.mean(times[busy] <= mondrian[busy]) <= 0.95
    assert 0.85 <= np.mean(times <= mondrian) <= 0.95
    assert np.mean(times[busy] <= naive(loads[busy]) * pooled) < 0.85


def test_load_scales_pick_the_band_of_each_load() -> None:
    """``at`` maps each load to its band's factor, the open top included."""
    scales = LoadScales(bands=((0, 2), (3, 5), (6, None)), scales=(1.0, 2.0, 3.0))
    assert scales.at([0, 2, 3, 5, 6, 100]).tolist() == [1.0, 1.0, 2.0, 2.0, 3.0, 3.0]


def _table(p90: float) -> LookupTable:
    """One station and item, buckets [0, 4] and [5, open], every p90 at ``p90``."""
    figures = {"p50_s": 50.0, "p90_s": p90, "total_p50_s": 60.0, "total_p90_s": p90}
    keys = {"station_id": 1, "menu_item_id": 10}
    items = pd.DataFrame([{**keys, "source": "model", **figures}])
    by_load = pd.DataFrame(
        [{**keys, "queue_min": 0, "queue_max": 4, **figures}, {**keys, "queue_min": 5, **figures}]
    ).astype({"queue_max": "Int64"})
    by_hour = pd.DataFrame([{**keys, "hour": 12, **figures}])
    return LookupTable(items=items, by_load=by_load, by_hour=by_hour)


def _tickets(load: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """Calibration tickets of one station and item at noon, cook time = total time."""
    return pd.DataFrame(
        {
            "station_id": 1,
            "menu_item_id": 10,
            "load": load,
            "local_hour": 12,
            "quantity": 1,
            "cook_s": times,
            "total_s": times,
        }
    )


def test_calibrate_table_covers_each_load_bucket() -> None:
    """The busy bucket's tickets run three times longer: after calibration each bucket's
    p90 covers at least 90 % of its own calibration tickets, the busy one's p90 is the
    larger, and the hour and overall figures cover 90 % of all of them."""
    rng = np.random.default_rng(5)
    n = 1000
    load = np.where(np.arange(n) < 800, rng.integers(0, 5, n), rng.integers(5, 12, n))
    times = np.exp(rng.normal(np.log(100.0), 0.3, n)) * np.where(load >= 5, 3.0, 1.0)
    calib = _tickets(load, times)
    table = calibrate_table(_table(p90=150.0), calib, min_count=100)
    p90 = table.by_load.set_index("queue_min")["p90_s"]
    assert p90[5] > p90[0]
    found = table.lookup(calib)
    for busy in (False, True):
        inside = (load >= 5) == busy
        assert np.mean(times[inside] <= found["p90_s"].to_numpy()[inside]) >= 0.9
        assert np.mean(times[inside] <= found["total_p90_s"].to_numpy()[inside]) >= 0.9
    for frame in (table.items, table.by_hour):
        assert np.mean(times <= frame["p90_s"].iloc[0]) >= 0.9
        assert np.mean(times <= frame["total_p90_s"].iloc[0]) >= 0.9
    assert list(table.by_load.columns) == list(_table(1.0).by_load.columns)


def test_calibrate_table_pools_a_station_with_few_tickets() -> None:
    """Fewer calibration tickets than ``min_count`` at a station: its buckets share one
    factor (the pooled one) instead of factors fitted on a handful of tickets."""
    rng = np.random.default_rng(9)
    load = rng.integers(0, 12, 60)
    times = np.exp(rng.normal(np.log(100.0), 0.3, 60)) * np.where(load >= 5, 3.0, 1.0)
    calib = _tickets(load, times)
    table = calibrate_table(_table(p90=150.0), calib, min_count=100)
    assert table.by_load["p90_s"].nunique() == 1
