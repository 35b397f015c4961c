"""A slot contender for process races; its own module so that spawned children import little."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rms_ml_push.clock import FixedClock
from rms_ml_push.errors import SlotTakenError
from rms_ml_push.store.engine import Store
from rms_ml_push.store.runs import JobRuns, RunSlot

T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
SLOT = RunSlot("demand", T0)


def process_contender(url: str, start_event: Any, results: Any) -> None:
    """Wait for the start signal, try to start SLOT, report 'won' or 'lost'."""
    store = Store.from_url(url)
    try:
        runs = JobRuns(store, FixedClock(T0), instance="p", stale_after_s=600)
        start_event.wait()
        try:
            runs.start(SLOT)
            results.put("won")
        except SlotTakenError:
            results.put("lost")
    finally:
        store.dispose()
