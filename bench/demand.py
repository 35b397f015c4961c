"""The demand job end to end at scale against plain per-series AutoETS, in the same run.

    .venv/bin/python bench/demand.py --rms-url postgresql+psycopg://root@127.0.0.1:5432/bench_demand
    .venv/bin/python bench/demand.py --generate   # (re)writes the demo RMS (50 x 60 x 730)

Needs a demo RMS (``rms-ml-push demo-data --restaurants 50 --days 730 --menu-items 60``);
when the database is missing or empty it is written first (~6 min), as ``--generate``
does. For each size (restaurants 1..N), each timed step runs in its own process, so wall
time and peak RSS are that step's alone:

- ``job_full``: ``rms-ml-push jobs run demand --full --no-deliver`` (extract, clean,
  backtest of every candidate, selection, calibration, fit, forecast, registry, enqueue);
- ``job_daily``: the same without ``--full``: the daily run refits the chosen models;
- ``autoets7``/``autoets``: ``StatsForecast([AutoETS(season_length=7)])`` (the full
  seasonal search) and ``AutoETS()`` (default settings) over the same menu-item series,
  ``n_jobs`` equal to the job's (1), their series prepared beforehand (untimed: the
  baselines get their extract for free).

The job forecasts from ``as_of`` = the holdout's first day, 06:00 UTC, so the last 14 days
of the data are actuals: MASE (scaled by each series' in-sample SeasonalNaive(7) MAE) of
the job's pushed item forecasts against the baselines' on the same days; the restaurant
totals (orders, covers, revenue) are scored the same way (``mase_totals``), their
baselines fitted and timed apart (``autoets7_totals``, ``autoets_totals``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

from child import CLI, ensure_database, job_env, timed
from rms_ml_push.config import Settings
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.demand_data import load_inputs
from rms_ml_push.jobs.runtime import latest_prediction_set
from rms_ml_push.store.engine import Store

H = 14
DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_demand"


def _series(rms_url: str, restaurants: list[int], until: datetime) -> pd.DataFrame:
    """Daily item series of the job's own extract (all data before ``until``)."""
    settings = Settings(rms_url=rms_url, store_url="sqlite://", _env_file=None)  # type: ignore[call-arg]
    with open_resources(settings) as res:
        inputs = load_inputs(res, until, restaurants)
    return inputs.daily.reset_index(drop=True)


def child_autoets(path: str, season: int) -> None:
    """Fit and forecast AutoETS over the parquet's series; forecasts next to it."""
    frame = pd.read_parquet(path)
    model = AutoETS(season_length=season, alias="yhat")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = StatsForecast(models=[model], freq="D", n_jobs=1, fallback_model=None).forecast(
            df=frame, h=H
        )
    pd.DataFrame(out).reset_index(drop="unique_id" in out.columns).to_parquet(
        f"{path}.autoets{season}.parquet"
    )


def _job_points(store_url: str, restaurants: list[int], as_of: datetime) -> pd.DataFrame:
    """The job's daily forecasts as the store kept them, under the extract's unique_ids."""
    store = Store.from_url(store_url)
    rows = []
    for rid in restaurants:
        payload = latest_prediction_set(store, "demand.day", rid, as_of) or {"series": []}
        for s in payload["series"]:
            item = s["target"] == "menu_item"
            uid = f"r{rid}|item{s['menu_item_id']}" if item else f"r{rid}|{s['target']}"
            rows += [(uid, pd.Timestamp(p["ts"]), p["yhat"], s["source"]) for p in s["points"]]
    store.dispose()
    return pd.DataFrame(rows, columns=["unique_id", "ds", "yhat", "source"])


def _mase(history: pd.DataFrame, actual: pd.DataFrame, forecast: pd.DataFrame) -> float:
    """Mean over series of MAE / in-sample SeasonalNaive(7) MAE, on the holdout days."""
    hist = history.sort_values(["unique_id", "ds"])
    scale = hist.groupby("unique_id")["y"].apply(
        lambda y: float(np.mean(np.abs(y.to_numpy()[7:] - y.to_numpy()[:-7])))
    )
    both = actual.merge(forecast[["unique_id", "ds", "yhat"]], on=["unique_id", "ds"])
    mae = (both["y"] - both["yhat"]).abs().groupby(both["unique_id"]).mean()
    ratio = (mae / scale.reindex(mae.index)).replace([np.inf, -np.inf], np.nan).dropna()
    return float(ratio.mean())


def _seasonal_naive(history: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    last = history.sort_values("ds").groupby("unique_id").tail(7)
    last = last.assign(dow=last["ds"].dt.dayofweek)
    grid = pd.DataFrame({"ds": days, "dow": days.dayofweek})
    return last[["unique_id", "dow", "y"]].merge(grid, on="dow").rename(columns={"y": "yhat"})


def run_size(args: argparse.Namespace, n: int, last_day: pd.Timestamp, work: Path) -> dict:
    restaurants = list(range(1, n + 1))
    first = last_day - pd.Timedelta(days=H - 1)
    as_of = datetime(first.year, first.month, first.day, 6, tzinfo=UTC)
    env = job_env(args.rms_url, work)
    cli = [CLI, "jobs", "run", "demand", "--no-deliver"]
    scope = ["--as-of", as_of.isoformat()]
    for rid in restaurants:
        scope += ["--restaurant", str(rid)]
    result: dict = {"restaurants": n}
    result["job_full"] = timed([*cli, "--full", *scope], env)
    points = _job_points(env["RMS_ML_STORE_URL"], restaurants, as_of)
    # One hour later is another slot (a run per slot) with the same forecast days.
    daily_scope = ["--as-of", (as_of + timedelta(hours=1)).isoformat(), *scope[2:]]
    result["job_daily"] = timed([*cli, *daily_scope], env)

    # The baselines' series come from the job's own extract, in a child process so that
    # this process stays small (a child's peak RSS counts its parent's pages until exec).
    series_path = work / "series.parquet"
    subprocess.run(
        [
            sys.executable,
            __file__,
            "--child-series",
            str(series_path),
            "--rms-url",
            args.rms_url,
            "--end",
            str(last_day.date()),
            "--sizes",
            str(n),
        ],
        env=env,
        check=True,
    )
    every = pd.read_parquet(series_path)
    # AutoETS needs two seasons; the job's rule rung serves shorter series.
    days_before = every[every["ds"] < first].groupby("unique_id").size()
    every = every[every["unique_id"].isin(days_before.index[days_before >= 28])]
    items = every["unique_id"].str.contains(r"\|item", regex=True)
    # The timed baselines fit the item series (the comparison); restaurant totals
    # (orders, covers, revenue) are scored too, their baselines timed apart.
    for part, frame in (("items", every[items]), ("totals", every[~items])):
        history = frame[frame["ds"] < first]
        actual = frame[frame["ds"] >= first]
        path = str(work / f"{part}_{n}.parquet")
        history.to_parquet(path)
        suffix = "" if part == "items" else "_totals"
        for season, key in ((7, "autoets7"), (1, "autoets")):
            result[key + suffix] = timed(
                [sys.executable, __file__, "--child-autoets", path, "--season", str(season)], env
            )
        forecasts = {
            "job": points,
            "autoets7": pd.read_parquet(f"{path}.autoets7.parquet"),
            "autoets": pd.read_parquet(f"{path}.autoets1.parquet"),
            "seasonal_naive7": _seasonal_naive(history, pd.date_range(first, periods=H)),
        }
        common = set(points["unique_id"]) & set(forecasts["autoets7"]["unique_id"])
        keep = actual[actual["unique_id"].isin(common)]
        result[f"{part}_series"] = len(common)
        result[f"mase{suffix}"] = {
            k: round(_mase(history, keep, f[f["unique_id"].isin(common)]), 4)
            for k, f in forecasts.items()
        }
    for key in ("autoets7", "autoets"):
        result[f"job_full_over_{key}"] = round(
            result["job_full"]["wall_s"] / result[key]["wall_s"], 2
        )
        result[f"job_daily_over_{key}"] = round(
            result["job_daily"]["wall_s"] / result[key]["wall_s"], 2
        )
    return result


def _has_demo(rms_url: str) -> bool:
    """Whether the database has an orders table; creates the database when missing."""
    ensure_database(rms_url)
    engine = sa.create_engine(rms_url)
    try:
        with engine.connect() as conn:
            return bool(sa.inspect(conn).has_table("orders"))
    finally:
        engine.dispose()


def _last_day(rms_url: str) -> pd.Timestamp:
    """The day before the newest order that is not in the future (dirty clocks are)."""
    engine = sa.create_engine(rms_url)
    with engine.connect() as conn:
        newest = conn.execute(
            sa.text("select max(created_at) from orders where created_at < now()")
        ).scalar_one()
    engine.dispose()
    return pd.Timestamp(newest.date()) - pd.Timedelta(days=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rms-url", default=DEFAULT_URL)
    parser.add_argument("--sizes", default="10,50", help="restaurant counts, e.g. 10,50")
    parser.add_argument("--generate", action="store_true", help="write the demo RMS first")
    parser.add_argument("--end", default=None, help="last local day of the demo data")
    parser.add_argument("--child-autoets", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--season", type=int, default=7, help=argparse.SUPPRESS)
    parser.add_argument("--child-series", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_autoets:
        child_autoets(args.child_autoets, args.season)
        return
    if args.child_series:
        until = (pd.Timestamp(args.end) + pd.Timedelta(days=1)).to_pydatetime()
        series = _series(
            args.rms_url, list(range(1, int(args.sizes) + 1)), until.replace(tzinfo=UTC)
        )
        series.to_parquet(args.child_series)
        return
    if args.generate or not _has_demo(args.rms_url):
        cmd = [CLI, "demo-data", "--url", args.rms_url]
        cmd += ["--restaurants", "50", "--days", "730", "--menu-items", "60", "--replace"]
        cmd += ["--end", args.end] if args.end else []
        print("generating:", timed(cmd, dict(os.environ)), flush=True)
    # The demo's last local day, not max(created_at): dirty rows carry far-future clocks.
    last_day = pd.Timestamp(args.end) if args.end else _last_day(args.rms_url)
    with tempfile.TemporaryDirectory(prefix="bench-demand-") as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            work = Path(tmp) / f"n{n}"
            work.mkdir()
            print(json.dumps(run_size(args, n, last_day, work)), flush=True)


if __name__ == "__main__":
    main()
