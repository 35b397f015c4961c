"""Read-side queries over ``job_runs`` that the service needs, plus "mark interrupted".

These are what :class:`~rms_ml_push.service.protocols.ServiceDeps` asks for; when the run
records module (``store/runs.py``) offers the same, the composition root may use it
instead. Writes here are single guarded UPDATEs on ``running`` rows only, so they can
never overwrite a run that finished.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from rms_ml_push.clock import Clock
from rms_ml_push.service.protocols import JobRequest
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import job_runs


def last_successful_slot(store: Store, job: str, scope: str) -> datetime | None:
    """The newest ``as_of`` with a succeeded run of ``(job, scope)``."""
    stmt = sa.select(sa.func.max(job_runs.c.as_of)).where(
        job_runs.c.job == job, job_runs.c.scope == scope, job_runs.c.status == "succeeded"
    )
    with store.read() as conn:
        value = conn.execute(stmt).scalar_one_or_none()
    return value if isinstance(value, datetime) else None


def last_run(store: Store, job: str, scope: str) -> dict[str, Any] | None:
    """The most recently started run of ``(job, scope)`` as a plain dict, or None."""
    c = job_runs.c
    stmt = (
        sa.select(c.id, c.as_of, c.status, c.trigger, c.full, c.started_at, c.finished_at, c.error)
        .where(c.job == job, c.scope == scope)
        .order_by(c.started_at.desc())
        .limit(1)
    )
    with store.read() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    data = dict(row)
    finished = data["finished_at"]
    data["duration_s"] = (
        round((finished - data["started_at"]).total_seconds(), 3) if finished else None
    )
    data["run_id"] = data.pop("id")
    return data


def record_interrupted(store: Store, clock: Clock, req: JobRequest, reason: str) -> int:
    """Mark the running run of ``req`` interrupted (by run id, or by its slot); rows changed."""
    c = job_runs.c
    now = clock.now()
    stmt = (
        sa.update(job_runs)
        .where(
            c.status == "running",
            sa.or_(
                c.id == req.run_id,
                sa.and_(c.job == req.job, c.as_of == req.as_of, c.scope == req.scope),
            ),
        )
        .values(status="interrupted", finished_at=now, heartbeat_at=now, error=reason)
    )
    with store.write() as conn:
        return int(conn.execute(stmt).rowcount)
