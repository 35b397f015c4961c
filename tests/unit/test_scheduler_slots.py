"""Leader scheduler: catch-up decisions, nominal slots under jitter, APScheduler wiring."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from rms_ml_push.clock import FixedClock
from rms_ml_push.jobs.schedule import (
    JOB_NAMES,
    ScheduleEntry,
    default_schedule_text,
    parse_schedule,
)
from rms_ml_push.service.protocols import JobRequest
from rms_ml_push.service.scheduler import LeaderScheduler, SlotTrigger

WED_NOON = datetime(2024, 6, 12, 12, 0, tzinfo=UTC)


def _entries(now: datetime = WED_NOON, text: str | None = None) -> list[ScheduleEntry]:
    return parse_schedule(
        text or default_schedule_text(), timezone="UTC", registered_jobs=JOB_NAMES, now=now
    )


class Recorder:
    """A submit callable that records (job, as_of, trigger, full)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, datetime, str, bool]] = []

    def __call__(self, entry: ScheduleEntry, as_of: datetime, trigger: str) -> JobRequest:
        self.calls.append((entry.job, as_of, trigger, entry.is_full(as_of)))
        return JobRequest(
            entry.job,
            as_of,
            entry.is_full(as_of),
            entry.restaurants,
            entry.scope,
            trigger,
            f"run_{len(self.calls)}",
        )


def test_catch_up_runs_each_job_whose_latest_slot_has_no_success() -> None:
    """Never-run and behind jobs run once at their latest slot; an up-to-date job does not."""
    done = {
        ("demand", "all"): datetime(2024, 6, 12, 6, tzinfo=UTC),  # up to date
        ("kitchen", "all"): datetime(2024, 6, 11, 6, tzinfo=UTC),
    }  # one day behind
    submit = Recorder()
    sched = LeaderScheduler(
        _entries(),
        submit=submit,
        clock=FixedClock(WED_NOON),
        last_successful_slot=lambda job, scope: done.get((job, scope)),
    )
    sched.catch_up()
    assert submit.calls == [
        ("kitchen", datetime(2024, 6, 12, 6, tzinfo=UTC), "catchup", False),
        ("inventory", datetime(2024, 6, 12, 6, tzinfo=UTC), "catchup", False),
        ("customers", datetime(2024, 6, 10, 6, tzinfo=UTC), "catchup", False),
        ("pricing", datetime(2024, 6, 1, 6, tzinfo=UTC), "catchup", True),
    ]


def test_catch_up_skips_a_job_when_the_store_cannot_answer() -> None:
    """A failing run-record query skips that job instead of guessing."""
    submit = Recorder()

    def broken(job: str, scope: str) -> datetime | None:
        if job == "demand":
            raise OSError("store down")
        return None

    sched = LeaderScheduler(
        _entries(), submit=submit, clock=FixedClock(WED_NOON), last_successful_slot=broken
    )
    sched.catch_up()
    assert [c[0] for c in submit.calls] == ["kitchen", "inventory", "customers", "pricing"]


def test_fire_submits_the_nominal_slot_in_schedule_order() -> None:
    """A jittered (late) firing still runs the nominal slot, demand first; Sunday is full."""
    sunday_late = datetime(2024, 6, 9, 6, 0, 27, tzinfo=UTC)
    submit = Recorder()
    sched = LeaderScheduler(
        _entries(sunday_late),
        submit=submit,
        clock=FixedClock(sunday_late),
        last_successful_slot=lambda job, scope: None,
    )
    daily = sched.groups()[0]
    sched.fire(daily)
    slot = datetime(2024, 6, 9, 6, tzinfo=UTC)
    assert submit.calls == [
        ("demand", slot, "schedule", True),
        ("kitchen", slot, "schedule", True),
        ("inventory", slot, "schedule", True),
    ]


def test_slot_trigger_jitter_delays_but_never_changes_the_slot() -> None:
    """Fire times sit within [slot, slot + jitter] and map back to their own slot."""
    entry = _entries()[0]
    trigger = SlotTrigger(entry.cron, entry.tz, 30.0, random.Random(7))
    fire = trigger.get_next_fire_time(None, WED_NOON)
    nominal = []
    for _ in range(50):
        slot = entry.previous_slot(fire)
        assert timedelta(0) <= fire - slot <= timedelta(seconds=30)
        nominal.append(slot)
        fire = trigger.get_next_fire_time(fire, fire)
    assert nominal[0] == datetime(2024, 6, 13, 6, tzinfo=UTC)
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(nominal))


def test_slot_trigger_fires_now_when_now_is_a_slot() -> None:
    """Started exactly on a slot, the first fire time is that slot."""
    entry = _entries()[0]
    slot = datetime(2024, 6, 12, 6, tzinfo=UTC)
    assert (
        SlotTrigger(entry.cron, entry.tz, 0, random.Random()).get_next_fire_time(None, slot) == slot
    )


def test_apscheduler_runs_one_job_per_group_with_coalescing() -> None:
    """Start adds one APScheduler job per cron group (coalesce, one instance); stop ends it."""
    sched = LeaderScheduler(
        _entries(),
        submit=Recorder(),
        clock=FixedClock(WED_NOON),
        last_successful_slot=lambda job, scope: None,
    )
    before = datetime.now(UTC)
    sched.start()
    try:
        assert sched.running
        jobs = sched._scheduler.get_jobs()  # type: ignore[union-attr]
        assert [j.name for j in jobs] == ["demand+kitchen+inventory", "customers", "pricing"]
        assert all(j.coalesce and j.max_instances == 1 for j in jobs)
        for job, entry in zip(
            jobs, [sched.entries[0], sched.entries[3], sched.entries[4]], strict=True
        ):
            nominal = entry.next_slot(before - timedelta(microseconds=1))
            assert timedelta(0) <= job.next_run_time - nominal <= timedelta(seconds=30)
    finally:
        sched.stop()
    assert not sched.running
