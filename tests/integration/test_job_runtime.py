"""The job runtime: slot claim, compute, one transaction for outbox rows and the run record."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rms_ml_push.clock import FixedClock, utc_iso
from rms_ml_push.config import Settings, load_settings
from rms_ml_push.delivery.payloads import split_rows
from rms_ml_push.jobs.runtime import (
    JobRequest,
    JobResult,
    PredictionSet,
    latest_prediction_set,
    run_job,
)
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import job_runs, messages

AS_OF = datetime(2026, 11, 28, 6, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with one loopback endpoint that takes every prediction event."""
    endpoint = {
        "name": "rms",
        "url": "http://127.0.0.1:9/hook",
        "secrets": [SECRET],
        "allow_insecure_http": True,
    }
    monkeypatch.setenv("RMS_ML_ENDPOINTS", json.dumps([endpoint]))
    monkeypatch.setenv("RMS_ML_DELIVERY__MAX_BODY_BYTES", "2048")
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Store:
    """A migrated SQLite store."""
    st = Store.from_url(settings.store_url.get_secret_value())
    migrate(st)
    return st


def _compute_rows(n_rows: int) -> JobResult:
    now = AS_OF
    data = {"restaurant_id": 1, "generated_at": utc_iso(now), "as_of": utc_iso(AS_OF)}
    rows = [{"customer_id": i, "score": i / 1000} for i in range(n_rows)]
    events = split_rows(
        "customer.scores.updated",
        data,
        "customers",
        rows,
        now=now,
        max_body_bytes=2048,
        supersede="customer.scores.updated|1|-",
    )
    return JobResult(
        events=events,
        quality={"order_cancelled": 3},
        summary={"rows": n_rows},
        model_name="customer_analytics",
        model_version="1.0.0",
        prediction_sets=[PredictionSet("test.kind", 1, {"rows": n_rows})],
    )


def test_run_commits_outbox_and_record_together(settings: Settings, store: Store) -> None:
    """A successful run enqueues every part for the endpoint and records the count."""
    report = run_job(
        settings,
        store,
        JobRequest("customers", AS_OF),
        compute=lambda _s, _r, _id: _compute_rows(200),
        clock=FixedClock(AS_OF),
    )
    assert report.status == "succeeded"
    with store.read() as conn:
        msgs = conn.execute(sa.select(messages.c.run_id, messages.c.part_count)).all()
        run = conn.execute(sa.select(job_runs).where(job_runs.c.id == report.run_id)).one()
    assert len(msgs) > 1  # 200 rows do not fit one 2 KiB body: split into parts
    assert {m.run_id for m in msgs} == {report.run_id}
    assert {m.part_count for m in msgs} == {len(msgs)}
    assert run.status == "succeeded"
    assert run.messages_enqueued == len(msgs) == report.messages
    assert run.quality == {"order_cancelled": 3}
    assert latest_prediction_set(store, "test.kind", 1, AS_OF) == {"rows": 200}
    assert latest_prediction_set(store, "test.kind", 2, AS_OF) is None


def test_same_slot_twice_is_skipped(settings: Settings, store: Store) -> None:
    """A slot that succeeded is not run again (unless forced)."""
    calls: list[str] = []

    def compute(_s: Settings, _r: JobRequest, run_id: str) -> JobResult:
        calls.append(run_id)
        return _compute_rows(1)

    request = JobRequest("customers", AS_OF)
    assert run_job(settings, store, request, compute=compute).status == "succeeded"
    assert run_job(settings, store, request, compute=compute).status == "skipped"
    assert run_job(settings, store, request, compute=compute, force=True).status == "succeeded"
    assert len(calls) == 2


def test_failed_compute_is_recorded_and_enqueues_nothing(settings: Settings, store: Store) -> None:
    """A compute that raises leaves a failed run with the reason, no messages, and a free slot."""

    def boom(_s: Settings, _r: JobRequest, _id: str) -> JobResult:
        raise RuntimeError("RMS went away")

    request = JobRequest("customers", AS_OF, restaurants=(3, 1))
    report = run_job(settings, store, request, compute=boom)
    assert report.status == "failed"
    assert "RMS went away" in (report.detail or "")
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 0
        run = conn.execute(sa.select(job_runs)).one()
    assert (run.status, run.scope) == ("failed", "r:1,3")
    assert "RMS went away" in run.error
    again = run_job(settings, store, request, compute=lambda *_: _compute_rows(1))
    assert again.status == "succeeded"


def test_oversized_event_fails_the_run_without_partial_writes(
    settings: Settings, store: Store
) -> None:
    """An event above the size limit fails the commit; nothing of the run is written."""
    big = _compute_rows(1)
    big.events[0] = dataclasses.replace(big.events[0], body=b"x" * 4096)
    report = run_job(settings, store, JobRequest("customers", AS_OF), compute=lambda *_: big)
    assert report.status == "failed"
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(messages)).scalar() == 0
        assert conn.execute(sa.select(job_runs.c.status)).scalar() == "failed"
    assert latest_prediction_set(store, "test.kind", 1, AS_OF) is None
