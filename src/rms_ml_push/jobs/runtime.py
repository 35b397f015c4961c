"""Run one job for one slot, the same way from the CLI and from the service.

    start run record (slot) -> compute (here, or in a worker process) -> one transaction:
    outbox rows + prediction sets + finished run record

A job's ``compute`` reads the RMS, fits, saves through the registry and predicts; it
returns plain data (:class:`JobResult`) and never calls HTTP (design.md, "Data flow").
Everything the run produced is written in one transaction, so a crash leaves either the
whole run or none of it.

Where this runs: ``jobs run`` calls :func:`run_job` in the foreground; the service calls
it inside a training worker process (``service/`` launches, records interrupts). The
worker, not the parent, writes the run's transaction: results never cross the process
boundary, and the crash semantics are the same (a dead worker's heartbeat goes stale,
its slot is taken over).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from rms_ml_push.clock import Clock, SystemClock
from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import Event
from rms_ml_push.errors import JobError, RmsMlPushError, SlotDoneError, SlotTakenError
from rms_ml_push.logs import bind_context, clear_context, get_logger
from rms_ml_push.store.engine import Store
from rms_ml_push.store.outbox import enqueue
from rms_ml_push.store.runs import JobRuns, RunOutcome, RunRecord, RunSlot
from rms_ml_push.store.schema import prediction_sets

Trigger = Literal["manual", "schedule", "catchup"]
HEARTBEAT_EVERY_S = 30.0
# A running row whose heartbeat is older than this belongs to a dead worker: four missed
# beats, so a killed leader's slot is taken over within minutes, not the store's default.
STALE_AFTER_S = 4 * HEARTBEAT_EVERY_S


@dataclass(frozen=True)
class JobRequest:
    """What to run: a job at an instant, optionally for some restaurants only."""

    job: str
    as_of: datetime
    full: bool = False
    restaurants: tuple[int, ...] | None = None
    trigger: Trigger = "manual"

    @property
    def scope(self) -> str:
        """The slot's restaurant filter: ``all`` or ``r:1,7``."""
        if not self.restaurants:
            return "all"
        return "r:" + ",".join(str(r) for r in sorted(set(self.restaurants)))


@dataclass(frozen=True)
class PredictionSet:
    """A job's output kept in the store for other jobs of the same ``as_of``."""

    kind: str
    restaurant_id: int | None
    payload: Mapping[str, Any]


@dataclass
class JobResult:
    """Everything a compute step hands back: plain, picklable data."""

    events: list[Event] = field(default_factory=list)
    quality: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    model_name: str | None = None
    model_version: str | None = None
    fallback_counts: dict[str, int] = field(default_factory=dict)
    prediction_sets: list[PredictionSet] = field(default_factory=list)


@dataclass(frozen=True)
class RunReport:
    """What ``run_job`` tells its caller."""

    run_id: str | None
    status: Literal["succeeded", "failed", "skipped"]
    messages: int = 0
    detail: str | None = None
    summary: Mapping[str, Any] = field(default_factory=dict)


ComputeFn = Callable[[Settings, JobRequest, str], JobResult]


class _Heartbeat:
    """Renews a run's heartbeat from a thread while its compute step runs."""

    def __init__(self, runs: JobRuns, run_id: str, every_s: float) -> None:
        self._runs, self._run_id, self._every_s = runs, run_id, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="run-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        log = get_logger(__name__)
        while not self._stop.wait(self._every_s):
            try:
                self._runs.heartbeat(self._run_id)
            except RmsMlPushError as exc:
                log.warning("heartbeat_failed", run_id=self._run_id, error=str(exc))


@dataclass
class _Run:
    """One started run and what it needs to finish."""

    settings: Settings
    store: Store
    runs: JobRuns
    clock: Clock
    record: RunRecord
    request: JobRequest


def run_job(
    settings: Settings,
    store: Store,
    request: JobRequest,
    *,
    compute: ComputeFn | None = None,
    clock: Clock | None = None,
    instance: str | None = None,
    run_id: str | None = None,
    force: bool = False,
) -> RunReport:
    """Run ``request`` once for its slot; a failed compute is recorded and reported, not raised.

    ``compute`` defaults to the catalogue's job of that name; ``force`` re-runs a slot
    that already succeeded.
    """
    clock = clock or SystemClock()
    runs = JobRuns(store, clock, instance=instance, stale_after_s=STALE_AFTER_S)
    log = get_logger(__name__)
    slot = RunSlot(request.job, request.as_of, request.scope)
    try:
        record = runs.start(
            slot, full=request.full, trigger=request.trigger, force=force, run_id=run_id
        )
    except SlotDoneError:
        log.info("job_slot_done", job=request.job, as_of=request.as_of.isoformat())
        return RunReport(None, "skipped", detail="this slot already has a successful run")
    except SlotTakenError as exc:
        log.info("job_slot_taken", job=request.job, as_of=request.as_of.isoformat())
        return RunReport(None, "skipped", detail=str(exc))
    tokens = bind_context(job=request.job, run_id=record.id)
    try:
        return _execute(_Run(settings, store, runs, clock, record, request), compute)
    finally:
        clear_context(tokens)


def _execute(run: _Run, compute: ComputeFn | None) -> RunReport:
    log = get_logger(__name__)
    request, record = run.request, run.record
    started = time.monotonic()
    log.info(
        "job_run_started",
        as_of=request.as_of.isoformat(),
        full=request.full,
        trigger=request.trigger,
        scope=request.scope,
    )
    try:
        with _Heartbeat(run.runs, record.id, HEARTBEAT_EVERY_S):
            fn = compute if compute is not None else _catalogue_compute(request.job)
            result = fn(run.settings, request, record.id)
    except Exception as exc:  # any failure of the compute step is the run's failure
        reason = f"{type(exc).__name__}: {exc}"
        run.runs.finish_now(record.id, RunOutcome(status="failed", error=reason[:2000]))
        log.error(
            "job_run_failed",
            error=reason,
            duration_s=round(time.monotonic() - started, 3),
            exc_info=not isinstance(exc, RmsMlPushError),
        )
        return RunReport(record.id, "failed", detail=reason)
    try:
        message_ids = _commit(run, result)
    except JobError as exc:
        log.error("job_run_failed", error=str(exc), stage="commit")
        return RunReport(record.id, "failed", detail=str(exc))
    duration = round(time.monotonic() - started, 3)
    log.info(
        "job_run_finished",
        status="succeeded",
        duration_s=duration,
        messages=len(message_ids),
        model_version=result.model_version,
        quality=result.quality,
        fallback=result.fallback_counts,
    )
    return RunReport(record.id, "succeeded", len(message_ids), summary=result.summary)


def _catalogue_compute(job: str) -> ComputeFn:
    from rms_ml_push.jobs.catalogue import compute_fn  # noqa: PLC0415 - jobs load lazily

    return compute_fn(job)


def _commit(run: _Run, result: JobResult) -> list[str]:
    now = run.clock.now()
    settings, record = run.settings, run.record
    try:
        with run.store.write() as conn:
            ids = enqueue(
                conn,
                result.events,
                settings.endpoints,
                now=now,
                max_body_bytes=settings.delivery.max_body_bytes,
                run_id=record.id,
            )
            _insert_prediction_sets(conn, record, result.prediction_sets, now)
            run.runs.finish(
                conn,
                record.id,
                RunOutcome(
                    status="succeeded",
                    quality=result.quality,
                    metrics=result.metrics,
                    model_name=result.model_name,
                    model_version=result.model_version,
                    messages_enqueued=len(ids),
                    summary={**result.summary, "fallback": result.fallback_counts},
                ),
            )
    except SlotTakenError as exc:
        raise JobError(f"run {record.id} lost its slot; its results were discarded") from exc
    except RmsMlPushError as exc:
        run.runs.finish_now(record.id, RunOutcome(status="failed", error=str(exc)[:2000]))
        raise JobError(f"run {record.id} could not be committed: {exc}") from exc
    return ids


def _insert_prediction_sets(
    conn: sa.Connection, record: RunRecord, sets: Sequence[PredictionSet], now: datetime
) -> None:
    if not sets:
        return
    conn.execute(
        sa.insert(prediction_sets),
        [
            {
                "run_id": record.id,
                "kind": s.kind,
                "restaurant_id": s.restaurant_id,
                "as_of": record.as_of,
                "generated_at": now,
                "payload": dict(s.payload),
            }
            for s in sets
        ],
    )


def latest_prediction_set(
    store: Store, kind: str, restaurant_id: int | None, as_of: datetime
) -> Mapping[str, Any] | None:
    """The newest stored prediction set of ``kind`` for this restaurant and ``as_of``."""
    t = prediction_sets
    query = (
        sa.select(t.c.payload)
        .where(
            t.c.kind == kind,
            t.c.as_of == as_of,
            t.c.restaurant_id.is_(None)
            if restaurant_id is None
            else t.c.restaurant_id == restaurant_id,
        )
        .order_by(t.c.id.desc())
        .limit(1)
    )
    with store.read() as conn:
        row = conn.execute(query).first()
    return None if row is None else dict(row[0])
