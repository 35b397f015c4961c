"""Load buckets for the lookup table, chosen from a station's load distribution."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Bucket = tuple[int, int | None]  # (queue_min, queue_max), both inclusive; None: open top

DEFAULT_EDGE_QUANTILES: tuple[float, ...] = (0.4, 0.65, 0.8, 0.9, 0.97)


def choose_load_buckets(
    loads: npt.ArrayLike, edge_quantiles: tuple[float, ...] = DEFAULT_EDGE_QUANTILES
) -> list[Bucket]:
    """Contiguous integer buckets from 0 up, the last open, split at load quantiles.

    A bucket ends at each distinct quantile of the observed loads (so busy stations get
    wide buckets and quiet ones narrow ones); an edge is kept only if some load lies above
    it, so that the open top bucket is never empty. No loads: one bucket ``[0, None]``.
    """
    values = np.asarray(loads, dtype=np.int64)
    if values.size == 0:
        return [(0, None)]
    top = int(values.max())
    edges = sorted({int(np.floor(np.quantile(values, q))) for q in edge_quantiles})
    edges = [e for e in edges if 0 <= e < top]
    buckets: list[Bucket] = []
    low = 0
    for edge in edges:
        buckets.append((low, edge))
        low = edge + 1
    buckets.append((low, None))
    return buckets


def bucket_index(loads: npt.ArrayLike, buckets: list[Bucket]) -> npt.NDArray[np.int64]:
    """Index of the bucket holding each load (loads below 0 count as 0)."""
    uppers = np.array([b[1] for b in buckets[:-1]], dtype=np.int64)
    values = np.maximum(np.asarray(loads, dtype=np.int64), 0)
    return np.searchsorted(uppers, values, side="left").astype(np.int64)


def representative_loads(loads: npt.ArrayLike, buckets: list[Bucket]) -> list[int]:
    """The median observed load inside each bucket (its lower bound if none was seen)."""
    values = np.asarray(loads, dtype=np.int64)
    idx = bucket_index(values, buckets)
    out: list[int] = []
    for k, (low, _high) in enumerate(buckets):
        inside = values[idx == k]
        out.append(int(np.median(inside)) if inside.size else low)
    return out
