"""Demo data and helpers for the kitchen job's tests (real SQLite RMS, real store)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jsonschema import Draft202012Validator

from rms_ml_push.demo.generator import DemoSummary, generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import messages

SCHEMAS = Path(__file__).resolve().parents[2] / "webhooks" / "schemas"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KITCHEN_DIRTY = {
    "kitchen_missing_started": "kitchen_not_started",
    "kitchen_missing_completed": "kitchen_not_completed",
    "kitchen_completed_before_started": "kitchen_completed_before_started",
    "kitchen_hours_long": "kitchen_duration_too_long",
}


def demo_end() -> date:
    """A last demo day safely in the past, so the quality rules' wall clock never cuts it."""
    return datetime.now(UTC).date() - timedelta(days=3)


def as_of_after(end: date) -> datetime:
    """An as_of whose local day 0 is after every demo ticket, in every demo zone
    (New York serves until 02:30 the next morning), and not on a whole hour."""
    return datetime(end.year, end.month, end.day, 12, 17, tzinfo=UTC) + timedelta(days=2)


def make_demo(path: Path) -> DemoSummary:
    """Two restaurants x 60 days of demo data in a SQLite file."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        return generate_demo(engine, DemoConfig(end=demo_end(), restaurants=2, days=60, seed=1))
    finally:
        engine.dispose()


def zones(path: Path) -> dict[int, str]:
    """Restaurant id -> IANA zone, read from the demo RMS."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, timezone FROM restaurants")).all()
    finally:
        engine.dispose()
    return {int(r[0]): str(r[1]) for r in rows}


def endpoint_env() -> str:
    """RMS_ML_ENDPOINTS: one loopback endpoint taking every prediction event."""
    endpoint = {
        "name": "rms",
        "url": "http://127.0.0.1:9/hook",
        "secrets": [SECRET],
        "allow_insecure_http": True,
    }
    return json.dumps([endpoint])


def bodies(store: Store, event_type: str) -> list[dict[str, Any]]:
    """Every enqueued body of ``event_type``, parsed, in part order."""
    query = (
        sa.select(messages.c.body)
        .where(messages.c.type == event_type)
        .order_by(messages.c.supersede_key, messages.c.part_index)
    )
    with store.read() as conn:
        return [json.loads(bytes(row[0])) for row in conn.execute(query)]


def validator(event_type: str) -> Draft202012Validator:
    """The JSON Schema validator of an event type's full body."""
    schema = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def per_restaurant(found: list[dict[str, Any]]) -> dict[int, dict[str, list[Any]]]:
    """Kitchen bodies merged per restaurant: each list concatenated over the parts."""
    merged: dict[int, dict[str, list[Any]]] = {}
    for body in found:
        data = body["data"]
        into = merged.setdefault(data["restaurant_id"], {"prep_times": [], "station_load": []})
        into["prep_times"] += data["prep_times"]
        into["station_load"] += data["station_load"]
        into.setdefault("data", []).append(data)
    return merged
