"""The leader lease on real SQLite and PostgreSQL: one holder at a time, epochs, takeover."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from rms_ml_push.clock import FixedClock, SystemClock
from rms_ml_push.store.engine import Store
from rms_ml_push.store.leases import Lease
from rms_ml_push.store.migrate import migrate


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def store(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Store]:
    """A migrated store on each back end."""
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    s = Store.from_url(url)
    migrate(s)
    yield s
    s.dispose()


@pytest.fixture
def pg_store(pg_schema_url: str) -> Iterator[tuple[Store, str]]:
    """A migrated PostgreSQL store and its URL."""
    s = Store.from_url(pg_schema_url)
    migrate(s)
    yield s, pg_schema_url
    s.dispose()


def test_lease_life_cycle(store: Store) -> None:
    """Acquire, renew, refuse a rival, expire, take over with epoch+1, release."""
    clock = FixedClock(datetime(2024, 6, 1, tzinfo=UTC))
    a = Lease(store, owner="a", clock=clock, ttl_s=10)
    b = Lease(store, owner="b", clock=clock, ttl_s=10)
    first = a.acquire()
    assert first is not None
    assert (first.owner, first.epoch) == ("a", 1)
    assert b.acquire() is None
    clock.advance(9)
    renewed = a.acquire()
    assert renewed is not None
    assert renewed.epoch == 1
    assert renewed.expires_at == clock.now() + timedelta(seconds=10)
    clock.advance(9.5)
    assert b.acquire() is None  # renewed at +9 s, so still a's until +19 s
    clock.advance(1)
    taken = b.acquire()
    assert taken is not None
    assert (taken.owner, taken.epoch) == ("b", 2)
    assert a.acquire() is None
    assert a.holder() == taken
    assert not a.release()  # a no longer holds it
    assert b.release()
    assert b.holder() is None
    again = a.acquire()
    assert again is not None
    assert (again.owner, again.epoch) == ("a", 3)


def _contend(url: str, owner: str, stop: threading.Event, log: list, ttl_s: float) -> None:
    store = Store.from_url(url)
    lease = Lease(store, owner=owner, clock=SystemClock(), ttl_s=ttl_s)
    rng = random.Random(owner)
    try:
        while not stop.is_set():
            held = lease.acquire()
            if held is not None:
                log.append((held.expires_at - timedelta(seconds=ttl_s), held))
                if rng.random() < 0.15:  # play dead for longer than the lease bound
                    time.sleep(ttl_s * 1.5)
            time.sleep(rng.uniform(0.005, 0.05))
    finally:
        store.dispose()


@pytest.mark.pg
def test_three_contenders_never_overlap(pg_store: tuple[Store, str]) -> None:
    """Three threads racing for the lease: owner changes only after expiry, epoch +1 each."""
    _store, url = pg_store
    ttl_s = 0.3
    stop = threading.Event()
    log: list = []
    threads = [
        threading.Thread(target=_contend, args=(url, f"i{n}", stop, log, ttl_s)) for n in range(3)
    ]
    for t in threads:
        t.start()
    time.sleep(3)
    stop.set()
    for t in threads:
        t.join()
    log.sort(key=lambda item: item[0])
    owners = {held.owner for _, held in log}
    assert len(owners) >= 2, "no takeover happened; the test would prove nothing"
    current = log[0][1]
    changes = 0
    for acquired_at, held in log[1:]:
        if held.owner != current.owner:
            assert acquired_at > current.expires_at, (current, held)
            assert held.epoch == current.epoch + 1
            changes += 1
        else:
            assert held.epoch == current.epoch
        current = held
    assert changes >= 1


_HOLDER = """
import sys, time
from rms_ml_push.clock import SystemClock
from rms_ml_push.store.engine import Store
from rms_ml_push.store.leases import Lease
store = Store.from_url(sys.argv[1])
lease = Lease(store, owner="doomed", clock=SystemClock(), ttl_s=float(sys.argv[2]))
while True:
    held = lease.acquire()
    if held is not None:
        print(held.epoch, held.expires_at.isoformat(), flush=True)
    time.sleep(0.1)
"""


@pytest.mark.pg
def test_sigkilled_holder_is_replaced_after_its_bound(pg_store: tuple[Store, str]) -> None:
    """A SIGKILLed holder's lease passes to a contender at its first try after expiry."""
    store, url = pg_store
    ttl_s = 1.0
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url, str(ttl_s)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        assert proc.stdout is not None
        epoch = int(proc.stdout.readline().split()[0])
        contender = Lease(store, owner="survivor", clock=SystemClock(), ttl_s=ttl_s)
        assert contender.acquire() is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    last = contender.holder()
    assert last is not None
    assert last.owner == "doomed"
    attempts = []
    while True:
        now = datetime.now(UTC)
        held = contender.acquire()
        attempts.append((now, held))
        if held is not None:
            break
        time.sleep(0.05)
    # Every refusal came before the dead holder's expiry, the first try after it succeeded.
    assert all(now <= last.expires_at for now, held in attempts[:-1])
    assert held.owner == "survivor"
    assert held.epoch == epoch + 1
