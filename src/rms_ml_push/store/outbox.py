"""The outbox's write side for producers: enqueue events inside the caller's transaction.

Jobs call :func:`enqueue` with the connection of the transaction that also writes their
run record (design.md, "Data flow"), so a run's predictions are either all queued with
it or not at all. One message per matching endpoint; a newer set supersedes older
pending messages of the same supersede key (webhook-contract.md, "Superseding").
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.delivery.payloads import Event
from rms_ml_push.delivery.routing import matches
from rms_ml_push.errors import PayloadTooLargeError, UnknownEndpointError
from rms_ml_push.store.schema import messages as m


class EndpointLike(Protocol):
    """What routing needs from an endpoint (EndpointSettings satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> list[str]: ...


def new_message_id() -> str:
    """``msg_`` + 26 characters of [A-Za-z0-9_] (about 150 random bits)."""
    token = secrets.token_urlsafe(20).replace("-", "_")
    return f"msg_{token}"


def _targets(
    event: Event, endpoints: Sequence[EndpointLike], only: str | None
) -> list[EndpointLike]:
    if only is None:
        return [e for e in endpoints if matches(e.event_types, event.type)]
    named = [e for e in endpoints if e.name == only]
    if not named:
        raise UnknownEndpointError(f"no endpoint named {only!r} in settings")
    return named


def supersede_older(
    conn: Connection, *, key: str, endpoint: str, generated_at: datetime, now: datetime
) -> int:
    """Mark pending automatic messages of ``key`` with an older generated_at superseded."""
    result = conn.execute(
        sa.update(m)
        .where(
            m.c.supersede_key == key,
            m.c.endpoint == endpoint,
            m.c.status == "pending",
            m.c.trigger == "automatic",
            m.c.generated_at < generated_at,
        )
        .values(status="superseded", updated_at=now)
    )
    return int(result.rowcount or 0)


def enqueue(
    conn: Connection,
    events: Sequence[Event],
    endpoints: Sequence[EndpointLike],
    *,
    now: datetime,
    max_body_bytes: int,
    run_id: str | None = None,
    only_endpoint: str | None = None,
) -> list[str]:
    """Queue ``events`` for every endpoint whose filter matches; returns the message ids.

    Runs in the caller's transaction. ``only_endpoint`` sends to that endpoint whatever
    its filter (``webhook.test``). PayloadTooLargeError before anything is written if a
    body exceeds ``max_body_bytes``.
    """
    for event in events:
        if len(event.body) > max_body_bytes:
            raise PayloadTooLargeError(
                f"{event.type} body is {len(event.body)} bytes, above {max_body_bytes}"
            )
    rows: list[dict[str, object]] = []
    done: set[tuple[str, str, datetime]] = set()
    for event in events:
        for endpoint in _targets(event, endpoints, only_endpoint):
            if event.supersede_key and event.generated_at is not None:
                mark = (event.supersede_key, endpoint.name, event.generated_at)
                if mark not in done:
                    done.add(mark)
                    supersede_older(
                        conn,
                        key=event.supersede_key,
                        endpoint=endpoint.name,
                        generated_at=event.generated_at,
                        now=now,
                    )
            rows.append(_row(event, endpoint.name, now, run_id))
    if rows:
        conn.execute(sa.insert(m), rows)
    return [str(r["id"]) for r in rows]


def _row(event: Event, endpoint: str, now: datetime, run_id: str | None) -> dict[str, object]:
    return {
        "id": new_message_id(),
        "type": event.type,
        "endpoint": endpoint,
        "body": event.body,
        "created_at": now,
        "status": "pending",
        "attempts": 0,
        "failures": 0,
        "trigger": "automatic",
        "next_attempt_at": now,
        "updated_at": now,
        "supersede_key": event.supersede_key,
        "generated_at": event.generated_at,
        "part_index": event.part_index,
        "part_count": event.part_count,
        "run_id": run_id,
    }
