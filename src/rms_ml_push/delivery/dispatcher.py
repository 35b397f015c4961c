"""The dispatcher: claim due messages with a lease, send outside any transaction, record.

One loop thread owns every store write (claims, acknowledgements, the reaper), so that
SQLite's single writer is never contended by the workers; a small thread pool does the
HTTP. Per endpoint at most ``max_in_flight`` requests run and about as many more are
claimed ahead, so that leases never wait long behind a slow endpoint.

Entry points: :meth:`Dispatcher.run_once` (one claim-send-record round, for tests and
scripts), :meth:`Dispatcher.drain` (``deliver --until-empty``), :meth:`Dispatcher.start`
and :meth:`Dispatcher.stop` (the service: a background thread and a graceful stop that
finishes in-flight requests and releases the leases it has not started).
"""

from __future__ import annotations

import os
import queue
import random
import secrets
import socket
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from rms_ml_push.clock import Clock, SystemClock
from rms_ml_push.config import Settings
from rms_ml_push.delivery.breaker import Breakers
from rms_ml_push.delivery.loop_connection import LoopConnection
from rms_ml_push.delivery.policy import RetryPolicy
from rms_ml_push.delivery.recording import AttemptObserver, Outcome, Recorder
from rms_ml_push.delivery.sender import Sender
from rms_ml_push.delivery.targets import Sendable, Target, build_targets, check_claimed
from rms_ml_push.delivery.workers import Lanes
from rms_ml_push.logs import get_logger
from rms_ml_push.store import endpoint_state, leasing, messages
from rms_ml_push.store.endpoint_state import EndpointState
from rms_ml_push.store.engine import Store

# A message for an endpoint missing from this instance's settings waits this long before
# it is looked at again (another instance, or the next deploy, may know the endpoint).
UNKNOWN_ENDPOINT_RECHECK_S = 3600.0
STRAY_CHECK_S = 30.0
PREFETCH = 4
# How long the loop lingers for more finished requests before recording a batch.
COALESCE_S = 0.008
_STOP = object()
_WAKE = object()


def default_instance_id(settings: Settings) -> str:
    """A lease owner unique to this dispatcher: the configured id or host-pid, plus a token."""
    base = settings.instance_id or f"{socket.gethostname()[:30]}-{os.getpid()}"
    return f"{base}-{secrets.token_hex(3)}"


class Dispatcher:
    """Delivers the outbox; see the module docstring for the entry points."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        clock: Clock | None = None,
        sender: Sender | None = None,
        rng: random.Random | None = None,
        instance_id: str | None = None,
        on_attempt: AttemptObserver | None = None,
    ) -> None:
        d = settings.delivery
        self._store = store
        self._settings = settings
        self._clock = clock or SystemClock()
        self.owner = instance_id or default_instance_id(settings)
        self._targets = build_targets(settings.endpoints)
        self._own_sender = sender is None
        total = sum(t.max_in_flight for t in self._targets.values()) or 1
        self._sender = sender or Sender(
            max_connections=total, excerpt_bytes=d.response_excerpt_bytes
        )
        self._breakers = Breakers(fail_max=d.breaker_fail_max, reset_s=d.breaker_reset_s)
        self._log = get_logger("rms_ml_push.delivery", instance=self.owner)
        policy = RetryPolicy(
            d.retry_schedule_s, d.retry_jitter, d.retry_after_cap_s, d.slow_down_min_s
        )
        self._recorder = Recorder(
            policy,
            self.owner,
            settings.endpoints,
            self._log,
            rng or random.Random(),
            on_attempt=on_attempt,
        )
        self._results: queue.Queue[object] = queue.Queue()
        self._lanes = Lanes(
            self._targets,
            workers=d.workers,
            clock=self._clock,
            sender=self._sender,
            breakers=self._breakers,
            results=self._results,
            log=self._log,
        )
        self._next_reap = self._clock.monotonic()
        self._next_stray_check = self._clock.monotonic()
        self._states: dict[str, EndpointState] | None = None
        self._loop_conn = LoopConnection(store)
        self._states_until = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- entry points -------------------------------------------------------------

    def run_once(self) -> int:
        """Claim what is due now, send it, record every outcome; returns attempts recorded."""
        recorded = self._step(fresh=True)
        while self._local_in_flight():
            self._wait(self._settings.delivery.poll_interval_s)
            recorded += self._step(claim=False)
        return recorded

    def drain(self, *, max_seconds: float | None = None) -> bool:
        """Deliver until nothing is pending or in flight for an enabled endpoint.

        Waits for scheduled retries. Returns True when empty, False when ``max_seconds``
        passed first (leases then released, in-flight requests finished).
        """
        deadline = None if max_seconds is None else self._clock.monotonic() + max_seconds
        poll_s = self._settings.delivery.poll_interval_s
        try:
            while True:
                self._step()
                if not self._local_in_flight() and self._outstanding() == 0:
                    return True
                if deadline is not None and self._clock.monotonic() >= deadline:
                    return False
                self._wait(poll_s)
        finally:
            self._finish_in_flight()

    def start(self) -> None:
        """Run the loop in a background thread until :meth:`stop`."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 35.0) -> None:
        """Stop claiming, finish in-flight requests, release unstarted leases, close."""
        self._stopping.set()
        self._results.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
        else:
            self._finish_in_flight()
        self.close()

    def wake(self) -> None:
        """Claim now instead of at the next poll (call after committing an enqueue)."""
        self._results.put(_WAKE)

    def close(self) -> None:
        """Release the pool, the loop's connection and, if it is ours, the HTTP client."""
        self._lanes.shutdown()
        self._loop_conn.close()
        if self._own_sender:
            self._sender.close()

    def breaker_state(self, endpoint: str) -> str:
        """This process's breaker state for ``endpoint``."""
        return self._breakers.state(endpoint)

    # ---- the loop -----------------------------------------------------------------

    def _loop(self) -> None:
        poll_s = self._settings.delivery.poll_interval_s
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception as exc:  # a store hiccup must not end delivery for good
                self._log.error(
                    "dispatcher_step_failed", error_type=type(exc).__name__, exc_info=exc
                )
                self._stopping.wait(poll_s)
                continue
            self._wait(poll_s)
        self._finish_in_flight()

    def _step(self, *, claim: bool = True, fresh: bool = False) -> int:
        outcomes = self._take_results()
        now = self._clock.now()
        claimed: list[Sendable] = []
        with self._loop_conn.transaction() as conn:
            states = self._endpoint_states(conn, now, fresh=fresh or _any_failed(outcomes))
            recorded = self._recorder.apply(conn, outcomes, now) if outcomes else 0
            if self._persist_opened_breakers(conn, now) or _any_failed(outcomes):
                states = self._endpoint_states(conn, now, fresh=True)
            if self._clock.monotonic() >= self._next_reap:
                self._reap(conn, now)
            self._release_blocked(conn, states, now)
            if claim and not self._stopping.is_set():
                claimed = self._claim(conn, states, now)
        self._lanes.add(claimed)
        return recorded

    def _endpoint_states(
        self, conn: Connection, now: datetime, *, fresh: bool
    ) -> dict[str, EndpointState]:
        """Endpoint states, re-read at most every poll interval unless something failed.

        An operator's disable made elsewhere is therefore seen within one poll interval.
        """
        # Real elapsed time, not the injected clock: this is about polling the store.
        mono = time.monotonic()
        if self._states is None:
            endpoint_state.ensure(conn, list(self._targets), now)
        if fresh or self._states is None or mono >= self._states_until:
            self._states = endpoint_state.load(conn)
            self._states_until = mono + min(self._settings.delivery.poll_interval_s, 1.0)
        return self._states

    def _reap(self, conn: Connection, now: datetime) -> None:
        reaped = leasing.reap(conn, now=now)
        if reaped:
            self._log.warning("leases_reaped", messages=reaped)
        self._next_reap = self._clock.monotonic() + min(self._settings.delivery.lease_s / 2, 5.0)

    def _persist_opened_breakers(self, conn: Connection, now: datetime) -> bool:
        reset_s = self._settings.delivery.breaker_reset_s
        opened = self._breakers.take_opened()
        for name in opened:
            until = now + timedelta(seconds=reset_s)
            endpoint_state.set_paused(conn, name, until=until, now=now)
            self._log.warning("breaker_opened", endpoint=name, paused_until=until)
        return bool(opened)

    def _release_blocked(
        self, conn: Connection, states: dict[str, EndpointState], now: datetime
    ) -> None:
        """Give back claimed-ahead messages of an endpoint that got disabled or paused."""
        for name, state in states.items():
            if name in self._targets and (state.disabled or state.paused(now)):
                unstarted = self._lanes.take_unstarted(name)
                leasing.release(conn, unstarted, owner=self.owner, now=now)

    def _claim(
        self, conn: Connection, states: dict[str, EndpointState], now: datetime
    ) -> list[Sendable]:
        d = self._settings.delivery
        budget = d.batch_size
        claimed: list[Sendable] = []
        for target in self._targets.values():
            want = min(budget, self._want(target, states.get(target.name), now))
            if want <= 0:
                continue
            rows = leasing.claim(
                conn, owner=self.owner, now=now, lease_s=d.lease_s, limit=want, endpoint=target.name
            )
            budget -= len(rows)
            claimed.extend(self._checked(conn, rows, now))
        if budget > 0 and self._clock.monotonic() >= self._next_stray_check:
            # Rare: scanning for endpoints we do not know costs a pass over due messages.
            self._next_stray_check = self._clock.monotonic() + STRAY_CHECK_S
            strays = leasing.claim(
                conn,
                owner=self.owner,
                now=now,
                lease_s=d.lease_s,
                limit=budget,
                exclude_endpoints=list(self._targets),
            )
            self._park_unknown(conn, strays, now)
        return claimed

    def _want(self, target: Target, state: EndpointState | None, now: datetime) -> int:
        if not target.enabled or (state is not None and (state.disabled or state.paused(now))):
            return 0
        if self._lanes.halted(target.name):
            self._lanes.resume(target.name)  # re-enabled since the 410 halted its lane
        local = self._lanes.local(target.name)
        if self._breakers.state(target.name) != "closed":
            # pybreaker lets every caller through when half-open; we send one probe.
            return 1 if local == 0 else 0
        # Keep up to PREFETCH x max_in_flight claimed, so that workers stay busy while the
        # loop records a batch, and claim in chunks rather than one message per request.
        want = PREFETCH * target.max_in_flight - local
        return want if local == 0 or want >= target.max_in_flight else 0

    def _checked(
        self, conn: Connection, rows: list[leasing.Claimed], now: datetime
    ) -> list[Sendable]:
        good: list[Sendable] = []
        for row in rows:
            checked = check_claimed(row)
            if isinstance(checked, Sendable):
                good.append(checked)
                continue
            self._log.error("message_corrupt", msg_id=str(row.id)[:64], reason=checked)
            leasing.park(
                conn,
                str(row.id),
                owner=self.owner,
                status="dead",
                until=now,
                reason=checked,
                now=now,
            )
        return good

    def _park_unknown(self, conn: Connection, rows: list[leasing.Claimed], now: datetime) -> None:
        until = now + timedelta(seconds=UNKNOWN_ENDPOINT_RECHECK_S)
        for row in rows:
            reason = f"unknown endpoint {str(row.endpoint)[:64]!r}: not in this instance's settings"
            self._log.error("message_unknown_endpoint", msg_id=str(row.id)[:64], reason=reason)
            leasing.park(
                conn,
                str(row.id),
                owner=self.owner,
                status="pending",
                until=until,
                reason=reason,
                now=now,
            )

    def _take_results(self) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while True:
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                return outcomes
            if isinstance(item, Outcome):
                self._lanes.reported(item)
                outcomes.append(item)

    def _wait(self, timeout_s: float) -> None:
        """Block until a worker reports (or stop is asked), at most ``timeout_s``.

        When many requests are under way, linger a few milliseconds for more results so
        that one store transaction records several attempts.
        """
        try:
            item = self._results.get(timeout=timeout_s)
        except queue.Empty:
            return
        if item is _STOP or item is _WAKE:
            return
        self._results.put(item)
        running = self._lanes.attempting()
        deadline = time.monotonic() + COALESCE_S
        while running >= 4 and self._results.qsize() < running:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(left, 0.001))

    def _local_in_flight(self) -> int:
        return self._lanes.total()

    def _outstanding(self) -> int:
        with self._store.read() as conn:
            states = endpoint_state.load(conn)
            names = [
                t.name
                for t in self._targets.values()
                if t.enabled and not (states.get(t.name) and states[t.name].disabled)
            ]
            pending, in_flight = messages.count_outstanding(conn, names)
        return pending + in_flight

    def _finish_in_flight(self) -> None:
        """Release what was claimed but not started; wait for and record what was."""
        unstarted = self._lanes.take_unstarted()
        if unstarted:
            with self._store.write() as conn:
                leasing.release(conn, unstarted, owner=self.owner, now=self._clock.now())
        while self._lanes.total():
            self._wait(1.0)
            self._step(claim=False)


def _any_failed(outcomes: list[Outcome]) -> bool:
    """True if an outcome may change endpoint state (a failure or an unsent message)."""
    return any(o.result is None or not o.result.ok for o in outcomes)
