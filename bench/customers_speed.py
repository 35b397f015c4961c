"""Speed and memory of a full customer scoring run (issue 8: 1 M orders, 200 k customers).

    .venv/bin/python bench/customers_speed.py [--n-customers 200000]

Simulates the log (not timed as scoring), then times ``score_customers`` (backtest with
three BG/NBD + Gamma-Gamma fits, the calibrated classifier, refit of the chosen churn
model, scoring) and ``build_customer_rows``. Peak RSS is the process's high-water mark,
simulation included, so it over- rather than under-states the scoring's footprint.
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from rms_ml_push.models.customers import build_customer_rows, score_customers
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

START = pd.Timestamp("2023-01-01", tz="UTC")
GIB = 1024**3


def peak_rss_bytes() -> int:
    """High-water resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> int:
    """Simulate, score, build rows; print timings and peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-customers", type=int, default=200_000)
    args = parser.parse_args()
    # alpha 28/day with the default dropout gives about 5 orders per customer over 2 years.
    spec = SimulationSpec(n_customers=args.n_customers, alpha=28.0)
    started = time.perf_counter()
    tx = simulate_transactions(spec, START, seed=1)
    sim_s = time.perf_counter() - started
    print(
        f"simulated {len(tx):,} orders of {tx['customer_id'].nunique():,} customers "
        f"in {sim_s:.1f} s; RSS so far {peak_rss_bytes() / GIB:.2f} GiB"
    )
    as_of = START + pd.Timedelta(days=spec.days)
    started = time.perf_counter()
    scores = score_customers(tx, as_of)
    score_s = time.perf_counter() - started
    started = time.perf_counter()
    rows = build_customer_rows(scores)
    rows_s = time.perf_counter() - started
    n_rows = sum(len(v) for v in rows.values())
    print(
        f"score_customers: {score_s:.1f} s for {len(scores.customers):,} customers "
        f"(churn model {scores.churn_model})"
    )
    print(f"build_customer_rows: {rows_s:.1f} s for {n_rows:,} rows")
    print(f"peak RSS: {peak_rss_bytes() / GIB:.2f} GiB (limit 2 GiB)")
    return 0 if peak_rss_bytes() < 2 * GIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
