"""Retry policy as pure arithmetic (webhook-contract.md, "Response handling", "Retries").

Given what one attempt produced, :func:`decide` says what happens to the message:
delivered, retried at a time, dead, or held pending while its endpoint is disabled
(410). The caller passes ``now`` and a random source; nothing here reads a clock.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

# 429/502/503/504 ask the sender to slow down; 410 says the endpoint is gone.
SLOW_DOWN_STATUSES = frozenset({429, 502, 503, 504})
GONE_STATUS = 410


class Verdict(StrEnum):
    """What an attempt means for its message."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"
    DISABLE = "disable"  # 410: endpoint disabled, message stays pending


@dataclass(frozen=True)
class RetryPolicy:
    """The schedule and its knobs (from DeliverySettings)."""

    schedule_s: Sequence[float]
    jitter: float = 0.2
    retry_after_cap_s: float = 86400.0
    slow_down_min_s: float = 60.0


@dataclass(frozen=True)
class Decision:
    """The outcome of one attempt for the message."""

    verdict: Verdict
    next_attempt_at: datetime | None
    error: str | None


def jittered(delay_s: float, jitter: float, rng: random.Random) -> float:
    """``delay_s`` scaled by a uniform factor in ``[1 - jitter, 1 + jitter]``."""
    return max(0.0, delay_s * (1.0 + rng.uniform(-jitter, jitter)))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def describe_failure(status_code: int | None, error: str | None) -> str:
    """A short operator-facing reason for a failed attempt."""
    if status_code is not None:
        return f"HTTP {status_code}"
    return error or "unknown error"


def decide(
    policy: RetryPolicy,
    *,
    failures_before: int,
    status_code: int | None,
    retry_after: str | None,
    error: str | None,
    now: datetime,
    rng: random.Random,
) -> Decision:
    """What an attempt means: ``failures_before`` counts earlier failed attempts.

    The first attempt is immediate; the delay after the n-th failed attempt is the
    schedule's n-th entry; the message is dead after ``len(schedule) + 1`` failures.
    """
    if status_code is not None and 200 <= status_code < 300:
        return Decision(Verdict.DELIVERED, None, None)
    reason = describe_failure(status_code, error)
    if status_code == GONE_STATUS:
        # Not the message's fault: it waits, unspent, until an operator re-enables.
        return Decision(Verdict.DISABLE, now, reason)
    failures = failures_before + 1
    if failures > len(policy.schedule_s):
        return Decision(Verdict.DEAD, None, reason)
    delay_s = jittered(policy.schedule_s[failures - 1], policy.jitter, rng)
    if status_code in SLOW_DOWN_STATUSES:
        delay_s = max(delay_s, slow_down_s(policy, retry_after, now))
    return Decision(Verdict.RETRY, now + timedelta(seconds=delay_s), reason)


def slow_down_s(policy: RetryPolicy, retry_after: str | None, now: datetime) -> float:
    """The floor a slow-down answer puts on the next delay: Retry-After (capped) or 60 s."""
    asked = parse_retry_after(retry_after, now)
    if asked is None:
        return policy.slow_down_min_s
    return min(asked, policy.retry_after_cap_s)
