"""The seams of ``rms-ml-push run``: what the other parts hand the service.

The composition root (:mod:`rms_ml_push.service.wiring`) builds a :class:`ServiceDeps`
from the store, the settings and the metrics; everything else in ``service/`` only sees
these types.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class JobRequest:
    """One job run asked of the worker pool: the slot, its options and its run id."""

    job: str
    as_of: datetime  # the slot's nominal time (never jittered)
    full: bool
    restaurants: tuple[int, ...]
    scope: str  # "all" or "r:3,7"; with job and as_of, the slot
    trigger: str  # schedule | catchup | manual
    run_id: str


class Dispatcher(Protocol):
    """The delivery dispatcher (runs on every instance)."""

    def start(self) -> None: ...

    def stop(self, timeout: float) -> None: ...


class JobRunner(Protocol):
    """Runs one job in a worker process; must be picklable (a module-level function).

    It extracts, fits and predicts, and records the run under ``run_id`` (or returns plain
    data for ``on_run_finished`` to record in the parent). Its return value, a plain
    mapping, is logged (counts) and handed to ``on_run_finished``.
    """

    def __call__(
        self,
        job: str,
        as_of: datetime,
        full: bool,
        restaurants: tuple[int, ...],
        trigger: str,
        *,
        run_id: str,
    ) -> Mapping[str, Any] | None: ...


# (job, scope) -> the as_of of the newest successful run of that slot scope, or None.
LastSuccessfulSlot = Callable[[str, str], datetime | None]
# Marks the run of this request interrupted (it may not have a row yet: then a no-op).
RecordInterrupted = Callable[[JobRequest, str], None]
# Parent-side completion: (request, result or None, error or None).
RunFinished = Callable[[JobRequest, Mapping[str, Any] | None, BaseException | None], None]
# A readiness probe: returns None when healthy, raises (any exception) when not.
Check = Callable[[], None]
# One /info section: plain JSON-able data.
InfoProvider = Callable[[], Any]


@dataclass(frozen=True)
class ServiceDeps:
    """Everything the service needs from the other parts; built by the composition root."""

    dispatcher: Dispatcher
    job_runner: JobRunner
    registered_jobs: Collection[str]
    last_successful_slot: LastSuccessfulSlot
    record_interrupted: RecordInterrupted
    # Called every lease-renew interval for each run still in the pool.
    heartbeat: Callable[[JobRequest], None] | None = None
    on_run_finished: RunFinished | None = None
    # Readiness of the RMS database (None: not configured -> /ready says so).
    rms_check: Check | None = None
    # Extra /info sections: "models", "outbox", "endpoints", "jobs" (merged over ours).
    info_providers: Mapping[str, InfoProvider] = field(default_factory=dict)
    # Refresh store-mirrored gauges (outbox depth, breaker states) before a scrape.
    metrics_refresh: Callable[[], None] | None = None
    # (job, scope) -> last run as a dict (status, started_at, finished_at, duration_s, error).
    last_run: Callable[[str, str], Mapping[str, Any] | None] | None = None
