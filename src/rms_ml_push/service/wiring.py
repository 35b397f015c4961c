"""Composition root of ``rms-ml-push run``: the real parts that fill :class:`ServiceDeps`.

- dispatcher: :class:`~rms_ml_push.delivery.dispatcher.Dispatcher` on every instance; its
  loop also reaps expired message leases (so the service needs no second reaper), and
  each attempt it records is counted in the metrics through its ``on_attempt`` observer;
- job runner: :class:`~rms_ml_push.service.job_worker.WorkerJobRunner` (``run_job`` in
  the worker process, under the launcher's run id);
- run records: :class:`~rms_ml_push.store.runs.JobRuns` (heartbeat, interrupted, last
  run, last successful slot for catch-up);
- readiness: the store's ping and the RMS ping with a short timeout;
- /info and /metrics: :mod:`rms_ml_push.service.status`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rms_ml_push.clock import Clock
from rms_ml_push.config import Settings
from rms_ml_push.delivery.dispatcher import Dispatcher
from rms_ml_push.errors import SlotTakenError
from rms_ml_push.jobs.catalogue import job_names
from rms_ml_push.logs import get_logger
from rms_ml_push.metrics import Metrics
from rms_ml_push.service import status
from rms_ml_push.service.job_worker import WorkerJobRunner
from rms_ml_push.service.protocols import Check, JobRequest, ServiceDeps
from rms_ml_push.store.engine import Store
from rms_ml_push.store.runs import JobRuns

if TYPE_CHECKING:
    from rms_ml_push.jobs.runtime import ComputeFn

_log = get_logger("rms_ml_push.service")


def rms_check(settings: Settings) -> Check | None:
    """Ping the RMS through its read-only engine with a short timeout; None when no URL."""
    if settings.rms_url is None:
        return None
    url = settings.rms_url.get_secret_value()
    timeout_s = settings.service.ready_check_timeout_s
    rms = settings.rms.model_copy(
        update={
            "connect_timeout_s": min(settings.rms.connect_timeout_s, timeout_s),
            "statement_timeout_s": min(settings.rms.statement_timeout_s, timeout_s),
            "pool_size": 1,
        }
    )

    def check() -> None:
        from rms_ml_push.rms.engine import create_rms_engine, ping  # noqa: PLC0415

        engine = create_rms_engine(url, rms)
        try:
            ping(engine)
        finally:
            engine.dispose()

    return check


class RunHooks:
    """The run-record side of the service: heartbeat, interrupted, finished, history."""

    def __init__(
        self, runs: JobRuns, metrics: Metrics, dispatcher: Dispatcher, instance: str
    ) -> None:
        self._runs = runs
        self._metrics = metrics
        self._dispatcher = dispatcher
        self._instance = instance

    def heartbeat(self, req: JobRequest) -> None:
        """Beat for a run in the pool; a run not started yet (queued) has no row to beat."""
        # Queued, or finished a moment ago: the worker owns its own record.
        with contextlib.suppress(SlotTakenError):
            self._runs.heartbeat(req.run_id)

    def interrupted(self, req: JobRequest, reason: str) -> None:
        """Mark the run interrupted (the service terminated its worker)."""
        self._runs.mark_interrupted(req.run_id, reason)

    def finished(
        self, req: JobRequest, result: Mapping[str, Any] | None, error: BaseException | None
    ) -> None:
        """After a run: wake the dispatcher for its messages, count its fallback rungs."""
        if error is not None or result is None or result.get("status") != "succeeded":
            return
        if result.get("messages"):
            self._dispatcher.wake()
        record = self._runs.get(req.run_id)
        if record is not None:
            for rung, count in status.fallback_counts(record).items():
                self._metrics.fallback_used(req.job, rung, count)

    def last_successful_slot(self, job: str, scope: str) -> Any:
        """The as_of of the newest succeeded run of ``(job, scope)`` (catch-up)."""
        slot = self._runs.last_successful_slot(job, scope)
        return None if slot is None else slot.as_of

    def last_run(self, job: str, scope: str) -> dict[str, Any] | None:
        """The newest run of ``(job, scope)`` as shown by /info and ``jobs list``."""
        return status.run_view(self._runs.last_run(job, scope))


def build_deps(
    settings: Settings,
    store: Store,
    metrics: Metrics,
    clock: Clock,
    instance: str,
    *,
    compute: ComputeFn | None = None,
) -> ServiceDeps:
    """The service's parts; ``compute`` replaces every job's compute step (tests, demos)."""
    dispatcher = Dispatcher(
        store, settings, clock=clock, instance_id=instance, on_attempt=metrics.delivery_attempt
    )
    runs = JobRuns(store, clock, instance=instance)
    hooks = RunHooks(runs, metrics, dispatcher, instance)

    def refresh() -> None:
        status.refresh_gauges(metrics, store, settings, clock, dispatcher.breaker_state)

    return ServiceDeps(
        dispatcher=dispatcher,
        job_runner=WorkerJobRunner(settings, instance, compute),
        registered_jobs=job_names(),
        last_successful_slot=hooks.last_successful_slot,
        record_interrupted=hooks.interrupted,
        heartbeat=hooks.heartbeat,
        on_run_finished=hooks.finished,
        rms_check=rms_check(settings),
        info_providers={
            "models": lambda: status.models_section(store, settings, clock, runs),
            "outbox": lambda: status.outbox_section(store, clock),
            "endpoints": lambda: status.endpoints_section(store, settings, clock),
        },
        metrics_refresh=refresh,
        last_run=hooks.last_run,
    )
