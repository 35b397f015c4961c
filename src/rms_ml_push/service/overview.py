"""The jobs section shared by ``/info`` and ``rms-ml-push jobs list``: pure assembly."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rms_ml_push.clock import utc_iso
from rms_ml_push.jobs.schedule import ScheduleEntry

LastRun = Callable[[str, str], Mapping[str, Any] | None]


def jobs_overview(
    entries: Sequence[ScheduleEntry],
    *,
    now: datetime,
    last_run: LastRun | None,
    running: Iterable[tuple[str, str]] = (),
) -> list[dict[str, Any]]:
    """One dict per schedule entry: schedule, last run (status, duration), next run."""
    in_pool = set(running)
    rows = []
    for entry in entries:
        last = _safe_last_run(last_run, entry)
        nxt = entry.next_slot(now)
        rows.append(
            {
                **entry.describe(),
                "scope": entry.scope,
                "last_run": _jsonable(last),
                "status": (last or {}).get("status"),
                "in_pool": (entry.job, entry.scope) in in_pool,
                "next_run": utc_iso(nxt) if nxt else None,
                "next_run_full": entry.is_full(nxt) if nxt else None,
            }
        )
    return rows


def _safe_last_run(last_run: LastRun | None, entry: ScheduleEntry) -> Mapping[str, Any] | None:
    if last_run is None:
        return None
    try:
        return last_run(entry.job, entry.scope)
    except Exception as exc:  # an overview shows what it can
        return {"error": f"unavailable ({type(exc).__name__})"}


def _jsonable(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: utc_iso(v) if isinstance(v, datetime) else v for k, v in data.items()}
