"""Fast compute steps for service tests, handed to ``build_deps(compute=...)``.

They stand in for a job's model fitting only: they really read the RMS (a ping through
the read-only engine, so an unreachable RMS fails the run as a real job would), really
save through the registry when asked, and return real events; ``run_job``, the worker
pool, the store, the outbox and the dispatcher around them are the production code.
Module-level functions so that the spawned worker can unpickle them. Knobs are plain
environment variables of the test (``SVC_TEST_*``), never settings.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rms_ml_push.clock import SystemClock, utc_iso
from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import build_event
from rms_ml_push.errors import RmsUnavailableError
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.rms.engine import create_rms_engine, ping
from rms_ml_push.store.engine import Store
from rms_ml_push.store.registry import ModelRegistry

EVENT_TYPE = "demand.forecast.updated"


def _ping_rms(settings: Settings) -> None:
    if settings.rms_url is None:
        raise RmsUnavailableError("RMS_ML_RMS_URL is not set")
    engine = create_rms_engine(settings.rms_url.get_secret_value(), settings.rms)
    try:
        ping(engine)
    finally:
        engine.dispose()


def predict(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """Ping the RMS, optionally hold (``SVC_TEST_HOLD_S``), emit ``SVC_TEST_EVENTS`` events.

    With ``SVC_TEST_PID_DIR`` set, first writes ``<dir>/<run_id>`` with the worker's pid.
    """
    pid_dir = os.environ.get("SVC_TEST_PID_DIR")
    if pid_dir:
        Path(pid_dir, run_id).write_text(str(os.getpid()))
    _ping_rms(settings)
    hold_s = float(os.environ.get("SVC_TEST_HOLD_S", "0"))
    if hold_s:
        time.sleep(hold_s)
    now = SystemClock().now()
    events = [
        build_event(
            EVENT_TYPE,
            {
                "restaurant_id": i + 1,
                "as_of": utc_iso(request.as_of),
                "generated_at": utc_iso(now),
                "run_id": run_id,
                "rows": [],
            },
            now=now,
            max_body_bytes=settings.delivery.max_body_bytes,
        )
        for i in range(int(os.environ.get("SVC_TEST_EVENTS", "3")))
    ]
    return JobResult(
        events=events,
        summary={"restaurants": len(events)},
        fallback_counts={"model": 5, "rule_based": 2},
    )


def train_and_predict(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """Save a model version through the registry (the gate decides), then :func:`predict`."""
    from tests.integration.registry_support import trained  # noqa: PLC0415

    _ping_rms(settings)
    store = Store.from_url(settings.store_url.get_secret_value())
    try:
        registry = ModelRegistry(store, settings.model_dir, settings.models, SystemClock())
        saved = registry.save(trained(1.0, wape=0.2, baseline=0.3))
    finally:
        store.dispose()
    result = predict(settings, request, run_id)
    result.model_name = saved.name
    result.model_version = str(saved.version)
    return result


def burn(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """Burn one CPU for ``SVC_TEST_BURN_S`` seconds like a training run, then :func:`predict`."""
    end = time.monotonic() + float(os.environ.get("SVC_TEST_BURN_S", "60"))
    n = 0
    while time.monotonic() < end:
        n += sum(i * i for i in range(1000))
    return predict(settings, request, run_id)
