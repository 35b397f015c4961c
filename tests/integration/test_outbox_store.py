"""The outbox in the store, on SQLite and PostgreSQL: enqueue, supersede, operator queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rms_ml_push.clock import FixedClock
from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import Event, build_event, split_rows, supersede_key
from rms_ml_push.errors import PayloadTooLargeError, UnknownEndpointError
from rms_ml_push.store import leasing, outbox
from rms_ml_push.store.engine import Store
from rms_ml_push.store.messages import (
    MessageFilter,
    count_outstanding,
    list_messages,
    outbox_stats,
    prune,
    repush,
    select_ids,
    show_message,
)
from rms_ml_push.store.schema import messages
from tests.integration.delivery_kit import endpoint, make_settings, open_store, statuses

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
TYPE = "demand.forecast.updated"


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """A migrated store on each back end."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    s = open_store(url)
    yield s
    s.dispose()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    """Three endpoints: everything, demand only, operational only."""
    return make_settings(
        sqlite_url,
        [
            endpoint("all", "http://127.0.0.1:9/"),
            endpoint("demand", "http://127.0.0.1:9/", event_types=["demand.*"]),
            endpoint("ops", "http://127.0.0.1:9/", event_types=["message.dead"]),
        ],
    )


def _forecast(generated_at: datetime, rows: int = 3, limit: int = 65536) -> list[Event]:
    data = {
        "restaurant_id": 12,
        "granularity": "day",
        "generated_at": generated_at.isoformat().replace("+00:00", "Z"),
    }
    key = supersede_key(TYPE, 12, "day")
    series = [{"target": "orders", "menu_item_id": i, "points": [1.0] * 20} for i in range(rows)]
    return split_rows(
        TYPE, data, "series", series, now=generated_at, max_body_bytes=limit, supersede=key
    )


def _enqueue(store: Store, settings: Settings, events: list[Event], **kw: object) -> list[str]:
    with store.write() as conn:
        return outbox.enqueue(conn, events, settings.endpoints, now=NOW, max_body_bytes=65536, **kw)  # type: ignore[arg-type]


def test_one_message_per_matching_endpoint(store: Store, settings: Settings) -> None:
    """A demand event goes to 'all' and 'demand', never to the operational-only endpoint."""
    ids = _enqueue(store, settings, _forecast(NOW))
    with store.read() as conn:
        rows = conn.execute(sa.select(messages.c.id, messages.c.endpoint, messages.c.body)).all()
    assert sorted(r.endpoint for r in rows) == ["all", "demand"]
    assert {r.id for r in rows} == set(ids)
    assert all(r.id.startswith("msg_") and "." not in r.id for r in rows)
    assert len({bytes(r.body) for r in rows}) == 1  # the same exact bytes for every endpoint


def test_only_endpoint_ignores_filter(store: Store, settings: Settings) -> None:
    """webhook.test to a named endpoint is queued for it alone; an unknown name is refused."""
    event = build_event("webhook.test", {"hello": 1}, now=NOW, max_body_bytes=1024)
    assert len(_enqueue(store, settings, [event], only_endpoint="ops")) == 1
    with pytest.raises(UnknownEndpointError):
        _enqueue(store, settings, [event], only_endpoint="nope")


def test_too_large_refused_before_any_write(store: Store, settings: Settings) -> None:
    """A body over the limit aborts the enqueue: nothing of the batch is written."""
    small = build_event("model.trained", {"a": 1}, now=NOW, max_body_bytes=65536)
    big = build_event("model.trained", {"a": "x" * 70000}, now=NOW, max_body_bytes=10**6)
    with pytest.raises(PayloadTooLargeError):
        _enqueue(store, settings, [small, big])
    assert statuses(store) == {}


def test_newer_set_supersedes_older_pending_only(store: Store, settings: Settings) -> None:
    """A newer set supersedes older pending messages of its key; parts of a set do not."""
    old = _enqueue(store, settings, _forecast(NOW, rows=40, limit=2048))
    assert len(old) > 2  # several parts per endpoint
    assert set(statuses(store).values()) == {"pending"}
    with store.write() as conn:  # one old message is in flight: it must not be touched
        (in_flight,) = leasing.claim(conn, owner="w", now=NOW, lease_s=60, limit=1, endpoint="all")
    new = _enqueue(store, settings, _forecast(NOW + timedelta(hours=1), rows=40, limit=2048))
    found = statuses(store)
    assert all(found[i] == "pending" for i in new)
    assert found[in_flight.id] == "in_flight"
    assert {found[i] for i in old if i != in_flight.id} == {"superseded"}
    # An older set arriving late supersedes nothing newer.
    late = _enqueue(store, settings, _forecast(NOW - timedelta(hours=1)))
    assert all(statuses(store)[i] == "pending" for i in new + late)


def test_repushed_message_is_not_superseded(store: Store, settings: Settings) -> None:
    """A manual re-push stays queued even when a newer set arrives."""
    (first, _) = _enqueue(store, settings, _forecast(NOW))
    with store.write() as conn:
        conn.execute(sa.update(messages).where(messages.c.id == first).values(status="dead"))
        assert repush(conn, [first, "msg_missing"], now=NOW) == {
            first: "queued",
            "msg_missing": "not found",
        }
    _enqueue(store, settings, _forecast(NOW + timedelta(hours=1)))
    assert statuses(store)[first] == "pending"


def test_list_show_select_and_stats(store: Store, settings: Settings) -> None:
    """list/show/select filter as asked; stats count every status and the oldest pending."""
    ids = _enqueue(store, settings, _forecast(NOW))
    with store.write() as conn:
        conn.execute(sa.update(messages).where(messages.c.id == ids[0]).values(status="dead"))
    with store.read() as conn:
        listed = list_messages(conn, MessageFilter(endpoint="demand"))
        dead = select_ids(conn, MessageFilter(status="dead", since=NOW - timedelta(1)))
        shown = show_message(conn, ids[0])
        stats = outbox_stats(conn)
        outstanding = count_outstanding(conn, ["all", "demand"])
    assert [r["endpoint"] for r in listed] == ["demand"]
    assert set(listed[0]) == {
        "id",
        "type",
        "endpoint",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "last_error",
    }
    assert dead == [ids[0]]
    assert shown is not None
    assert shown["status"] == "dead"
    assert shown["attempt_log"] == []
    assert stats.by_status == {
        "pending": 1,
        "in_flight": 0,
        "delivered": 0,
        "dead": 1,
        "superseded": 0,
    }
    assert stats.oldest_pending_at == NOW
    assert stats.oldest_pending_age_s(NOW + timedelta(seconds=90)) == 90.0
    assert outstanding == (1, 0)


def test_prune_deletes_old_delivered_and_attempts(store: Store, settings: Settings) -> None:
    """Delivered messages older than retention go, with their attempts; others stay."""
    ids = _enqueue(store, settings, _forecast(NOW))
    clock = FixedClock(NOW)
    with store.write() as conn:
        claimed = leasing.claim(conn, owner="w", now=NOW, lease_s=60, limit=10)
        for msg in claimed:
            leasing.finish(conn, msg.id, owner="w", status="delivered", now=clock.now())
        leasing.record_attempts(
            conn,
            [
                {
                    "message_id": ids[0],
                    "number": 1,
                    "trigger": "automatic",
                    "started_at": NOW,
                    "duration_ms": 1.0,
                    "status_code": 200,
                }
            ],
        )
    with store.write() as conn:
        assert prune(conn, delivered_before=NOW - timedelta(days=1)) == (0, 0)
        assert prune(conn, delivered_before=NOW + timedelta(seconds=1)) == (2, 1)
    assert statuses(store) == {}
