"""Payloads: canonical bytes, size limit, splitting into parts, routing of event types."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.delivery.payloads import (
    build_event,
    canonical_json,
    split_rows,
    supersede_key,
)
from rms_ml_push.delivery.routing import matches
from rms_ml_push.errors import DeliveryError, PayloadTooLargeError

NOW = datetime(2026, 11, 28, 6, 0, 3, 120000, tzinfo=UTC)
DATA = {"restaurant_id": 12, "generated_at": "2026-11-28T06:00:01.004Z", "granularity": "day"}


def test_canonical_json_is_sorted_compact_utf8() -> None:
    """Keys sorted, no spaces, non-ASCII kept as UTF-8."""
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


def test_nan_refused() -> None:
    """NaN cannot reach a body."""
    with pytest.raises(DeliveryError):
        canonical_json({"yhat": float("nan")})


def test_envelope_fields() -> None:
    """The body is {type, timestamp, data} with a Z timestamp."""
    event = build_event("model.trained", {"name": "demand"}, now=NOW, max_body_bytes=1024)
    body = json.loads(event.body)
    assert body == {
        "type": "model.trained",
        "timestamp": "2026-11-28T06:00:03.120Z",
        "data": {"name": "demand"},
    }


def test_too_large_refused_with_clear_error() -> None:
    """A body above the limit raises PayloadTooLargeError naming the limit."""
    with pytest.raises(PayloadTooLargeError, match="1024-byte limit"):
        build_event("model.trained", {"x": "y" * 2000}, now=NOW, max_body_bytes=1024)


def _rows(n: int) -> list[dict[str, object]]:
    return [{"customer_id": i, "churn_probability": 0.25, "rfm_segment": "loyal"} for i in range(n)]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 400), limit=st.integers(1024, 8192))
def test_split_rows_parts_fit_and_keep_every_row(n: int, limit: int) -> None:
    """Every part fits, carries index/count and the same generated_at; no row lost."""
    key = supersede_key("customer.scores.updated", None, None)
    events = split_rows(
        "customer.scores.updated",
        DATA,
        "customers",
        _rows(n),
        now=NOW,
        max_body_bytes=limit,
        supersede=key,
    )
    bodies = [json.loads(e.body) for e in events]
    assert all(len(e.body) <= limit for e in events)
    assert [b["data"]["part"]["index"] for b in bodies] == list(range(1, len(events) + 1))
    assert {b["data"]["part"]["count"] for b in bodies} == {len(events)}
    assert {b["data"]["generated_at"] for b in bodies} == {DATA["generated_at"]}
    ids = [row["customer_id"] for b in bodies for row in b["data"]["customers"]]
    assert ids == list(range(n))
    assert {e.supersede_key for e in events} == {key}
    assert all(e.generated_at == datetime(2026, 11, 28, 6, 0, 1, 4000, tzinfo=UTC) for e in events)


def test_single_oversized_row_refused() -> None:
    """A row that alone exceeds the limit cannot be split: PayloadTooLargeError."""
    with pytest.raises(PayloadTooLargeError, match="alone does not fit"):
        split_rows("x.y", DATA, "rows", [{"blob": "z" * 5000}], now=NOW, max_body_bytes=2048)


def test_supersede_key_shape() -> None:
    """The key joins type, restaurant (null for chain-wide) and granularity."""
    assert supersede_key("demand.forecast.updated", 12, "hour") == "demand.forecast.updated|12|hour"
    assert supersede_key("customer.scores.updated", None, None) == "customer.scores.updated|null|-"


@pytest.mark.parametrize(
    ("patterns", "event_type", "expected"),
    [
        (["*"], "demand.forecast.updated", True),
        (["*"], "endpoint.disabled", False),
        (["*"], "message.dead", False),
        (["*.*"], "message.dead", False),
        (["message.*"], "message.dead", False),
        (["message.dead"], "message.dead", True),
        (["demand.*"], "kitchen.prep_time.updated", False),
        (["demand.*", "kitchen.*"], "kitchen.prep_time.updated", True),
        (["endpoint.disabled"], "demand.forecast.updated", False),
        ([], "demand.forecast.updated", False),
    ],
)
def test_routing_globs(patterns: list[str], event_type: str, expected: bool) -> None:
    """Globs select event types; operational types need their exact name."""
    assert matches(patterns, event_type) is expected
