"""The customers job end to end at issue 8's scale: 1 M orders, 200 k customers, PostgreSQL.

    .venv/bin/python bench/customers_job.py [--rms-url URL] [--n-customers 200000] [--generate]

Writes ``bench/customers_speed.py``'s simulated log (about 981 k completed orders of
200,000 customers, here in 20 restaurants with 10 % chain-wide customers; 1 % of the
orders get a partial refund payment) into a PostgreSQL RMS with the data contract's tables
(the database is created and filled when it has no orders table, or with ``--generate``).
Then, each in its own process, measured the same way (wall, CPU, peak RSS):

- the job: ``rms-ml-push jobs run customers --full --no-deliver --as-of AS_OF`` (extract,
  clean, backtest, fit, registry, fallback chain, rows, parts, outbox), fresh store;
- the baseline: ``score_customers`` alone on the same log read from a parquet file (the
  models with no RMS, no store and no output).

Prints one JSON line: both measures, the job over the baseline, and the job's summary.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from child import CLI, ensure_database, job_env, timed, timed_output
from rms_ml_push.config import RmsTables
from rms_ml_push.demo.schema import create_demo_schema, create_indexes, drop_demo_tables
from rms_ml_push.models.customers import score_customers
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/bench_customers"
START = pd.Timestamp("2023-01-01", tz="UTC")
RESTAURANTS = tuple(range(1, 21))
REFUND_SHARE = 0.01
UNUSED_ENDPOINT = "http://127.0.0.1:9/rms-ml-push"


def simulated(n_customers: int) -> tuple[pd.DataFrame, pd.Timestamp]:
    """customers_speed.py's log (alpha 28/day: about 5 orders per customer) and its as_of."""
    spec = SimulationSpec(n_customers=n_customers, alpha=28.0, restaurants=RESTAURANTS)
    return simulate_transactions(spec, START, seed=1), START + pd.Timedelta(days=spec.days)


def _copy(conn: sa.Connection, table: str, frame: pd.DataFrame) -> None:
    text = io.StringIO()
    frame.to_csv(text, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S.%f%z")
    columns = ", ".join(frame.columns)
    cursor = conn.connection.cursor()
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy:  # type: ignore[attr-defined]
        copy.write(text.getvalue())


def write_rms(rms_url: str, tx: pd.DataFrame) -> dict[str, int]:
    """The log as RMS rows (restaurants, profiles, completed orders, refund payments)."""
    ensure_database(rms_url)
    tables = RmsTables()
    engine = sa.create_engine(rms_url)
    drop_demo_tables(engine, tables)
    create_demo_schema(engine, tables, movements=False)
    rng = np.random.default_rng(7)
    ids = tx["customer_id"].to_numpy()
    home = tx.groupby("customer_id")["restaurant_id"].last()
    first = tx.groupby("customer_id")["ts"].min()
    # A chain-wide customer's orders still happen somewhere.
    at = tx["restaurant_id"].fillna(pd.Series(1 + ids % len(RESTAURANTS), index=tx.index))
    orders = pd.DataFrame(
        {
            "id": np.arange(1, len(tx) + 1),
            "restaurant_id": at.astype("int64"),
            "customer_id": ids,
            "created_at": tx["ts"],
            "closed_at": tx["ts"] + pd.Timedelta(minutes=40),
            "status": "completed",
            "channel": "dine_in",
            "guest_count": 2,
            "total_amount": tx["amount"].round(2).clip(lower=0.01),
        }
    )
    refunded = orders.sample(frac=REFUND_SHARE, random_state=3)
    payments = pd.DataFrame(
        {
            "id": np.arange(1, len(refunded) + 1),
            "order_id": refunded["id"].to_numpy(),
            "method": "card",
            "amount": (refunded["total_amount"] * rng.uniform(0.05, 0.5, len(refunded))).round(2),
            "paid_at": refunded["created_at"] + pd.Timedelta(hours=2),
            "status": "refunded",
        }
    )
    profiles = pd.DataFrame(
        {
            "id": home.index,
            "restaurant_id": home.astype("Int64"),
            "created_at": first.reindex(home.index) - pd.Timedelta(hours=1),
            "first_name": "Bench",  # contract columns the job never selects
            "last_name": "Customer",
        }
    )
    restaurants = pd.DataFrame(
        {
            "id": list(RESTAURANTS),
            "name": [f"R{i}" for i in RESTAURANTS],
            "timezone": "Europe/Berlin",
        }
    )
    with engine.begin() as conn:
        for table, frame in (
            (tables.restaurants, restaurants),
            (tables.customer_profiles, profiles),
            (tables.orders, orders),
            (tables.payments, payments),
        ):
            _copy(conn, table, frame)
    create_indexes(engine, tables, movements=False)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return {"orders": len(orders), "customers": len(profiles), "refunds": len(payments)}


def child_score(path: str, as_of: str) -> None:
    """The baseline: score_customers on the parquet log (in its own process)."""
    score_customers(pd.read_parquet(path), pd.Timestamp(as_of))


def _has_orders(rms_url: str) -> bool:
    """Whether the RMS has orders already (a failed earlier write leaves empty tables)."""
    engine = sa.create_engine(rms_url)
    try:
        with engine.connect() as conn:
            orders = RmsTables().orders
            return conn.execute(sa.text(f"select exists (select 1 from {orders})")).scalar_one()
    except sa.exc.DBAPIError:
        return False
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rms-url", default=DEFAULT_URL)
    parser.add_argument("--n-customers", type=int, default=200_000)
    parser.add_argument("--generate", action="store_true", help="rewrite the RMS first")
    parser.add_argument("--child-score", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--as-of", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_score:
        child_score(args.child_score, args.as_of)
        return
    tx, as_of = simulated(args.n_customers)
    result: dict[str, object] = {"as_of": as_of.isoformat()}
    if args.generate or not _has_orders(args.rms_url):
        started = time.perf_counter()
        result["rms"] = write_rms(args.rms_url, tx)
        result["rms_written_s"] = round(time.perf_counter() - started, 1)
    with tempfile.TemporaryDirectory(prefix="bench-customers-") as tmp:
        work = Path(tmp)
        log = work / "tx.parquet"
        tx.to_parquet(log)
        env = job_env(args.rms_url, work)
        # An endpoint, so the run enqueues its parts as in production (--no-deliver: the
        # address is never called).
        secret = base64.b64encode(secrets.token_bytes(32)).decode()
        env.update(RMS_ML_WEBHOOK_URL=UNUSED_ENDPOINT, RMS_ML_WEBHOOK_SECRET=f"whsec_{secret}")
        baseline = [
            sys.executable,
            __file__,
            "--child-score",
            str(log),
            "--as-of",
            as_of.isoformat(),
        ]
        result["score_customers"] = timed(baseline, env)
        job = [CLI, "jobs", "run", "customers", "--full", "--no-deliver", "--json"]
        result["job_full"], printed = timed_output([*job, "--as-of", as_of.isoformat()], env)
    report = json.loads(printed)
    summary = report.get("summary") or {}
    keys = ("customers_scored", "chain_wide_customers", "partial_refunds", "churn_model")
    result["job_summary"] = {k: summary.get(k) for k in keys}
    result["job_messages"] = report.get("messages")
    result["job_over_score_customers"] = round(
        result["job_full"]["wall_s"] / result["score_customers"]["wall_s"],
        2,  # type: ignore[index]
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
