"""The outbox's dispatcher side: claim with a lease, then guarded transitions.

Every transition is one UPDATE guarded by the expected state and, for a leased
message, the lease owner (design.md, "Message life cycle"), so two workers can never
both move a message and a worker whose lease was reaped cannot overwrite the result
of the one that took over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.store.schema import attempts as a
from rms_ml_push.store.schema import messages as m

_CLAIMED_COLUMNS = (
    m.c.id,
    m.c.type,
    m.c.endpoint,
    m.c.body,
    m.c.attempts,
    m.c.failures,
    m.c.trigger,
)


@dataclass(frozen=True)
class Claimed:
    """A message this instance holds a lease on, as stored: the dispatcher validates it.

    Only plain columns are read here (no datetime decoding), so one corrupt row cannot
    make the whole claim fail; the dispatcher checks each value and parks a bad row.
    """

    id: str
    type: object
    endpoint: object
    body: object
    attempts: object
    failures: object
    trigger: object


def claim(
    conn: Connection,
    *,
    owner: str,
    now: datetime,
    lease_s: float,
    limit: int,
    endpoint: str | None = None,
    exclude_endpoints: Sequence[str] = (),
) -> list[Claimed]:
    """Lease up to ``limit`` due pending messages (of ``endpoint``, or of none excluded).

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets several dispatchers claim side by side.
    SQLite: the write transaction (``BEGIN IMMEDIATE``) already serialises claimers;
    the ``status = 'pending'`` guard on the UPDATE keeps it correct regardless.
    """
    if limit <= 0:
        return []
    due = sa.select(m.c.id).where(m.c.status == "pending", m.c.next_attempt_at <= now)
    if endpoint is not None:
        due = due.where(m.c.endpoint == endpoint)
    if exclude_endpoints:
        due = due.where(m.c.endpoint.not_in(list(exclude_endpoints)))
    due = due.order_by(m.c.next_attempt_at).limit(limit)
    if conn.dialect.name == "postgresql":
        # A materialised CTE runs the locking select exactly once; as an IN (subquery)
        # PostgreSQL may re-run it and lease more rows than the limit.
        cte = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        target = sa.and_(m.c.id.in_(sa.select(cte.c.id)), m.c.status == "pending")
    else:
        # SQLite holds the write lock from BEGIN IMMEDIATE to COMMIT, so the subquery's
        # status filter is the guard; repeating it outside makes SQLite's planner scan
        # the status index instead of looking the ids up (measured: 12+ ms per claim).
        target = m.c.id.in_(due.scalar_subquery())
    stmt = (
        sa.update(m)
        .where(target)
        .values(
            status="in_flight",
            lease_owner=owner,
            lease_expires_at=now + timedelta(seconds=lease_s),
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
    )
    return [Claimed(**row._mapping) for row in conn.execute(stmt)]


def _owned(message_id: str, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(m.c.id == message_id, m.c.status == "in_flight", m.c.lease_owner == owner)


def finish(
    conn: Connection,
    message_id: str,
    *,
    owner: str,
    status: str,
    now: datetime,
    next_attempt_at: datetime | None = None,
    failed: bool = False,
    last_error: str | None = None,
) -> bool:
    """Move an attempted message out of in_flight; False if the lease was lost."""
    values: dict[str, object] = {
        "status": status,
        "attempts": m.c.attempts + 1,
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": last_error,
        "updated_at": now,
    }
    if failed:
        values["failures"] = m.c.failures + 1
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    if status == "delivered":
        values["delivered_at"] = now
    result = conn.execute(sa.update(m).where(_owned(message_id, owner)).values(**values))
    return bool(result.rowcount)


def finish_delivered(
    conn: Connection, message_ids: Sequence[str], *, owner: str, now: datetime
) -> set[str]:
    """Mark many attempted messages delivered in one guarded UPDATE; returns those owned."""
    if not message_ids:
        return set()
    result = conn.execute(
        sa.update(m)
        .where(m.c.id.in_(list(message_ids)), m.c.status == "in_flight", m.c.lease_owner == owner)
        .values(
            status="delivered",
            attempts=m.c.attempts + 1,
            lease_owner=None,
            lease_expires_at=None,
            last_error=None,
            delivered_at=now,
            updated_at=now,
        )
        .returning(m.c.id)
    )
    return {str(row.id) for row in result}


def release(
    conn: Connection,
    message_ids: Sequence[str],
    *,
    owner: str,
    now: datetime,
    next_attempt_at: datetime | None = None,
) -> int:
    """Give leases back unattempted (breaker open, stopping); no attempt is spent."""
    if not message_ids:
        return 0
    values: dict[str, object] = {
        "status": "pending",
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = conn.execute(
        sa.update(m)
        .where(m.c.id.in_(list(message_ids)), m.c.status == "in_flight", m.c.lease_owner == owner)
        .values(**values)
    )
    return int(result.rowcount or 0)


def park(
    conn: Connection,
    message_id: str,
    *,
    owner: str,
    status: str,
    until: datetime,
    reason: str,
    now: datetime,
) -> bool:
    """Set a message that cannot be sent aside (unknown endpoint, corrupt row) with a reason."""
    result = conn.execute(
        sa.update(m)
        .where(_owned(message_id, owner))
        .values(
            status=status,
            next_attempt_at=until,
            last_error=reason[:500],
            lease_owner=None,
            lease_expires_at=None,
            updated_at=now,
        )
    )
    return bool(result.rowcount)


def reap(conn: Connection, *, now: datetime) -> int:
    """Return messages whose lease expired (their holder crashed) to pending."""
    result = conn.execute(
        sa.update(m)
        .where(m.c.status == "in_flight", m.c.lease_expires_at < now)
        .values(status="pending", lease_owner=None, lease_expires_at=None, updated_at=now)
    )
    return int(result.rowcount or 0)


def record_attempts(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    """Insert attempt rows (message_id, number, trigger, started_at, duration_ms, ...)."""
    if rows:
        conn.execute(sa.insert(a), list(rows))
