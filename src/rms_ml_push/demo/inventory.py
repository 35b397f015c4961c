"""Ingredients, recipes and stock batches under the RMS's manual reorder rule.

Daily consumption is order lines x recipe components (what the inventory job can derive)
plus a little waste. Stock is simulated day by day: deliveries arrive ``lead_time_days``
after an order placed when stock on hand plus on order falls to ``reorder_level``;
consumption draws first-expiry-first-out from unexpired batches; expired leftovers stay
in their batch (the RMS only writes them off at a stock count), so ``quantity_remaining``
at the end date is what the simulation left. Ingredients no recipe uses are never ordered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.calendar import local_to_utc_s
from rms_ml_push.demo.menu import Menu
from rms_ml_push.demo.params import CATEGORIES

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# name, unit, shelf life (days, 0 = does not expire), unit cost, lead time, used by
_INGREDIENTS: tuple[tuple[str, str, int, float, int, str], ...] = (
    ("Beef mince", "kg", 4, 11.0, 1, "main"),
    ("Chicken thigh", "kg", 5, 7.5, 1, "main starter"),
    ("Salmon fillet", "kg", 4, 22.0, 2, "main starter"),
    ("Pork belly", "kg", 6, 9.0, 2, "main"),
    ("Potatoes", "kg", 30, 1.2, 2, "main side"),
    ("Burger buns", "unit", 3, 0.4, 1, "main"),
    ("Lettuce", "kg", 6, 3.0, 1, "main side starter"),
    ("Tomatoes", "kg", 8, 2.8, 1, "main starter side"),
    ("Cheddar", "kg", 30, 9.5, 3, "main starter"),
    ("Mozzarella", "kg", 10, 8.0, 2, "starter"),
    ("Frying oil", "l", 180, 2.2, 4, "side starter"),
    ("Flour", "kg", 270, 0.9, 5, "dessert starter"),
    ("Sugar", "kg", 365, 1.0, 5, "dessert"),
    ("Eggs", "unit", 21, 0.25, 2, "dessert main"),
    ("Cream", "l", 10, 4.0, 2, "dessert"),
    ("Butter", "kg", 45, 8.5, 3, "dessert main"),
    ("Dark chocolate", "kg", 300, 12.0, 7, "dessert"),
    ("Apples", "kg", 20, 2.5, 2, "dessert"),
    ("Coffee beans", "kg", 120, 18.0, 5, "drink"),
    ("Milk", "l", 8, 1.1, 1, "drink dessert"),
    ("Lemons", "unit", 20, 0.3, 2, "drink"),
    ("Lager keg", "l", 90, 2.6, 4, "drink"),
    ("House wine", "l", 365, 6.0, 7, "drink"),
    ("Cola syrup", "l", 180, 5.0, 7, "drink"),
    ("Saffron", "kg", 365, 3000.0, 14, ""),
    ("Truffle oil", "l", 200, 90.0, 10, ""),
)


@dataclass
class StockResult:
    """Batches and (optional) movements produced by the stock simulation."""

    batch_item: list[int] = field(default_factory=list)
    batch_day: list[int] = field(default_factory=list)
    batch_expiry_day: list[int] = field(default_factory=list)
    batch_received: list[float] = field(default_factory=list)
    batch_remaining: list[float] = field(default_factory=list)
    batch_cost: list[float] = field(default_factory=list)
    mov_item: list[int] = field(default_factory=list)
    mov_day: list[int] = field(default_factory=list)
    mov_hour: list[float] = field(default_factory=list)
    mov_delta: list[float] = field(default_factory=list)
    mov_reason: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Pantry:
    """One restaurant's ingredients (index j) and recipes."""

    names: list[str]
    unit: list[str]
    shelf_days: I64
    unit_cost: F64
    lead_days: I64
    recipe: F64  # [menu item, ingredient], quantity per unit of the item


def build_pantry(menu: Menu, rng: np.random.Generator) -> Pantry:
    """Ingredients in use at this restaurant and a recipe for most menu items."""
    picked = [row for row in _INGREDIENTS if not row[5] or rng.random() < 0.9]
    recipe = np.zeros((menu.n, len(picked)))
    for i in range(menu.n):
        cat = CATEGORIES[int(menu.category[i])].name
        pool = [j for j, row in enumerate(picked) if cat in row[5].split()]
        if menu.deleted[i] or not pool or rng.random() < 0.08:
            continue  # no recipe recorded for this item
        chosen = rng.choice(pool, size=min(len(pool), int(rng.integers(1, 5))), replace=False)
        for j in chosen:
            unit = picked[int(j)][1]
            recipe[i, j] = 1.0 if unit == "unit" else round(float(rng.uniform(0.03, 0.3)), 3)
    return Pantry(
        names=[r[0] for r in picked],
        unit=[r[1] for r in picked],
        shelf_days=np.array([r[2] for r in picked], dtype=np.int64),
        unit_cost=np.array([r[3] for r in picked]) * rng.uniform(0.85, 1.15, len(picked)),
        lead_days=np.array([r[4] for r in picked], dtype=np.int64),
        recipe=recipe,
    )


def reorder_levels(pantry: Pantry, usage: F64, rng: np.random.Generator) -> F64:
    """The RMS's hand-set thresholds: roughly lead-time cover plus a gut-feeling margin."""
    mean_daily = usage.mean(axis=0)
    level = mean_daily * (pantry.lead_days + 2) * rng.uniform(0.9, 1.6, len(mean_daily))
    return np.where(mean_daily > 0, np.round(level, 1), np.nan)


def simulate_stock(
    pantry: Pantry, usage: F64, levels: F64, rng: np.random.Generator
) -> StockResult:
    """Day-by-day stock with deliveries, FEFO consumption, waste and stock-count adjustments."""
    out = StockResult()
    n_days = usage.shape[0]
    for j in range(len(pantry.names)):
        if np.isnan(levels[j]):
            continue
        _simulate_item(
            j, pantry, usage=usage[:, j], level=float(levels[j]), n_days=n_days, rng=rng, out=out
        )
    return out


def _simulate_item(
    j: int,
    pantry: Pantry,
    *,
    usage: F64,
    level: float,
    n_days: int,
    rng: np.random.Generator,
    out: StockResult,
) -> None:
    shelf = int(pantry.shelf_days[j])
    lead = int(pantry.lead_days[j])
    # The hand rule orders a fixed cover: about half the shelf life of fresh goods, two
    # weeks of dry goods, never less than one pack.
    cover = min(max(shelf // 2, 2), 10) if shelf else 14
    order_qty = max(float(usage.mean()) * cover, 0.5 if pantry.unit[j] != "unit" else 6.0)
    batches: list[int] = []  # indexes into out.batch_*
    arrivals: dict[int, float] = {0: order_qty}
    on_order = 0.0
    fresh = 0 < shelf <= 10
    for d in range(n_days):
        if d in arrivals:
            nominal = arrivals.pop(d)
            on_order = max(on_order - nominal, 0.0)
            _receive(
                out,
                j,
                d=d,
                qty=round(nominal * float(rng.uniform(0.95, 1.05)), 1),
                shelf=shelf,
                cost=float(pantry.unit_cost[j]) * (1 + 0.0001 * d),  # slow price inflation
                rng=rng,
                batches=batches,
            )
        waste = (
            float(usage[d]) * float(rng.uniform(0, 0.05)) if fresh and rng.random() < 0.3 else 0.0
        )
        used = _consume(out, batches, d, float(usage[d]) + waste)
        _move(out, j, d, hour=23.0, delta=-min(used, float(usage[d])), reason="sale")
        if used > usage[d]:
            _move(out, j, d, hour=23.5, delta=-(used - float(usage[d])), reason="waste")
        if rng.random() < 0.01:
            _adjust(out, j, d, batches, rng)
        on_hand = sum(out.batch_remaining[b] for b in batches if out.batch_expiry_day[b] > d)
        if on_hand + on_order <= level and d + lead < n_days:
            arrivals[d + lead] = arrivals.get(d + lead, 0.0) + order_qty
            on_order += order_qty


def _receive(
    out: StockResult,
    j: int,
    *,
    d: int,
    qty: float,
    shelf: int,
    cost: float,
    rng: np.random.Generator,
    batches: list[int],
) -> None:
    batches.append(len(out.batch_item))
    out.batch_item.append(j)
    out.batch_day.append(d)
    out.batch_expiry_day.append(d + shelf if shelf else 10**6)
    out.batch_received.append(qty)
    out.batch_remaining.append(qty)
    out.batch_cost.append(round(cost * float(rng.lognormal(0, 0.04)), 2))
    _move(out, j, d, hour=8.0, delta=qty, reason="receipt")


def _consume(out: StockResult, batches: list[int], d: int, need: float) -> float:
    """Take ``need`` first-expiry-first-out from unexpired stock; returns what was taken."""
    taken = 0.0
    for b in sorted(batches, key=lambda b: out.batch_expiry_day[b]):
        if need - taken <= 1e-9:
            break
        if out.batch_expiry_day[b] <= d or out.batch_remaining[b] <= 0:
            continue
        take = min(out.batch_remaining[b], need - taken)
        out.batch_remaining[b] = round(out.batch_remaining[b] - take, 4)
        taken += take
    batches[:] = [b for b in batches if out.batch_remaining[b] > 0 and out.batch_expiry_day[b] > d]
    return taken


def _adjust(out: StockResult, j: int, d: int, batches: list[int], rng: np.random.Generator) -> None:
    if not batches:
        return
    b = batches[0]
    delta = round(out.batch_remaining[b] * float(rng.uniform(-0.1, 0.05)), 3)
    out.batch_remaining[b] = max(round(out.batch_remaining[b] + delta, 4), 0.0)
    _move(out, j, d, hour=10.0, delta=delta, reason="adjustment")


def _move(out: StockResult, j: int, d: int, *, hour: float, delta: float, reason: str) -> None:
    if abs(delta) < 1e-9:
        return
    out.mov_item.append(j)
    out.mov_day.append(d)
    out.mov_hour.append(hour)
    out.mov_delta.append(round(delta, 4))
    out.mov_reason.append(reason)


def stock_times(
    days: npt.NDArray[np.datetime64],
    day_idx: I64,
    hours: F64,
    timezone: str,
    rng: np.random.Generator,
) -> I64:
    """UTC instants of local (day, hour) pairs; days past the calendar extend it."""
    first = days[0]
    local_days = first + day_idx.astype("timedelta64[D]")
    return local_to_utc_s(local_days, hours, timezone, rng)
