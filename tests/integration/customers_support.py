"""A small demo RMS for the customers job (2 restaurants x 200 days) with hand-placed
customers, the PII it holds, and checks of what the job enqueued."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from jsonschema import Draft202012Validator

from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import messages

END = date(2026, 6, 30)
AS_OF = datetime(2026, 7, 1, 6, tzinfo=UTC)
SCHEMAS = Path(__file__).resolve().parents[2] / "webhooks" / "schemas"

# Hand-placed customers: (profile id, home restaurant, [(restaurant, day, status, amount)])
SINGLE_ORDER = 900_001  # one completed order: scored
REFUND_ONLY = 900_002  # only a refunded order: not a customer with an order
CHAIN_WIDE = 900_003  # home NULL, orders at both restaurants: in the null set
PROFILE_ONLY = 900_004  # never ordered: not scored
WITH_REFUND = 900_005  # one completed and one refunded order: scored on the completed one
PLACED: tuple[tuple[int, int | None, list[tuple[int, str, str, float]]], ...] = (
    (SINGLE_ORDER, 1, [(1, "2026-03-02T12:00:00+00:00", "completed", 42.0)]),
    (REFUND_ONLY, 2, [(2, "2026-04-01T19:00:00+00:00", "refunded", 61.0)]),
    (
        CHAIN_WIDE,
        None,
        [
            (1, "2026-02-10T12:30:00+00:00", "completed", 25.0),
            (2, "2026-05-20T23:10:00+00:00", "completed", 31.0),
        ],
    ),
    (PROFILE_ONLY, 1, []),
    (
        WITH_REFUND,
        2,
        [
            (2, "2026-05-01T18:00:00+00:00", "completed", 30.0),
            (2, "2026-05-08T18:00:00+00:00", "refunded", 500.0),
        ],
    ),
)


@dataclass(frozen=True)
class DemoRms:
    """Where the demo lives and what it must never leak."""

    path: Path
    pii: frozenset[str]

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the demo database."""
        return f"sqlite:///{self.path}"


def _place_customers(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        next_id = conn.execute("SELECT max(id) FROM orders").fetchone()[0] + 1
        for customer, home, orders in PLACED:
            conn.execute(
                "INSERT INTO customer_profiles (id, restaurant_id, created_at, loyalty_tier,"
                " loyalty_points, first_name, last_name, email, phone, birth_date)"
                " VALUES (?, ?, '2026-01-01T00:00:00+00:00', 'gold', 10, 'Zebulon',"
                " 'Quartermaine', ?, '+44 7700 900123', '1977-07-07')",
                (customer, home, f"zebulon{customer}@example.org"),
            )
            for restaurant, ts, status, amount in orders:
                conn.execute(
                    "INSERT INTO orders (id, restaurant_id, customer_id, created_at, closed_at,"
                    " status, channel, guest_count, total_amount)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'dine_in', 2, ?)",
                    (next_id, restaurant, customer, ts, ts, status, amount),
                )
                next_id += 1


def _pii(path: Path) -> frozenset[str]:
    values: set[str] = set()
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT first_name, last_name, email, phone, birth_date FROM customer_profiles"
        ).fetchall()
    for first, last, email, phone, birth in rows:
        values.update(v for v in (email, phone, birth) if v)
        values.update((first, last))
    return frozenset(values)


def build_demo(folder: Path) -> DemoRms:
    """Generate the demo into ``folder`` and add the hand-placed customers."""
    path = folder / "rms.sqlite3"
    engine = demo_engine(f"sqlite:///{path}")
    try:
        generate_demo(engine, DemoConfig(end=END, restaurants=2, days=200, seed=1))
    finally:
        engine.dispose()
    _place_customers(path)
    return DemoRms(path, _pii(path))


@cache
def validator(event_type: str) -> Draft202012Validator:
    """The JSON Schema validator of one event type."""
    schema = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def outbox_bodies(store_url: str) -> list[dict[str, Any]]:
    """Every enqueued body, after checking each against its type's JSON Schema."""
    store = Store.from_url(store_url)
    try:
        with store.read() as conn:
            rows = conn.execute(sa.select(messages.c.type, messages.c.body)).all()
    finally:
        store.dispose()
    bodies = []
    for event_type, body in rows:
        parsed = json.loads(bytes(body))
        validator(event_type).validate(parsed)
        bodies.append(parsed)
    return bodies


# What a name, an e-mail, a phone number or a birth date looks like inside any text.
_TOKENS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*|\+\d+(?: \d+)*|\d{4}-\d{2}-\d{2}|[A-Za-z]+")


def leaked(text: str, pii: frozenset[str]) -> list[str]:
    """PII values (names, e-mails, phones, birth dates) found as tokens of ``text``.

    Token matching instead of a substring scan per value: 40,000 values over megabytes
    of bodies and logs would take most of the test's time.
    """
    return sorted(set(_TOKENS.findall(text)) & pii)


def customer_sets(bodies: list[dict[str, Any]]) -> dict[int | None, list[dict[str, Any]]]:
    """Customer rows per restaurant id over all parts of ``customer.scores.updated``."""
    sets: dict[int | None, list[dict[str, Any]]] = {}
    for body in bodies:
        if body["type"] == "customer.scores.updated":
            data = body["data"]
            sets.setdefault(data["restaurant_id"], []).extend(data["customers"])
    return sets
