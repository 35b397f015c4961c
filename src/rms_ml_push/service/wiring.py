"""Composition root of ``rms-ml-push run``: which real parts fill :class:`ServiceDeps`.

This is the one place the lead edits to plug in the delivery dispatcher, the job runner,
the run records and the /info providers. Until a part exists, its seat holds a clearly
named placeholder (``IdleDispatcher``, ``unwired_job_runner``) that says so in the logs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rms_ml_push.clock import Clock
from rms_ml_push.config import Settings
from rms_ml_push.errors import JobError
from rms_ml_push.jobs.schedule import JOB_NAMES
from rms_ml_push.logs import get_logger
from rms_ml_push.metrics import Metrics
from rms_ml_push.service import run_queries
from rms_ml_push.service.protocols import Check, JobRequest, ServiceDeps
from rms_ml_push.store.engine import Store

_log = get_logger("rms_ml_push.service")


class IdleDispatcher:
    """Placeholder until the delivery dispatcher is wired: starts, stops, sends nothing."""

    def __init__(self) -> None:
        self.running = False

    def start(self) -> None:
        """Mark running (and say that nothing is delivered)."""
        _log.warning("dispatcher_not_wired", hint="deliveries are not sent by this build")
        self.running = True

    def stop(self, timeout: float) -> None:
        """Mark stopped."""
        self.running = False


def unwired_job_runner(
    job: str,
    as_of: datetime,
    full: bool,
    restaurants: tuple[int, ...],
    trigger: str,
    *,
    run_id: str,
) -> Mapping[str, Any] | None:
    """Placeholder job runner (in the worker process): fails the run, naming the gap."""
    raise JobError(f"job {job!r} has no runner wired into this build")


def rms_check(settings: Settings) -> Check | None:
    """``SELECT 1`` on the RMS with a short connect timeout; None when no URL is set."""
    if settings.rms_url is None:
        return None
    url = settings.rms_url.get_secret_value()
    timeout_s = settings.service.ready_check_timeout_s

    def check() -> None:
        import sqlalchemy as sa  # noqa: PLC0415 - only when the RMS is configured

        args: dict[str, Any] = (
            {"timeout": timeout_s}
            if url.startswith("sqlite")
            else {"connect_timeout": max(1, math.ceil(timeout_s))}
        )
        engine = sa.create_engine(url, connect_args=args, poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        finally:
            engine.dispose()

    return check


def build_deps(settings: Settings, store: Store, metrics: Metrics, clock: Clock) -> ServiceDeps:
    """The service's parts for this build."""

    def interrupted(req: JobRequest, reason: str) -> None:
        run_queries.record_interrupted(store, clock, req, reason)

    return ServiceDeps(
        dispatcher=IdleDispatcher(),
        job_runner=unwired_job_runner,
        registered_jobs=JOB_NAMES,
        last_successful_slot=lambda job, scope: run_queries.last_successful_slot(store, job, scope),
        record_interrupted=interrupted,
        last_run=lambda job, scope: run_queries.last_run(store, job, scope),
        rms_check=rms_check(settings),
    )
