"""The lease keeper: elections, losing the lease to a rival, riding out a short store outage."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from rms_ml_push.clock import FixedClock
from rms_ml_push.service.leader import LeaseKeeper
from rms_ml_push.store.engine import Store
from rms_ml_push.store.leases import Lease
from rms_ml_push.store.migrate import migrate


def _keeper(store: Store, clock: FixedClock, owner: str, events: list[str]) -> LeaseKeeper:
    lease = Lease(store, owner=owner, clock=clock, ttl_s=10)
    return LeaseKeeper(
        lease,
        clock=clock,
        renew_s=3,
        on_elected=lambda epoch: events.append(f"{owner} elected {epoch}"),
        on_deposed=lambda: events.append(f"{owner} deposed"),
        chores=[lambda: events.append("chore")],
    )


def test_rival_takes_over_after_expiry_and_the_old_leader_steps_down(sqlite_url: str) -> None:
    """A leader that stopped renewing loses to a rival; its next tick steps it down."""
    store = Store.from_url(sqlite_url)
    migrate(store)
    clock = FixedClock(datetime(2024, 6, 1, tzinfo=UTC))
    events: list[str] = []
    a, b = _keeper(store, clock, "a", events), _keeper(store, clock, "b", events)
    a.tick()
    b.tick()
    assert (a.is_leader, b.is_leader, a.epoch) == (True, False, 1)
    clock.advance(11)  # a missed its renewals (paused, partitioned)
    b.tick()
    a.tick()
    assert (a.is_leader, b.is_leader, b.epoch) == (False, True, 2)
    assert [e for e in events if e != "chore"] == ["a elected 1", "b elected 2", "a deposed"]
    assert events.count("chore") == 4
    b.stop()
    assert not b.is_leader
    store.dispose()


def test_leader_rides_out_a_store_outage_shorter_than_the_lease(sqlite_url: str) -> None:
    """Failed renewals keep leadership until the lease bound passes, then step down."""
    store = Store.from_url(sqlite_url)
    migrate(store)
    clock = FixedClock(datetime(2024, 6, 1, tzinfo=UTC))
    events: list[str] = []
    keeper = _keeper(store, clock, "a", events)
    keeper.tick()
    with store.write() as conn:  # the store "fails": every renewal now errors
        conn.execute(sa.text("ALTER TABLE leases RENAME TO leases_gone"))
    clock.advance(5)
    keeper.tick()
    assert keeper.is_leader
    clock.advance(5)
    keeper.tick()
    assert not keeper.is_leader
    assert [e for e in events if e != "chore"] == ["a elected 1", "a deposed"]
    store.dispose()
