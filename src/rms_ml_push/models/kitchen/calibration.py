"""Split conformal calibration of the p90s, overall and per group (Mondrian).

One scale over all calibration tickets makes the p90 cover 90 % on average, but not at
the busiest moments: the busiest fifth of tickets waits longest and its spread grows with
the queue, so a single factor left it at 84-86 % for the model and 72 % for the table
(``jobs/kitchen.md``). Group-conditional ("Mondrian") split conformal fixes that: the
calibration tickets are split into groups by the load they met, and each group gets its
own factor, so coverage holds within each group and therefore in the busiest fifth too
(Vovk et al., "Algorithmic Learning in a Random World", ch. 4.5; Romano, Patterson and
Candes, "Conformalized Quantile Regression", 2019, for the quantile-regression case).

A group needs enough tickets for its finite-sample quantile to mean something; groups
are bands of load merged from the top down until each holds ``min_count`` tickets
(``buckets.merge_sparse``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rms_ml_push.models.kitchen.buckets import Bucket, bucket_index, choose_load_buckets

# Bands for the model's per-load calibration: edges at these quantiles of the
# calibration tickets' load, each band holding at least ``BAND_MIN_COUNT`` tickets.
BAND_QUANTILES: tuple[float, ...] = (0.5, 0.7, 0.8, 0.86, 0.9, 0.93, 0.96, 0.98)
BAND_MIN_COUNT = 200


def conformal_scale(actual: npt.ArrayLike, p90: npt.ArrayLike, coverage: float = 0.9) -> float:
    """Factor for ``p90`` so that ``coverage`` of ``actual`` falls at or below it (split CP).

    The ``ceil((n + 1) coverage) / n`` order statistic of ``actual / p90``; no tickets:
    1.0 (nothing to learn from)."""
    ratio = np.asarray(actual, dtype=np.float64) / np.maximum(np.asarray(p90, dtype=float), 1.0)
    n = ratio.size
    if n == 0:
        return 1.0
    level = min(1.0, math.ceil((n + 1) * coverage) / n)
    return float(np.quantile(ratio, level, method="higher"))


def group_scales(
    actual: npt.ArrayLike,
    p90: npt.ArrayLike,
    groups: npt.ArrayLike,
    n_groups: int,
    coverage: float = 0.9,
) -> list[float]:
    """:func:`conformal_scale` within each group ``0..n_groups - 1`` (``groups`` labels
    each ticket); a group without tickets takes the pooled factor."""
    y = np.asarray(actual, dtype=np.float64)
    q = np.asarray(p90, dtype=np.float64)
    labels = np.asarray(groups, dtype=np.int64)
    pooled = conformal_scale(y, q, coverage)
    out: list[float] = []
    for g in range(n_groups):
        inside = labels == g
        out.append(conformal_scale(y[inside], q[inside], coverage) if inside.any() else pooled)
    return out


@dataclass(frozen=True)
class LoadScales:
    """A p90 factor per band of load at arrival: ``bands`` as load buckets (inclusive
    bounds, last open), ``scales[k]`` for band ``k``."""

    bands: tuple[Bucket, ...]
    scales: tuple[float, ...]

    def at(self, loads: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The factor for each load."""
        factors = np.asarray(self.scales, dtype=np.float64)
        return factors[bucket_index(loads, list(self.bands))]


def fit_load_scales(
    actual: npt.ArrayLike,
    p90: npt.ArrayLike,
    loads: npt.ArrayLike,
    *,
    coverage: float = 0.9,
    quantiles: Sequence[float] = BAND_QUANTILES,
    min_count: int = BAND_MIN_COUNT,
) -> LoadScales:
    """Mondrian conformal factors by band of load: bands at ``quantiles`` of ``loads``,
    each with at least ``min_count`` tickets, one :func:`conformal_scale` per band."""
    bands = choose_load_buckets(loads, quantiles, min_count)
    idx = bucket_index(loads, bands)
    scales = group_scales(actual, p90, idx, len(bands), coverage)
    return LoadScales(bands=tuple(bands), scales=tuple(scales))
