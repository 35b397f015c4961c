"""RFM quintile scores and named segments.

Scores are 1-5 quintiles over the customers scored together (5 = best):
R from ``recency_days`` (more recent is better), F from ``n_occasions``, M from
``mean_spend``. Ties share a score; for F the tie takes the LOWEST quintile it spans, so
that the many one-visit customers of a restaurant are all F = 1 rather than a middling 2.

Segments follow the widely used R x F grid (M breaks no ties here: spend is in the
expected-value figure). Every one of the 25 (R, F) cells maps to exactly one segment:

====  =========================================================
 R\\F  1            2                 3                4        5
====  =========================================================
 5    new          potential_loyalist potential_loyalist champions champions
 4    promising    potential_loyalist potential_loyalist loyal     loyal
 3    about_to_sleep about_to_sleep  need_attention   loyal     loyal
 2    hibernating  hibernating       at_risk          at_risk   cant_lose
 1    lost         lost              at_risk          at_risk   cant_lose
====  =========================================================
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cant_lose",
    "hibernating",
    "lost",
)

# SEGMENT_GRID[r - 1][f - 1]
SEGMENT_GRID: tuple[tuple[str, ...], ...] = (
    ("lost", "lost", "at_risk", "at_risk", "cant_lose"),
    ("hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"),
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),
    ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),
    ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
)


def quintile_score(
    values: pd.Series, *, higher_is_better: bool, ties: Literal["average", "min"]
) -> NDArray[np.int64]:
    """1-5 score from the percentile rank; ``ties`` is a pandas rank method."""
    if values.empty:
        return np.zeros(0, dtype=np.int64)
    oriented = values if higher_is_better else -values
    pct = oriented.rank(method=ties, pct=True).to_numpy(dtype=np.float64)
    scores: NDArray[np.int64] = np.clip(np.ceil(pct * 5.0), 1, 5).astype(np.int64)
    return scores


def rfm_scores(summary: pd.DataFrame) -> pd.DataFrame:
    """``r_score``, ``f_score``, ``m_score``, ``rfm_score`` (sum, 3-15) and ``rfm_segment``.

    ``summary`` is :func:`features.summarise`'s output; the result has its index.
    """
    r = quintile_score(summary["recency_days"], higher_is_better=False, ties="average")
    f = quintile_score(summary["n_occasions"], higher_is_better=True, ties="min")
    m = quintile_score(summary["mean_spend"], higher_is_better=True, ties="average")
    grid = np.array(SEGMENT_GRID, dtype=object)
    segment = grid[r - 1, f - 1] if r.size else np.array([], dtype=object)
    return pd.DataFrame(
        {
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": r + f + m,
            "rfm_segment": pd.Series(segment, dtype="object").to_numpy(),
        },
        index=summary.index,
    )
