"""Job run records: one row per run of a slot ``(job, as_of, scope)`` (design.md, "Time").

A slot has at most one ``running`` or ``succeeded`` row, held by a partial unique index,
so two instances racing for a slot cannot both start it: the loser's INSERT fails (on
PostgreSQL after the winner commits; on SQLite ``BEGIN IMMEDIATE`` queues them) and it
gets :class:`~rms_ml_push.errors.SlotTakenError`. A running row whose heartbeat is older
than ``stale_after_s`` belongs to a dead process: it is marked ``abandoned`` and the slot
is taken over. :meth:`JobRuns.finish` takes the caller's connection, so that a run's
status and its outbox rows commit together or not at all.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.clock import Clock
from rms_ml_push.errors import SlotDoneError, SlotTakenError
from rms_ml_push.logs import get_logger
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import job_runs

FinalStatus = Literal["succeeded", "failed", "interrupted"]
DEFAULT_STALE_AFTER_S = 900.0
_LIVE = ("running", "succeeded")


@dataclass(frozen=True)
class RunSlot:
    """What a run is for: a job, the instant it stands at, and its restaurant filter."""

    job: str
    as_of: datetime
    scope: str = "all"


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended, written by :meth:`JobRuns.finish`."""

    status: FinalStatus
    quality: Mapping[str, Any] | None = None
    metrics: Mapping[str, Any] | None = None
    model_name: str | None = None
    model_version: str | None = None
    messages_enqueued: int = 0
    summary: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One row of ``job_runs``."""

    id: str
    job: str
    as_of: datetime
    scope: str
    full: bool
    trigger: str
    status: str
    instance: str | None
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    error: str | None
    quality: Mapping[str, Any] | None
    metrics: Mapping[str, Any] | None
    model_name: str | None
    model_version: str | None
    messages_enqueued: int
    summary: Mapping[str, Any] | None

    @property
    def slot(self) -> RunSlot:
        """The run's slot."""
        return RunSlot(self.job, self.as_of, self.scope)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-able view (datetimes stay datetimes for the CLI's printer)."""
        return dict(self.__dict__)


def _record(row: sa.Row[Any]) -> RunRecord:
    return RunRecord(**dict(row._mapping))


def _jsonable(value: Mapping[str, Any] | None) -> Any:
    # Reports carry numpy scalars and dates; the store wants plain JSON.
    return None if value is None else json.loads(json.dumps(value, default=str))


def new_run_id() -> str:
    """A fresh run id, ``run_`` and 24 hex digits."""
    return f"run_{secrets.token_hex(12)}"


class JobRuns:
    """Start, heartbeat, finish and list job runs in the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        instance: str | None = None,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        self._store = store
        self._clock = clock
        self._instance = instance
        self._stale_after = timedelta(seconds=stale_after_s)
        self._log = get_logger("rms_ml_push.store.runs")

    def start(
        self,
        slot: RunSlot,
        *,
        full: bool = False,
        trigger: str = "manual",
        force: bool = False,
        run_id: str | None = None,
    ) -> RunRecord:
        """Claim the slot with a new running row (``run_id`` when the launcher made one).

        SlotDoneError if it already succeeded (unless ``force``), SlotTakenError if a live
        run holds it; a stale running row is marked abandoned and taken over.
        """
        now = self._clock.now()
        run_id = run_id or new_run_id()
        try:
            with self._store.write() as conn:
                live = conn.execute(
                    sa.select(job_runs)
                    .where(
                        job_runs.c.job == slot.job,
                        job_runs.c.as_of == slot.as_of,
                        job_runs.c.scope == slot.scope,
                        job_runs.c.status.in_(_LIVE),
                    )
                    .with_for_update()
                ).all()
                for row in live:
                    self._clear(conn, _record(row), now, force=force, by=run_id)
                values: dict[str, Any] = {
                    "id": run_id,
                    "job": slot.job,
                    "as_of": slot.as_of,
                    "scope": slot.scope,
                    "full": full,
                    "trigger": trigger,
                    "status": "running",
                    "instance": self._instance,
                    "started_at": now,
                    "heartbeat_at": now,
                }
                conn.execute(job_runs.insert().values(**values))
        except sa.exc.IntegrityError:
            raise SlotTakenError(_slot_text(slot) + ": another instance started it") from None
        self._log.info("run_started", run_id=run_id, job=slot.job, as_of=slot.as_of.isoformat())
        return RunRecord(
            **values,
            finished_at=None,
            error=None,
            quality=None,
            metrics=None,
            model_name=None,
            model_version=None,
            messages_enqueued=0,
            summary=None,
        )

    def _clear(
        self, conn: Connection, row: RunRecord, now: datetime, *, force: bool, by: str
    ) -> None:
        if row.status == "succeeded":
            if not force:
                raise SlotDoneError(f"{_slot_text(row.slot)}: already succeeded (run {row.id})")
            why = f"replaced by forced re-run {by}"
        elif row.heartbeat_at < now - self._stale_after:
            why = (
                f"heartbeat older than {self._stale_after.total_seconds():.0f}s; taken over by {by}"
            )
        else:
            raise SlotTakenError(f"{_slot_text(row.slot)}: run {row.id} is running")
        moved = conn.execute(
            job_runs.update()
            .where(job_runs.c.id == row.id, job_runs.c.status == row.status)
            .values(status="abandoned", finished_at=now, error=why)
        ).rowcount
        if moved != 1:
            raise SlotTakenError(f"{_slot_text(row.slot)}: another instance took it over")
        self._log.warning("run_abandoned", run_id=row.id, job=row.job, reason=why)

    def heartbeat(self, run_id: str) -> None:
        """Prove the run is alive; SlotTakenError if it no longer owns its slot."""
        with self._store.write() as conn:
            moved = conn.execute(
                job_runs.update()
                .where(job_runs.c.id == run_id, job_runs.c.status == "running")
                .values(heartbeat_at=self._clock.now())
            ).rowcount
        if moved != 1:
            raise SlotTakenError(f"run {run_id} is no longer running (taken over or finished)")

    def finish(self, conn: Connection, run_id: str, outcome: RunOutcome) -> None:
        """Record how the run ended, in the caller's transaction (with its outbox rows).

        SlotTakenError if the run was taken over meanwhile: the caller's transaction must
        then roll back, so a run that lost its slot enqueues nothing.
        """
        moved = conn.execute(
            job_runs.update()
            .where(job_runs.c.id == run_id, job_runs.c.status == "running")
            .values(
                status=outcome.status,
                finished_at=self._clock.now(),
                error=outcome.error,
                quality=_jsonable(outcome.quality),
                metrics=_jsonable(outcome.metrics),
                model_name=outcome.model_name,
                model_version=outcome.model_version,
                messages_enqueued=outcome.messages_enqueued,
                summary=_jsonable(outcome.summary),
            )
        ).rowcount
        if moved != 1:
            raise SlotTakenError(f"run {run_id} is no longer running; its results are discarded")

    def finish_now(self, run_id: str, outcome: RunOutcome) -> None:
        """:meth:`finish` in a transaction of its own (a failed run with nothing to enqueue)."""
        with self._store.write() as conn:
            self.finish(conn, run_id, outcome)

    def get(self, run_id: str) -> RunRecord | None:
        """One run by id."""
        with self._store.read() as conn:
            row = conn.execute(sa.select(job_runs).where(job_runs.c.id == run_id)).first()
        return None if row is None else _record(row)

    def list_runs(self, job: str | None = None, *, limit: int = 50) -> list[RunRecord]:
        """The newest runs first, optionally of one job."""
        query = sa.select(job_runs).order_by(job_runs.c.started_at.desc(), job_runs.c.id)
        if job is not None:
            query = query.where(job_runs.c.job == job)
        with self._store.read() as conn:
            return [_record(row) for row in conn.execute(query.limit(limit))]

    def last_run(self, job: str, scope: str | None = None) -> RunRecord | None:
        """The job's most recently started run (of one slot scope, when given)."""
        if scope is None:
            runs = self.list_runs(job, limit=1)
            return runs[0] if runs else None
        query = (
            sa.select(job_runs)
            .where(job_runs.c.job == job, job_runs.c.scope == scope)
            .order_by(job_runs.c.started_at.desc(), job_runs.c.id)
            .limit(1)
        )
        with self._store.read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _record(row)

    def mark_interrupted(self, run_id: str, reason: str) -> int:
        """Mark the running run ``run_id`` interrupted (its process was stopped).

        A guarded UPDATE on ``running`` rows only, so a finished run is never overwritten;
        returns the rows changed (0 when the worker had not started the run yet). Only by
        id: the same slot may meanwhile be running elsewhere, under another leader.
        """
        now = self._clock.now()
        stmt = (
            job_runs.update()
            .where(job_runs.c.id == run_id, job_runs.c.status == "running")
            .values(status="interrupted", finished_at=now, heartbeat_at=now, error=reason[:2000])
        )
        with self._store.write() as conn:
            return int(conn.execute(stmt).rowcount or 0)

    def last_successful_slot(self, job: str, scope: str = "all") -> RunSlot | None:
        """The newest slot (by as_of) with a succeeded run, for catch-up."""
        query = (
            sa.select(job_runs.c.as_of)
            .where(
                job_runs.c.job == job,
                job_runs.c.scope == scope,
                job_runs.c.status == "succeeded",
            )
            .order_by(job_runs.c.as_of.desc())
            .limit(1)
        )
        with self._store.read() as conn:
            as_of = conn.execute(query).scalar_one_or_none()
        return None if as_of is None else RunSlot(job, as_of, scope)


def _slot_text(slot: RunSlot) -> str:
    return f"{slot.job} as_of={slot.as_of.isoformat()} scope={slot.scope}"
