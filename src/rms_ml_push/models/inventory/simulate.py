"""Replay a reorder policy day by day against actual consumption (issue 9, item 3). Pure.

Each simulated day ``t``::

    deliveries due on t arrive (a batch expiring ``shelf_life_days`` later)
    lots that expired are written off (expired quantity)
    the policy looks at on hand, on order and the history before t; an order placed now
        arrives at the start of day t + lead time (the same day for a lead time of 0)
    the day's actual use is drawn first-expiry-first-out; what cannot be met is lost
        (a stockout day)
    end-of-day stock is recorded (stock held)

Two policies: :func:`manual_rule` (the RMS's own: order a fixed quantity when on hand plus
on order is at or below ``reorder_level``) and :func:`forecast_policy` (ours: reorder point
and order-up-to level from the consumption forecast, see ``policy.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rms_ml_push.models.inventory.policy import (
    PolicyParams,
    cover_days,
    order_decision,
    round_up,
)
from rms_ml_push.models.inventory.stock import Lot

F64 = npt.NDArray[np.float64]
_EPS = 1e-9


@dataclass(frozen=True)
class DayState:
    """What a policy may look at on day ``t`` (lots' ``expiry_day`` relative to t)."""

    t: int
    lots: tuple[Lot, ...]
    on_order: float

    @property
    def on_hand(self) -> float:
        """Usable stock at the start of the day."""
        return sum(lot.quantity for lot in self.lots)


Policy = Callable[[DayState], float]


@dataclass
class SimResult:
    """Totals of one replay."""

    days: int = 0
    stockout_days: int = 0
    demand: float = 0.0
    unmet: float = 0.0
    expired: float = 0.0
    held: float = 0.0  # sum of end-of-day stock
    orders: int = 0
    ordered: float = 0.0

    @property
    def fill_rate(self) -> float:
        """Share of the demand that was met."""
        return 1.0 - self.unmet / self.demand if self.demand > 0 else 1.0

    @property
    def average_held(self) -> float:
        """Mean end-of-day stock."""
        return self.held / self.days if self.days else 0.0


@dataclass
class _Stock:
    lots: list[list[float]] = field(default_factory=list)  # [quantity, expiry day or inf]
    arrivals: dict[int, float] = field(default_factory=dict)
    counter: int = 0

    def receive(self, qty: float, t: int, shelf: int | None) -> None:
        expiry = float("inf") if shelf is None else float(t + shelf)
        self.lots.append([qty, expiry, float(self.counter)])
        self.counter += 1
        self.lots.sort(key=lambda lot: (lot[1], lot[2]))

    def write_off(self, t: int) -> float:
        expired = sum(lot[0] for lot in self.lots if lot[1] <= t)
        self.lots = [lot for lot in self.lots if lot[1] > t and lot[0] > _EPS]
        return expired

    def draw(self, need: float) -> float:
        for lot in self.lots:
            take = min(lot[0], need)
            lot[0] -= take
            need -= take
            if need <= _EPS:
                return 0.0
        return need

    def state(self, t: int) -> DayState:
        lots = tuple(
            Lot(i, q, None if e == float("inf") else int(e) - t, order=i)
            for i, (q, e, _) in enumerate(self.lots)
            if q > _EPS
        )
        return DayState(t, lots, sum(self.arrivals.values()))


def simulate_policy(
    usage: F64,
    policy: Policy,
    *,
    start: int,
    lead_time_days: int,
    shelf_life_days: int | None,
    initial_stock: float,
) -> SimResult:
    """Replay days ``start`` .. ``len(usage) - 1`` of actual ``usage`` under ``policy``."""
    stock = _Stock()
    stock.receive(initial_stock, start, shelf_life_days)
    result = SimResult()
    for t in range(start, len(usage)):
        if t in stock.arrivals:
            stock.receive(stock.arrivals.pop(t), t, shelf_life_days)
        result.expired += stock.write_off(t)
        qty = policy(stock.state(t))
        if qty > 0:
            result.orders += 1
            result.ordered += qty
            if lead_time_days <= 0:
                stock.receive(qty, t, shelf_life_days)
            else:
                arrival = t + lead_time_days
                stock.arrivals[arrival] = stock.arrivals.get(arrival, 0.0) + qty
        need = max(float(usage[t]), 0.0)
        short = stock.draw(need)
        result.days += 1
        result.demand += need
        result.unmet += short
        result.stockout_days += int(short > 1e-6 * max(need, 1.0))
        result.held += sum(lot[0] for lot in stock.lots if lot[1] > t)
    return result


def manual_rule(reorder_level: float, order_qty: float) -> Policy:
    """The RMS's rule: a fixed ``order_qty`` when on hand + on order <= ``reorder_level``."""

    def decide(state: DayState) -> float:
        return order_qty if state.on_hand + state.on_order <= reorder_level else 0.0

    return decide


def forecast_policy(
    forecasts: F64,
    sigma: F64,
    *,
    start: int,
    params: PolicyParams,
    lead_time_days: int,
    shelf_life_days: int | None,
    unit: str,
) -> Policy:
    """Our policy; ``forecasts[t - start]`` is the mean forecast made at the start of day t
    (from days before t only), ``sigma`` the per-day-ahead error sigma (one row for every
    day like ``forecasts``, or one row for all)."""
    cover = cover_days(params.review_period_days, shelf_life_days)
    z = params.z

    def decide(state: DayState) -> float:
        _, _, qty = order_decision(
            z=z,
            mean=forecasts[state.t - start],
            sigma=sigma[state.t - start] if sigma.ndim == 2 else sigma,
            on_hand=state.on_hand,
            lots=state.lots,
            lead_time_days=lead_time_days,
            cover=cover,
            on_order=state.on_order,
        )
        return round_up(qty, unit)

    return decide
