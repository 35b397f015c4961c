"""The ``run`` command's body: build, start, wait for SIGTERM/SIGINT, stop, exit 0."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Collection
from datetime import datetime
from types import FrameType

from rms_ml_push.clock import Clock, SystemClock
from rms_ml_push.config import Settings
from rms_ml_push.jobs.schedule import JOB_NAMES, ScheduleEntry, load_schedule
from rms_ml_push.logs import bind_context, get_logger
from rms_ml_push.metrics import Metrics
from rms_ml_push.service.app import Service, default_instance_id
from rms_ml_push.service.protocols import ServiceDeps
from rms_ml_push.service.wiring import build_deps
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate

_log = get_logger("rms_ml_push.service")

# (settings, migrated store, metrics, clock, instance id) -> the service's parts.
DepsFactory = Callable[[Settings, Store, Metrics, Clock, str], ServiceDeps]


def service_schedule(
    settings: Settings, *, shipped: Collection[str], now: datetime
) -> list[ScheduleEntry]:
    """The schedule's entries for the jobs this build ships; the others are skipped.

    The default schedule names every job of the design, and jobs land one release at a
    time: an entry for a known job this build does not ship is skipped with a warning
    (start-up goes on), while a name no version knows (a typo) is a configuration error.
    """
    entries = load_schedule(
        settings.schedule_file,
        timezone=settings.schedule_timezone,
        registered_jobs=set(JOB_NAMES) | set(shipped),
        now=now,
    )
    kept = [e for e in entries if e.job in shipped]
    for entry in entries:
        if entry.job not in shipped:
            _log.warning(
                "schedule_entry_skipped",
                job=entry.job,
                scope=entry.scope,
                reason="this version does not ship the job",
            )
    return kept


def build_service(
    settings: Settings, *, clock: Clock | None = None, deps_factory: DepsFactory = build_deps
) -> Service:
    """Migrate the store, read the schedule, assemble the service (nothing started)."""
    clock = clock or SystemClock()
    store = Store.from_url(settings.store_url.get_secret_value())
    try:
        migrate(store)
        metrics = Metrics()
        instance = default_instance_id(settings.instance_id)
        deps = deps_factory(settings, store, metrics, clock, instance)
        entries = service_schedule(settings, shipped=deps.registered_jobs, now=clock.now())
        return Service(
            settings,
            store,
            deps,
            entries=entries,
            clock=clock,
            metrics=metrics,
            instance_id=instance,
        )
    except BaseException:
        store.dispose()
        raise


def run_service(settings: Settings, *, deps_factory: DepsFactory = build_deps) -> int:
    """Run until SIGTERM or SIGINT, then stop gracefully; 0 on a clean stop."""
    service = build_service(settings, deps_factory=deps_factory)
    bind_context(instance=service.instance_id)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        _log.info("signal_received", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.start()
        while not stop.wait(0.5):
            pass
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
