"""Retry policy: schedule, jitter bounds, slow-down, Retry-After, 410 and dead."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rms_ml_push.config import DEFAULT_RETRY_SCHEDULE_S
from rms_ml_push.delivery.policy import (
    RetryPolicy,
    Verdict,
    decide,
    jittered,
    parse_retry_after,
)

NOW = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
POLICY = RetryPolicy(DEFAULT_RETRY_SCHEDULE_S, jitter=0.2)
EXACT = RetryPolicy((5.0, 300.0, 1800.0), jitter=0.0)


def _decide(policy: RetryPolicy, failures: int, status: int | None, retry_after: str | None = None):  # type: ignore[no-untyped-def]
    return decide(
        policy,
        failures_before=failures,
        status_code=status,
        retry_after=retry_after,
        error=None if status else "ConnectError",
        now=NOW,
        rng=random.Random(1),
    )


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_delivers(status: int) -> None:
    """Every 2xx, and only 2xx, is a delivery."""
    assert _decide(EXACT, 0, status).verdict is Verdict.DELIVERED


@pytest.mark.parametrize(
    ("failures", "status", "delay_s"),
    [(0, 500, 5), (1, 500, 300), (2, None, 1800), (0, 301, 5), (0, 400, 5), (1, 302, 300)],
)
def test_schedule_table(failures: int, status: int | None, delay_s: float) -> None:
    """The delay after the n-th failure is the schedule's n-th entry; 3xx is a failure."""
    d = _decide(EXACT, failures, status)
    assert d.verdict is Verdict.RETRY
    assert d.next_attempt_at == NOW + timedelta(seconds=delay_s)


def test_dead_after_len_plus_one_failures() -> None:
    """With a 3-entry schedule, the 4th failed attempt makes the message dead."""
    assert _decide(EXACT, 2, 500).verdict is Verdict.RETRY
    assert _decide(EXACT, 3, 500).verdict is Verdict.DEAD


def test_gone_disables_and_keeps_pending() -> None:
    """410 disables the endpoint; the message waits, due at once, nothing spent."""
    d = _decide(EXACT, 3, 410)
    assert d.verdict is Verdict.DISABLE
    assert d.next_attempt_at == NOW


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_slow_down_without_retry_after_waits_60s(status: int) -> None:
    """A slow-down answer without Retry-After waits max(schedule, 60 s)."""
    assert _decide(EXACT, 0, status).next_attempt_at == NOW + timedelta(seconds=60)
    assert _decide(EXACT, 1, status).next_attempt_at == NOW + timedelta(seconds=300)


def test_retry_after_seconds_and_cap() -> None:
    """Retry-After in seconds raises the delay and is capped at 24 h."""
    assert _decide(EXACT, 0, 429, "120").next_attempt_at == NOW + timedelta(seconds=120)
    assert _decide(EXACT, 0, 429, "2").next_attempt_at == NOW + timedelta(seconds=5)
    assert _decide(EXACT, 0, 503, "999999999").next_attempt_at == NOW + timedelta(hours=24)


def test_retry_after_http_date() -> None:
    """Retry-After as an HTTP date counts from now."""
    value = "Sat, 28 Nov 2026 06:10:00 GMT"
    assert parse_retry_after(value, NOW) == 600.0
    assert _decide(EXACT, 0, 503, value).next_attempt_at == NOW + timedelta(minutes=10)


@pytest.mark.parametrize("value", ["soon", "-5", "", "1.5"])
def test_unparsable_retry_after_falls_back(value: str) -> None:
    """An unparsable Retry-After is ignored: the 60 s floor applies."""
    assert _decide(EXACT, 0, 429, value).next_attempt_at == NOW + timedelta(seconds=60)


@given(
    delay=st.floats(0, 1e6),
    jitter=st.floats(0, 0.99),
    seed=st.integers(0, 2**32),
)
def test_jitter_bounds(delay: float, jitter: float, seed: int) -> None:
    """A jittered delay stays within +/- jitter of the nominal delay and never negative."""
    value = jittered(delay, jitter, random.Random(seed))
    assert delay * (1 - jitter) - 1e-6 <= value <= delay * (1 + jitter) + 1e-6
    assert value >= 0


@given(
    failures=st.integers(0, 20),
    status=st.sampled_from([None, 400, 429, 500, 503]),
    seed=st.integers(0, 1000),
)
def test_default_schedule_bounds(failures: int, status: int | None, seed: int) -> None:
    """Next attempts lie within the jittered schedule (or the 60 s/24 h bounds); dead at 10."""
    d = decide(
        POLICY,
        failures_before=failures,
        status_code=status,
        retry_after=None,
        error="x",
        now=NOW,
        rng=random.Random(seed),
    )
    if failures >= len(DEFAULT_RETRY_SCHEDULE_S):
        assert d.verdict is Verdict.DEAD
        return
    assert d.next_attempt_at is not None
    wait = (d.next_attempt_at - NOW).total_seconds()
    nominal = DEFAULT_RETRY_SCHEDULE_S[failures]
    low = nominal * 0.8
    if status in (429, 503):
        low = max(low, 60.0)
    assert low - 1e-6 <= wait <= max(nominal * 1.2, 60.0) + 1e-6
    assert wait <= 86400 * 1.2
