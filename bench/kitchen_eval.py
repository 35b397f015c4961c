"""Kitchen model evaluation: model and table lookup vs the per-(station, item) median.

Time-based holdout (the last ``--test-days``), scored overall and on the 20 % of tickets
that met the highest station load, pooled over restaurants.

    .venv/bin/python bench/kitchen_eval.py                       # simulated kitchens
    .venv/bin/python bench/kitchen_eval.py --restaurants 10 --days 240
    .venv/bin/python bench/kitchen_eval.py --tickets t.csv --timezones tz.json

    .venv/bin/python bench/kitchen_eval.py --demo 3 --days 365  # demo generator's data
    .venv/bin/python bench/kitchen_eval.py --rms-url sqlite:///demo.sqlite3

``--demo N`` writes N restaurants x ``--days`` of the demo generator, ending on ``--end``
(a fixed date by default, so that two runs score the same holdout: the demo's season and
calendar move with its end date, and so do the figures), into a temporary SQLite file;
``--rms-url`` reads an existing RMS. Either way the tickets come through the kitchen job's
own path: ``RmsReader.kitchen_tickets`` + ``menu_items``, then
``features.kitchen_tickets.prepare_tickets`` (history: whole local days before the day
that contains ``--as-of``, default the day after the newest ticket).

``--load-only``: the model reads quantity, hour, weekday and the station load only (the
first version's features), to measure what the rest of the arrival state adds.

``--tickets``: CLEAN tickets (see ``rms_ml_push.models.kitchen.features``) as CSV or
pickle; ``--timezones``: JSON ``{"restaurant_id": "IANA zone"}``. From Python, call
``run(tickets, timezones)`` with a DataFrame (e.g. the demo generator's data).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from rms_ml_push.config import load_settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.features.calendar import history_end
from rms_ml_push.features.kitchen_tickets import prepare_tickets
from rms_ml_push.features.quality import QualityContext
from rms_ml_push.models.kitchen import (
    FitOptions,
    ModelParams,
    build_features,
    evaluation_table,
    holdout_predictions,
)
from rms_ml_push.models.kitchen.simulate import simulate_kitchen
from rms_ml_push.rms.extract import RmsReader

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


LOAD_ONLY = ("quantity", "local_hour", "dow", "load")


def run(
    tickets: pd.DataFrame,
    timezones: Mapping[int, str],
    *,
    test_days: int = 21,
    options: FitOptions | None = None,
) -> pd.DataFrame:
    """The pooled evaluation table of every restaurant in ``tickets``."""
    options = options or FitOptions()
    tests, preds = [], {}
    for restaurant_id, rows in tickets.groupby("restaurant_id", sort=True):
        features = build_features(rows, {int(restaurant_id): timezones[int(restaurant_id)]})
        test, predictions, fit = holdout_predictions(features, test_days=test_days, options=options)
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


def from_rms(url: str, as_of: datetime | None) -> tuple[pd.DataFrame, dict[int, str]]:
    """Clean tickets of every restaurant of an RMS, extracted and cleaned as the job does."""
    settings = load_settings(rms_url=url)
    reader = RmsReader.from_settings(settings)
    try:
        restaurants = reader.restaurants()
        zones = {
            int(r): str(z) for r, z in zip(restaurants["id"], restaurants["timezone"], strict=True)
        }
        frames = []
        for rid, tz in zones.items():
            raw = reader.kitchen_tickets(restaurant_ids=[rid])
            at = as_of or (raw["queued_at"].max() + timedelta(days=2)).to_pydatetime()
            raw = raw[raw["queued_at"] < history_end(at, tz)]
            ctx = QualityContext.from_settings(settings.rms, now=datetime.now(UTC), as_of=at)
            clean, report = prepare_tickets(raw, reader.menu_items([rid]), ctx)
            dropped = {k: v for k, v in report.counts().items() if v}
            print(f"restaurant {rid}: {len(raw)} tickets, {len(clean)} clean, dropped {dropped}")
            frames.append(clean)
    finally:
        reader.dispose()
    return pd.concat(frames, ignore_index=True), zones


def demo_rms(folder: Path, restaurants: int, days: int, seed: int, end: date) -> str:
    """Write the demo generator's data into a SQLite file; its URL."""
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    engine = sa.create_engine(url)
    try:
        generate_demo(engine, DemoConfig(end=end, restaurants=restaurants, days=days, seed=seed))
    finally:
        engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=Path)
    parser.add_argument("--timezones", type=Path)
    parser.add_argument("--restaurants", type=int, default=4)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--test-days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo", type=int, metavar="N", help="N demo restaurants")
    parser.add_argument("--rms-url", help="read this RMS instead of simulating")
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=None)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--load-only", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.demo or args.rms_url:
        with tempfile.TemporaryDirectory() as folder:
            url = args.rms_url or demo_rms(
                Path(folder), args.demo, args.days, args.seed + 1, args.end
            )
            tickets, zones = from_rms(url, args.as_of)
    elif args.tickets:
        read = pd.read_pickle if args.tickets.suffix in {".pkl", ".pickle"} else pd.read_csv
        tickets = read(args.tickets)
        for col in ("queued_at", "started_at", "completed_at"):
            tickets[col] = pd.to_datetime(tickets[col], utc=True)
        zones = {int(k): v for k, v in json.loads(args.timezones.read_text()).items()}
    else:
        tickets, zones = simulated(args.restaurants, args.days, args.seed)
    options = FitOptions()
    if args.load_only:
        options = FitOptions(params=ModelParams(numeric_features=LOAD_ONLY))
    table = run(tickets, zones, test_days=args.test_days, options=options)
    with pd.option_context("display.width", 200):
        print(table.round(3).to_string(index=False))
    print(f"elapsed {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
