"""The contract's dirty data, injected at small rates and counted by kind.

Each kind gets at least one row per restaurant, so a data-quality step can be tested on
any demo size; the counts go to the summary and to ``demo_truth_dirty``. Row selections
within a table are disjoint, so every count is exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import NULL, Frame
from rms_ml_push.demo.params import DIRTY_RATES

I64 = npt.NDArray[np.int64]
YEAR_S = 365 * 86_400
FLOOR_S = 631_152_000  # 1990-01-01T00:00:00Z


def _how_many(kind: str, n: int) -> int:
    return 0 if n == 0 else min(n, max(1, round(DIRTY_RATES[kind] * n)))


def _pick(pool: I64, kinds: list[str], n: int, rng: np.random.Generator) -> dict[str, I64]:
    """Disjoint random row sets, one per kind, from ``pool``."""
    shuffled = rng.permutation(pool)
    out: dict[str, I64] = {}
    at = 0
    for kind in kinds:
        k = _how_many(kind, n)
        out[kind] = np.sort(shuffled[at : at + k])
        at += k
    return out


def dirty_orders(orders: Frame, end_s: int, rng: np.random.Generator) -> dict[str, int]:
    """Clock errors on ``created_at``: far in the future, and before the 1990 floor."""
    n = len(orders["id"])
    completed = np.flatnonzero(orders["status"] == "completed")
    picks = _pick(completed, ["orders_future_timestamp", "orders_before_floor"], n, rng)
    created, closed = orders["created_at"], orders["closed_at"]
    future = picks["orders_future_timestamp"]
    shift = end_s + rng.integers(20 * YEAR_S, 30 * YEAR_S, size=len(future)) - created[future]
    created[future] += shift
    closed[future] += shift
    past = picks["orders_before_floor"]
    # Half at the epoch itself (an unset clock), the rest somewhere in the 1980s.
    old = np.where(
        rng.random(len(past)) < 0.5, 0, rng.integers(10 * YEAR_S, FLOOR_S, size=len(past))
    )
    closed[past] = old + (closed[past] - created[past])
    created[past] = old
    return {kind: len(rows) for kind, rows in picks.items()}


def dirty_lines(
    lines: Frame, allocate: Callable[[int], I64], rng: np.random.Generator
) -> tuple[Frame, dict[str, int]]:
    """Voided lines, quantity <= 0, and duplicated lines (same line, new id)."""
    n = len(lines["id"])
    kinds = ["lines_voided", "lines_nonpositive_quantity", "lines_duplicate"]
    picks = _pick(np.arange(n), kinds, n, rng)
    lines["is_voided"][picks["lines_voided"]] = True
    bad = picks["lines_nonpositive_quantity"]
    lines["quantity"][bad] = rng.choice([0, -1, -2], size=len(bad))
    dup = picks["lines_duplicate"]
    copies = {key: col[dup] for key, col in lines.items()}
    copies["id"] = allocate(len(dup))
    merged = {key: np.concatenate([col, copies[key]]) for key, col in lines.items()}
    return merged, {kind: len(rows) for kind, rows in picks.items()}


def dirty_tickets(tickets: Frame, rng: np.random.Generator) -> dict[str, int]:
    """Kitchen rows: never started, never completed, completed before started, hours long."""
    n = len(tickets["id"])
    kinds = [
        "kitchen_missing_started",
        "kitchen_missing_completed",
        "kitchen_completed_before_started",
        "kitchen_hours_long",
    ]
    picks = _pick(np.arange(n), kinds, n, rng)
    started, completed = tickets["started_at"], tickets["completed_at"]
    started[picks["kitchen_missing_started"]] = NULL
    completed[picks["kitchen_missing_started"]] = NULL
    completed[picks["kitchen_missing_completed"]] = NULL
    back = picks["kitchen_completed_before_started"]
    completed[back] = started[back] - rng.integers(60, 900, size=len(back))
    long = picks["kitchen_hours_long"]
    completed[long] = started[long] + rng.integers(3 * 3600, 10 * 3600, size=len(long))
    return {kind: len(rows) for kind, rows in picks.items()}
