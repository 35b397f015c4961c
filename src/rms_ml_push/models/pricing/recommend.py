"""Margin-maximising price under the estimated response, within the guardrails.

Expected gross margin at price p, for current price p0, unit cost c, elasticity e::

    M(p) = (p - c) x q0 x (p / p0) ** e

Direction rule. d ln M / d ln p at p0 is p0 / (p0 - c) + e, so raising the price raises
the expected margin exactly when e > e_flip = -p0 / (p0 - c) (minus one over the current
Lerner index (p0 - c) / p0). When the 90 % interval [lo, hi] of e contains e_flip, the
data cannot tell whether up or down is better and the price is kept (basis ``keep``).
When p0 <= c every move up raises the margin whatever e < 0, so there is no flip.

Guardrails (``settings.pricing``): the price moves at most ``max_change`` either way
per run; it never goes below c x ``min_markup`` unless the cap forbids reaching it (the
cap wins: a price under the floor moves up by at most the cap, even when the direction
is unknown); candidates are whole amounts plus one of ``price_endings`` (e.g. .00 .50
.90), and the one with the best expected margin under the point estimate is chosen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rms_ml_push.config import PricingSettings
from rms_ml_push.models.pricing.shrinkage import Elasticity

Basis = Literal["item", "category", "no_cost", "keep"]
Direction = Literal["up", "down", "unknown"]
_EPS = 1e-9


@dataclass(frozen=True)
class Recommendation:
    """One item's recommended price, why, and the expected changes with 90 % intervals."""

    recommended_price: float
    basis: Basis
    quantity_change_pct: float | None
    quantity_change_interval: tuple[float, float] | None
    margin_change_pct: float | None
    margin_change_interval: tuple[float, float] | None


def flip_elasticity(price: float, cost: float) -> float | None:
    """The elasticity at which the better direction flips; None when p0 <= c (always up)."""
    if price <= cost:
        return None
    return -price / (price - cost)


def direction(price: float, cost: float, interval: tuple[float, float]) -> Direction:
    """Which way the expected margin rises, as far as the whole interval agrees."""
    flip = flip_elasticity(price, cost)
    lo, hi = interval
    if flip is None or lo > flip:
        return "up"
    if hi < flip:
        return "down"
    return "unknown"


def ending_candidates(lower: float, upper: float, endings: list[float]) -> list[float]:
    """Prices whole + ending within [lower, upper], ascending."""
    found = set()
    for whole in range(max(math.floor(lower) - 1, 0), math.ceil(upper) + 1):
        for ending in endings:
            price = round(whole + ending, 2)
            if lower - _EPS <= price <= upper + _EPS and price > 0:
                found.add(price)
    return sorted(found)


def expected_margin(price: float, current: float, cost: float, elasticity: float) -> float:
    """M(p) / q0: margin per unit of the current daily quantity."""
    return float((price - cost) * (price / current) ** elasticity)


def recommend(
    current: float, cost: float | None, elasticity: Elasticity | None, settings: PricingSettings
) -> Recommendation:
    """The recommendation for one item (see the module docstring for the rules)."""
    if cost is None:
        return _unchanged(current, None, "no_cost")
    if elasticity is None:
        return _unchanged(current, cost, "keep")
    floor = cost * settings.min_markup
    way = direction(current, cost, elasticity.interval)
    if way == "unknown" and current >= floor:
        return _unchanged(current, cost, "keep")
    price = _best_price(current, cost, elasticity.estimate, way, settings)
    return _changes(current, price, cost, elasticity, elasticity.basis)


def _best_price(
    current: float, cost: float, e: float, way: Direction, settings: PricingSettings
) -> float:
    cap_lo, cap_hi = current * (1 - settings.max_change), current * (1 + settings.max_change)
    floor = cost * settings.min_markup
    endings = list(settings.price_endings)
    if floor > cap_hi:  # the cap wins: as close to the floor as one run may go
        reachable = [p for p in ending_candidates(current, cap_hi, endings) if p > current]
        return max(reachable) if reachable else math.floor(cap_hi * 100) / 100
    lower, upper = max(cap_lo, floor), cap_hi
    if way == "up" or current < floor:
        lower = max(lower, current)
    elif way == "down":
        upper = current
    candidates = ending_candidates(lower, upper, endings)
    if lower - _EPS <= current <= upper + _EPS:
        candidates.append(current)
    if not candidates:  # no price ending inside a narrow allowed range
        candidates = [current if current >= floor else math.ceil(floor * 100) / 100]
    # The best expected margin; among equals the smallest move.
    return max(candidates, key=lambda p: (expected_margin(p, current, cost, e), -abs(p - current)))


def _pct(value: float) -> float:
    return round(100.0 * value, 2)


def _changes(
    current: float, price: float, cost: float, elasticity: Elasticity, basis: Basis
) -> Recommendation:
    ratio = price / current
    lo, hi = elasticity.interval
    quantity = [ratio**e - 1.0 for e in (elasticity.estimate, lo, hi)]
    q_interval = (_pct(min(quantity[1:])), _pct(max(quantity[1:])))
    if current <= cost:
        return Recommendation(price, basis, _pct(quantity[0]), q_interval, None, None)
    margin = [(price - cost) * (1.0 + q) / (current - cost) - 1.0 for q in quantity]
    m_interval = (_pct(min(margin[1:])), _pct(max(margin[1:])))
    return Recommendation(price, basis, _pct(quantity[0]), q_interval, _pct(margin[0]), m_interval)


def _unchanged(current: float, cost: float | None, basis: Basis) -> Recommendation:
    margin = None if cost is None or current <= cost else 0.0
    interval = None if margin is None else (0.0, 0.0)
    return Recommendation(current, basis, 0.0, (0.0, 0.0), margin, interval)
