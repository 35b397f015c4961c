"""Operational events (webhook-contract.md): ``endpoint.disabled`` and ``message.dead``.

Pure builders; the dispatcher enqueues them in the same transaction that records the
transition, to the endpoints whose ``event_types`` name them explicitly.
"""

from __future__ import annotations

from datetime import datetime

from rms_ml_push.clock import utc_iso
from rms_ml_push.delivery.payloads import Event, build_event

ENDPOINT_DISABLED = "endpoint.disabled"
MESSAGE_DEAD = "message.dead"
# Small bodies: a fixed generous limit rather than the configurable one.
_LIMIT = 16 * 1024


def endpoint_disabled(
    endpoint: str, *, reason: str, status_code: int | None, now: datetime
) -> Event:
    """An endpoint was disabled (410 Gone, or an operator)."""
    data = {
        "endpoint": endpoint,
        "reason": reason[:300],
        "status_code": status_code,
        "disabled_at": utc_iso(now),
    }
    return build_event(ENDPOINT_DISABLED, data, now=now, max_body_bytes=_LIMIT)


def message_dead(
    *,
    message_id: str,
    message_type: str,
    endpoint: str,
    attempts: int,
    last_error: str | None,
    now: datetime,
) -> Event:
    """A message exhausted its retries."""
    data = {
        "message_id": message_id,
        "message_type": message_type,
        "endpoint": endpoint,
        "attempts": attempts,
        "last_error": (last_error or "")[:300],
        "dead_at": utc_iso(now),
    }
    return build_event(MESSAGE_DEAD, data, now=now, max_body_bytes=_LIMIT)
