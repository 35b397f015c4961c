"""Synthetic customer transaction logs with realistic heterogeneity (tests and benches).

Each customer is acquired at a uniform time in the window with a first order, buys at a
Poisson rate ``lambda ~ Gamma(r, alpha)`` (per day) while alive, and spends
``Gamma(p, nu)`` per order with ``nu ~ Gamma(q, gamma)``. Dropout is either BG/NBD's
(``"after_purchase"``: after each repeat order with probability ``P ~ Beta(a, b)``) or
Pareto/NBD's (``"continuous"``: an exponential lifetime whose rate is
``Gamma(s, beta)``), the latter to measure the models off their own assumptions.

Vectorised: repeat-order times are the order statistics of a Poisson count of uniforms on
the customer's window, truncated at the dropout; no per-customer Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SimulationSpec:
    """Population parameters; rates and ``alpha`` / ``gamma`` / ``beta`` are per day."""

    n_customers: int = 5_000
    days: int = 730
    r: float = 0.75
    alpha: float = 30.0
    a: float = 0.8
    b: float = 3.0
    p: float = 6.0
    q: float = 4.0
    gamma: float = 15.0
    dropout: str = "after_purchase"
    s: float = 0.8  # continuous dropout: rate ~ Gamma(s, beta) per day
    beta: float = 150.0
    restaurants: tuple[int, ...] = (1, 2, 3)
    chain_wide_share: float = 0.1


def _repeat_times(
    rng: np.random.Generator, rate: np.ndarray, birth: np.ndarray, window: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted Poisson-process times per customer: (customer index, time, rank in customer)."""
    counts = rng.poisson(rate * window)
    owner = np.repeat(np.arange(rate.size), counts)
    times = birth[owner] + rng.random(owner.size) * window[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(owner.size) - starts[owner]
    return owner, times, rank


def simulate_transactions(spec: SimulationSpec, start: datetime, *, seed: int = 0) -> pd.DataFrame:
    """A transactions frame (``customer_id, restaurant_id, ts, amount``) over
    ``[start, start + spec.days)``; ``start`` must be tz-aware."""
    rng = np.random.default_rng(seed)
    n = spec.n_customers
    birth = rng.random(n) * (spec.days - 1.0)
    window = spec.days - birth
    rate = rng.gamma(spec.r, 1.0 / spec.alpha, size=n)
    owner, times, rank = _repeat_times(rng, rate, birth, window)
    if spec.dropout == "after_purchase":
        drop_p = rng.beta(spec.a, spec.b, size=n)
        # Number of repeat orders made before dropping out (after the K-th one).
        last_repeat = rng.geometric(drop_p)
        keep = rank < last_repeat[owner]
    elif spec.dropout == "continuous":
        lifetime = rng.exponential(1.0 / rng.gamma(spec.s, 1.0 / spec.beta, size=n))
        keep = times < birth[owner] + lifetime[owner]
    else:
        raise ValueError(f"unknown dropout {spec.dropout!r}")
    all_owner = np.concatenate([np.arange(n), owner[keep]])
    all_times = np.concatenate([birth, times[keep]])
    nu = rng.gamma(spec.q, 1.0 / spec.gamma, size=n)
    amount = rng.gamma(spec.p, 1.0 / nu[all_owner])
    home = _home_restaurants(rng, spec, n)
    base = pd.Timestamp(start)
    if base.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    ts = base.tz_convert("UTC") + pd.to_timedelta(all_times * 86_400.0, unit="s")
    frame = pd.DataFrame(
        {
            "customer_id": all_owner.astype(np.int64) + 1,
            "restaurant_id": pd.array(home[all_owner], dtype="Int64"),
            "ts": ts,
            "amount": np.round(amount, 2),
        }
    )
    return frame.sort_values(["ts", "customer_id"], kind="stable").reset_index(drop=True)


def _home_restaurants(
    rng: np.random.Generator, spec: SimulationSpec, n: int
) -> pd.arrays.IntegerArray:
    choice = rng.choice(np.array(spec.restaurants, dtype=np.int64), size=n)
    home = pd.array(choice, dtype="Int64")
    home[rng.random(n) < spec.chain_wide_share] = pd.NA
    return home
