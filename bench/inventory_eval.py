"""Inventory policy evaluation: replay ours against the RMS's reorder_level rule on demo data.

    .venv/bin/python bench/inventory_eval.py [--restaurants 3] [--days 365] [--movements]
        [--warmup 120] [--service-level 0.95] [--review 7] [--db PATH]

Per restaurant and inventory item with a manual rule (a reorder_level and past batches):
the first ``--warmup`` days fit the consumption model (choice by backtest, as the job
does; nothing after the warm-up is seen), then every later day is replayed with the
actual use (order lines x recipes: uncensored demand; with ``--movements`` the
forecaster may choose the movement history), the item's lead time and the shelf life
seen in its batches. The manual rule orders the RMS's typical batch (median
quantity_received) when on hand + on order <= reorder_level. Both start from one such
batch. Stock and expiry are valued at the item's unit cost.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.features.quality import (
    QualityContext,
    clean_inventory_batches,
    clean_inventory_movements,
    clean_order_lines,
)
from rms_ml_push.models.inventory.fit import fit_restaurant
from rms_ml_push.models.inventory.history import History
from rms_ml_push.models.inventory.inputs import restaurant_inputs, shelf_life_days
from rms_ml_push.models.inventory.model import RestaurantInputs, stretch
from rms_ml_push.models.inventory.policy import PolicyParams, needed_days
from rms_ml_push.models.inventory.simulate import (
    SimResult,
    forecast_policy,
    manual_rule,
    simulate_policy,
)
from rms_ml_push.models.inventory.smoothing import smooth
from rms_ml_push.rms.extract import RmsReader
from rms_ml_push.rms.tables import build_tables

END = date(2026, 11, 27)


@dataclass
class Totals:
    """Sums of one policy over items."""

    item_days: int = 0
    stockout_days: int = 0
    demand: float = 0.0
    unmet: float = 0.0
    held_value: float = 0.0  # sum over days of the stock value held
    expired_value: float = 0.0
    orders: int = 0
    items_with_stockout: int = 0

    def add(self, r: SimResult, cost: float) -> None:
        self.item_days += r.days
        self.stockout_days += r.stockout_days
        self.demand += r.demand * cost
        self.unmet += r.unmet * cost
        self.held_value += r.held * cost
        self.expired_value += r.expired * cost
        self.orders += r.orders
        self.items_with_stockout += int(r.stockout_days > 0)

    def row(self, name: str, days: int) -> list[str]:
        fill = 1 - self.unmet / self.demand if self.demand else 1.0
        cycle = 1 - self.stockout_days / self.item_days if self.item_days else 1.0
        return [
            name,
            str(self.stockout_days),
            str(self.items_with_stockout),
            f"{cycle:.4f}",
            f"{fill:.4f}",
            f"{self.held_value / max(days, 1):,.0f}",
            f"{self.expired_value:,.0f}",
            str(self.orders),
        ]


def _truncate(history: History, days: int) -> History:
    return History(history.item_ids, history.first_day, history.values[:days])


def _load(url: str) -> dict[str, pd.DataFrame]:
    reader = RmsReader(sa.create_engine(url), build_tables())
    as_of = datetime.combine(END + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=12
    )
    ctx = QualityContext(now=as_of, as_of=as_of)
    frames = {
        "restaurants": reader.restaurants(),
        "items": reader.inventory_items(),
        "recipes": reader.recipe_components(),
        "lines": clean_order_lines(reader.order_lines(), ctx)[0],
        "batches": clean_inventory_batches(reader.inventory_batches(), ctx)[0],
    }
    if reader.has_inventory_movements():
        frames["movements"] = clean_inventory_movements(reader.inventory_movements(), ctx)[0]
    reader.dispose()
    frames["as_of"] = pd.DataFrame({"as_of": [as_of]})
    return frames


def _restaurant(
    frames: dict[str, pd.DataFrame], rid: int, tz: str, args: argparse.Namespace
) -> tuple[Totals, Totals]:
    as_of = frames["as_of"]["as_of"].iloc[0].to_pydatetime()
    items = frames["items"].loc[frames["items"]["restaurant_id"] == rid]
    recipes = frames["recipes"].loc[frames["recipes"]["inventory_item_id"].isin(items["id"])]
    batches = frames["batches"].loc[frames["batches"]["inventory_item_id"].isin(items["id"])]
    movements = frames.get("movements")
    if movements is not None:
        movements = movements.loc[movements["inventory_item_id"].isin(items["id"])]
    inputs = restaurant_inputs(
        rid,
        tz=tz,
        as_of=as_of,
        item_ids=[int(i) for i in items["id"]],
        lines=frames["lines"].loc[frames["lines"]["restaurant_id"] == rid],
        recipes=recipes,
        movements=movements,
        history_days=args.days + 5,
    )
    params = PolicyParams(args.service_level, args.review, 14)
    plans = _weekly_forecasts(inputs, items, params, args)
    ours, manual = Totals(), Totals()
    actual_all = inputs.histories["recipes"]
    for item in items.to_dict("records"):
        item_id = int(item["id"])
        own = batches.loc[batches["inventory_item_id"] == item_id]
        level = item["reorder_level"]
        if item_id not in plans or own.empty or pd.isna(level):
            continue
        lead = int(item["lead_time_days"])
        shelf = shelf_life_days(own)
        cost = float(item["unit_cost"]) if pd.notna(item["unit_cost"]) else 1.0
        batch_qty = float(own["quantity_received"].median())
        mean, sigma = plans[item_id]
        usage = actual_all.column(item_id)
        common = {
            "start": args.warmup,
            "lead_time_days": lead,
            "shelf_life_days": shelf,
            "initial_stock": batch_qty,
        }
        policy = forecast_policy(
            mean,
            sigma,
            start=args.warmup,
            params=params,
            lead_time_days=lead,
            shelf_life_days=shelf,
            unit=str(item["unit"]),
        )
        ours.add(simulate_policy(usage, policy, **common), cost)
        manual.add(simulate_policy(usage, manual_rule(float(level), batch_qty), **common), cost)
    return ours, manual


def _weekly_forecasts(
    inputs: RestaurantInputs,
    items: pd.DataFrame,
    params: PolicyParams,
    args: argparse.Namespace,
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per item, the forecast made at the start of every replayed day and its sigma per day.

    The model is refitted (choice and sigma by backtest) every 7 days on the days before,
    as the job's weekly full run does; in between, the fitted smoother moves with each
    day's use, as the daily refresh does. Nothing after a forecast's origin is seen.
    """
    n_days = inputs.target.days
    length = max(needed_days(params, int(lead)) for lead in items["lead_time_days"])
    means: dict[int, np.ndarray] = {}
    sigmas: dict[int, np.ndarray] = {}
    for week in range(args.warmup, n_days, 7):
        past_inputs = RestaurantInputs(
            inputs.restaurant_id,
            {s: _truncate(h, week) for s, h in inputs.histories.items()},
        )
        fits = fit_restaurant(past_inputs).fits
        origins = list(range(week, min(week + 7, n_days)))
        for item_id, fit in fits.items():
            history = inputs.histories[fit.source]
            y = history.column(item_id)[: origins[-1] + 1, None]
            _, past = smooth(
                y,
                history.first_day.weekday(),
                np.array([fit.alpha]),
                np.array([fit.gamma]),
                horizon=length,
                origins=origins,
            )
            means.setdefault(item_id, np.zeros((n_days - args.warmup, length)))
            sigmas.setdefault(item_id, np.zeros((n_days - args.warmup, length)))
            means[item_id][week - args.warmup : week - args.warmup + len(origins)] = past[:, :, 0]
            sigma = stretch(np.array(fit.sigma), length)
            sigmas[item_id][week - args.warmup : week - args.warmup + len(origins)] = sigma
    return {i: (means[i], sigmas[i]) for i in means}


HEADER = [
    "restaurant / policy",
    "stockout item-days",
    "items with a stockout",
    "cycle service",
    "fill rate",
    "avg stock value held",
    "expired value",
    "orders",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restaurants", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--movements", action="store_true")
    parser.add_argument("--warmup", type=int, default=120)
    parser.add_argument("--service-level", type=float, default=0.95)
    parser.add_argument("--review", type=int, default=7)
    parser.add_argument("--db", type=Path, default=None, help="reuse (or create) this SQLite")
    args = parser.parse_args()
    started = time.monotonic()
    db = args.db or Path(tempfile.mkdtemp()) / "demo.sqlite3"
    url = f"sqlite:///{db}"
    if not db.exists():
        config = DemoConfig(
            end=END,
            restaurants=args.restaurants,
            days=args.days,
            seed=args.seed,
            movements=args.movements,
        )
        generate_demo(sa.create_engine(url), config)
    frames = _load(url)
    replay_days = args.days - args.warmup
    rows = []
    all_ours, all_manual = Totals(), Totals()
    for rid, tz in zip(frames["restaurants"]["id"], frames["restaurants"]["timezone"], strict=True):
        ours, manual = _restaurant(frames, int(rid), str(tz), args)
        rows.append(ours.row(f"{rid} forecast policy", replay_days))
        rows.append(manual.row(f"{rid} reorder_level rule", replay_days))
        for total, part in ((all_ours, ours), (all_manual, manual)):
            for key in vars(total):
                setattr(total, key, getattr(total, key) + getattr(part, key))
    rows.append(all_ours.row("all forecast policy", replay_days))
    rows.append(all_manual.row("all reorder_level rule", replay_days))
    print(
        f"# {args.restaurants} restaurants x {args.days} days, movements={args.movements}, "
        f"warm-up {args.warmup} d, replay {replay_days} d, service level "
        f"{args.service_level}, review {args.review} d"
    )
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(f"# {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    main()
