"""Each fault of the delivery issue against a real loopback HTTP server and a real store."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from rms_ml_push.clock import FixedClock
from rms_ml_push.config import Settings
from rms_ml_push.delivery import admin
from rms_ml_push.delivery.dispatcher import Dispatcher
from rms_ml_push.delivery.receiver import Receiver
from rms_ml_push.store import endpoint_state
from rms_ml_push.store.engine import Store
from rms_ml_push.store.messages import show_message
from rms_ml_push.store.schema import messages
from tests.integration.delivery_kit import (
    SECRET,
    endpoint,
    enqueue_many,
    make_settings,
    message_row,
    open_store,
    statuses,
)
from tests.integration.webhook_servers import (
    Answer,
    ScriptedServer,
    free_port,
    sequence,
    wait_until,
)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A migrated SQLite store."""
    s = open_store(sqlite_url)
    yield s
    s.dispose()


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock near the real time (standardwebhooks checks timestamps)."""
    return FixedClock(datetime.now(UTC).replace(microsecond=0))


def _server(request: pytest.FixtureRequest, *answers: Answer) -> ScriptedServer:
    server = ScriptedServer(sequence(*answers))
    request.addfinalizer(server.close)
    return server


def _dispatcher(store: Store, settings: Settings, clock: FixedClock | None = None) -> Dispatcher:
    return Dispatcher(store, settings, clock=clock)


def test_503_503_200_delivers_on_third_attempt_same_id(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """503, 503, 200: delivered on the third attempt, same webhook-id, each signed validly."""
    server = _server(request, Answer(503), Answer(503), Answer(200))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url)], retry_schedule_s=[1, 2])
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        assert d.run_once() == 1
        clock.advance(59)
        assert d.run_once() == 0  # 503 without Retry-After waits max(schedule, 60 s)
        clock.advance(1)
        assert d.run_once() == 1
        clock.advance(60)
        assert d.run_once() == 1
    finally:
        d.close()
    assert server.ids() == [msg_id] * 3
    timestamps = [s.headers["webhook-timestamp"] for s in server.seen]
    assert len(set(timestamps)) == 3  # re-signed on every attempt
    for seen in server.seen:
        assert Webhook(SECRET).verify(seen.body, seen.headers)["type"] == "model.trained"
    row = message_row(store, msg_id)
    assert (row.status, row.attempts, row.failures) == ("delivered", 3, 2)
    with store.read() as conn:
        shown = show_message(conn, msg_id)
    assert shown is not None
    assert [a["status_code"] for a in shown["attempt_log"]] == [503, 503, 200]


def test_429_retry_after_waits(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """429 with Retry-After: 2: the next attempt is not made before 2 s."""
    server = _server(request, Answer(429, {"Retry-After": "2"}), Answer(200))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url)], retry_schedule_s=[0.5])
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
        assert message_row(store, msg_id).next_attempt_at == clock.now() + timedelta(seconds=2)
        clock.advance(1.9)
        assert d.run_once() == 0
        clock.advance(0.1)
        assert d.run_once() == 1
    finally:
        d.close()
    assert statuses(store)[msg_id] == "delivered"
    assert len(server.seen) == 2


def test_410_disables_endpoint_and_keeps_messages(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """410: the endpoint is disabled, its messages stay pending, ops endpoint is told."""
    gone = _server(request, Answer(410), Answer(200))
    ops = _server(request, Answer(200))
    settings = make_settings(
        sqlite_url,
        [
            endpoint("rms", gone.url, max_in_flight=1),
            endpoint("ops", ops.url, event_types=["endpoint.disabled", "message.dead"]),
        ],
    )
    ids = enqueue_many(store, settings, 3, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
        d.run_once()  # sends the endpoint.disabled event to ops
        assert len(gone.seen) == 1  # nothing more is sent to a disabled endpoint
        assert all(statuses(store)[i] == "pending" for i in ids)
        with store.read() as conn:
            assert endpoint_state.load(conn)["rms"].disabled
        assert d.drain(max_seconds=5)  # nothing outstanding for an enabled endpoint
        assert [Webhook(SECRET).verify(s.body, s.headers)["type"] for s in ops.seen] == [
            "endpoint.disabled"
        ]
        admin.set_enabled(store, settings, "rms", enabled=True, now=clock.now())
        d.run_once()
        d.run_once()
    finally:
        d.close()
    assert all(statuses(store)[i] == "delivered" for i in ids)


def test_redirect_not_followed(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """301 to another URL: not followed, counted as a failed attempt."""
    target = _server(request, Answer(200))
    moved = _server(request, Answer(301, {"Location": target.url}))
    settings = make_settings(sqlite_url, [endpoint("rms", moved.url)], retry_schedule_s=[60])
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
    finally:
        d.close()
    assert target.seen == []
    row = message_row(store, msg_id)
    assert (row.status, row.failures, row.last_error) == ("pending", 1, "HTTP 301")


def test_never_answering_receiver_times_out(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """A receiver that never answers: the attempt ends at timeout_s as a failure."""
    server = _server(request, Answer(hang=True))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url, timeout_s=1)])
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
    finally:
        server.closing.set()
        d.close()
    with store.read() as conn:
        shown = show_message(conn, msg_id)
    assert shown is not None
    (attempt,) = shown["attempt_log"]
    assert attempt["status_code"] is None
    assert "timeout after 1 s" in attempt["error"]
    assert attempt["duration_ms"] >= 900  # it waited for the timeout, not less
    assert shown["status"] == "pending"


def test_huge_response_body_is_capped(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """A 50 MiB answer: the excerpt is capped, the rest is never read, memory stays flat."""
    server = _server(request, Answer(200, stream_bytes=50 * 1024 * 1024))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url)])
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    tracemalloc.start()
    try:
        d.run_once()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        d.close()
    assert peak < 4 * 1024 * 1024  # a read of the body would need 50 MiB
    assert server.bytes_streamed < 50 * 1024 * 1024
    with store.read() as conn:
        shown = show_message(conn, msg_id)
    assert shown is not None
    assert shown["status"] == "delivered"
    assert len(shown["attempt_log"][0]["response_excerpt"]) == 4096


def test_receiver_down_then_back(sqlite_url: str, store: Store) -> None:
    """Receiver down, then back: nothing lost, all delivered, breaker opened and closed."""
    port = free_port()
    settings = make_settings(
        sqlite_url,
        [endpoint("rms", f"http://127.0.0.1:{port}/", max_in_flight=2)],
        retry_schedule_s=[0.1] * 50,
        breaker_fail_max=3,
        breaker_reset_s=0.3,
    )
    ids = enqueue_many(store, settings, 20)
    d = Dispatcher(store, settings)
    d.start()
    receiver: Receiver | None = None
    try:

        def paused() -> bool:
            with store.read() as conn:
                state = endpoint_state.load(conn).get("rms")
            return state is not None and state.paused_until is not None

        assert wait_until(paused), "the breaker never opened"
        receiver = Receiver([SECRET], port=port, quiet=True).start()
        assert wait_until(lambda: set(statuses(store).values()) == {"delivered"})
    finally:
        d.stop()
        if receiver is not None:
            receiver.close()
    assert receiver is not None
    assert set(receiver.state.counts) == set(ids)
    with store.read() as conn:
        state = endpoint_state.load(conn)["rms"]
    assert state.paused_until is None
    assert state.consecutive_failures == 0
    assert d.breaker_state("rms") == "closed"
    failures = [message_row(store, i).failures for i in ids]
    # Attempts are not burned while the breaker is open: far fewer than one per poll.
    assert sum(failures) < 20 * 10


def test_corrupt_row_and_unknown_endpoint_do_not_stop_the_loop(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """A corrupt row is marked dead, an unknown endpoint's row parked; good ones delivered."""
    server = _server(request, Answer(200))
    settings = make_settings(sqlite_url, [endpoint("rms", server.url)])
    good = enqueue_many(store, settings, 2, now=clock.now())
    base = {
        "type": "model.trained",
        "created_at": clock.now(),
        "next_attempt_at": clock.now(),
        "updated_at": clock.now(),
        "status": "pending",
    }
    with store.write() as conn:
        conn.execute(
            sa.insert(messages),
            [
                {**base, "id": "msg_corruptbody", "endpoint": "rms", "body": b"\xff\x00not json"},
                {
                    **base,
                    "id": "msg_bad.id",
                    "endpoint": "rms",
                    "body": b'{"type":"model.trained"}',
                },
                {
                    **base,
                    "id": "msg_elsewhere",
                    "endpoint": "gone",
                    "body": b'{"type":"model.trained"}',
                },
            ],
        )
        conn.execute(sa.text("UPDATE messages SET attempts = 'many' WHERE id = 'msg_bad.id'"))
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
        d.run_once()
    finally:
        d.close()
    found = statuses(store)
    assert all(found[i] == "delivered" for i in good)
    assert found["msg_corruptbody"] == "dead"
    assert found["msg_bad.id"] == "dead"
    assert "corrupt message" in message_row(store, "msg_corruptbody").last_error
    parked = message_row(store, "msg_elsewhere")
    assert parked.status == "pending"
    assert "unknown endpoint" in parked.last_error
    assert parked.next_attempt_at > clock.now() + timedelta(minutes=30)
    assert sorted(server.ids()) == sorted(good)


def test_dead_after_schedule_and_operational_event(
    request: pytest.FixtureRequest, store: Store, clock: FixedClock, sqlite_url: str
) -> None:
    """After len(schedule)+1 failures the message is dead and message.dead goes to ops only."""
    failing = _server(request, Answer(500))
    ops = _server(request, Answer(200))
    settings = make_settings(
        sqlite_url,
        [endpoint("rms", failing.url), endpoint("ops", ops.url, event_types=["message.dead"])],
        retry_schedule_s=[1],
    )
    (msg_id,) = enqueue_many(store, settings, 1, now=clock.now())
    d = _dispatcher(store, settings, clock)
    try:
        d.run_once()
        clock.advance(1)
        d.run_once()
        d.run_once()
    finally:
        d.close()
    row = message_row(store, msg_id)
    assert (row.endpoint, row.status, row.attempts) == ("rms", "dead", 2)
    (event,) = [Webhook(SECRET).verify(s.body, s.headers) for s in ops.seen]
    assert event["type"] == "message.dead"
    assert event["data"]["message_id"] == msg_id
    assert event["data"]["attempts"] == 2
    assert len(failing.seen) == 2
