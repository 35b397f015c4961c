"""Station load at arrival: hand-made cases and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.models.kitchen.load import STATE_COLUMNS, arrival_state, station_load_at_arrival

T0 = pd.Timestamp("2024-03-01 12:00", tz="UTC")


def _tickets(rows: list[tuple[int, float, float]]) -> pd.DataFrame:
    """Rows of (station_id, queued minute, completed minute) after T0."""
    return pd.DataFrame(
        {
            "station_id": [r[0] for r in rows],
            "queued_at": [T0 + pd.Timedelta(minutes=r[1]) for r in rows],
            "completed_at": [T0 + pd.Timedelta(minutes=r[2]) for r in rows],
        }
    )


def test_hand_made_example() -> None:
    """Counts tickets queued before and still open at arrival, per station only."""
    frame = _tickets(
        [
            (1, 0, 10),  # A: alone -> 0
            (1, 2, 5),  # B: A open -> 1
            (1, 5, 8),  # C: A open, B completed exactly at 5 -> 1
            (1, 5, 6),  # D: same instant as C, not counted by C nor C by D -> 1
            (2, 3, 4),  # E: other station -> 0
            (1, 10, 12),  # F: A completed at 10, C and D done -> 0
            (1, 7, 7),  # G: zero-length; A and C open -> 2
            (1, 7.5, 9),  # H: A, C open; G never open -> 2
        ]
    )
    assert station_load_at_arrival(frame).tolist() == [0, 1, 1, 1, 0, 0, 2, 2]


def test_row_order_does_not_matter() -> None:
    """Shuffling the rows shuffles the loads the same way."""
    frame = _tickets([(1, 0, 10), (1, 2, 5), (1, 5, 8), (2, 3, 4), (1, 6, 9)])
    expected = station_load_at_arrival(frame)
    perm = np.array([3, 0, 4, 2, 1])
    assert station_load_at_arrival(frame.iloc[perm]).tolist() == expected[perm].tolist()


def _brute_force(frame: pd.DataFrame) -> list[int]:
    out = []
    for row in frame.itertuples():
        same = frame[frame["station_id"] == row.station_id]
        open_ = (same["queued_at"] < row.queued_at) & (same["completed_at"] > row.queued_at)
        out.append(int(open_.sum()))
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 30), st.integers(0, 10)),
        min_size=1,
        max_size=25,
    ),
    st.lists(st.tuples(st.integers(1, 3), st.integers(1, 20), st.integers(0, 10)), max_size=10),
)
def test_matches_brute_force_and_ignores_later_tickets(
    rows: list[tuple[int, int, int]], later: list[tuple[int, int, int]]
) -> None:
    """Equals the O(n^2) definition; tickets queued after t never change the load at t."""
    base = [(s, float(q), float(q + d)) for s, q, d in rows]
    frame = _tickets(base)
    load = station_load_at_arrival(frame)
    assert load.tolist() == _brute_force(frame)
    cutoff = max(q for _s, q, _d in rows)
    extra = [(s, float(cutoff + q), float(cutoff + q + d)) for s, q, d in later]
    both = station_load_at_arrival(_tickets(base + extra))
    assert both[: len(frame)].tolist() == load.tolist()


def _state_tickets(rows: list[tuple[int, int, int, int, int, int]]) -> pd.DataFrame:
    """Rows of (station, order, quantity, queued, started offset, completed offset) minutes."""
    return pd.DataFrame(
        {
            "station_id": [r[0] for r in rows],
            "restaurant_id": 1,
            "order_id": [r[1] for r in rows],
            "quantity": [r[2] for r in rows],
            "queued_at": [T0 + pd.Timedelta(minutes=r[3]) for r in rows],
            "started_at": [T0 + pd.Timedelta(minutes=r[3] + r[4]) for r in rows],
            "completed_at": [T0 + pd.Timedelta(minutes=r[3] + r[4] + r[5]) for r in rows],
        }
    )


def _state_brute_force(frame: pd.DataFrame) -> pd.DataFrame:
    out = []
    for row in frame.itertuples():
        t = row.queued_at
        before = frame["queued_at"] < t
        here = frame["station_id"] == row.station_id
        open_ = before & (frame["completed_at"] > t)
        order = (frame["order_id"] == row.order_id) & here & (frame["queued_at"] <= t)
        out.append(
            {
                "load": int((open_ & here).sum()),
                "waiting": int((before & here & (frame["started_at"] > t)).sum()),
                "arrivals_15m": int(
                    (here & before & (frame["queued_at"] >= t - pd.Timedelta(minutes=15))).sum()
                ),
                "kitchen_load": int((open_ & ~here).sum()),
                "order_units": int(frame.loc[order, "quantity"].sum()),
            }
        )
    return pd.DataFrame(out, columns=list(STATE_COLUMNS))


ROWS = st.tuples(
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(0, 40),
    st.integers(0, 6),
    st.integers(0, 8),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(ROWS, min_size=1, max_size=25), st.lists(ROWS, max_size=10))
def test_arrival_state_matches_brute_force_and_ignores_later_tickets(
    rows: list[tuple[int, int, int, int, int, int]],
    later: list[tuple[int, int, int, int, int, int]],
) -> None:
    """Each state column equals its O(n^2) definition; later tickets never change it."""
    frame = _state_tickets(rows)
    state = arrival_state(frame)
    pd.testing.assert_frame_equal(
        state.reset_index(drop=True), _state_brute_force(frame), check_dtype=False
    )
    cutoff = max(r[3] for r in rows) + 1
    extra = [(s, o, n, cutoff + q, w, d) for s, o, n, q, w, d in later]
    both = arrival_state(_state_tickets(rows + extra))
    pd.testing.assert_frame_equal(both.iloc[: len(frame)], state)
