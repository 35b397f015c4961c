"""Shared building blocks for delivery tests: settings, a migrated store, enqueueing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from rms_ml_push.config import Settings, load_settings
from rms_ml_push.delivery.payloads import build_event
from rms_ml_push.store import outbox
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import messages

# Deterministic test secrets (not secret: derived from a public string).
SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"rms-ml-push test 1").digest()).decode()
OLD_SECRET = "whsec_" + base64.b64encode(hashlib.sha256(b"rms-ml-push test 0").digest()).decode()


def endpoint(name: str, url: str, **extra: Any) -> dict[str, Any]:
    """An endpoint entry for settings (loopback http allowed)."""
    return {"name": name, "url": url, "secrets": [SECRET], "allow_insecure_http": True, **extra}


def make_settings(store_url: str, endpoints: Sequence[dict[str, Any]], **delivery: Any) -> Settings:
    """Settings with these endpoints and delivery overrides (fast polling by default)."""
    base = {"poll_interval_s": 0.02, "retry_jitter": 0.0, "workers": 4}
    return load_settings(
        store_url=store_url, endpoints=list(endpoints), delivery={**base, **delivery}
    )


def open_store(url: str) -> Store:
    """A migrated store."""
    store = Store.from_url(url)
    migrate(store)
    return store


def enqueue_many(
    store: Store,
    settings: Settings,
    n: int,
    *,
    now: datetime | None = None,
    event_type: str = "model.trained",
) -> list[str]:
    """Queue ``n`` small events of ``event_type``; returns message ids."""
    when = now or datetime.now(UTC)
    events = [
        build_event(event_type, {"name": "demand", "seq": i}, now=when, max_body_bytes=65536)
        for i in range(n)
    ]
    with store.write() as conn:
        return outbox.enqueue(conn, events, settings.endpoints, now=when, max_body_bytes=65536)


def statuses(store: Store) -> dict[str, str]:
    """Message id -> status."""
    with store.read() as conn:
        return {r.id: r.status for r in conn.execute(sa.select(messages.c.id, messages.c.status))}


def message_row(store: Store, msg_id: str) -> Any:
    """The raw messages row."""
    with store.read() as conn:
        return conn.execute(sa.select(messages).where(messages.c.id == msg_id)).one()
