"""Benchmark of ``demo-data``: rows/s and peak RSS on SQLite and PostgreSQL.

Each case runs in its own child process, so its peak RSS (``ru_maxrss``) is its own:

    .venv/bin/python bench/demo_data.py                 # SQLite 3x365 and PostgreSQL 50x730
    .venv/bin/python bench/demo_data.py --skip-pg       # SQLite only
    .venv/bin/python bench/demo_data.py --pg-restaurants 5 --pg-days 365

PostgreSQL: a fresh database on ``RMS_ML_BENCH_PG_URL`` (default the local server used by
the tests), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine

PG_ADMIN_URL = os.environ.get(
    "RMS_ML_BENCH_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres"
)
END = date(2025, 6, 30)


def child(url: str, restaurants: int, days: int) -> None:
    """Generate into ``url`` and print one JSON line with the figures."""
    engine = demo_engine(url)
    started = time.perf_counter()
    summary = generate_demo(
        engine, DemoConfig(end=END, restaurants=restaurants, days=days, seed=42), replace=True
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "rows": summary.total_rows,
                "orders": summary.rows["orders"],
                "seconds": round(seconds, 2),
                "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
                "rows_per_s": round(summary.total_rows / seconds),
                "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
            }
        )
    )


def run_case(label: str, url: str, restaurants: int, days: int, shown_url: str) -> None:
    """Run one case in a child process and print its command and figures."""
    command = (
        f"rms-ml-push demo-data --url {shown_url} --restaurants {restaurants} --days {days} "
        f"--seed 42 --end {END.isoformat()} --replace"
    )
    print(f"== {label}\n   equivalent command: {command}", flush=True)
    args = [sys.executable, __file__, "--child", url, str(restaurants), str(days)]
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        print(f"   FAILED (exit {out.returncode}): {out.stderr.strip().splitlines()[-1:]}")
        return
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"   {figures['rows']:,} rows ({figures['orders']:,} orders) in {figures['seconds']} s "
        f"(cpu {figures['cpu_s']} s): {figures['rows_per_s']:,} rows/s, "
        f"peak RSS {figures['peak_rss_mib']} MiB",
        flush=True,
    )


def pg_case(restaurants: int, days: int) -> None:
    """The PostgreSQL case in a throw-away database."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"rmsml_bench_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        run_case(f"PostgreSQL {restaurants}x{days}", url, restaurants, days, url)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    """Parse arguments and run the cases."""
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--sqlite-restaurants", type=int, default=3)
    parser.add_argument("--sqlite-days", type=int, default=365)
    parser.add_argument("--pg-restaurants", type=int, default=50)
    parser.add_argument("--pg-days", type=int, default=730)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rms.sqlite3"
        run_case(
            f"SQLite {args.sqlite_restaurants}x{args.sqlite_days}",
            f"sqlite:///{path}",
            args.sqlite_restaurants,
            args.sqlite_days,
            "sqlite:///var/demo/rms.sqlite3",
        )
    if not args.skip_pg:
        pg_case(args.pg_restaurants, args.pg_days)


if __name__ == "__main__":
    main()
