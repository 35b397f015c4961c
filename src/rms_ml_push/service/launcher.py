"""Job runs in worker processes: submit, track, log, and stop within a bound.

Training is CPU-bound, so it runs in a ``ProcessPoolExecutor`` (spawn: no forked locks or
connections) and the HTTP endpoint and the dispatcher threads never wait behind it.
A slot ``(job, scope, as_of)`` is submitted at most once while it is in the pool; the
store's unique run records guard the same across instances.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Any

from rms_ml_push.clock import Clock
from rms_ml_push.logs import bind_context, clear_context, configure_logging, get_logger
from rms_ml_push.metrics import Metrics
from rms_ml_push.service.protocols import JobRequest, JobRunner, ServiceDeps

_log = get_logger("rms_ml_push.service")


def init_worker(log_level: str, log_format: str) -> None:
    """Worker process start-up: same logs as the parent; Ctrl-C is the parent's business."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(log_level, log_format)  # type: ignore[arg-type]
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True
    ).start()


def _exit_with_parent(parent_pid: int, every_s: float = 1.0) -> None:
    """End this worker when its parent is gone (SIGKILLed, OOM-killed).

    A pool worker waits on a pipe it also holds the other end of, so it never sees the
    parent die and would linger forever. A run cut short here is left ``running``; its
    heartbeat goes stale and the slot is taken over (``store/runs.py``).
    """
    while os.getppid() == parent_pid:
        time.sleep(every_s)
    os._exit(1)


def new_run_id() -> str:
    """A fresh run id (``run_`` and 24 hex digits)."""
    return "run_" + secrets.token_hex(12)


class JobLauncher:
    """Owns the worker pool; the scheduler and catch-up submit requests to it."""

    def __init__(
        self,
        *,
        runner: JobRunner,
        deps: ServiceDeps,
        metrics: Metrics,
        clock: Clock,
        instance: str,
        workers: int,
        log_level: str = "INFO",
        log_format: str = "json",
    ) -> None:
        self._runner = runner
        self._deps = deps
        self._metrics = metrics
        self._clock = clock
        self._instance = instance
        self._workers = workers
        self._log_args = (log_level, log_format)
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._running: dict[str, tuple[JobRequest, Future[Any], float]] = {}
        self._stopping = False

    def start(self) -> None:
        """Create the worker pool (workers start lazily, on the first run)."""
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=self._log_args,
        )

    def in_flight(self) -> list[JobRequest]:
        """Requests submitted and not yet settled."""
        with self._lock:
            return [req for req, _, _ in self._running.values()]

    def submit(
        self,
        *,
        job: str,
        as_of: datetime,
        full: bool,
        restaurants: tuple[int, ...],
        scope: str,
        trigger: str,
    ) -> JobRequest | None:
        """Queue one run; None when that slot is already in the pool or we are stopping."""
        req = JobRequest(job, as_of, full, restaurants, scope, trigger, new_run_id())
        with self._lock:
            if self._stopping or self._pool is None:
                return None
            if any(
                (r.job, r.scope, r.as_of) == (job, scope, as_of)
                for r, _, _ in self._running.values()
            ):
                return None
            future = self._submit_locked(req)
            self._running[req.run_id] = (req, future, self._clock.monotonic())
        self._event("job_run_submitted", req)
        future.add_done_callback(lambda fut: self._settle(req, fut))
        return req

    def _submit_locked(self, req: JobRequest) -> Future[Any]:
        args = (req.job, req.as_of, req.full, req.restaurants, req.trigger)
        assert self._pool is not None  # checked by the caller
        try:
            return self._pool.submit(self._runner, *args, run_id=req.run_id)
        except BrokenProcessPool:
            # A worker died (OOM-killed?): the pool is unusable; start a new one.
            _log.warning("worker_pool_broken", instance=self._instance)
            self._pool = self._new_pool()
            return self._pool.submit(self._runner, *args, run_id=req.run_id)

    def _pop(self, req: JobRequest) -> float | None:
        with self._lock:
            entry = self._running.pop(req.run_id, None)
        return None if entry is None else self._clock.monotonic() - entry[2]

    def _settle(self, req: JobRequest, future: Future[Any]) -> None:
        if self._stopping and (future.cancelled() or _broken(future)):
            return  # stop() records these as interrupted
        duration_s = self._pop(req)
        if duration_s is None:
            return  # already settled by stop()
        error = None if future.cancelled() else future.exception()
        result: Mapping[str, Any] | None = None if error is not None else future.result()
        status = _status(result, error)
        self._metrics.job_run_finished(req.job, status, duration_s)
        extra = (
            {"error": str(error), "error_type": type(error).__name__}
            if error is not None
            else {"result": dict(result or {})}
        )
        self._event(
            "job_run_finished", req, status=status, duration_s=round(duration_s, 3), **extra
        )
        if self._deps.on_run_finished is not None:
            try:
                self._deps.on_run_finished(req, result, error)
            except Exception as exc:  # a recording failure must not kill the pool thread
                self._event(
                    "job_run_record_failed", req, error=str(exc), error_type=type(exc).__name__
                )

    def heartbeat(self) -> None:
        """Tell the run records that the runs still in the pool are alive."""
        if self._deps.heartbeat is None:
            return
        for req in self.in_flight():
            try:
                self._deps.heartbeat(req)
            except Exception as exc:  # next beat retries
                self._event("job_run_heartbeat_failed", req, error_type=type(exc).__name__)

    def stop(self, deadline: float) -> list[JobRequest]:
        """Let runs finish until ``deadline`` (monotonic), then terminate and record the rest."""
        with self._lock:
            self._stopping = True
            pool, self._pool = self._pool, None
            futures = [fut for _, fut, _ in self._running.values()]
        if pool is None:
            return []
        # shutdown() forgets the worker processes: take them first, to terminate later.
        workers = _worker_processes(pool)
        pool.shutdown(wait=False, cancel_futures=True)
        wait(futures, timeout=max(0.0, deadline - self._clock.monotonic()))
        leftovers = self.in_flight()
        if leftovers:
            _terminate_workers(workers, timeout_s=max(0.5, deadline - self._clock.monotonic()))
        for req in leftovers:
            duration_s = self._pop(req)
            if duration_s is None:
                continue
            self._metrics.job_run_finished(req.job, "interrupted", duration_s)
            self._event("job_run_interrupted", req, duration_s=round(duration_s, 3))
            try:
                self._deps.record_interrupted(req, "service stopped before the run finished")
            except Exception as exc:  # log it; the run's heartbeat goes stale anyway
                self._event(
                    "job_run_record_failed", req, error=str(exc), error_type=type(exc).__name__
                )
        return leftovers

    def _event(self, event: str, req: JobRequest, **fields: Any) -> None:
        tokens = bind_context(instance=self._instance, job=req.job, run_id=req.run_id)
        try:
            _log.info(
                event,
                as_of=req.as_of.isoformat(),
                scope=req.scope,
                full=req.full,
                trigger=req.trigger,
                **fields,
            )
        finally:
            clear_context(tokens)


def _status(result: Mapping[str, Any] | None, error: BaseException | None) -> str:
    """failed on an exception; else the runner's own verdict (failed, skipped, succeeded)."""
    if error is not None:
        return "failed"
    return str((result or {}).get("status") or "succeeded")


def _broken(future: Future[Any]) -> bool:
    try:
        return isinstance(future.exception(timeout=0), BrokenProcessPool | CancelledError)
    except CancelledError:
        return True


def _worker_processes(pool: ProcessPoolExecutor) -> list[Any]:
    # concurrent.futures has no public terminate before Python 3.14; _processes is its
    # map of worker pid -> multiprocessing.Process.
    return list((getattr(pool, "_processes", None) or {}).values())


def _terminate_workers(processes: list[Any], timeout_s: float) -> None:
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout_s)
        if proc.is_alive():
            proc.kill()
