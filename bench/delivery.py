"""Delivery benchmark: the outbox path against a raw httpx POST loop, same receiver.

    .venv/bin/python bench/delivery.py [--messages 10000] [--concurrency 8] [--no-pg]

The receiver runs in its own process (the reference receiver: stdlib threaded server
with TCP_NODELAY, verifying every signature), so that it does not share a GIL with
the sender. Measured, for each store (SQLite file, PostgreSQL):

- throughput: N messages enqueued up front, then ``Dispatcher.drain()``: deliveries/s;
- latency: messages enqueued in small batches at a steady rate below capacity while
  the dispatcher runs, enqueue -> 2xx p50/p99 (``created_at`` to attempt end);
- peak RSS of this process;

and the raw rate: the same bodies, signed per request, POSTed by ``concurrency``
threads sharing one ``httpx.Client``. The receiver's own capacity is measured with two
client processes of ``concurrency`` threads each. Target: outbox >= 60 % of raw.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rms_ml_push.config import load_settings  # noqa: E402
from rms_ml_push.delivery.dispatcher import Dispatcher  # noqa: E402
from rms_ml_push.delivery.payloads import Event, build_event  # noqa: E402
from rms_ml_push.delivery.signing import sign  # noqa: E402
from rms_ml_push.logs import configure_logging  # noqa: E402
from rms_ml_push.store import outbox  # noqa: E402
from rms_ml_push.store.engine import Store  # noqa: E402
from rms_ml_push.store.migrate import migrate  # noqa: E402
from rms_ml_push.store.schema import attempts, messages  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"bench-secret-0123456789abcdef!!").decode()
PG_ADMIN = os.environ.get("RMS_ML_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")
BODY_ROWS = 20  # about 2 KB bodies, like design.md's measurement


def start_receiver(port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "RMS_ML_LOG_LEVEL": "WARNING", "RMS_ML_LOG_FORMAT": "json"}
    env = {k: v for k, v in env.items() if k != "RMS_ML_RMS_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rms_ml_push", "receiver", "--port", str(port), "--secret", SECRET],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("receiver did not start")


def body(i: int) -> bytes:
    rows = [
        {
            "customer_id": i * 100 + k,
            "churn_probability": 0.25,
            "rfm_segment": "loyal",
            "expected_value_90d": 123.45,
            "next_order_expected_by": "2026-12-01",
        }
        for k in range(BODY_ROWS)
    ]
    data = {"restaurant_id": None, "generated_at": "2026-11-28T06:00:01.004Z", "customers": rows}
    return build_event(
        "customer.scores.updated", data, now=datetime.now(UTC), max_body_bytes=65536
    ).body


def raw_loop(url: str, n: int, threads: int) -> float:
    """Requests/s of a plain signed POST loop with ``threads`` threads, one client."""
    payload = body(0)
    client = httpx.Client(timeout=15, limits=httpx.Limits(max_connections=threads))
    counter = iter(range(n))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            msg_id = f"msg_raw{i}"
            ts = int(time.time())
            headers = {
                "webhook-id": msg_id,
                "webhook-timestamp": str(ts),
                "webhook-signature": sign([SECRET], msg_id, ts, payload),
                "content-type": "application/json",
            }
            r = client.post(url, content=payload, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"raw loop got {r.status_code}")

    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    client.close()
    return n / elapsed


def receiver_capacity(port: int, n: int, threads: int) -> float:
    """Requests/s the receiver sustains from two client processes (their rates summed)."""
    cmd = [
        sys.executable,
        __file__,
        "--raw-only",
        "--port",
        str(port),
        "--messages",
        str(n),
        "--concurrency",
        str(threads),
    ]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    return sum(float(p.communicate()[0].strip()) for p in procs)


def make_settings(store_url: str, url: str, concurrency: int):  # type: ignore[no-untyped-def]
    return load_settings(
        store_url=store_url,
        log_level="WARNING",
        endpoints=[
            {
                "name": "bench",
                "url": url,
                "secrets": [SECRET],
                "allow_insecure_http": True,
                "max_in_flight": concurrency,
            }
        ],
        delivery={"workers": concurrency, "batch_size": 200, "poll_interval_s": 0.05},
    )


def enqueue(store: Store, settings, bodies: list[bytes]) -> None:  # type: ignore[no-untyped-def]
    events = [Event("customer.scores.updated", b) for b in bodies]
    with store.write() as conn:
        outbox.enqueue(
            conn, events, settings.endpoints, now=datetime.now(UTC), max_body_bytes=65536
        )


def latencies_ms(store: Store) -> list[float]:
    with store.read() as conn:
        rows = conn.execute(
            sa.select(messages.c.created_at, attempts.c.started_at, attempts.c.duration_ms)
            .join(attempts, attempts.c.message_id == messages.c.id)
            .where(attempts.c.status_code == 200)
        ).all()
    return sorted(
        (r.started_at - r.created_at).total_seconds() * 1000 + r.duration_ms for r in rows
    )


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


def run_store(name: str, store_url: str, url: str, n: int, conc: int) -> dict[str, float]:
    store = Store.from_url(store_url)
    migrate(store)
    settings = make_settings(store_url, url, conc)
    payloads = [body(i) for i in range(n)]
    t0 = time.perf_counter()
    for i in range(0, n, 1000):
        enqueue(store, settings, payloads[i : i + 1000])
    enqueue_rate = n / (time.perf_counter() - t0)
    d = Dispatcher(store, settings)
    started = time.perf_counter()
    assert d.drain(max_seconds=600)
    rate = n / (time.perf_counter() - started)
    d.close()
    with store.write() as conn:  # latency phase starts from an empty outbox
        conn.execute(sa.delete(attempts))
        conn.execute(sa.delete(messages))
    lat_n = min(n, 3000)
    d = Dispatcher(store, settings)
    d.start()
    per_batch, interval_s = 10, 10 / (0.5 * rate)  # half the measured capacity
    next_at = time.perf_counter()
    for i in range(0, lat_n, per_batch):
        enqueue(store, settings, payloads[i : i + per_batch])
        d.wake()
        next_at += interval_s
        time.sleep(max(0.0, next_at - time.perf_counter()))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with store.read() as conn:
            left = conn.execute(
                sa.select(sa.func.count()).where(messages.c.status != "delivered")
            ).scalar()
        if not left:
            break
        time.sleep(0.1)
    d.stop()
    lat = latencies_ms(store)
    store.dispose()
    return {
        "rate": rate,
        "enqueue_rate": enqueue_rate,
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "latency_n": len(lat),
        "latency_offered_rate": 0.5 * rate,
    }


def with_pg_database(fn: Callable[[str], dict[str, float]]) -> dict[str, float]:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    dbname = f"rmsml_bench_{os.getpid()}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{dbname}"'))
    try:
        return fn(PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=18_777)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--raw-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}/"
    if args.raw_only:
        print(raw_loop(url, args.messages, args.concurrency))
        return
    configure_logging("WARNING", "json")
    receiver = start_receiver(args.port)
    results: dict[str, object] = {"messages": args.messages, "concurrency": args.concurrency}
    try:
        raw_loop(url, 500, args.concurrency)  # warm-up
        results["receiver_capacity_rps"] = receiver_capacity(args.port, 3000, args.concurrency)
        # Raw measured right before each store run: the machine's load drifts.
        raw = raw_loop(url, args.messages, args.concurrency)
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = run_store(
                "sqlite", f"sqlite:///{tmp}/bench.sqlite3", url, args.messages, args.concurrency
            )
        results["sqlite"] = sqlite | {"raw_rps": raw, "ratio_to_raw": sqlite["rate"] / raw}
        if not args.no_pg:
            raw = raw_loop(url, args.messages, args.concurrency)
            pg = with_pg_database(
                lambda u: run_store("pg", u, url, args.messages, args.concurrency)
            )
            results["postgresql"] = pg | {"raw_rps": raw, "ratio_to_raw": pg["rate"] / raw}
        results["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    finally:
        receiver.terminate()
        receiver.wait(10)
    print(json.dumps(results, indent=2, default=lambda v: round(v, 3)))


if __name__ == "__main__":
    main()
