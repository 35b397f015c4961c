"""The ``demo_truth_*`` frames: the parameters that produced one restaurant's data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import NULL
from rms_ml_push.demo.params import CATEGORIES, STATIONS

if TYPE_CHECKING:
    from rms_ml_push.demo.restaurant import World

I64 = npt.NDArray[np.int64]
Frame = dict[str, npt.NDArray[Any]]


def truth_frames(w: World, item_ids: I64, station_ids: I64, cust_ids: I64) -> dict[str, Frame]:
    """Elasticities, price changes, restaurant demand parameters, stations, customers."""
    menu, cal, spec, cust = w.menu, w.cal, w.spec, w.cust
    cat_mean = np.array([c.elasticity for c in CATEGORIES])[menu.category]
    change_item = np.concatenate(
        [np.full(len(days), i, dtype=np.int64) for i, days in enumerate(menu.change_days)]
    )
    change_day = np.concatenate(menu.change_days).astype(np.int64)
    closed = NULL if cal.closed_weekday is None else cal.closed_weekday
    return {
        "demo_truth_elasticity": {
            "menu_item_id": item_ids,
            "elasticity": menu.elasticity,
            "category_elasticity": cat_mean,
        },
        "demo_truth_price_changes": {
            "menu_item_id": item_ids[change_item],
            "effective_date": cal.days[change_day],
            "old_price": menu.prices[change_day - 1, change_item],
            "new_price": menu.prices[change_day, change_item],
        },
        "demo_truth_restaurants": {
            "restaurant_id": np.array([w.rid]),
            "country": np.array([spec.country], dtype=object),
            "subdivision": np.array([spec.subdivision], dtype=object),
            "closed_weekday": np.array([closed], dtype=np.int64),
            "base_orders_per_day": np.array([cal.base_orders]),
            "trend_per_year": np.array([cal.trend_per_year]),
            "yearly_amplitude": np.array([cal.yearly_amplitude]),
            "yearly_peak_doy": np.array([cal.yearly_peak_doy]),
        },
        "demo_truth_stations": {
            "station_id": station_ids,
            "servers": w.kitchen.servers,
            "load_cook_factor": np.array([s.load_cook_factor for s in STATIONS]),
        },
        "demo_truth_customers": {
            "customer_id": cust_ids,
            "purchase_rate_per_day": cust.rate,
            "dropout_probability": cust.dropout,
            "spend_factor": cust.spend,
            "alive_at_end": cust.alive_at_end,
        },
    }
