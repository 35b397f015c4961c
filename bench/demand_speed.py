"""Time and peak memory of the demand pipeline against plain per-series AutoETS.

Each measurement runs in its own process (peak RSS is per process), on the same
synthetic data (restaurants x items x days; items plus orders/covers/revenue totals),
with the same ``n_jobs``:

- ``ours_full``: closure detection + backtest of every candidate + selection +
  conformal calibration + final fit and forecast (the weekly ``--full`` run);
- ``ours_refit``: the daily run, refitting the models the full run chose;
- ``autoets``: ``StatsForecast([AutoETS()]).forecast`` (default settings: non-seasonal);
- ``autoets7``: ``AutoETS(season_length=7)``, the full seasonal search (~140 ms/series).

    .venv/bin/python bench/demand_speed.py --sizes 10x60,50x60 --n-jobs 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS

from rms_ml_push.models.demand import DemandConfig, detect_closures, forecast_demand
from rms_ml_push.models.demand.synthetic import generate

MODES = ("ours_full", "ours_refit", "autoets", "autoets7")


def _data(restaurants: int, items: int, days: int):  # type: ignore[no-untyped-def]
    return generate(restaurants, items, days, seed=1)


def _closures(data, h: int):  # type: ignore[no-untyped-def]
    keys = data.info["closure_key"].unique()
    totals = data.frame[data.frame["unique_id"].isin(keys)]
    until = data.frame["ds"].max() + pd.Timedelta(days=h)
    calendars = dict.fromkeys(keys, next(iter(data.calendars.values())))
    return detect_closures(totals, calendars=calendars, until=until)


def run_mode(mode: str, restaurants: int, items: int, days: int, n_jobs: int) -> dict[str, float]:
    """Run one mode in this process; seconds exclude data generation."""
    data = _data(restaurants, items, days)
    config = DemandConfig.daily()
    state = None
    if mode == "ours_refit":
        state = forecast_demand(
            data.frame,
            data.info,
            config,
            calendars=data.calendars,
            closures=_closures(data, config.h),
            n_jobs=n_jobs,
        ).state
    start = time.perf_counter()
    if mode.startswith("ours"):
        forecast_demand(
            data.frame,
            data.info,
            config,
            calendars=data.calendars,
            closures=_closures(data, config.h),
            state=state,
            full=state is None,
            n_jobs=n_jobs,
        )
    else:
        model = AutoETS() if mode == "autoets" else AutoETS(season_length=7)
        sizes = data.frame.groupby("unique_id")["y"].transform("size")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            StatsForecast(models=[model], freq="D", n_jobs=n_jobs, fallback_model=None).forecast(
                df=data.frame[sizes >= 56], h=14
            )
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(max(peak_mib, children))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10x60", help="restaurants x items, comma-separated")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, size = args.child.split(":")
        r, i = (int(x) for x in size.split("x"))
        print(json.dumps(run_mode(mode, r, i, args.days, args.n_jobs)))
        return 0
    rows = []
    for size in args.sizes.split(","):
        row: dict[str, object] = {"size": size, "series": None}
        for mode in args.modes.split(","):
            cmd = [
                sys.executable,
                __file__,
                "--child",
                f"{mode}:{size}",
                "--days",
                str(args.days),
                "--n-jobs",
                str(args.n_jobs),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
            row[f"{mode}_s"] = result["seconds"]
            row[f"{mode}_rss_mib"] = result["peak_rss_mib"]
            print(f"{size} {mode}: {result}", file=sys.stderr)
        r, i = (int(x) for x in size.split("x"))
        row["series"] = r * (i + 3)
        rows.append(row)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
