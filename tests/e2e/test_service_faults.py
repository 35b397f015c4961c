"""Issue 6 "Faults": several ``run`` processes on one PostgreSQL store, kills, RMS outage.

Slots are 3 or 4 s apart (a six-field cron in a test schedule file); leases expire after
2.5 s and renew every 0.5 s, so a dead leader's successor is elected before the slot after
the next one (a slot missed meanwhile is run by catch-up). On a busy machine renewals can
be late and leadership may move between live instances: run records keep every slot
once all the same, which is what these tests check. Waits poll with generous safety
limits; nothing asserts on speed except the lease bound, which is the contract itself.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rms_ml_push.cli import main
from rms_ml_push.config import load_settings
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from tests.e2e.service_cluster import (
    LEASE_RENEW_S,
    Cluster,
    Instance,
    TcpRelay,
    leader_row,
    message_rows,
    runs,
    service_env,
)
from tests.integration.delivery_kit import enqueue_many
from tests.integration.webhook_servers import Answer, ScriptedServer, wait_until

pytestmark = [pytest.mark.pg, pytest.mark.slow]

SLOT_S = 3
EVERY_3_S = f'[[entries]]\njob = "demand"\ncron = "*/{SLOT_S} * * * * *"\n'
STOP_WAIT_S = 15  # stop bound 6 s plus process exit, on a busy machine


@pytest.fixture
def store(pg_schema_url: str) -> Iterator[Store]:
    """The shared store, migrated before any instance starts."""
    s = Store.from_url(pg_schema_url)
    migrate(s)
    yield s
    s.dispose()


@pytest.fixture
def relay() -> Iterator[TcpRelay]:
    """The instances' link to the RMS database (the test PostgreSQL server)."""
    r = TcpRelay(("127.0.0.1", 5432))
    yield r
    r.close()


@pytest.fixture
def receiver() -> Iterator[ScriptedServer]:
    """A loopback webhook receiver that takes 50 ms per request."""
    server = ScriptedServer(lambda n: Answer(200, delay_s=0.05))
    yield server
    server.close()


def _cluster(
    tmp_path: Path,
    pg_url: str,
    store_url: str,
    relay: TcpRelay,
    receiver: ScriptedServer,
    schedule: str = EVERY_3_S,
) -> Cluster:
    rms_url = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    return Cluster(tmp_path, service_env(tmp_path, store_url, rms_url, receiver.url, schedule))


def _succeeded(store: Store) -> list[dict[str, Any]]:
    return [r for r in runs(store) if r["status"] == "succeeded"]


def _assert_slots_once_and_contiguous(rows: list[dict[str, Any]]) -> None:
    as_ofs = [r["as_of"] for r in rows]
    assert len(as_ofs) == len(set(as_ofs)), "a slot was started twice"
    assert {r["status"] for r in rows} == {"succeeded"}
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(as_ofs)}
    assert gaps == {float(SLOT_S)}, f"slots missing: gaps {sorted(gaps)}"


def _stop_all(*instances: Instance, store: Store | None = None) -> None:
    """SIGTERM followers first, then the leader: a follower stopping later could otherwise be
    elected by the leader's release and start a slot only to interrupt it (correct, but not
    what these tests look at)."""
    lease = leader_row(store) if store is not None else None
    owner = lease["owner"] if lease else ""
    ordered = sorted(instances, key=lambda i: f"-{i.proc.pid}-" in owner)
    followers = [i for i in ordered if f"-{i.proc.pid}-" not in owner]
    for inst in followers:  # at once, then wait for each
        inst.proc.send_signal(signal.SIGTERM)
    for inst in ordered:
        assert inst.terminate(STOP_WAIT_S) == 0, inst.stderr_text()[-3000:]
        assert "Traceback" not in inst.stderr_text()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _owner_instance(cluster: Cluster, owner: str) -> Instance:
    (inst,) = [i for i in cluster.instances if f"-{i.proc.pid}-" in owner]
    return inst


def test_two_instances_run_every_slot_exactly_once(
    tmp_path: Path,
    pg_url: str,
    pg_schema_url: str,
    store: Store,
    relay: TcpRelay,
    receiver: ScriptedServer,
) -> None:
    """Two instances for several slots: one leader, each slot started once, none skipped."""
    cluster = _cluster(tmp_path, pg_url, pg_schema_url, relay, receiver)
    try:
        a, b = cluster.start("a"), cluster.start("b")
        cluster.wait_healthy(a, b)
        assert wait_until(lambda: len(_succeeded(store)) >= 4, 60)
        _stop_all(a, b, store=store)
    finally:
        cluster.close()
    rows = runs(store)
    _assert_slots_once_and_contiguous(rows)
    # Each run's 3 messages were enqueued once; every delivered one reached the receiver.
    msgs = message_rows(store)
    assert len(msgs) == 3 * len(rows)
    assert {m["status"] for m in msgs} <= {"delivered", "pending"}
    delivered = {m["id"] for m in msgs if m["status"] == "delivered"}
    assert delivered
    assert delivered <= set(receiver.ids())


def test_sigkill_of_the_leader_hands_over_within_the_lease_bound(
    tmp_path: Path,
    pg_url: str,
    pg_schema_url: str,
    store: Store,
    relay: TcpRelay,
    receiver: ScriptedServer,
) -> None:
    """Three instances; SIGKILL the leader: a survivor leads within the bound, the next slot
    runs once, and every message (also those the dead one had leased) is delivered."""
    slot_s = 4  # > lease bound + renewal: the next slot after the kill must not be missed
    schedule = f'[[entries]]\njob = "demand"\ncron = "*/{slot_s} * * * * *"\n'
    cluster = _cluster(tmp_path, pg_url, pg_schema_url, relay, receiver, schedule)
    pids = tmp_path / "pids"
    pids.mkdir()
    cluster.env["SVC_TEST_PID_DIR"] = str(pids)
    try:
        trio = [cluster.start(name) for name in ("a", "b", "c")]
        cluster.wait_healthy(*trio)
        assert wait_until(lambda: len(_succeeded(store)) >= 1, 60)
        done = len(_succeeded(store))
        assert wait_until(lambda: len(_succeeded(store)) > done, 20)  # a run just finished
        old = leader_row(store)
        assert old is not None
        victim = _owner_instance(cluster, old["owner"])
        victim.kill()
        killed_at = datetime.now(UTC)
        final_old = leader_row(store)  # its last renewal, as the store saw it
        assert final_old is not None
        assert wait_until(lambda: (leader_row(store) or old)["owner"] != old["owner"], 20)
        new = leader_row(store)
        assert new is not None
        assert new["epoch"] == final_old["epoch"] + 1
        # Elected at a follower's first renewal after expiry (+ slack for a busy machine).
        assert new["acquired_at"] - final_old["expires_at"] < timedelta(seconds=LEASE_RENEW_S + 2)
        survivors = [i for i in trio if i is not victim]
        # The dead leader's training worker does not linger as an orphan.
        victim_runs = [r["id"] for r in runs(store) if r["instance"] == old["owner"]]
        orphans = {int((pids / run_id).read_text()) for run_id in victim_runs}
        assert wait_until(lambda: not any(_alive(pid) for pid in orphans), 10)
        assert wait_until(
            lambda: len([r for r in _succeeded(store) if r["as_of"] > killed_at]) >= 2, 40
        )
        wanted = {m["id"] for m in message_rows(store)}
        assert wait_until(
            lambda: all(
                m["status"] == "delivered" for m in message_rows(store) if m["id"] in wanted
            ),
            30,
        )
        _stop_all(*survivors, store=store)
    finally:
        cluster.close()
    rows = runs(store)
    assert len({r["as_of"] for r in rows}) == len(rows), "a slot was started twice"
    # Before the kill every run ended, except at most one the dead leader was running.
    cut_short = [r for r in rows if r["status"] != "succeeded"]
    assert len(cut_short) <= 1
    assert all(r["instance"] == old["owner"] and r["as_of"] < killed_at for r in cut_short)
    # After it: the next slot and every one since ran once, on a survivor.
    later = [r for r in rows if r["as_of"] > killed_at]
    next_slot = killed_at.replace(microsecond=0) + timedelta(seconds=1)
    while next_slot.second % slot_s:
        next_slot += timedelta(seconds=1)
    assert later[0]["as_of"] == next_slot
    gaps = {(b["as_of"] - a["as_of"]).total_seconds() for a, b in itertools.pairwise(later)}
    assert gaps == {float(slot_s)}
    assert not [r for r in later if f"-{victim.proc.pid}-" in r["instance"]]
    assert wanted <= set(receiver.ids())


def test_rms_outage_fails_the_run_ready_names_rms_next_slot_retries(
    tmp_path: Path,
    pg_url: str,
    pg_schema_url: str,
    store: Store,
    relay: TcpRelay,
    receiver: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """RMS unreachable: run failed with the reason, /ready 503 naming rms, earlier messages
    kept; once it is back, the next slot succeeds and /ready is 200 again; ``jobs list``
    reports these real runs."""
    cluster = _cluster(tmp_path, pg_url, pg_schema_url, relay, receiver)
    try:
        inst = cluster.start("a")
        cluster.wait_healthy(inst)
        assert wait_until(lambda: len(_succeeded(store)) >= 1, 60)
        relay.cut()
        assert wait_until(lambda: any(r["status"] == "failed" for r in runs(store)), 20)
        earlier = {m["id"] for m in message_rows(store)}
        assert wait_until(lambda: inst.get("/ready")[0] == 503, 10)
        failing = json.loads(inst.get("/ready")[1])["failing"]
        info_job = json.loads(inst.get("/info")[1])["jobs"][0]
        relay.restore()
        failed = next(r for r in runs(store) if r["status"] == "failed")
        assert wait_until(
            lambda: any(
                r["as_of"] > failed["as_of"] and r["status"] == "succeeded" for r in runs(store)
            ),
            20,
        )
        assert wait_until(lambda: inst.get("/ready")[0] == 200, 10)
        _stop_all(inst)
    finally:
        cluster.close()
    assert failing == {"rms": "unavailable (RmsUnavailableError)"}
    assert failed["error"].startswith("RmsUnavailableError: RMS database")
    assert "unavailable" in failed["error"]
    msgs = message_rows(store)
    assert earlier <= {m["id"] for m in msgs}
    assert not [m for m in msgs if m["run_id"] == failed["id"]]
    for row in runs(store):  # every run ended; each failure names the RMS
        assert row["status"] in ("succeeded", "failed")
        assert row["status"] == "succeeded" or "RmsUnavailableError" in row["error"]
    assert info_job["last_run"]["status"] == "failed"
    assert "RmsUnavailableError" in info_job["last_run"]["error"]
    # `jobs list` over the same records: the newest run, its duration, the next slot.
    monkeypatch.setenv("RMS_ML_STORE_URL", pg_schema_url)
    monkeypatch.setenv("RMS_ML_SCHEDULE_FILE", cluster.env["RMS_ML_SCHEDULE_FILE"])
    assert main(["jobs", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    newest = max(runs(store), key=lambda r: r["started_at"])
    assert listed["last_run"]["run_id"] == newest["id"]
    # Failed once, likely through the relay's leaky cut (fixed since): name every run.
    history = [(r["as_of"].isoformat(), r["status"], r["error"]) for r in runs(store)]
    assert listed["status"] == newest["status"] == "succeeded", history
    assert listed["last_run"]["duration_s"] > 0
    assert listed["cron"] == f"*/{SLOT_S} * * * * *"
    assert listed["next_run"] is not None


def test_sigterm_during_a_training_run_interrupts_it_cleanly(
    tmp_path: Path,
    pg_url: str,
    pg_schema_url: str,
    store: Store,
    relay: TcpRelay,
    receiver: ScriptedServer,
) -> None:
    """SIGTERM while a run computes: exit 0, the run interrupted with nothing enqueued,
    its worker gone, the leader lease released."""
    daily = '[[entries]]\njob = "demand"\ncron = "0 6 * * *"\n'
    cluster = _cluster(tmp_path, pg_url, pg_schema_url, relay, receiver, daily)
    pids = tmp_path / "pids"
    pids.mkdir()
    try:
        inst = cluster.start("a", SVC_TEST_HOLD_S="120", SVC_TEST_PID_DIR=str(pids))
        cluster.wait_healthy(inst)
        assert wait_until(lambda: any(pids.iterdir()), 60)  # the worker is in compute
        (run,) = runs(store)
        assert run["status"] == "running"
        _stop_all(inst)
        stopped_at = datetime.now(UTC)
    finally:
        cluster.close()
    (run,) = runs(store)
    assert run["status"] == "interrupted"
    assert run["error"] == "service stopped before the run finished"
    assert message_rows(store) == []
    worker_pid = int((pids / run["id"]).read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)
    lease = leader_row(store)
    assert lease is not None
    assert lease["expires_at"] < stopped_at


def test_sigterm_during_deliveries_loses_and_repeats_nothing(
    tmp_path: Path,
    pg_url: str,
    pg_schema_url: str,
    store: Store,
    relay: TcpRelay,
) -> None:
    """SIGTERM mid-delivery: exit 0, no lease left held, nothing dead; a new instance
    delivers the rest, each message exactly once."""
    slow = ScriptedServer(lambda n: Answer(200, delay_s=0.2))
    cluster = _cluster(tmp_path, pg_url, pg_schema_url, relay, slow, "entries = []\n")
    settings = load_settings(
        store_url=pg_schema_url,
        webhook_url=slow.url,
        webhook_secret=cluster.env["RMS_ML_WEBHOOK_SECRET"],
    )
    ids = set(enqueue_many(store, settings, 60))
    try:
        first = cluster.start("a")
        cluster.wait_healthy(first)
        assert wait_until(lambda: len(slow.ids()) >= 8, 60)
        _stop_all(first)
        after_stop = message_rows(store)
        second = cluster.start("b")
        cluster.wait_healthy(second)
        assert wait_until(lambda: set(slow.ids()) == ids, 60)
        assert wait_until(lambda: {m["status"] for m in message_rows(store)} == {"delivered"}, 20)
        _stop_all(second)
    finally:
        cluster.close()
        slow.close()
    assert {m["status"] for m in after_stop} <= {"delivered", "pending"}
    assert {m["status"] for m in after_stop} == {"delivered", "pending"}  # stopped mid-way
    assert all(m["lease_owner"] is None for m in after_stop if m["status"] == "pending")
    received = slow.ids()
    assert len(received) == len(ids)  # no message sent twice
