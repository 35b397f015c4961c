"""Prometheus metrics of one process, in its own registry (never the global default).

Build one :class:`Metrics` in the composition root and hand it to the parts that count:
the job launcher (runs, durations), the dispatcher (deliveries, latency, breakers) and
the jobs' result handling (fallback rungs). Gauges that mirror the store (outbox depth)
are refreshed just before each scrape by a callable the composition root injects.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
BREAKER_STATES = {"closed": 0, "half-open": 1, "open": 2}
_RUN_BUCKETS_S = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
_DELIVERY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)


class Metrics:
    """The service's metrics; every method is thread-safe (prometheus-client locks)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.job_runs = Counter(
            "rmsml_job_runs", "Job runs finished, by job and status", ["job", "status"], registry=r
        )
        self.job_run_duration = Histogram(
            "rmsml_job_run_duration_seconds",
            "Wall time of job runs",
            ["job"],
            buckets=_RUN_BUCKETS_S,
            registry=r,
        )
        self.deliveries = Counter(
            "rmsml_deliveries",
            "Delivery attempts, by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "rmsml_delivery_latency_seconds",
            "Duration of one webhook POST",
            ["endpoint"],
            buckets=_DELIVERY_BUCKETS_S,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "rmsml_outbox_messages", "Messages in the outbox, by status", ["status"], registry=r
        )
        self.outbox_oldest_pending_age = Gauge(
            "rmsml_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending message",
            registry=r,
        )
        self.breaker_state = Gauge(
            "rmsml_breaker_state",
            "Circuit breaker per endpoint: 0 closed, 1 half-open, 2 open",
            ["endpoint"],
            registry=r,
        )
        self.fallback_rungs = Counter(
            "rmsml_fallback_rung_results",
            "Prediction results by family and fallback rung used",
            ["family", "rung"],
            registry=r,
        )
        self.leader = Gauge(
            "rmsml_leader", "1 while this instance holds the leader lease", registry=r
        )
        self.lease_epoch = Gauge(
            "rmsml_leader_epoch", "Epoch of the leader lease we hold", registry=r
        )

    def job_run_finished(self, job: str, status: str, duration_s: float) -> None:
        """Count one finished run (succeeded, failed, interrupted, skipped)."""
        self.job_runs.labels(job=job, status=status).inc()
        self.job_run_duration.labels(job=job).observe(duration_s)

    def delivery_attempt(self, endpoint: str, outcome: str, duration_s: float) -> None:
        """Count one delivery attempt (delivered, retry, dead, error...) and its latency."""
        self.deliveries.labels(endpoint=endpoint, outcome=outcome).inc()
        self.delivery_latency.labels(endpoint=endpoint).observe(duration_s)

    def set_breaker(self, endpoint: str, state: str) -> None:
        """Record an endpoint's breaker state: closed, half-open or open."""
        self.breaker_state.labels(endpoint=endpoint).set(BREAKER_STATES[state])

    def set_outbox(self, counts: dict[str, int], oldest_pending_age_s: float | None) -> None:
        """Mirror the outbox counts by status (called before a scrape)."""
        for status, count in counts.items():
            self.outbox_depth.labels(status=status).set(count)
        self.outbox_oldest_pending_age.set(oldest_pending_age_s or 0.0)

    def fallback_used(self, family: str, rung: str, count: int = 1) -> None:
        """Count prediction results served by a fallback rung (latest, previous, rule, default)."""
        self.fallback_rungs.labels(family=family, rung=rung).inc(count)

    def set_leader(self, leader: bool, epoch: int | None) -> None:
        """Mirror the leader role."""
        self.leader.set(1 if leader else 0)
        self.lease_epoch.set(epoch or 0)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        data: bytes = generate_latest(self.registry)
        return data
