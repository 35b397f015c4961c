"""Extract throughput: RmsReader.order_lines() against a plain COPY of the same rows.

Run: .venv/bin/python bench/extract.py [--lines N] [--admin-url URL]
Creates a throwaway PostgreSQL database, loads N order lines (N/4 orders) with COPY,
then measures, in the same run, rows/s of
  1. RmsReader.order_lines() (read-only engine, server-side cursor, typed DataFrame), and
  2. `COPY (<the same SELECT>) TO STDOUT` through psycopg, bytes read and discarded,
and the reader's peak RSS growth. Drops the database afterwards.
"""

from __future__ import annotations

import argparse
import random
import resource
import secrets
import time
from datetime import UTC, datetime, timedelta

import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from rms_ml_push.config import RmsSettings
from rms_ml_push.rms.engine import create_rms_engine
from rms_ml_push.rms.extract import RmsReader
from rms_ml_push.rms.queries import QueryBuilder
from rms_ml_push.rms.tables import build_tables

ADMIN_URL = "postgresql://root@127.0.0.1:5432/postgres"


def _load(conninfo: str, lines: int) -> None:
    tables = build_tables()
    engine = sa.create_engine(conninfo.replace("postgresql://", "postgresql+psycopg://"))
    tables.metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(7)
    start = datetime(1998, 1, 1, tzinfo=UTC)
    n_orders = max(1, lines // 4)
    statuses = ["completed"] * 17 + ["cancelled", "refunded", "open"]
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY orders (id, restaurant_id, customer_id, created_at, closed_at, status, "
            "channel, guest_count, total_amount) FROM STDIN"
        ) as copy:
            for oid in range(1, n_orders + 1):
                ts = start + timedelta(seconds=oid * 97)
                cust = rng.randrange(1, 50_000) if rng.random() < 0.6 else None
                copy.write_row((oid, oid % 50 + 1, cust, ts, ts + timedelta(minutes=35),
                                rng.choice(statuses), "dine_in", 2, 42.5))  # fmt: skip
        with cur.copy(
            "COPY order_items (id, order_id, menu_item_id, quantity, unit_price, is_voided) "
            "FROM STDIN"
        ) as copy:
            for lid in range(1, lines + 1):
                copy.write_row((lid, (lid - 1) // 4 + 1, rng.randrange(1, 400),
                                rng.randrange(1, 4), 9.5, rng.random() < 0.01))  # fmt: skip
        cur.execute("ANALYZE")
        conn.commit()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    name = f"rmsml_bench_{secrets.token_hex(4)}"
    base = args.admin_url.rsplit("/", 1)[0]
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        conninfo = f"{base}/{name}"
        t0 = time.perf_counter()
        _load(conninfo, args.lines)
        print(f"loaded {args.lines:,} lines in {time.perf_counter() - t0:.1f} s")
        _measure(conninfo, args.chunk_rows, args.repeat)
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy_once(conninfo: str, sql: str) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    n_bytes = 0
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY ({sql}) TO STDOUT") as copy:
            for block in copy:
                n_bytes += len(block)
        rows = cur.rowcount
    return time.perf_counter() - t0, rows, n_bytes


def _measure(conninfo: str, chunk_rows: int, repeat: int) -> None:
    url = conninfo.replace("postgresql://", "postgresql+psycopg://")
    engine = create_rms_engine(url, RmsSettings(chunk_rows=chunk_rows))
    reader = RmsReader(engine, build_tables(), chunk_rows=chunk_rows)
    query = QueryBuilder(reader.tables, "postgresql").order_lines(None, None, None)
    compiled = query.stmt.compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    sql = str(compiled)
    # The machine is shared: alternate the two and keep each one's best run.
    copy_s, reader_s, rss_before, rows, n_bytes, frame_mb = [], [], _rss_mb(), 0, 0, 0.0
    for _ in range(repeat):
        seconds, rows, n_bytes = _copy_once(conninfo, sql)
        copy_s.append(seconds)
        t0 = time.perf_counter()
        frame = reader.order_lines()
        reader_s.append(time.perf_counter() - t0)
        assert len(frame) == rows, (len(frame), rows)
        frame_mb = frame.memory_usage(deep=True).sum() / 1e6
        del frame
    rss_after = _rss_mb()
    reader.dispose()
    best_copy, best_reader = min(copy_s), min(reader_s)
    print(f"COPY ... TO STDOUT        {rows / best_copy:12,.0f} rows/s  (best of {repeat}: "
          f"{best_copy:.2f} s, {n_bytes / 1e6:.0f} MB text)")  # fmt: skip
    print(f"RmsReader.order_lines()   {rows / best_reader:12,.0f} rows/s  (best of {repeat}: "
          f"{best_reader:.2f} s)")  # fmt: skip
    print(f"ratio reader / COPY       {best_copy / best_reader:12.2f}")
    print(f"frame memory              {frame_mb:10.0f} MB")
    print(f"peak RSS                  {rss_after:10.0f} MB (+{rss_after - rss_before:.0f} MB "
          f"while reading, chunk_rows={chunk_rows:,})")  # fmt: skip


if __name__ == "__main__":
    main()
