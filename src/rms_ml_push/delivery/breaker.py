"""Per-endpoint circuit breakers (pybreaker), kept per process.

pybreaker's state lives in memory and it reads the wall clock itself (design.md,
"Pitfalls"), so the state shared across instances and restarts is the store's
``endpoint_state.paused_until``: when a breaker here opens, the dispatcher persists
"paused until now + reset timeout" and every instance stops claiming that endpoint's
messages until then. Requests are wrapped with ``breaker.calling()``, never
``breaker.call()``, and the breaker never holds its lock during a request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pybreaker


class AttemptFailedError(Exception):
    """Raised inside ``calling()`` so that pybreaker counts a failed attempt."""


class _OpenedListener(pybreaker.CircuitBreakerListener):
    def __init__(self, registry: Breakers, name: str) -> None:
        self._registry = registry
        self._name = name

    def state_change(self, cb: pybreaker.CircuitBreaker, old: object, new: object) -> None:
        if getattr(new, "name", None) == pybreaker.STATE_OPEN:
            self._registry.note_opened(self._name)


class Breakers:
    """One breaker per endpoint name; thread-safe."""

    def __init__(self, *, fail_max: int, reset_s: float) -> None:
        self._fail_max = fail_max
        self._reset_s = reset_s
        self._lock = threading.Lock()
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}
        self._opened: set[str] = set()

    def get(self, name: str) -> pybreaker.CircuitBreaker:
        """The breaker of endpoint ``name``, created on first use."""
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = pybreaker.CircuitBreaker(
                    fail_max=self._fail_max,
                    reset_timeout=self._reset_s,
                    name=name,
                    # Keep our own exception on the tripping call, so its result is recorded.
                    throw_new_error_on_trip=False,
                    listeners=[_OpenedListener(self, name)],
                )
                self._breakers[name] = breaker
            return breaker

    def state(self, name: str) -> str:
        """``closed``, ``open`` or ``half-open``."""
        with self._lock:
            breaker = self._breakers.get(name)
        return pybreaker.STATE_CLOSED if breaker is None else str(breaker.current_state)

    def note_opened(self, name: str) -> None:
        """Called by the listener; the dispatcher persists it with :meth:`take_opened`."""
        with self._lock:
            self._opened.add(name)

    def take_opened(self) -> set[str]:
        """Endpoints whose breaker opened since the last call."""
        with self._lock:
            opened, self._opened = self._opened, set()
        return opened

    @contextmanager
    def guard(self, name: str) -> Iterator[None]:
        """Run a request under the endpoint's breaker; raises CircuitBreakerError if open."""
        with self.get(name).calling():
            yield


CircuitOpenError = pybreaker.CircuitBreakerError
