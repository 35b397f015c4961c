"""/health latency while a CPU-bound training run occupies the worker pool.

Starts the wired service in this process (SQLite store and RMS in a temp dir, HTTP on a
free port, the real dispatcher and job runner), lets the leader's catch-up run a job
whose compute step burns one CPU for the whole measurement (``run_job`` in a worker
process), then times N GET /health requests, on one keep-alive connection and on fresh
connections.
Target (issue 6): p99 < 50 ms.

    .venv/bin/python bench/health_latency.py [N]
"""

from __future__ import annotations

import functools
import http.client
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import service_computes

from rms_ml_push.config import load_settings
from rms_ml_push.service.run import build_service
from rms_ml_push.service.wiring import build_deps

BUSY_S = 60.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _measure(port: int, n: int, keep_alive: bool) -> list[float]:
    times = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    for _ in range(n):
        if not keep_alive:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        start = time.perf_counter()
        conn.request("GET", "/health")
        resp = conn.getresponse()
        resp.read()
        times.append((time.perf_counter() - start) * 1000)
        if resp.status != 200:
            raise SystemExit(f"/health answered {resp.status}")
        if not keep_alive:
            conn.close()
    conn.close()
    return times


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        schedule = Path(tmp, "schedule.toml")
        schedule.write_text('[[entries]]\njob = "demand"\ncron = "0 6 * * *"\n')
        rms = Path(tmp, "rms.sqlite3")
        sqlite3.connect(rms).close()
        os.environ.update(
            SVC_TEST_BURN_S=str(BUSY_S),
            RMS_ML_RMS_URL=f"sqlite:///{rms}",
            RMS_ML_STORE_URL=f"sqlite:///{tmp}/store.sqlite3",
            RMS_ML_HTTP__PORT="0",
            RMS_ML_SCHEDULE_FILE=str(schedule),
            RMS_ML_LOG_LEVEL="WARNING",
            RMS_ML_SERVICE__STOP_TIMEOUT_S="5",
        )
        settings = load_settings()
        service = build_service(
            settings, deps_factory=functools.partial(build_deps, compute=service_computes.burn)
        )
        service.start()
        try:
            while not service.launcher.in_flight():
                time.sleep(0.05)
            time.sleep(2)  # let the spawned worker import and start burning CPU
            port = service.api.port
            for keep_alive in (True, False):
                times = _measure(port, n, keep_alive)
                busy = bool(service.launcher.in_flight())
                print(
                    f"/health x{n} ({'keep-alive' if keep_alive else 'new connection each'}), "
                    f"training run in pool: {busy}: p50 {statistics.median(times):.2f} ms, "
                    f"p99 {_percentile(times, 0.99):.2f} ms, max {max(times):.2f} ms"
                )
        finally:
            service.stop()


if __name__ == "__main__":
    main()
