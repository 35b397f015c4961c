"""Kitchen model evaluation: model and table lookup vs the per-(station, item) median.

Time-based holdout (the last ``--test-days``), scored overall and on the 20 % of tickets
that met the highest station load, pooled over restaurants.

    .venv/bin/python bench/kitchen_eval.py                       # simulated kitchens
    .venv/bin/python bench/kitchen_eval.py --restaurants 10 --days 240
    .venv/bin/python bench/kitchen_eval.py --tickets t.csv --timezones tz.json

``--tickets``: CLEAN tickets (see ``rms_ml_push.models.kitchen.features``) as CSV or
pickle; ``--timezones``: JSON ``{"restaurant_id": "IANA zone"}``. From Python, call
``run(tickets, timezones)`` with a DataFrame (e.g. the demo generator's data).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from rms_ml_push.models.kitchen import (
    FitOptions,
    build_features,
    evaluation_table,
    holdout_predictions,
)
from rms_ml_push.models.kitchen.simulate import simulate_kitchen

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def run(
    tickets: pd.DataFrame, timezones: Mapping[int, str], *, test_days: int = 21
) -> pd.DataFrame:
    """The pooled evaluation table of every restaurant in ``tickets``."""
    tests, preds = [], {}
    for restaurant_id, rows in tickets.groupby("restaurant_id", sort=True):
        features = build_features(rows, {int(restaurant_id): timezones[int(restaurant_id)]})
        test, predictions, fit = holdout_predictions(
            features, test_days=test_days, options=FitOptions()
        )
        print(f"restaurant {restaurant_id}: {len(features)} tickets, rung {fit.source}")
        tests.append(test)
        for method, frame in predictions.items():
            preds.setdefault(method, []).append(frame)
    test = pd.concat(tests, ignore_index=True)
    pooled = {m: pd.concat(frames, ignore_index=True) for m, frames in preds.items()}
    return evaluation_table(test, pooled)


def simulated(restaurants: int, days: int, seed: int) -> tuple[pd.DataFrame, dict[int, str]]:
    """Simulated tickets of ``restaurants`` kitchens of different sizes and zones."""
    frames, zones = [], {}
    for r in range(1, restaurants + 1):
        zones[r] = ZONES[r % len(ZONES)]
        size = 90.0 + 20.0 * (r % 4)
        frames.append(
            simulate_kitchen(r, days=days, timezone=zones[r], orders_per_day=size, seed=seed + r)
        )
    return pd.concat(frames, ignore_index=True), zones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=Path)
    parser.add_argument("--timezones", type=Path)
    parser.add_argument("--restaurants", type=int, default=4)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--test-days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    if args.tickets:
        read = pd.read_pickle if args.tickets.suffix in {".pkl", ".pickle"} else pd.read_csv
        tickets = read(args.tickets)
        for col in ("queued_at", "started_at", "completed_at"):
            tickets[col] = pd.to_datetime(tickets[col], utc=True)
        zones = {int(k): v for k, v in json.loads(args.timezones.read_text()).items()}
    else:
        tickets, zones = simulated(args.restaurants, args.days, args.seed)
    table = run(tickets, zones, test_days=args.test_days)
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string(index=False))
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
