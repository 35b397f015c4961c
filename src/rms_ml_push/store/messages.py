"""The outbox's read side and operator actions: list, show, re-push, prune, statistics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.store.schema import MESSAGE_STATUSES
from rms_ml_push.store.schema import attempts as a
from rms_ml_push.store.schema import messages as m

# Re-pushing a message that is still queued would only reset its schedule.
REPUSHABLE = ("delivered", "dead", "superseded")


@dataclass(frozen=True)
class MessageFilter:
    """Selection for ``messages list`` and ``repush --status``."""

    status: str | None = None
    type: str | None = None
    endpoint: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100


def _summary_columns() -> list[sa.ColumnElement[Any]]:
    return [
        m.c.id,
        m.c.type,
        m.c.endpoint,
        m.c.status,
        m.c.attempts,
        m.c.created_at,
        m.c.next_attempt_at,
        m.c.last_error,
    ]


def _filtered(query: sa.Select[Any], f: MessageFilter) -> sa.Select[Any]:
    if f.status:
        query = query.where(m.c.status == f.status)
    if f.type:
        query = query.where(m.c.type == f.type)
    if f.endpoint:
        query = query.where(m.c.endpoint == f.endpoint)
    if f.since:
        query = query.where(m.c.created_at >= f.since)
    if f.until:
        query = query.where(m.c.created_at < f.until)
    return query.order_by(m.c.created_at.desc(), m.c.id).limit(f.limit)


def list_messages(conn: Connection, f: MessageFilter) -> list[dict[str, Any]]:
    """``{id, type, endpoint, status, attempts, created_at, next_attempt_at, last_error}``."""
    rows = conn.execute(_filtered(sa.select(*_summary_columns()), f))
    return [dict(r._mapping) for r in rows]


def show_message(conn: Connection, message_id: str) -> dict[str, Any] | None:
    """One message's summary plus its delivery facts and attempts, or None."""
    extra = [
        m.c.delivered_at,
        m.c.failures,
        m.c.trigger,
        m.c.supersede_key,
        m.c.generated_at,
        m.c.part_index,
        m.c.part_count,
        m.c.run_id,
        sa.func.length(m.c.body).label("size"),
    ]
    row = conn.execute(sa.select(*_summary_columns(), *extra).where(m.c.id == message_id)).first()
    if row is None:
        return None
    result = dict(row._mapping)
    tries = conn.execute(
        sa.select(
            a.c.number,
            a.c.trigger,
            a.c.started_at,
            a.c.duration_ms,
            a.c.status_code,
            a.c.error,
            a.c.response_excerpt,
            a.c.instance,
        )
        .where(a.c.message_id == message_id)
        .order_by(a.c.number, a.c.id)
    )
    result["attempt_log"] = [dict(t._mapping) for t in tries]
    return result


def select_ids(conn: Connection, f: MessageFilter) -> list[str]:
    """Ids matching ``f`` (for a bounded bulk re-push)."""
    return [str(r.id) for r in conn.execute(_filtered(sa.select(m.c.id, m.c.created_at), f))]


def repush(conn: Connection, message_ids: Sequence[str], *, now: datetime) -> dict[str, str]:
    """Re-queue messages with their own id; ``{id: outcome}`` (queued / not found / ...)."""
    outcomes: dict[str, str] = {}
    for message_id in message_ids:
        result = conn.execute(
            sa.update(m)
            .where(m.c.id == message_id, m.c.status.in_(REPUSHABLE))
            .values(
                status="pending", next_attempt_at=now, failures=0, trigger="manual", updated_at=now
            )
        )
        if result.rowcount:
            outcomes[message_id] = "queued"
            continue
        status = conn.execute(sa.select(m.c.status).where(m.c.id == message_id)).scalar()
        outcomes[message_id] = "not found" if status is None else f"skipped ({status})"
    return outcomes


def prune(conn: Connection, *, delivered_before: datetime) -> tuple[int, int]:
    """Delete delivered messages (and their attempts) delivered before the cut-off."""
    old = sa.select(m.c.id).where(m.c.status == "delivered", m.c.delivered_at < delivered_before)
    attempts_deleted = conn.execute(sa.delete(a).where(a.c.message_id.in_(old))).rowcount
    messages_deleted = conn.execute(
        sa.delete(m).where(m.c.status == "delivered", m.c.delivered_at < delivered_before)
    ).rowcount
    return int(messages_deleted or 0), int(attempts_deleted or 0)


@dataclass(frozen=True)
class OutboxStats:
    """For ``/info`` and ``/metrics``: counts by status and the oldest pending message."""

    by_status: dict[str, int]
    oldest_pending_at: datetime | None

    def oldest_pending_age_s(self, now: datetime) -> float | None:
        """Seconds the oldest pending message has waited, or None."""
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (now - self.oldest_pending_at).total_seconds())


def outbox_stats(conn: Connection) -> OutboxStats:
    """Message counts per status (every status present, zero if none) and oldest pending."""
    counts = dict.fromkeys(MESSAGE_STATUSES, 0)
    for status, count in conn.execute(sa.select(m.c.status, sa.func.count()).group_by(m.c.status)):
        counts[str(status)] = int(count)
    oldest = conn.execute(
        sa.select(sa.func.min(m.c.created_at)).where(m.c.status.in_(["pending", "in_flight"]))
    ).scalar()
    # SQLite's MIN() loses the column type and hands back text.
    return OutboxStats(counts, _as_utc(oldest))


def count_outstanding(conn: Connection, endpoints: Sequence[str]) -> tuple[int, int]:
    """(pending, in_flight) messages of these endpoints: what ``--until-empty`` waits for."""
    if not endpoints:
        return 0, 0
    rows = conn.execute(
        sa.select(m.c.status, sa.func.count())
        .where(m.c.endpoint.in_(list(endpoints)), m.c.status.in_(["pending", "in_flight"]))
        .group_by(m.c.status)
    )
    counts = {str(s): int(c) for s, c in rows}
    return counts.get("pending", 0), counts.get("in_flight", 0)


def _as_utc(value: object) -> datetime | None:
    if value is None:
        return None
    ts = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(ts, datetime):
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
