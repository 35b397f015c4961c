"""Kitchen job core at scale: time and peak RSS for many restaurants x days of tickets.

    .venv/bin/python bench/kitchen_speed.py                      # 50 restaurants x 730 days
    .venv/bin/python bench/kitchen_speed.py --restaurants 3

Per restaurant, as the job will run it: features over ALL its history (load feature
included), then ``fit_kitchen`` (models train on the most recent ``max_train_rows``
tickets before the 14 calibration days: the subsample), the lookup table, station
profiles, a 24-hour station load forecast and the payload rows. Restaurants are handled
one at a time, so peak memory is one restaurant's history, not the chain's. Simulating
the tickets is timed apart (it stands in for the RMS extract).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from rms_ml_push.models.kitchen import (
    FitOptions,
    build_features,
    fit_kitchen,
    station_load_forecast,
    station_profiles,
)
from rms_ml_push.models.kitchen.simulate import simulate_kitchen

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def one_restaurant(restaurant_id: int, days: int, options: FitOptions) -> dict[str, float]:
    """Simulate, then run the modelling core for one restaurant; seconds per phase."""
    zone = ZONES[restaurant_id % len(ZONES)]
    t0 = time.perf_counter()
    tickets = simulate_kitchen(
        restaurant_id,
        days=days,
        timezone=zone,
        orders_per_day=90.0 + 20.0 * (restaurant_id % 4),
        seed=restaurant_id,
    )
    t1 = time.perf_counter()
    features = build_features(tickets, {restaurant_id: zone})
    t2 = time.perf_counter()
    fit = fit_kitchen(features, options)
    t3 = time.perf_counter()
    profiles = station_profiles(fit, orders_in_history=int(tickets["order_id"].nunique()))
    hours = pd.date_range("2026-01-10", periods=24, freq="h", tz=zone)
    orders = np.interp(np.arange(24), [0, 11, 13, 16, 20, 23], [0, 5, 30, 8, 40, 5])
    load = station_load_forecast(
        profiles, pd.DataFrame({"ts": [h.isoformat() for h in hours], "orders": orders})
    )
    rows = fit.table.to_prep_times()
    t4 = time.perf_counter()
    return {
        "tickets": float(len(tickets)),
        "simulate_s": t1 - t0,
        "features_s": t2 - t1,
        "fit_s": t3 - t2,
        "forecast_payload_s": t4 - t3,
        "prep_rows": float(len(rows)),
        "load_rows": float(len(load)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restaurants", type=int, default=50)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--max-train-rows", type=int, default=FitOptions().max_train_rows)
    args = parser.parse_args()
    options = FitOptions(max_train_rows=args.max_train_rows)
    started = time.perf_counter()
    results = []
    for r in range(1, args.restaurants + 1):
        results.append(one_restaurant(r, args.days, options))
        last = results[-1]
        print(
            f"restaurant {r}: {last['tickets']:.0f} tickets, features {last['features_s']:.1f} s,"
            f" fit {last['fit_s']:.1f} s, forecast+payload {last['forecast_payload_s']:.1f} s",
            flush=True,
        )
    frame = pd.DataFrame(results)
    wall = time.perf_counter() - started
    core = frame[["features_s", "fit_s", "forecast_payload_s"]].sum().sum()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"restaurants {args.restaurants} x {args.days} days: {frame['tickets'].sum():.0f} tickets"
    )
    print(
        f"modelling core {core:.0f} s ({core / 60:.1f} min);"
        f" simulation {frame['simulate_s'].sum():.0f} s"
    )
    print(f"wall {wall:.0f} s; peak RSS {peak_mib:.0f} MiB")
    print(frame.drop(columns="tickets").describe().loc[["mean", "max"]].round(2).to_string())


if __name__ == "__main__":
    main()
