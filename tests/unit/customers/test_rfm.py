"""RFM scores and segments."""

from __future__ import annotations

import itertools

import pandas as pd

from rms_ml_push.models.customers.features import summarise
from rms_ml_push.models.customers.rfm import SEGMENT_GRID, SEGMENTS, rfm_scores

from .conftest import START


def test_grid_maps_every_cell_to_a_known_segment() -> None:
    """All 25 (R, F) cells name a segment, and every segment is reachable."""
    cells = {SEGMENT_GRID[r][f] for r, f in itertools.product(range(5), range(5))}
    assert cells == set(SEGMENTS)


def test_segments_cover_all_customers(sim_tx: pd.DataFrame) -> None:
    """Every customer gets scores in 1..5 and a named segment."""
    summary = summarise(sim_tx, START + pd.Timedelta(days=600))
    scores = rfm_scores(summary)
    assert len(scores) == len(summary)
    assert scores["rfm_segment"].isin(SEGMENTS).all()
    for col in ("r_score", "f_score", "m_score"):
        assert scores[col].between(1, 5).all()
    assert scores["rfm_score"].equals(scores["r_score"] + scores["f_score"] + scores["m_score"])


def test_single_visit_customers_score_lowest_frequency(sim_tx: pd.DataFrame) -> None:
    """Ties at one visit take F = 1, and recent one-visit customers are 'new'."""
    summary = summarise(sim_tx, START + pd.Timedelta(days=600))
    scores = rfm_scores(summary)
    single = summary["n_occasions"] == 1
    assert (scores.loc[single, "f_score"] == 1).all()
    recent_single = single & (scores["r_score"] == 5)
    assert recent_single.any()
    assert (scores.loc[recent_single, "rfm_segment"] == "new").all()


def test_recency_orders_r_score() -> None:
    """The most recent customer has R 5, the stalest R 1."""
    summary = pd.DataFrame(
        {
            "recency_days": [1.0, 10.0, 100.0, 200.0, 400.0],
            "n_occasions": [1, 2, 3, 4, 5],
            "mean_spend": [10.0, 20.0, 30.0, 40.0, 50.0],
        },
        index=pd.Index([1, 2, 3, 4, 5], name="customer_id"),
    )
    scores = rfm_scores(summary)
    assert list(scores["r_score"]) == [5, 4, 3, 2, 1]
    assert list(scores["rfm_segment"]) == [
        "new",
        "potential_loyalist",
        "need_attention",
        "at_risk",
        "cant_lose",
    ]
