"""Speed and memory of a full customer scoring run (issue 8: 1 M orders, 200 k customers).

    .venv/bin/python bench/customers_speed.py [--n-customers 200000]

Simulates the log (not timed as scoring), then times ``score_customers`` (backtest with
three BG/NBD + Gamma-Gamma fits, the calibrated classifier, refit of the chosen churn
model, scoring) and ``build_customer_rows``, then the customers JOB's own steps after the
fit (pure, as ``jobs/customers.py`` sequences them): the registry object pickled, the
customer frame at ``as_of``, the recency rule, the fallback chain answering from the saved
version, the publishable frame, the contract rows and the 64 KiB parts. Peak RSS is the
process's high-water mark, simulation included, so it over- rather than under-states the
scoring's footprint.
"""

from __future__ import annotations

import argparse
import pickle
import resource
import time

import pandas as pd

from rms_ml_push.delivery.payloads import split_rows
from rms_ml_push.models.customers import (
    CustomerModelConfig,
    CustomerScores,
    build_customer_rows,
    score_customers,
)
from rms_ml_push.models.customers.chain import (
    assemble,
    default_rung,
    model_predict,
    rule_rung,
    usable,
)
from rms_ml_push.models.customers.frames import base_frame
from rms_ml_push.models.customers.model import CustomerAnalyticsModel
from rms_ml_push.models.customers.output import rows_by_restaurant
from rms_ml_push.models.customers.rules import fit_recency_rule
from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions
from rms_ml_push.models.fallback import Rung, run_chain

START = pd.Timestamp("2023-01-01", tz="UTC")
GIB = 1024**3


def peak_rss_bytes() -> int:
    """High-water resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Loaded:
    """What the registry hands a model rung after verifying and unpickling."""

    def __init__(self, model: object) -> None:
        self.model = model


def job_steps(tx: pd.DataFrame, scores: CustomerScores, as_of: pd.Timestamp) -> None:
    """Time the job's steps after ``score_customers`` (no RMS, no store: pure parts)."""
    config = CustomerModelConfig()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    blob = pickle.dumps(CustomerAnalyticsModel.from_scores(scores, config))
    loaded = _Loaded(pickle.loads(blob))
    timings["model pickle round trip"] = time.perf_counter() - started
    started = time.perf_counter()
    base = base_frame(tx, as_of, config)
    timings["base_frame"] = time.perf_counter() - started
    started = time.perf_counter()
    rule = fit_recency_rule(tx, as_of, config)
    timings["fit_recency_rule"] = time.perf_counter() - started
    started = time.perf_counter()
    rungs = [
        Rung("model", lambda keys: model_predict(base)(loaded, keys), "1.0.0"),
        rule_rung(base, rule, config),
        default_rung(base, config),
    ]
    result = run_chain([int(k) for k in base.index], rungs, usable=usable)
    frame = assemble(base, result, as_of)
    timings["fallback chain + assemble"] = time.perf_counter() - started
    started = time.perf_counter()
    rows = rows_by_restaurant(frame)
    parts = 0
    for key, restaurant_rows in rows.items():
        data = {"restaurant_id": key, "generated_at": "2026-01-01T00:00:00.000Z"}
        parts += len(
            split_rows(
                "customer.scores.updated",
                data,
                "customers",
                restaurant_rows,
                now=as_of.to_pydatetime(),
                max_body_bytes=64 * 1024,
            )
        )
    timings["rows + 64 KiB parts"] = time.perf_counter() - started
    for step, seconds in timings.items():
        print(f"job step {step}: {seconds:.1f} s")
    print(f"model file {len(blob) / 1024:.0f} KiB; {parts} parts; sources {result.counts}")


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
    job_steps(tx, scores, as_of)
    print(f"peak RSS: {peak_rss_bytes() / GIB:.2f} GiB (limit 2 GiB)")
    return 0 if peak_rss_bytes() < 2 * GIB else 1


if __name__ == "__main__":
    raise SystemExit(main())
