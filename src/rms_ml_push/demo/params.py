"""What the demo generates: the request (:class:`DemoConfig`) and the embedded truth.

Every "true" parameter a model could try to recover lives here or in a ``demo_truth_*``
table, so that evaluations compare estimates against the numbers that produced the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from rms_ml_push.config import RmsTables


@dataclass(frozen=True)
class DemoConfig:
    """One demo database: how many restaurants and local days, ending on ``end`` (inclusive)."""

    end: date
    restaurants: int = 3
    days: int = 365
    seed: int = 42
    movements: bool = False
    # Menu size per restaurant; None draws 28-44 items, as small restaurants have.
    menu_items: int | None = None
    tables: RmsTables = field(default_factory=RmsTables)


@dataclass(frozen=True)
class RestaurantSpec:
    """Where a restaurant is and how it keeps its hours (local hours, may pass 24)."""

    name: str
    timezone: str
    country: str
    subdivision: str | None
    open_hour: float
    close_hour: float
    southern: bool = False


# Cycled when more restaurants are asked for. New York stays open until 02:30, so its
# orders fall into the spring-forward gap and the autumn repeated hour; Berlin serves
# until 00:30 (orders either side of local midnight).
RESTAURANTS: tuple[RestaurantSpec, ...] = (
    RestaurantSpec("Berlin Mitte", "Europe/Berlin", "DE", "BE", 11.0, 24.5),
    RestaurantSpec("Brooklyn Late", "America/New_York", "US", "NY", 11.5, 26.5),
    RestaurantSpec("Shibuya", "Asia/Tokyo", "JP", None, 11.0, 23.0),
    RestaurantSpec("Surry Hills", "Australia/Sydney", "AU", "NSW", 11.0, 23.0, southern=True),
    RestaurantSpec("Camden", "Europe/London", "GB", "ENG", 11.0, 23.5),
    RestaurantSpec("Le Marais", "Europe/Paris", "FR", None, 11.5, 23.5),
    RestaurantSpec("Mission", "America/Los_Angeles", "US", "CA", 10.5, 22.5),
    RestaurantSpec("Palermo", "America/Argentina/Buenos_Aires", "AR", None, 12.0, 25.0, True),
    RestaurantSpec("Ponsonby", "Pacific/Auckland", "NZ", None, 11.0, 22.5, southern=True),
    RestaurantSpec("Malasana", "Europe/Madrid", "ES", "MD", 13.0, 25.5),
)

# Restaurant index % 4 == 0 is closed on one weekday (0 = Monday): index 0 on Mondays.
CLOSED_WEEKDAY_EVERY = 4
CLOSED_ON_HOLIDAYS: tuple[tuple[int, int], ...] = ((12, 25), (1, 1))
WEEKLY_PROFILE: tuple[float, ...] = (0.80, 0.85, 0.92, 1.00, 1.25, 1.38, 1.05)


@dataclass(frozen=True)
class CategorySpec:
    """A menu category: its share of the menu, price range, true mean elasticity, stations."""

    name: str
    share: float
    price_lo: float
    price_hi: float
    elasticity: float
    stations: tuple[str, ...]
    second_station: str | None
    second_station_p: float


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec("main", 0.30, 12.0, 29.0, -0.6, ("grill",), "fryer", 0.4),
    CategorySpec("starter", 0.20, 6.0, 12.0, -1.0, ("cold", "fryer"), None, 0.0),
    CategorySpec("side", 0.12, 3.5, 7.0, -0.9, ("fryer", "cold"), None, 0.0),
    CategorySpec("dessert", 0.15, 5.0, 10.0, -1.4, ("pastry",), "cold", 0.3),
    CategorySpec("drink", 0.23, 2.5, 9.0, -1.8, ("bar",), None, 0.0),
)
ELASTICITY_ITEM_SD = 0.3
ELASTICITY_BOUNDS = (-3.0, -0.1)


@dataclass(frozen=True)
class StationSpec:
    """A kitchen station: base cook time (s) for one unit, and how load slows cooking."""

    name: str
    base_cook_s: float
    load_cook_factor: float  # cook time x (1 + factor * tickets in system, capped)


STATIONS: tuple[StationSpec, ...] = (
    StationSpec("grill", 540.0, 0.03),
    StationSpec("fryer", 300.0, 0.025),
    StationSpec("cold", 240.0, 0.02),
    StationSpec("pastry", 360.0, 0.02),
    StationSpec("bar", 120.0, 0.03),
)
LOAD_CAP = 25
# Servers per station are sized so that the 95th percentile hour runs at this utilisation:
# the busiest hours queue, the quiet ones do not.
STATION_TARGET_UTILISATION = 0.8

# BG/NBD-like customers: rate ~ Gamma(shape, scale) per day, dropout ~ Beta(a, b),
# spend ~ Gamma(k, 1/k) (mean 1).
CUSTOMER_RATE_SHAPE = 0.8
CUSTOMER_RATE_SCALE = 0.04
CUSTOMER_DROPOUT_A = 1.0
CUSTOMER_DROPOUT_B = 3.0
CUSTOMER_SPEND_SHAPE = 5.0
CUSTOMER_KNOWN_SHARE = 0.45  # share of orders placed by a known customer
CUSTOMER_CHAIN_SHARE = 0.25  # share of profiles known chain-wide (restaurant_id NULL)
CUSTOMER_NEVER_ORDERED_SHARE = 0.08

# Order statuses and dirty-data rates (each kind also has at least one row per restaurant).
STATUS_P = {"completed": 0.975, "cancelled": 0.015, "refunded": 0.007, "open": 0.003}
DIRTY_RATES = {
    "lines_voided": 0.01,
    "lines_nonpositive_quantity": 0.002,
    "lines_duplicate": 0.001,
    "orders_future_timestamp": 0.0002,
    "orders_before_floor": 0.0002,
    "kitchen_missing_started": 0.002,
    "kitchen_missing_completed": 0.002,
    "kitchen_completed_before_started": 0.001,
    "kitchen_hours_long": 0.001,
}
