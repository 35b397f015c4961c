"""Run-time endpoint state shared by every instance: disabled, paused, last outcomes.

Settings say which endpoints exist; this table says what happened to them at run time
(a 410 or an operator disabled one, an open breaker paused one until a time, the last
success and the last error), so that it survives restarts and every instance agrees.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from rms_ml_push.store.schema import endpoint_state as t


@dataclass(frozen=True)
class EndpointState:
    """One row of ``endpoint_state``."""

    name: str
    disabled: bool = False
    disabled_reason: str | None = None
    paused_until: datetime | None = None
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None

    def paused(self, now: datetime) -> bool:
        """True while an open breaker holds the endpoint."""
        return self.paused_until is not None and self.paused_until > now


def ensure(conn: Connection, names: Iterable[str], now: datetime) -> None:
    """Create missing rows; safe when two instances race (insert-or-ignore)."""
    rows = [{"name": n, "updated_at": now} for n in names]
    if not rows:
        return
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(t).values(rows).on_conflict_do_nothing(index_elements=["name"]))


def load(conn: Connection) -> dict[str, EndpointState]:
    """Every endpoint's state by name."""
    result = conn.execute(sa.select(t))
    return {
        row.name: EndpointState(
            name=row.name,
            disabled=bool(row.disabled),
            disabled_reason=row.disabled_reason,
            paused_until=row.paused_until,
            consecutive_failures=row.consecutive_failures,
            last_success_at=row.last_success_at,
            last_error=row.last_error,
            last_error_at=row.last_error_at,
        )
        for row in result
    }


def set_disabled(
    conn: Connection, name: str, *, disabled: bool, reason: str | None, now: datetime
) -> bool:
    """Disable or re-enable; returns True if the state changed (for the operational event)."""
    ensure(conn, [name], now)
    values: dict[str, object] = {"disabled": disabled, "updated_at": now}
    if disabled:
        values |= {"disabled_reason": reason, "disabled_at": now}
    else:
        values |= {"disabled_reason": None, "disabled_at": None, "paused_until": None}
        values |= {"consecutive_failures": 0}
    result = conn.execute(
        sa.update(t).where(t.c.name == name, t.c.disabled == (not disabled)).values(**values)
    )
    return result.rowcount > 0


def set_paused(conn: Connection, name: str, *, until: datetime | None, now: datetime) -> None:
    """Pause the endpoint until ``until`` (an open breaker), or un-pause with None."""
    ensure(conn, [name], now)
    conn.execute(sa.update(t).where(t.c.name == name).values(paused_until=until, updated_at=now))


def record_outcomes(
    conn: Connection,
    name: str,
    *,
    successes: int,
    failures_after_last_success: int,
    last_success_at: datetime | None,
    last_error: str | None,
    last_error_at: datetime | None,
    now: datetime,
) -> None:
    """Fold a batch of attempt outcomes into the row (one UPDATE per endpoint and batch).

    The row must exist (:func:`ensure`; the dispatcher ensures its endpoints at start).
    """
    values: dict[str, object] = {"updated_at": now}
    if successes:
        values |= {"last_success_at": last_success_at, "paused_until": None}
        values["consecutive_failures"] = failures_after_last_success
    else:
        values["consecutive_failures"] = t.c.consecutive_failures + failures_after_last_success
    if last_error is not None:
        values |= {"last_error": last_error[:500], "last_error_at": last_error_at}
    conn.execute(sa.update(t).where(t.c.name == name).values(**values))
