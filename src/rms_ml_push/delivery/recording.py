"""Fold finished attempts into the store: one guarded UPDATE per message, attempt rows,
endpoint state, and the operational events that a dead message or a 410 triggers."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection
from structlog.stdlib import BoundLogger

from rms_ml_push.config import EndpointSettings
from rms_ml_push.delivery import operational
from rms_ml_push.delivery.policy import Decision, RetryPolicy, Verdict, decide
from rms_ml_push.delivery.sender import SendResult
from rms_ml_push.delivery.targets import Sendable
from rms_ml_push.store import endpoint_state, leasing, outbox

# Told of every attempt made: (endpoint, verdict, duration in seconds); e.g. metrics.
AttemptObserver = Callable[[str, str, float], None]
# An endpoint that keeps succeeding has its last_success_at refreshed this often.
HEALTHY_STATE_EVERY_S = 1.0
_STATUS = {
    Verdict.DELIVERED: "delivered",
    Verdict.RETRY: "pending",
    Verdict.DEAD: "dead",
    Verdict.DISABLE: "pending",
}


@dataclass(frozen=True)
class Outcome:
    """What a worker did with one message: ``result`` is None when nothing was sent."""

    msg: Sendable
    result: SendResult | None
    started_at: datetime
    error: str | None = None


@dataclass
class _EndpointTally:
    successes: int = 0
    failures_since_success: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


@dataclass
class Recorder:
    """Applies outcomes; across batches it keeps only the rng and when it last wrote
    each endpoint's state (to skip rewriting an unchanged, healthy one every batch)."""

    policy: RetryPolicy
    owner: str
    endpoints: Sequence[EndpointSettings]
    log: BoundLogger
    rng: random.Random = field(default_factory=random.Random)
    on_attempt: AttemptObserver | None = None
    _healthy_written: dict[str, datetime] = field(default_factory=dict)

    def apply(self, conn: Connection, outcomes: Sequence[Outcome], now: datetime) -> int:
        """Record every outcome in ``conn``'s transaction; returns attempts recorded."""
        tallies: dict[str, _EndpointTally] = {}
        attempt_rows: list[dict[str, object]] = []
        unsent = [o.msg.id for o in outcomes if o.result is None]
        delivered: list[tuple[Outcome, SendResult, Decision]] = []
        for o in outcomes:
            result = o.result
            if result is None:
                continue
            decision = decide(
                self.policy,
                failures_before=o.msg.failures,
                status_code=result.status_code,
                retry_after=result.retry_after,
                error=result.error,
                now=now,
                rng=self.rng,
            )
            if decision.verdict is Verdict.DELIVERED:
                delivered.append((o, result, decision))
            else:
                self._transition(conn, o, result, decision, now)
            attempt_rows.append(self._attempt_row(o, result))
            self._tally(tallies.setdefault(o.msg.endpoint, _EndpointTally()), o, decision)
        self._delivered(conn, delivered, now)
        leasing.release(conn, unsent, owner=self.owner, now=now)
        leasing.record_attempts(conn, attempt_rows)
        for name, tally in tallies.items():
            if not self._state_due(name, tally, now):
                continue
            endpoint_state.record_outcomes(
                conn,
                name,
                successes=tally.successes,
                failures_after_last_success=tally.failures_since_success,
                last_success_at=tally.last_success_at,
                last_error=tally.last_error,
                last_error_at=tally.last_error_at,
                now=now,
            )
        return len(attempt_rows)

    def _state_due(self, name: str, tally: _EndpointTally, now: datetime) -> bool:
        """Write a failure at once; a run of successes at most once a second."""
        if tally.failures_since_success or tally.successes == 0:
            self._healthy_written.pop(name, None)
            return True
        last = self._healthy_written.get(name)
        if last is not None and (now - last).total_seconds() < HEALTHY_STATE_EVERY_S:
            return False
        self._healthy_written[name] = now
        return True

    def _delivered(
        self, conn: Connection, done: list[tuple[Outcome, SendResult, Decision]], now: datetime
    ) -> None:
        """The common case in one statement: every 2xx of the batch at once."""
        owned = leasing.finish_delivered(
            conn, [o.msg.id for o, _, _ in done], owner=self.owner, now=now
        )
        for o, result, decision in done:
            self._log_attempt(o, result, decision, owned=o.msg.id in owned)

    def _transition(
        self, conn: Connection, o: Outcome, result: SendResult, decision: Decision, now: datetime
    ) -> None:
        verdict = decision.verdict
        owned = leasing.finish(
            conn,
            o.msg.id,
            owner=self.owner,
            status=_STATUS[verdict],
            now=now,
            next_attempt_at=decision.next_attempt_at,
            failed=verdict in (Verdict.RETRY, Verdict.DEAD),
            last_error=decision.error,
        )
        self._log_attempt(o, result, decision, owned=owned)
        if not owned:
            return
        if verdict is Verdict.DEAD:
            self._dead(conn, o, decision, now)
        elif verdict is Verdict.DISABLE:
            self._disable(conn, o.msg.endpoint, decision, result.status_code, now)

    def _log_attempt(
        self, o: Outcome, result: SendResult, decision: Decision, *, owned: bool
    ) -> None:
        """The one canonical log line per delivery attempt."""
        self.log.info(
            "delivery_attempt",
            msg_id=o.msg.id,
            endpoint=o.msg.endpoint,
            type=o.msg.type,
            attempt=o.msg.attempts + 1,
            trigger=o.msg.trigger,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            verdict=decision.verdict.value,
            next_attempt_at=decision.next_attempt_at,
            lease_lost=not owned,
        )
        if self.on_attempt is not None:
            try:
                self.on_attempt(o.msg.endpoint, decision.verdict.value, result.duration_ms / 1000)
            except Exception as exc:  # an observer must never stop the recording
                self.log.warning("attempt_observer_failed", error_type=type(exc).__name__)

    def _dead(self, conn: Connection, o: Outcome, decision: Decision, now: datetime) -> None:
        self.log.error(
            "message_dead",
            msg_id=o.msg.id,
            endpoint=o.msg.endpoint,
            type=o.msg.type,
            attempts=o.msg.attempts + 1,
            last_error=decision.error,
        )
        if o.msg.type in (operational.MESSAGE_DEAD, operational.ENDPOINT_DISABLED):
            return  # an operational event about an operational event would only echo
        event = operational.message_dead(
            message_id=o.msg.id,
            message_type=o.msg.type,
            endpoint=o.msg.endpoint,
            attempts=o.msg.attempts + 1,
            last_error=decision.error,
            now=now,
        )
        outbox.enqueue(conn, [event], self.endpoints, now=now, max_body_bytes=len(event.body))

    def _disable(
        self, conn: Connection, name: str, decision: Decision, status: int | None, now: datetime
    ) -> None:
        reason = f"{decision.error} from the endpoint"
        if not endpoint_state.set_disabled(conn, name, disabled=True, reason=reason, now=now):
            return
        self.log.error("endpoint_disabled", endpoint=name, reason=reason, status_code=status)
        event = operational.endpoint_disabled(name, reason=reason, status_code=status, now=now)
        outbox.enqueue(conn, [event], self.endpoints, now=now, max_body_bytes=len(event.body))

    def _attempt_row(self, o: Outcome, result: SendResult) -> dict[str, object]:
        return {
            "message_id": o.msg.id,
            "number": o.msg.attempts + 1,
            "trigger": o.msg.trigger,
            "started_at": o.started_at,
            "duration_ms": result.duration_ms,
            "status_code": result.status_code,
            "error": result.error,
            "response_excerpt": result.excerpt or None,
            "instance": self.owner,
        }

    @staticmethod
    def _tally(tally: _EndpointTally, o: Outcome, decision: Decision) -> None:
        if decision.verdict is Verdict.DELIVERED:
            tally.successes += 1
            tally.failures_since_success = 0
            tally.last_success_at = o.started_at
        else:
            tally.failures_since_success += 1
            tally.last_error = decision.error
            tally.last_error_at = o.started_at
