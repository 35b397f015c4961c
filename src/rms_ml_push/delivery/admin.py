"""Operator actions on endpoints and messages, shared by the CLI and the service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rms_ml_push import __version__
from rms_ml_push.clock import utc_iso
from rms_ml_push.config import Settings, mask_url
from rms_ml_push.delivery import operational
from rms_ml_push.delivery.payloads import Event, build_event
from rms_ml_push.delivery.routing import TEST_EVENT_TYPE
from rms_ml_push.errors import UnknownEndpointError
from rms_ml_push.store import endpoint_state, outbox
from rms_ml_push.store.engine import Store


def _require(settings: Settings, name: str) -> None:
    if name not in {e.name for e in settings.endpoints}:
        known = ", ".join(e.name for e in settings.endpoints) or "none configured"
        raise UnknownEndpointError(f"no endpoint named {name!r} (known: {known})")


def endpoint_rows(store: Store, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    """``{name, url, enabled, breaker, last_success_at, last_error}`` per endpoint; no secret."""
    with store.read() as conn:
        states = endpoint_state.load(conn)
    rows = []
    for ep in settings.endpoints:
        state = states.get(ep.name) or endpoint_state.EndpointState(ep.name)
        rows.append(
            {
                "name": ep.name,
                "url": mask_url(ep.url),
                "enabled": ep.enabled and not state.disabled,
                "disabled_reason": state.disabled_reason
                if state.disabled
                else (None if ep.enabled else "disabled in settings"),
                "breaker": "open" if state.paused(now) else "closed",
                "paused_until": state.paused_until if state.paused(now) else None,
                "consecutive_failures": state.consecutive_failures,
                "last_success_at": state.last_success_at,
                "last_error": state.last_error,
                "last_error_at": state.last_error_at,
                "event_types": list(ep.event_types),
            }
        )
    return rows


def set_enabled(
    store: Store, settings: Settings, name: str, *, enabled: bool, now: datetime
) -> bool:
    """Enable or disable an endpoint at run time; True if its state changed.

    Disabling sends ``endpoint.disabled`` to the endpoints that name it, like a 410 does.
    """
    _require(settings, name)
    with store.write() as conn:
        reason = None if enabled else "disabled by an operator"
        changed = endpoint_state.set_disabled(
            conn, name, disabled=not enabled, reason=reason, now=now
        )
        if changed and not enabled:
            event = operational.endpoint_disabled(
                name, reason="disabled by an operator", status_code=None, now=now
            )
            outbox.enqueue(
                conn, [event], settings.endpoints, now=now, max_body_bytes=len(event.body)
            )
    return changed


def ping_event(name: str, *, now: datetime, max_body_bytes: int) -> Event:
    """The ``webhook.test`` event for endpoint ``name``."""
    data = {
        "endpoint": name,
        "message": "Test delivery from rms-ml-push: verify its signature with your secret.",
        "sent_at": utc_iso(now),
        "sender_version": __version__,
    }
    return build_event(TEST_EVENT_TYPE, data, now=now, max_body_bytes=max_body_bytes)


def ping(store: Store, settings: Settings, name: str, *, now: datetime) -> str:
    """Queue a signed ``webhook.test`` message for endpoint ``name`` only; returns its id."""
    _require(settings, name)
    event = ping_event(name, now=now, max_body_bytes=settings.delivery.max_body_bytes)
    with store.write() as conn:
        ids = outbox.enqueue(
            conn,
            [event],
            settings.endpoints,
            now=now,
            max_body_bytes=settings.delivery.max_body_bytes,
            only_endpoint=name,
        )
    return ids[0]
