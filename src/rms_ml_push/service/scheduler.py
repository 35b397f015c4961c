"""The leader's scheduler: APScheduler 3 fires slots, catch-up fills the one missed.

APScheduler only decides *when* to fire; *which slot* is always our pure slot arithmetic
(:mod:`rms_ml_push.jobs.cron`), so jitter, DST and late firings cannot change ``as_of``.
Entries that share a cron, zone and jitter fire as one APScheduler job and are submitted
in schedule order (demand before kitchen and inventory of the same slot).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor as ApsThreadPool
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from rms_ml_push.clock import Clock
from rms_ml_push.jobs.cron import Cron, next_slot
from rms_ml_push.jobs.schedule import ScheduleEntry
from rms_ml_push.logs import get_logger
from rms_ml_push.service.protocols import JobRequest, LastSuccessfulSlot

_log = get_logger("rms_ml_push.service")
_TICK = timedelta(microseconds=1)

Submit = Callable[[ScheduleEntry, datetime, str], JobRequest | None]


class SlotTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires at each cron slot plus a random delay below ``jitter_s``."""

    def __init__(self, cron: Cron, tz: Any, jitter_s: float, rng: random.Random) -> None:
        self.cron = cron
        self.tz = tz
        self.jitter_s = jitter_s
        self.rng = rng

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        # previous_fire_time is jittered; jitter < half a gap, so the next slot after it is
        # the next nominal slot.
        after = previous_fire_time if previous_fire_time is not None else now - _TICK
        nominal = next_slot(self.cron, self.tz, after)
        if nominal is None:
            return None
        return nominal + timedelta(seconds=self.rng.uniform(0, self.jitter_s))

    def __str__(self) -> str:
        return f"slots[{self.cron.text} {self.tz.key}]"


class LeaderScheduler:
    """Start on election, stop on deposition; ``fire`` and ``catch_up`` are callable directly."""

    def __init__(
        self,
        entries: Sequence[ScheduleEntry],
        *,
        submit: Submit,
        clock: Clock,
        last_successful_slot: LastSuccessfulSlot,
        rng: random.Random | None = None,
    ) -> None:
        self.entries = list(entries)
        self._submit = submit
        self._clock = clock
        self._last_successful_slot = last_successful_slot
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    @property
    def running(self) -> bool:
        """True while APScheduler is running here (we lead)."""
        with self._lock:
            return self._scheduler is not None and bool(self._scheduler.running)

    def groups(self) -> list[list[ScheduleEntry]]:
        """Entries that fire together, in schedule order."""
        grouped: dict[tuple[str, str, float], list[ScheduleEntry]] = {}
        for entry in self.entries:
            grouped.setdefault((entry.cron.text, entry.tz.key, entry.jitter_s), []).append(entry)
        return list(grouped.values())

    def start(self) -> None:
        """Start firing slots (idempotent)."""
        with self._lock:
            if self._scheduler is not None:
                return
            scheduler = BackgroundScheduler(
                jobstores={"default": MemoryJobStore()},
                executors={"default": ApsThreadPool(max_workers=2)},
                job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
                timezone=UTC,
            )
            for n, group in enumerate(self.groups()):
                head = group[0]
                scheduler.add_job(
                    self.fire,
                    trigger=SlotTrigger(head.cron, head.tz, head.jitter_s, self._rng),
                    args=[group],
                    id=f"slot-group-{n}",
                    name="+".join(e.job for e in group),
                )
            scheduler.start()
            self._scheduler = scheduler

    def stop(self) -> None:
        """Stop firing (idempotent); runs already in the pool are not touched."""
        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)

    def fire(self, group: Sequence[ScheduleEntry]) -> list[JobRequest]:
        """Submit the current slot of each entry in ``group`` (APScheduler calls this)."""
        now = self._clock.now()
        submitted = []
        for entry in group:
            as_of = entry.previous_slot(now)
            if as_of is None:
                continue
            req = self._submit(entry, as_of, "schedule")
            if req is not None:
                submitted.append(req)
        return submitted

    def catch_up(self) -> list[JobRequest]:
        """Run once each entry whose most recent slot has no successful run (never-run too)."""
        now = self._clock.now()
        submitted = []
        for entry in self.entries:
            slot = entry.previous_slot(now)
            if slot is None:
                continue
            try:
                last = self._last_successful_slot(entry.job, entry.scope)
            except Exception as exc:  # the store is down: the next election retries
                _log.warning("catch_up_skipped", job=entry.job, error_type=type(exc).__name__)
                continue
            if last is not None and last >= slot:
                continue
            req = self._submit(entry, slot, "catchup")
            if req is not None:
                submitted.append(req)
        return submitted

    def next_runs(self) -> dict[tuple[str, str], datetime | None]:
        """Next nominal slot per (job, scope)."""
        now = self._clock.now()
        return {(e.job, e.scope): e.next_slot(now) for e in self.entries}
