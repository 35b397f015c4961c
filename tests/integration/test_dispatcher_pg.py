"""Several dispatchers on one PostgreSQL store never claim the same message."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from rms_ml_push.delivery.dispatcher import Dispatcher
from rms_ml_push.delivery.receiver import Receiver
from rms_ml_push.store import leasing
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import messages
from tests.integration.delivery_kit import (
    SECRET,
    endpoint,
    enqueue_many,
    make_settings,
    open_store,
    statuses,
)
from tests.integration.webhook_servers import wait_until

pytestmark = pytest.mark.pg


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Store]:
    """A migrated PostgreSQL store in its own schema."""
    s = open_store(pg_schema_url)
    yield s
    s.dispose()


def test_concurrent_claims_are_disjoint(store: Store, pg_schema_url: str) -> None:
    """Four threads claiming in parallel lease every message exactly once."""
    settings = make_settings(pg_schema_url, [endpoint("rms", "http://127.0.0.1:9/")])
    ids = enqueue_many(store, settings, 300)
    claimed: dict[str, list[str]] = {}
    start = threading.Barrier(4)

    def worker(name: str) -> None:
        mine: list[str] = []
        start.wait()
        while True:
            with store.write() as conn:
                rows = leasing.claim(
                    conn, owner=name, now=datetime.now(UTC), lease_s=60, limit=7, endpoint="rms"
                )
            if not rows:
                break
            mine.extend(r.id for r in rows)
        claimed[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    every = [i for mine in claimed.values() for i in mine]
    assert sorted(every) == sorted(ids)  # all claimed, none twice
    assert sum(1 for mine in claimed.values() if mine) >= 2  # they really ran side by side
    with store.read() as conn:
        owners = dict(conn.execute(sa.select(messages.c.id, messages.c.lease_owner)).all())
    assert all(owners[i] == name for name, mine in claimed.items() for i in mine)


def test_two_dispatchers_deliver_each_message_once(store: Store, pg_schema_url: str) -> None:
    """Two dispatchers on one store: every message delivered, none sent twice."""
    receiver = Receiver([SECRET], quiet=True).start()
    settings = make_settings(pg_schema_url, [endpoint("rms", receiver.url, max_in_flight=4)])
    ids = enqueue_many(store, settings, 200)
    first, second = Dispatcher(store, settings), Dispatcher(store, settings)
    first.start()
    second.start()
    try:
        assert wait_until(lambda: set(statuses(store).values()) == {"delivered"}, 60)
    finally:
        first.stop()
        second.stop()
        receiver.close()
    assert sorted(receiver.state.counts) == sorted(ids)
    assert set(receiver.state.counts.values()) == {1}
    with store.read() as conn:
        instances = conn.execute(sa.text("SELECT DISTINCT instance FROM attempts")).scalars().all()
        attempts = conn.execute(sa.select(sa.func.max(messages.c.attempts))).scalar()
    assert attempts == 1
    assert len(instances) == 2  # both took part
