"""Load buckets, the lookup table's shape and the RMS's lookup order."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.models.kitchen.buckets import bucket_index, choose_load_buckets, merge_sparse
from rms_ml_push.models.kitchen.table import LookupTable


def _assert_contiguous(buckets: list[tuple[int, int | None]]) -> None:
    assert buckets[0][0] == 0
    assert buckets[-1][1] is None
    for (low, high), (next_low, _h) in itertools.pairwise(buckets):
        assert high is not None
        assert low <= high
        assert next_low == high + 1


@pytest.mark.parametrize(
    "loads",
    [[], [0, 0, 0], list(range(40)), [0] * 50 + [1] * 30 + [5] * 10 + [30], [3, 3, 4]],
)
def test_buckets_contiguous_inclusive_last_open(loads: list[int]) -> None:
    """Buckets start at 0, meet without gaps, bounds inclusive, the last open."""
    buckets = choose_load_buckets(loads)
    _assert_contiguous(buckets)
    idx = bucket_index(loads, buckets)
    for load, k in zip(loads, idx, strict=True):
        low, high = buckets[k]
        assert low <= load
        assert high is None or load <= high


def test_buckets_follow_the_distribution() -> None:
    """A busier station gets wider buckets than a quiet one."""
    rng = np.random.default_rng(0)
    quiet = choose_load_buckets(rng.poisson(1, 1000))
    busy = choose_load_buckets(rng.poisson(12, 1000))
    assert quiet[-1][0] < busy[-1][0]


def _table() -> LookupTable:
    figures = {"total_p50_s": 0.0, "total_p90_s": 0.0}
    items = pd.DataFrame(
        {
            "station_id": [1, 1],
            "menu_item_id": [10, 11],
            "source": ["model", "model"],
            "p50_s": [100.0, 50.0],
            "p90_s": [150.0, 60.0],
        }
    ).assign(**figures)
    by_load = pd.DataFrame(
        {
            "station_id": [1, 1],
            "menu_item_id": [10, 10],
            "queue_min": [0, 3],
            "queue_max": pd.array([2, None], dtype="Int64"),
            "p50_s": [110.0, 200.0],
            "p90_s": [160.0, 300.0],
        }
    ).assign(**figures)
    by_hour = pd.DataFrame(
        {"station_id": [1], "menu_item_id": [11], "hour": [19], "p50_s": [70.0], "p90_s": [90.0]}
    ).assign(**figures)
    return LookupTable(items=items, by_load=by_load, by_hour=by_hour)


def test_lookup_order_load_then_hour_then_overall() -> None:
    """The RMS's order: a load bucket wins, else the hour, else overall; unknown is missing."""
    tickets = pd.DataFrame(
        {
            "station_id": [1, 1, 1, 1, 1],
            "menu_item_id": [10, 10, 11, 11, 99],
            "load": [1, 7, 7, 7, 0],
            "local_hour": [19, 19, 19, 12, 19],
        }
    )
    found = _table().lookup(tickets)
    assert found["rung"].tolist() == ["load", "load", "hour", "overall", "missing"]
    assert found["p50_s"].tolist()[:4] == [110.0, 200.0, 70.0, 50.0]
    assert np.isnan(found["p50_s"].iloc[4])


def test_payload_shape() -> None:
    """to_prep_times gives the contract's rows: ids, figures, buckets with null open top."""
    rows = _table().to_prep_times()
    assert [r["menu_item_id"] for r in rows] == [10, 11]
    first = rows[0]
    assert set(first) == {
        "station_id",
        "menu_item_id",
        "source",
        "p50_s",
        "p90_s",
        "total_p50_s",
        "total_p90_s",
        "by_load",
        "by_hour",
    }
    assert first["by_load"][-1] == {
        "queue_min": 3,
        "queue_max": None,
        "p50_s": 200.0,
        "p90_s": 300.0,
    }
    assert rows[1]["by_hour"] == [{"hour": 19, "p50_s": 70.0, "p90_s": 90.0}]


def test_per_unit_extension_adds_to_p50s_only() -> None:
    """Quantity 3 adds two units to both p50s; p90s stay unless a p50 passes them."""
    base = _table()
    table = LookupTable(
        items=base.items.assign(per_extra_unit_s=[40.0, 0.0]),
        by_load=base.by_load,
        by_hour=base.by_hour,
    )
    tickets = pd.DataFrame(
        {
            "station_id": [1, 1, 1],
            "menu_item_id": [10, 10, 11],
            "load": [1, 1, 7],
            "local_hour": [12, 12, 19],
            "quantity": [1, 3, 3],
        }
    )
    plain = table.lookup(tickets)
    found = table.lookup(tickets, per_unit=True)
    assert found["p50_s"].tolist() == [110.0, 190.0, 70.0]
    assert found["p90_s"].tolist() == [160.0, 190.0, 90.0]  # 160 < 190: raised to the p50
    assert found["total_p50_s"].tolist() == [0.0, 80.0, 0.0]
    assert plain["p50_s"].tolist() == [110.0, 110.0, 70.0]
    rows = table.to_prep_times(total_in_buckets=True, per_unit=True)
    assert [r["per_extra_unit_s"] for r in rows] == [40.0, 0.0]
    assert rows[0]["by_load"][0]["total_p50_s"] == 0.0
    assert "per_extra_unit_s" not in table.to_prep_times()[0]


@settings(max_examples=80, deadline=None)
@given(
    loads=st.lists(st.integers(0, 60), max_size=400),
    min_count=st.integers(1, 120),
)
def test_buckets_partition_zero_to_infinity(loads: list[int], min_count: int) -> None:
    """For any loads: buckets start at 0, bounds inclusive, no gap or overlap, the last
    open (null), every load 0..inf in exactly one; each holds at least ``min_count`` of
    the loads when there are that many."""
    buckets = choose_load_buckets(loads, min_count=min_count)
    _assert_contiguous(buckets)
    probe = np.arange(0, 200)
    idx = bucket_index(probe, buckets)
    for load, k in zip(probe, idx, strict=True):
        inside = [
            j for j, (lo, hi) in enumerate(buckets) if lo <= load and (hi is None or load <= hi)
        ]
        assert inside == [k]
    if len(loads) >= min_count:
        counts = np.bincount(bucket_index(loads, buckets), minlength=len(buckets))
        assert counts.min() >= min_count


def test_top_bucket_holds_a_small_share_of_a_long_tail() -> None:
    """On a long-tailed load (a station with long peaks), the open top bucket holds at
    most 1 % of the moments and starts at or above the 98th percentile."""
    rng = np.random.default_rng(2)
    loads = rng.geometric(0.12, 20_000) - 1
    buckets = choose_load_buckets(loads)
    top_low = buckets[-1][0]
    assert np.mean(loads >= top_low) <= 0.01
    assert top_low >= np.quantile(loads, 0.98)


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(st.integers(0, 50), max_size=30),
    min_count=st.integers(1, 100),
)
def test_merge_sparse_groups(counts: list[int], min_count: int) -> None:
    """Labels run 0, 1, ... up without gaps; each group holds ``min_count`` (one group if
    the total is short); the top bin closes the first full group from the top."""
    labels = merge_sparse(counts, min_count)
    assert len(labels) == len(counts)
    if not counts:
        return
    assert labels[0] == 0
    assert all(b - a in (0, 1) for a, b in itertools.pairwise(labels))
    held = np.bincount(labels, weights=counts)
    if sum(counts) < min_count:
        assert set(labels) == {0}
    else:
        assert held.min() >= min_count
        # The top group is the smallest run of top bins that reaches min_count.
        top = [k for k, g in enumerate(labels) if g == labels[-1]]
        if len(labels) > len(top):  # more than one group: the top group is minimal
            assert sum(counts[k] for k in top[1:]) < min_count
