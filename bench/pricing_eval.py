"""Pricing evaluation on demo data: held-out price responses and elasticity recovery.

    .venv/bin/python bench/pricing_eval.py                         # 5 restaurants x 730 days
    .venv/bin/python bench/pricing_eval.py --restaurants 3 --days 365 --seed 2
    .venv/bin/python bench/pricing_eval.py --db /path/demo.sqlite3  # an existing demo DB

Holds out each active item's latest price change, fits on the days before it and scores
the predicted quantity response against "no response" and one chain-wide elasticity
(``models.pricing.evaluate``); then fits on all history and compares the estimated
elasticities with ``demo_truth_elasticity``. Holidays come from ``demo_truth_restaurants``
as an operator would configure them (``RMS_ML_HOLIDAYS__RESTAURANTS``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from rms_ml_push.config import Settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.pricing_inputs import load_pricing_data
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.pricing.evaluate import elasticity_recovery, evaluate_holdout
from rms_ml_push.models.pricing.model import fit_pricing_model


def _truth(url: str) -> tuple[dict[int, float], dict[int, dict[str, Any]]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        elasticity = pd.read_sql("SELECT * FROM demo_truth_elasticity", conn)
        places = pd.read_sql("SELECT * FROM demo_truth_restaurants", conn)
    engine.dispose()
    truth = dict(zip(elasticity["menu_item_id"].astype(int), elasticity["elasticity"], strict=True))
    overrides = {
        int(r.restaurant_id): {"country": r.country, "subdivision": r.subdivision}
        for r in places.itertuples()
    }
    return truth, overrides


def evaluate(url: str, as_of: datetime, workdir: Path) -> None:
    """Print the held-out table and the recovery figures for the demo DB at ``url``."""
    truth, overrides = _truth(url)
    settings = Settings(
        rms_url=url,
        store_url=f"sqlite:///{workdir / 'store.sqlite3'}",
        model_dir=workdir / "models",
        holidays={"restaurants": overrides},
    )
    started = time.perf_counter()
    with open_resources(settings) as resources:
        data = load_pricing_data(resources, JobRequest("pricing", as_of))
    loaded = time.perf_counter()
    report = evaluate_holdout(data.fit_input, data.active_ids)
    model = fit_pricing_model(data.fit_input, data.active_ids)
    done = time.perf_counter()
    print(f"active items {len(data.active_ids)}; held-out changes {report.scores['model'].n}")
    print(f"load {loaded - started:.1f} s, evaluate + fit {done - loaded:.1f} s\n")
    print("held-out response (log points x 100 ~ %)")
    print(f"{'method':<12} {'MAE':>7} {'RMSE':>7} {'cover90':>8} {'n':>4}")
    for method, score in report.scores.items():
        print(
            f"{method:<12} {score.mae:7.2f} {score.rmse:7.2f} {score.coverage_90:8.2f} {score.n:4d}"
        )
    by_basis = pd.DataFrame(report.changes).groupby("basis").size().to_dict()
    print(f"held-out items by basis at their cut-off: {by_basis}\n")
    recovery = elasticity_recovery(model, truth)
    print("elasticity recovery vs demo_truth_elasticity (all history, active items)")
    for key, value in recovery.items():
        print(f"  {key:<20} {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing demo SQLite file")
    parser.add_argument("--restaurants", type=int, default=5)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 27))
    args = parser.parse_args()
    as_of = datetime.combine(args.end + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
        hours=12
    )
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = args.db or workdir / "demo.sqlite3"
        url = f"sqlite:///{db}"
        if args.db is None:
            started = time.perf_counter()
            config = DemoConfig(
                end=args.end, restaurants=args.restaurants, days=args.days, seed=args.seed
            )
            generate_demo(sa.create_engine(url), config)
            print(f"demo {args.restaurants} x {args.days} days, seed {args.seed}: "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        evaluate(url, as_of, workdir)


if __name__ == "__main__":
    main()
