"""Known customers with BG/NBD-like behaviour: purchase rate, dropout, spend.

Each customer signs up with a first purchase, then buys at Poisson rate ``rate`` per day;
after every purchase they drop out for good with probability ``dropout``. Spend per
order scales with ``spend`` (Gamma, mean 1). That is the BG/NBD + Gamma-Gamma story the
customer job fits, so its estimates can be checked against ``demo_truth_customers``.
Profiles that never ordered are added on top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import nullify
from rms_ml_push.demo.params import (
    CUSTOMER_CHAIN_SHARE,
    CUSTOMER_DROPOUT_A,
    CUSTOMER_DROPOUT_B,
    CUSTOMER_NEVER_ORDERED_SHARE,
    CUSTOMER_RATE_SCALE,
    CUSTOMER_RATE_SHAPE,
    CUSTOMER_SPEND_SHAPE,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_BATCH = 2000

_FIRST = (
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hiro",
    "Isabel",
    "Jonas",
    "Kenji",
    "Lena",
    "Mateo",
    "Nora",
    "Oliver",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Yuki",
)
_LAST = (
    "Schmidt",
    "Miller",
    "Tanaka",
    "Nguyen",
    "Garcia",
    "Smith",
    "Rossi",
    "Kim",
    "Dubois",
    "Brown",
    "Sato",
    "Wilson",
    "Fischer",
    "Lopez",
    "Taylor",
    "Martin",
    "Silva",
    "Jones",
)


@dataclass(frozen=True)
class Customers:
    """Profiles (index c) and their purchase events (customer index, time in days)."""

    signup_day: F64
    rate: F64
    dropout: F64
    spend: F64
    alive_at_end: B
    chain: B
    event_customer: I64
    event_time: F64  # days since the first local day, fractional

    @property
    def n(self) -> int:
        """Number of profiles (including those who never ordered)."""
        return len(self.signup_day)


def simulate_customers(n_days: int, target_events: int, rng: np.random.Generator) -> Customers:
    """Draw customers until their in-window purchases reach ``target_events``."""
    parts: list[tuple[F64, F64, F64, F64, B, I64, F64]] = []
    total = 0
    offset = 0
    while total < target_events:
        part = _draw_batch(n_days, rng, offset)
        parts.append(part)
        total += len(part[5])
        offset += _BATCH
    signup, rate, dropout, spend, alive, ev_c, ev_t = (
        np.concatenate(p) for p in zip(*parts, strict=True)
    )
    # Keep customers in draw order until the target is met (events are grouped by customer).
    if len(ev_c) > target_events > 0:
        last_customer = int(ev_c[target_events - 1])
        keep_events = ev_c <= last_customer
        ev_c, ev_t = ev_c[keep_events], ev_t[keep_events]
        signup, rate, dropout = (
            signup[: last_customer + 1],
            rate[: last_customer + 1],
            dropout[: last_customer + 1],
        )
        spend, alive = spend[: last_customer + 1], alive[: last_customer + 1]
    n_never = round(len(signup) * CUSTOMER_NEVER_ORDERED_SHARE / (1 - CUSTOMER_NEVER_ORDERED_SHARE))
    never_signup = rng.uniform(0.0, n_days, size=n_never)
    signup = np.concatenate([signup, never_signup])
    rate = np.concatenate([rate, np.zeros(n_never)])
    dropout = np.concatenate([dropout, np.ones(n_never)])
    spend = np.concatenate([spend, np.ones(n_never)])
    alive = np.concatenate([alive, np.zeros(n_never, dtype=bool)])
    chain = rng.random(len(signup)) < CUSTOMER_CHAIN_SHARE
    return Customers(signup, rate, dropout, spend, alive, chain, ev_c, ev_t)


def _draw_batch(
    n_days: int, rng: np.random.Generator, offset: int
) -> tuple[F64, F64, F64, F64, B, I64, F64]:
    n = _BATCH
    signup = rng.uniform(0.0, n_days, size=n)
    rate = rng.gamma(CUSTOMER_RATE_SHAPE, CUSTOMER_RATE_SCALE, size=n)
    dropout = rng.beta(CUSTOMER_DROPOUT_A, CUSTOMER_DROPOUT_B, size=n)
    spend = rng.gamma(CUSTOMER_SPEND_SHAPE, 1.0 / CUSTOMER_SPEND_SHAPE, size=n)
    span = rate * (n_days - signup)
    # Purchases before dropout (first included), capped well past what the window can hold.
    cap = np.ceil(span + 4.0 * np.sqrt(span) + 5.0).astype(np.int64)
    count = np.minimum(rng.geometric(np.clip(dropout, 1e-6, 1.0)), cap)
    who = np.repeat(np.arange(n, dtype=np.int64), count)
    starts = np.cumsum(count) - count
    gaps = rng.exponential(1.0, size=len(who)) / rate[who]
    gaps[starts] = 0.0
    cum = np.cumsum(gaps)
    since_signup = cum - np.repeat(cum[starts], count)
    times = signup[who] + since_signup
    last = np.repeat(np.arange(n), count)[np.cumsum(count) - 1]
    alive = np.zeros(n, dtype=bool)
    alive[last] = times[np.cumsum(count) - 1] >= n_days
    alive |= count == cap
    inside = times < n_days
    return signup, rate, dropout, spend, alive, who[inside] + offset, times[inside]


def profile_columns(
    customers: Customers, ids: I64, orders_per_customer: I64, rng: np.random.Generator
) -> dict[str, npt.NDArray[Any]]:
    """Loyalty tier, points and personal data (never to be selected by the service)."""
    n = customers.n
    tiers = np.array(["none", "silver", "gold", "platinum"], dtype=object)
    tier = tiers[np.searchsorted([3, 10, 25], orders_per_customer, side="right")]
    enrolled = rng.random(n) < 0.7
    points = np.round(orders_per_customer * customers.spend * 40.0).astype(np.int64)
    first = np.array(_FIRST, dtype=object)[rng.integers(len(_FIRST), size=n)]
    last = np.array(_LAST, dtype=object)[rng.integers(len(_LAST), size=n)]
    email = np.array(
        [
            f"{f.lower()}.{la.lower()}{i}@example.com"
            for f, la, i in zip(first, last, ids, strict=True)
        ],
        dtype=object,
    )
    email[rng.random(n) < 0.1] = None
    phone = np.array([f"+1 555 01{i % 100:02d} {i % 10000:04d}" for i in ids], dtype=object)
    phone[rng.random(n) < 0.2] = None
    birth = (np.datetime64("1950-01-01") + rng.integers(0, 55 * 365, size=n)).astype(object)
    birth[rng.random(n) < 0.3] = None
    return {
        "loyalty_tier": nullify(~enrolled, tier),
        "loyalty_points": nullify(~enrolled, points),
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "birth_date": birth,
    }
