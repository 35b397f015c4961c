"""``rms-ml-push run``: one process, threads for I/O, worker processes for training.

Start order: HTTP endpoint (so /health answers at once), worker pool, dispatcher, lease
keeper (whose first tick may elect us: then the scheduler starts and catch-up runs).
Stop order, within ``service.stop_timeout_s``: stop scheduling and release the lease (a
successor can take over at once; run records keep slots unique), stop the dispatcher
while letting training runs finish, terminate what is left and record it interrupted,
then close the endpoint and the store.
"""

from __future__ import annotations

import os
import random
import secrets
import socket
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rms_ml_push import __version__
from rms_ml_push.api import ApiServer, Endpoints
from rms_ml_push.clock import Clock, utc_iso
from rms_ml_push.config import Settings
from rms_ml_push.errors import RmsMlPushError
from rms_ml_push.jobs.schedule import ScheduleEntry
from rms_ml_push.logs import get_logger
from rms_ml_push.metrics import Metrics
from rms_ml_push.service.launcher import JobLauncher
from rms_ml_push.service.leader import LeaseKeeper
from rms_ml_push.service.overview import jobs_overview
from rms_ml_push.service.protocols import JobRequest, ServiceDeps
from rms_ml_push.service.readiness import Readiness
from rms_ml_push.service.scheduler import LeaderScheduler
from rms_ml_push.store.engine import Store
from rms_ml_push.store.leases import Lease

_log = get_logger("rms_ml_push.service")
_STOP_MARGIN_S = 2.0  # kept back from the stop bound for terminate, records, close


def default_instance_id(configured: str | None = None) -> str:
    """The configured name (or the host name), pid and a random suffix.

    Always unique, even when replicas share one ``RMS_ML_INSTANCE_ID`` or a restart reuses
    a pid: the leader lease and message leases are keyed by it, and two holders with one
    name would both believe they own them.
    """
    base = (configured or socket.gethostname())[:40]
    return f"{base}-{os.getpid()}-{secrets.token_hex(2)}"


class Service:
    """The running service; build with settings, a migrated store and its parts."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        deps: ServiceDeps,
        *,
        entries: Sequence[ScheduleEntry],
        clock: Clock,
        metrics: Metrics,
        instance_id: str,
        rng: random.Random | None = None,
    ) -> None:
        self.settings, self.store, self.deps = settings, store, deps
        self.clock, self.metrics, self.instance_id = clock, metrics, instance_id
        self.entries = list(entries)
        self.started_at: datetime | None = None
        self._stopping = threading.Event()
        self._dispatcher_running = False
        svc = settings.service
        self.launcher = JobLauncher(
            runner=deps.job_runner,
            deps=deps,
            metrics=metrics,
            clock=clock,
            instance=instance_id,
            workers=svc.workers,
            log_level=settings.log_level,
            log_format="json" if settings.log_format == "auto" else settings.log_format,
        )
        self.scheduler = LeaderScheduler(
            self.entries,
            submit=self._submit,
            clock=clock,
            last_successful_slot=deps.last_successful_slot,
            rng=rng,
        )
        lease = Lease(store, owner=instance_id, clock=clock, ttl_s=svc.lease_ttl_s)
        # The dispatcher's own loop reaps expired message leases on every instance.
        chores: list[Any] = [self.launcher.heartbeat]
        self.keeper = LeaseKeeper(
            lease,
            clock=clock,
            renew_s=svc.lease_renew_s,
            on_elected=self._elected,
            on_deposed=self._deposed,
            chores=chores,
        )
        self.readiness = Readiness(
            dependencies={"store": store.ping, "rms": deps.rms_check},
            state={"dispatcher": self._dispatcher_state, "scheduler": self._scheduler_state},
            clock=clock,
            timeout_s=svc.ready_check_timeout_s,
            cache_s=settings.http.ready_cache_s,
        )
        token = settings.http.token.get_secret_value() if settings.http.token else None
        try:
            self.api = ApiServer(
                settings.http.host,
                settings.http.port,
                Endpoints(
                    alive=self.alive,
                    not_ready=self.readiness.not_ready,
                    info=self.info,
                    metrics=self._render_metrics,
                    token=token,
                ),
            )
        except OSError as exc:
            raise RmsMlPushError(
                f"http: cannot listen on {settings.http.host}:{settings.http.port}: "
                f"{exc.strerror} (set RMS_ML_HTTP__PORT)"
            ) from None

    # -- life cycle --------------------------------------------------------------------

    def start(self) -> None:
        """Start every part; returns once they run."""
        self.started_at = self.clock.now()
        self.api.start()
        self.launcher.start()
        self.deps.dispatcher.start()
        self._dispatcher_running = True
        self.keeper.start()
        _log.info(
            "service_started",
            instance=self.instance_id,
            version=__version__,
            http_port=self.api.port,
            jobs=[e.job for e in self.entries],
        )

    def stop(self) -> list[JobRequest]:
        """Stop within the bound; returns the runs recorded as interrupted."""
        bound_s = self.settings.service.stop_timeout_s
        deadline = self.clock.monotonic() + bound_s
        self._stopping.set()
        _log.info("service_stopping", instance=self.instance_id, bound_s=bound_s)
        self.keeper.stop(release=True)  # also stops the scheduler (on_deposed)
        self.scheduler.stop()
        worker_deadline = deadline - _STOP_MARGIN_S
        dispatcher_stop = threading.Thread(
            target=self._stop_dispatcher, args=(worker_deadline,), name="dispatcher-stop"
        )
        dispatcher_stop.start()
        interrupted = self.launcher.stop(worker_deadline)
        dispatcher_stop.join(timeout=max(0.1, deadline - self.clock.monotonic()))
        self.api.stop()
        self.readiness.close()
        self.store.dispose()
        _log.info(
            "service_stopped",
            instance=self.instance_id,
            interrupted_runs=[r.run_id for r in interrupted],
            dispatcher_stopped=not dispatcher_stop.is_alive(),
        )
        return interrupted

    def _stop_dispatcher(self, deadline: float) -> None:
        try:
            self.deps.dispatcher.stop(max(0.1, deadline - self.clock.monotonic()))
        except Exception as exc:  # the stop must go on
            _log.error("dispatcher_stop_failed", error=str(exc), error_type=type(exc).__name__)
        finally:
            self._dispatcher_running = False

    def _elected(self, epoch: int) -> None:
        self.metrics.set_leader(True, epoch)
        if self._stopping.is_set():
            return
        self.scheduler.start()
        caught_up = self.scheduler.catch_up()
        _log.info("catch_up", epoch=epoch, submitted=[r.job for r in caught_up])

    def _deposed(self) -> None:
        self.metrics.set_leader(False, None)
        self.scheduler.stop()

    def _submit(self, entry: ScheduleEntry, as_of: datetime, trigger: str) -> JobRequest | None:
        if self._stopping.is_set():
            # A firing already handed to APScheduler's executor when the stop began: the
            # lease is being released, so this slot belongs to the next leader.
            return None
        return self.launcher.submit(
            job=entry.job,
            as_of=as_of,
            full=entry.is_full(as_of),
            restaurants=entry.restaurants,
            scope=entry.scope,
            trigger=trigger,
        )

    # -- what the endpoint reports -------------------------------------------------------

    def alive(self) -> bool:
        """Liveness: the process and its main loop are up (also while stopping gracefully)."""
        return self.started_at is not None

    def _dispatcher_state(self) -> str | None:
        if self._stopping.is_set():
            return "stopping"
        return None if self._dispatcher_running else "not running"

    def _scheduler_state(self) -> str | None:
        if self.keeper.is_leader and not self.scheduler.running:
            return "leader without a running scheduler"
        return None

    def info(self) -> dict[str, Any]:
        """``/info``: identity, role, jobs, then the injected sections."""
        now = self.clock.now()
        running = [(r.job, r.scope) for r in self.launcher.in_flight()]
        data: dict[str, Any] = {
            "version": __version__,
            "instance": self.instance_id,
            "role": "leader" if self.keeper.is_leader else "follower",
            "epoch": self.keeper.epoch,
            "started_at": utc_iso(self.started_at) if self.started_at else None,
            "jobs": jobs_overview(
                self.entries, now=now, last_run=self.deps.last_run, running=running
            ),
            "models": {},
            "outbox": {},
            "endpoints": [],
        }
        for section, provider in self.deps.info_providers.items():
            try:
                data[section] = provider()
            except Exception as exc:  # one broken section must not hide the rest
                data[section] = {"error": f"unavailable ({type(exc).__name__})"}
        return data

    def _render_metrics(self) -> bytes:
        if self.deps.metrics_refresh is not None:
            try:
                self.deps.metrics_refresh()
            except Exception as exc:  # serve the counters we have
                _log.warning("metrics_refresh_failed", error_type=type(exc).__name__)
        return self.metrics.render()
