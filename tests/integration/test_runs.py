"""Job run records on real SQLite and PostgreSQL: one run per slot, takeover, atomic finish."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from rms_ml_push.clock import FixedClock
from rms_ml_push.errors import SlotDoneError, SlotTakenError
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.runs import JobRuns, RunOutcome, RunSlot
from rms_ml_push.store.schema import prediction_sets
from tests.integration.runs_support import process_contender

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
SLOT = RunSlot("demand", T0)


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh store URL on each back end."""
    return (
        sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    )


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    """A migrated store."""
    st = Store.from_url(url)
    migrate(st)
    yield st
    st.dispose()


def _runs(store: Store, clock: FixedClock, instance: str = "a") -> JobRuns:
    return JobRuns(store, clock, instance=instance, stale_after_s=600)


def test_one_running_row_per_slot(store: Store) -> None:
    """A live run holds its slot; another scope or as_of is another slot."""
    clock = FixedClock(T0)
    runs = _runs(store, clock)
    first = runs.start(SLOT, trigger="schedule")
    assert first.status == "running"
    assert first.instance == "a"
    with pytest.raises(SlotTakenError, match="is running"):
        _runs(store, clock, "b").start(SLOT)
    other_scope = runs.start(RunSlot("demand", T0, "r:3,7"))
    other_time = runs.start(RunSlot("demand", T0 + timedelta(days=1)))
    assert len({first.id, other_scope.id, other_time.id}) == 3


def test_succeeded_slot_is_not_run_again_unless_forced(store: Store) -> None:
    """A succeeded slot refuses a plain start; a forced one replaces the old run."""
    clock = FixedClock(T0)
    runs = _runs(store, clock)
    run = runs.start(SLOT)
    runs.finish_now(run.id, RunOutcome("succeeded", model_name="demand_forecasting"))
    with pytest.raises(SlotDoneError):
        runs.start(SLOT)
    forced = runs.start(SLOT, force=True)
    old = runs.get(run.id)
    assert old is not None
    assert old.status == "abandoned"
    assert f"forced re-run {forced.id}" in (old.error or "")


def test_failed_slot_can_run_again(store: Store) -> None:
    """Failed and interrupted runs stay as history and free the slot."""
    clock = FixedClock(T0)
    runs = _runs(store, clock)
    first = runs.start(SLOT)
    runs.finish_now(first.id, RunOutcome("failed", error="RmsUnavailableError: timeout"))
    second = runs.start(SLOT)
    runs.finish_now(second.id, RunOutcome("interrupted"))
    third = runs.start(SLOT)
    assert third.status == "running"
    failed = runs.get(first.id)
    assert failed is not None
    assert failed.error == "RmsUnavailableError: timeout"


def test_stale_run_is_taken_over(store: Store) -> None:
    """A running row with an old heartbeat is abandoned; its owner learns it lost the slot."""
    clock = FixedClock(T0)
    dead = _runs(store, clock, "dead")
    alive = _runs(store, clock, "alive")
    old = dead.start(SLOT)
    clock.advance(300)
    dead.heartbeat(old.id)
    clock.advance(599)
    with pytest.raises(SlotTakenError):
        alive.start(SLOT)  # heartbeat 599 s old: still fresh
    clock.advance(2)
    new = alive.start(SLOT)
    abandoned = alive.get(old.id)
    assert abandoned is not None
    assert abandoned.status == "abandoned"
    assert "taken over by " + new.id in (abandoned.error or "")
    with pytest.raises(SlotTakenError):
        dead.heartbeat(old.id)
    with pytest.raises(SlotTakenError):
        dead.finish_now(old.id, RunOutcome("succeeded"))


def _insert_prediction(conn: sa.Connection, run_id: str) -> None:
    conn.execute(
        prediction_sets.insert().values(
            run_id=run_id, kind="demand.day", restaurant_id=1, as_of=T0, generated_at=T0, payload={}
        )
    )


def _finish_with_prediction(store: Store, runs: JobRuns, run_id: str, outcome: RunOutcome) -> None:
    with store.write() as conn:
        _insert_prediction(conn, run_id)
        runs.finish(conn, run_id, outcome)


def test_finish_commits_with_the_callers_rows(store: Store) -> None:
    """finish() joins the caller's transaction: results and status commit or vanish together."""
    clock = FixedClock(T0)
    runs = _runs(store, clock)
    run = runs.start(SLOT)
    outcome = RunOutcome(
        "succeeded",
        quality={"rows_dropped": 3},
        metrics={"wape": 0.21},
        model_name="demand_forecasting",
        model_version="1.4.0",
        messages_enqueued=2,
        summary={"restaurants": 2},
    )
    _finish_with_prediction(store, runs, run.id, outcome)
    done = runs.get(run.id)
    assert done is not None
    assert (done.status, done.model_version, done.messages_enqueued) == ("succeeded", "1.4.0", 2)
    assert done.quality == {"rows_dropped": 3}
    # a run that lost its slot: finish raises inside the transaction, its rows roll back
    clock.advance(3600)
    stale = runs.start(RunSlot("demand", T0 + timedelta(days=1)))
    clock.advance(3600)
    _runs(store, clock, "b").start(RunSlot("demand", T0 + timedelta(days=1)))
    with pytest.raises(SlotTakenError):
        _finish_with_prediction(store, runs, stale.id, outcome)
    with store.read() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(prediction_sets)
            .where(prediction_sets.c.run_id == stale.id)
        ).scalar()
    assert count == 0


def test_history_queries(store: Store) -> None:
    """list_runs is newest first; last_successful_slot is the newest succeeded as_of."""
    clock = FixedClock(T0)
    runs = _runs(store, clock)
    assert runs.last_run("demand") is None
    assert runs.last_successful_slot("demand") is None
    for day in range(3):
        run = runs.start(RunSlot("demand", T0 + timedelta(days=day)))
        status = "failed" if day == 2 else "succeeded"
        runs.finish_now(run.id, RunOutcome(status))  # type: ignore[arg-type]
        clock.advance(60)
    runs.start(RunSlot("kitchen", T0))
    listed = runs.list_runs("demand")
    assert [r.as_of for r in listed] == [T0 + timedelta(days=d) for d in (2, 1, 0)]
    assert len(runs.list_runs(limit=2)) == 2
    last = runs.last_run("demand")
    assert last is not None
    assert last.status == "failed"
    assert runs.last_successful_slot("demand") == RunSlot("demand", T0 + timedelta(days=1))


def test_threads_race_for_one_slot(store: Store) -> None:
    """Eight threads start the same slot at once: exactly one wins."""
    clock = FixedClock(T0)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contender(i: int) -> None:
        runs = _runs(store, clock, f"t{i}")
        barrier.wait()
        try:
            runs.start(SLOT)
            result = "won"
        except SlotTakenError:
            result = "lost"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    assert len(_runs(store, clock).list_runs("demand")) == 1


@pytest.mark.pg
@pytest.mark.slow
def test_processes_race_for_one_slot(pg_schema_url: str) -> None:
    """Three processes on PostgreSQL start the same slot at once: exactly one wins."""
    store = Store.from_url(pg_schema_url)
    migrate(store)
    store.dispose()
    ctx = multiprocessing.get_context("spawn")
    start_event = ctx.Event()
    results = ctx.Queue()
    procs = [
        ctx.Process(target=process_contender, args=(pg_schema_url, start_event, results))
        for _ in range(3)
    ]
    for p in procs:
        p.start()
    start_event.set()
    for p in procs:
        p.join(timeout=120)
    outcomes = sorted(results.get(timeout=10) for _ in procs)
    assert outcomes == ["lost"] * 2 + ["won"]
