"""The sending side of the dispatcher: per-endpoint lanes of claimed messages.

Each endpoint has a lane: a queue of messages this instance has claimed and at most
``max_in_flight`` runner threads (from one shared pool) that take the next message
as soon as they finish one, so that workers never wait for the loop thread to record
a batch. Runners sign with the attempt's own timestamp and POST under the endpoint's
breaker; outcomes go back to the loop thread, the only writer to the store.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from structlog.stdlib import BoundLogger

from rms_ml_push.clock import Clock
from rms_ml_push.delivery.breaker import AttemptFailedError, Breakers, CircuitOpenError
from rms_ml_push.delivery.policy import GONE_STATUS
from rms_ml_push.delivery.recording import Outcome
from rms_ml_push.delivery.sender import Sender, SendResult
from rms_ml_push.delivery.signing import sign_with_keys
from rms_ml_push.delivery.targets import Sendable, Target


class Lanes:
    """Claimed-but-unrecorded messages per endpoint, and the runners sending them."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        *,
        workers: int,
        clock: Clock,
        sender: Sender,
        breakers: Breakers,
        results: queue.Queue[object],
        log: BoundLogger,
    ) -> None:
        self._targets = targets
        self._clock = clock
        self._sender = sender
        self._breakers = breakers
        self._results = results
        self._log = log
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="delivery")
        self._lock = threading.Lock()
        self._backlog: dict[str, deque[Sendable]] = {n: deque() for n in targets}
        self._runners = dict.fromkeys(targets, 0)
        self._unreported = dict.fromkeys(targets, 0)  # taken by a runner, outcome not recorded
        # Lanes whose endpoint answered 410: runners stop taking messages at once, before
        # the loop has recorded the disable; the loop resumes them when re-enabled.
        self._halted: set[str] = set()

    def add(self, messages: list[Sendable]) -> None:
        """Queue claimed messages and start runners where there is room."""
        with self._lock:
            for msg in messages:
                self._backlog[msg.endpoint].append(msg)
            for name, backlog in self._backlog.items():
                if name in self._halted:
                    continue
                room = self._targets[name].max_in_flight - self._runners[name]
                for _ in range(min(room, len(backlog))):
                    self._runners[name] += 1
                    self._pool.submit(self._run, name)

    def local(self, name: str) -> int:
        """Messages of ``name`` claimed here and not yet recorded."""
        with self._lock:
            return len(self._backlog[name]) + self._unreported[name]

    def total(self) -> int:
        """All messages claimed here and not yet recorded."""
        with self._lock:
            return sum(len(b) for b in self._backlog.values()) + sum(self._unreported.values())

    def attempting(self) -> int:
        """Messages being sent (or sent, outcome not yet recorded)."""
        with self._lock:
            return sum(self._unreported.values())

    def take_unstarted(self, name: str | None = None) -> list[str]:
        """Remove queued messages (of ``name``, or all) before a runner starts them."""
        with self._lock:
            names = [name] if name is not None else list(self._backlog)
            ids = [m.id for n in names for m in self._backlog[n]]
            for n in names:
                self._backlog[n].clear()
        return ids

    def halted(self, name: str) -> bool:
        """True while the lane is stopped by a 410."""
        with self._lock:
            return name in self._halted

    def resume(self, name: str) -> None:
        """Let runners take messages of ``name`` again (the endpoint was re-enabled)."""
        with self._lock:
            self._halted.discard(name)

    def reported(self, outcome: Outcome) -> None:
        """The loop took ``outcome``: it is no longer unrecorded."""
        with self._lock:
            self._unreported[outcome.msg.endpoint] -= 1

    def shutdown(self) -> None:
        """Wait for runners to finish and release the threads."""
        self._pool.shutdown(wait=True)

    def _run(self, name: str) -> None:
        target = self._targets[name]
        while True:
            with self._lock:
                backlog = self._backlog[name]
                if not backlog or name in self._halted:
                    self._runners[name] -= 1
                    return
                msg = backlog.popleft()
                self._unreported[name] += 1
            outcome = self._attempt(msg, target)
            if outcome.result is not None and outcome.result.status_code == GONE_STATUS:
                with self._lock:
                    self._halted.add(name)
            self._results.put(outcome)

    def _attempt(self, msg: Sendable, target: Target) -> Outcome:
        """Sign with this attempt's timestamp, POST under the breaker."""
        started_at = self._clock.now()
        result: SendResult | None
        try:
            timestamp = int(started_at.timestamp())
            headers = {
                "webhook-id": msg.id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign_with_keys(target.keys, msg.id, timestamp, msg.body),
                "content-type": "application/json",
            }
            result = self._post_guarded(target, headers, msg.body)
        except CircuitOpenError:
            result = None  # not attempted: the message waits, no attempt is spent
        except Exception as exc:  # a bug must cost one attempt, not the runner
            self._log.error("attempt_crashed", msg_id=msg.id, exc_info=exc)
            result = SendResult(None, None, "", f"internal error: {type(exc).__name__}", 0.0)
        return Outcome(msg, result, started_at)

    def _post_guarded(self, target: Target, headers: dict[str, str], body: bytes) -> SendResult:
        """POST under the endpoint's breaker; a failed attempt counts as a breaker failure."""
        result = SendResult(None, None, "", "not sent", 0.0)
        try:
            with self._breakers.guard(target.name):
                result = self._sender.post(target.url, headers, body, target.timeout_s)
                _raise_unless_ok(result)
        except AttemptFailedError:
            pass
        return result


def _raise_unless_ok(result: SendResult) -> None:
    """Make a non-2xx count as a failure for the breaker (it only sees exceptions)."""
    if not result.ok:
        raise AttemptFailedError
