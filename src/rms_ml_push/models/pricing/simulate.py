"""Synthetic daily item sales with known elasticities (tests and bench), seeded.

Expected quantity of item i on day d::

    base_i x weekly[dow] x (1 + 0.15 cos(2 pi doy / 365.25)) x (p_i,d / p_i,0) ** e_i

with a few step price changes per item (none for items listed in ``fixed``), a closed
weekday (no sales, no orders), and Poisson counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from rms_ml_push.config import HolidaySettings
from rms_ml_push.models.pricing.model import FitInput

WEEKLY = (0.8, 0.85, 0.9, 1.0, 1.3, 1.4, 1.05)


@dataclass(frozen=True)
class SimItem:
    """One simulated item: true elasticity, category, base quantity per day, first price."""

    menu_item_id: int
    elasticity: float
    category: str
    base: float = 20.0
    price: float = 10.0
    changes: int = 2


def simulate(
    items: Sequence[SimItem],
    *,
    days: int = 730,
    start: date = date(2023, 1, 2),
    closed_weekday: int | None = 0,
    seed: int = 7,
) -> FitInput:
    """A :class:`FitInput` for one restaurant (id 1) with these items."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(start, periods=days, freq="D")
    dow = ds.dayofweek.to_numpy()
    season = 1.0 + 0.15 * np.cos(2 * np.pi * ds.dayofyear.to_numpy() / 365.25)
    is_open = np.ones(days, dtype=bool) if closed_weekday is None else dow != closed_weekday
    level = np.asarray(WEEKLY)[dow] * season * is_open
    frames = []
    for item in items:
        prices = _price_path(item, days, rng)
        lam = item.base * level * (prices / item.price) ** item.elasticity
        frames.append(
            pd.DataFrame(
                {
                    "restaurant_id": 1,
                    "menu_item_id": item.menu_item_id,
                    "ds": ds,
                    "quantity": rng.poisson(lam).astype(np.float64),
                    "price": prices,
                }
            )
        )
    orders = pd.DataFrame({"ds": ds, "y": rng.poisson(100 * level).astype(np.float64)})
    categories: Mapping[int, str | None] = {i.menu_item_id: i.category for i in items}
    return FitInput(
        pd.concat(frames, ignore_index=True), {1: orders}, categories, HolidaySettings()
    )


def _price_path(item: SimItem, days: int, rng: np.random.Generator) -> np.ndarray:
    prices = np.full(days, item.price)
    if item.changes <= 0:
        return prices
    when = np.sort(rng.choice(np.arange(60, days - 60), size=item.changes, replace=False))
    price = item.price
    for day in when:
        price = round(price * float(np.exp(rng.choice([-1, 1]) * rng.uniform(0.08, 0.2))), 2)
        prices[day:] = price
    return prices
