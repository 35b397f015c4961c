"""The only reader of the wall clock. Pass a :class:`Clock` in; tests pass a fixed one."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time: aware UTC datetimes and a monotonic counter."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


@dataclass
class FixedClock:
    """A clock that moves only when told to (tests, backfills)."""

    current: datetime
    _mono: float = field(default=0.0)

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self.current = self.current + timedelta(seconds=seconds)
        self._mono += seconds


def utc_iso(ts: datetime) -> str:
    """Format an aware datetime as UTC ISO 8601 with a ``Z`` and milliseconds."""
    if ts.tzinfo is None:
        raise ValueError("naive datetime; every datetime in rms-ml-push is timezone-aware")
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
