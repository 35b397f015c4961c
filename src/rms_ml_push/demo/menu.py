"""Menu items: popularity, life span, prices over time and true price elasticities.

Lines of item i on local day d are Poisson with mean::

    orders_d x weight_i x (price_i,d / first_price_i) ** elasticity_i   (while on the menu)

so ``d ln E[quantity] / d ln price`` is exactly the item's elasticity, which
``demo_truth_elasticity`` records. Weights are Zipf-like over a shuffled menu; a few items
are sparse (intermittent demand), a few are new (days of history), a few deactivated,
and one per restaurant was deleted from the menu while old order lines still point at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.params import CATEGORIES, ELASTICITY_BOUNDS, ELASTICITY_ITEM_SD

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_NAMES: dict[str, tuple[str, ...]] = {
    "main": (
        "Burger",
        "Steak Frites",
        "Grilled Salmon",
        "Chicken Schnitzel",
        "Lamb Kofta",
        "Pork Belly",
        "Ribeye",
        "Veggie Burger",
        "Chicken Thighs",
        "Sea Bass",
        "Bratwurst",
    ),
    "starter": (
        "Burrata",
        "Calamari",
        "Soup of the Day",
        "Bruschetta",
        "Chicken Wings",
        "Beef Carpaccio",
        "Spring Rolls",
        "Tuna Tartare",
    ),
    "side": ("Fries", "Side Salad", "Sweet Potato Fries", "Coleslaw", "Onion Rings", "Slaw"),
    "dessert": ("Cheesecake", "Brownie", "Tiramisu", "Creme Brulee", "Apple Pie", "Sorbet"),
    "drink": (
        "Lemonade",
        "Espresso",
        "Cappuccino",
        "Pale Ale",
        "House Red",
        "Iced Tea",
        "Sparkling Water",
        "Negroni",
        "Lager",
        "Cola",
    ),
}
_STYLES = ("", "Classic ", "House ", "Smoked ", "Spicy ", "Seasonal ")


@dataclass(frozen=True)
class Menu:
    """One restaurant's items (index i) and their daily price matrix [day, item]."""

    names: list[str]
    category: npt.NDArray[np.int64]  # index into CATEGORIES
    weight: F64  # expected lines per order at the first price
    first_day: I64  # first local day on the menu (inclusive)
    last_day: I64  # last local day on the menu (inclusive)
    active: B
    deleted: B
    elasticity: F64
    prices: F64  # [day, item]
    change_days: list[I64]  # per item, days on which a new price took effect

    @property
    def n(self) -> int:
        """Number of items (deleted ones included)."""
        return len(self.names)

    def category_name(self, i: int) -> str:
        """The item's category name."""
        return CATEGORIES[int(self.category[i])].name


def round_price(price: F64) -> F64:
    """Round to the usual price endings .00 / .50 / .90."""
    whole = np.floor(price)
    frac = price - whole
    ending = np.where(frac < 0.25, 0.0, np.where(frac < 0.7, 0.5, 0.9))
    return np.round(whole + ending, 2)


def build_menu(
    n_days: int,
    rng: np.random.Generator,
    lines_per_order: float = 2.6,
    n_items: int | None = None,
) -> Menu:
    """A menu of ``n_items`` (default 28-44) with popularity, life spans, prices, elasticities."""
    drawn = int(rng.integers(28, 45))  # drawn even when fixed: the same seed, the same world
    n = n_items if n_items is not None else drawn
    shares = np.array([c.share for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum()).astype(np.int64)
    names = _names(category, rng)
    rank = rng.permutation(n) + 1
    weight = (1.0 / rank**1.05).astype(np.float64)
    roles = rng.permutation(n)
    sparse, new, retired = roles[:3], roles[3:5], roles[5:7]
    # The deleted dish was a minor one: its old lines are a small share of all lines.
    deleted_idx = int(roles[8:][np.argmax(rank[roles[8:]])])
    weight[sparse] = rng.uniform(0.0015, 0.004, size=len(sparse))
    weight *= lines_per_order / weight.sum()
    first_day = np.zeros(n, dtype=np.int64)
    last_day = np.full(n, n_days - 1, dtype=np.int64)
    if n_days > 30:
        first_day[new] = n_days - rng.integers(3, 11, size=len(new))
    last_day[retired] = rng.integers(n_days // 3, max(n_days // 3 + 1, n_days - 20), size=2)
    last_day[deleted_idx] = rng.integers(n_days // 4, max(n_days // 4 + 1, n_days // 2))
    deleted = np.zeros(n, dtype=bool)
    deleted[deleted_idx] = True
    active = last_day == n_days - 1
    cat_mean = np.array([c.elasticity for c in CATEGORIES])[category]
    elasticity = np.clip(cat_mean + rng.normal(0.0, ELASTICITY_ITEM_SD, size=n), *ELASTICITY_BOUNDS)
    prices, change_days = _price_paths(category, first_day, n_days, rng)
    return Menu(
        names=names,
        category=category,
        weight=weight,
        first_day=first_day,
        last_day=last_day,
        active=active,
        deleted=deleted,
        elasticity=elasticity,
        prices=prices,
        change_days=change_days,
    )


def _names(category: I64, rng: np.random.Generator) -> list[str]:
    used: set[str] = set()
    names = []
    for c in category:
        pool = _NAMES[CATEGORIES[int(c)].name]
        name = ""
        for _attempt in range(50):
            name = _STYLES[int(rng.integers(len(_STYLES)))] + pool[int(rng.integers(len(pool)))]
            if name not in used:
                break
        while name in used:
            name += " II"
        used.add(name)
        names.append(name)
    return names


def _price_paths(
    category: I64, first_day: I64, n_days: int, rng: np.random.Generator
) -> tuple[F64, list[I64]]:
    """Daily prices: a first price per item, then 0-3 step changes (a quarter never change)."""
    lo = np.array([c.price_lo for c in CATEGORIES])[category]
    hi = np.array([c.price_hi for c in CATEGORIES])[category]
    first = round_price(rng.uniform(lo, hi))
    prices = np.tile(first, (n_days, 1))
    change_days: list[I64] = []
    for i in range(len(category)):
        count = int(rng.choice(4, p=[0.25, 0.35, 0.25, 0.15]))
        lo_day = int(first_day[i]) + 14
        if n_days - 7 - lo_day < 2 * count + 1:
            count = 0
        days = np.sort(rng.choice(np.arange(lo_day, n_days - 7), size=count, replace=False))
        price = float(first[i])
        for day in days:
            # Mostly increases, some cuts; at least 6 % either way, as menu reprints are.
            step = float(rng.normal(0.06, 0.12))
            step = float(np.sign(step) * np.clip(abs(step), 0.06, 0.3))
            new = float(round_price(np.array([price * np.exp(step)]))[0])
            if abs(new - price) < 0.01:
                new = price + 0.5
            prices[day:, i] = max(new, 0.5)
            price = max(new, 0.5)
        change_days.append(days.astype(np.int64))
    return prices, change_days
