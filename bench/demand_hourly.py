"""Hourly demand candidates head to head: backtest MASE and fit time on the demo RMS.

    .venv/bin/python bench/demand_hourly.py          # a fresh SQLite demo RMS, 4 restaurants
    .venv/bin/python bench/demand_hourly.py --restaurants 50 \
        --rms-url postgresql+psycopg://root@127.0.0.1:5432/bench_demand  # bench/demand.py's

The hourly orders series come through the job's own extract and grouping (per time zone,
on the wall clock); every candidate is backtested on the job's windows (3 x 168 hours,
each forecast from its cutoff only) and scored like the job scores it: MASE against the
in-sample same-hour-last-week MAE before the first window. Candidates run one at a time
in this process, ``n_jobs=1``; the seconds are their backtest's alone.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from rms_ml_push.config import Settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.demand import group_runs
from rms_ml_push.jobs.demand_data import load_inputs
from rms_ml_push.models.demand import DemandConfig
from rms_ml_push.models.demand.backtest import cutoffs, run_backtest
from rms_ml_push.models.demand.localtime import to_wall_clock, wall_clock_tz
from rms_ml_push.models.demand.metrics import score_frame
from rms_ml_push.models.demand.prepare import closed_mask, prepare_frame, series_facts, step_of

CANDIDATES = ("seasonal_naive", "window_average", "day_profile", "mstl")


def _frames(rms_url: str, restaurants: list[int], as_of: datetime) -> list[pd.DataFrame]:
    settings = Settings(rms_url=rms_url, store_url="sqlite://", _env_file=None)  # type: ignore[call-arg]
    with open_resources(settings) as res:
        inputs = load_inputs(res, as_of, restaurants)
        groups = group_runs(settings, inputs, as_of)
    return [g.frame for g in groups if g.granularity == "hour"]


def _score(frame: pd.DataFrame, config: DemandConfig) -> tuple[pd.DataFrame, dict[str, float]]:
    tz = wall_clock_tz(frame, config.freq)
    if tz is not None:
        frame = to_wall_clock(frame, tz)
    data = prepare_frame(frame, config)
    closed = closed_mask(data, None, None, config.freq)
    first = cutoffs(data["ds"].max(), config)[0]
    facts = series_facts(data, closed, first + step_of(config), config)
    seconds: dict[str, float] = {}
    parts = []
    for name in CANDIDATES:
        start = time.perf_counter()
        bt = run_backtest(data, None, DemandConfig.hourly(candidates=(name,)))
        seconds[name] = time.perf_counter() - start
        parts.append(bt.set_index(["unique_id", "ds", "cutoff"])[[name]])
    keys = ["unique_id", "ds", "cutoff"]
    bt = run_backtest(data, None, DemandConfig.hourly(candidates=("seasonal_naive",)))[[*keys, "y"]]
    bt = bt.join(pd.concat(parts, axis=1), on=keys).join(facts[["scale"]], on="unique_id")
    return score_frame(bt, list(CANDIDATES)), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rms-url", default=None, help="an RMS; default: write a demo RMS")
    parser.add_argument("--restaurants", type=int, default=4)
    parser.add_argument("--as-of", default="2026-11-14T06:00:00+00:00")
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of).astimezone(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.rms_url
        n = args.restaurants
        if url is None:
            url = f"sqlite:///{Path(tmp) / 'rms.sqlite3'}"
            engine = sa.create_engine(url)
            last = as_of.date() - timedelta(days=1)
            generate_demo(engine, DemoConfig(end=last, restaurants=n, days=400, seed=42))
            engine.dispose()
        frames = _frames(url, list(range(1, n + 1)), as_of)
    config = DemandConfig.hourly()
    scores, seconds = [], {name: 0.0 for name in CANDIDATES}
    for frame in frames:
        s, t = _score(frame, config)
        scores.append(s)
        seconds = {k: seconds[k] + t[k] for k in seconds}
    table = pd.concat(scores, ignore_index=True)
    mase = table.groupby("model")["mase"].mean()
    wape = table.groupby("model")["abs_err"].sum() / table.groupby("model")["y"].sum()
    print(
        json.dumps(
            {
                "series": int(table["unique_id"].nunique()),
                "mase": {k: round(float(mase[k]), 4) for k in CANDIDATES},
                "wape": {k: round(float(wape[k]), 4) for k in CANDIDATES},
                "backtest_s": {k: round(v, 1) for k, v in seconds.items()},
                "mase_vs_mstl": {
                    k: round(float(mase[k] / mase["mstl"]) - 1, 4) for k in CANDIDATES
                },
                "best_share": table.loc[table.groupby("unique_id")["mase"].idxmin(), "model"]
                .value_counts(normalize=True)
                .round(3)
                .to_dict(),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
