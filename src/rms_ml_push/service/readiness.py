"""``/ready``: dependency checks with a short timeout, cached briefly; live state checks.

Dependency checks (store, RMS) touch the network, so each runs in a helper thread with a
timeout and its verdict is cached for ``cache_s``; a probe that is still hanging from a
previous request is reported as timed out instead of piling up threads. Reasons are
short and never carry a URL or an exception message (they may hold credentials).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from rms_ml_push.clock import Clock
from rms_ml_push.service.protocols import Check


class Readiness:
    """Answers "which parts are not ready?" for ``/ready``."""

    def __init__(
        self,
        *,
        dependencies: Mapping[str, Check | None],
        state: Mapping[str, Callable[[], str | None]],
        clock: Clock,
        timeout_s: float,
        cache_s: float,
    ) -> None:
        # A dependency mapped to None is not configured: always failing, with that reason.
        self._dependencies = dict(dependencies)
        self._state = dict(state)
        self._clock = clock
        self._timeout_s = timeout_s
        self._cache_s = cache_s
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=len(dependencies) or 1, thread_name_prefix="ready"
        )
        self._pending: dict[str, Future[None]] = {}
        self._cached: tuple[float, dict[str, str]] | None = None

    def not_ready(self) -> dict[str, str]:
        """Failing parts and why; empty when ready."""
        failing = dict(self._dependency_failures())
        for name, probe in self._state.items():
            reason = probe()
            if reason is not None:
                failing[name] = reason
        return failing

    def _dependency_failures(self) -> dict[str, str]:
        with self._lock:
            now = self._clock.monotonic()
            if self._cached is not None and now - self._cached[0] < self._cache_s:
                return self._cached[1]
            failures = {
                name: reason
                for name, check in self._dependencies.items()
                if (reason := self._run(name, check)) is not None
            }
            self._cached = (self._clock.monotonic(), failures)
            return failures

    def _run(self, name: str, check: Check | None) -> str | None:
        if check is None:
            return "not configured"
        future = self._pending.get(name)
        if future is None or future.done():
            future = self._pool.submit(check)
            self._pending[name] = future
        try:
            future.result(timeout=self._timeout_s)
        except FutureTimeout:
            return f"no answer within {self._timeout_s:g} s"
        except Exception as exc:  # any failure means not ready; name its kind only
            return f"unavailable ({type(exc).__name__})"
        return None

    def close(self) -> None:
        """Drop the helper threads (a hanging probe is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
