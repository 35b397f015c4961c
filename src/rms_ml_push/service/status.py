"""What ``/info`` and ``/metrics`` report beyond the service's own state, read from the store.

Every section is read from the shared store, so any instance (leader or follower)
reports the same models, outbox and endpoints. Nothing here returns a secret: endpoint
URLs are masked and secrets are never read; run errors are already one clean line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from rms_ml_push.clock import Clock, utc_iso
from rms_ml_push.config import Settings
from rms_ml_push.delivery.admin import endpoint_rows
from rms_ml_push.metrics import Metrics
from rms_ml_push.store import messages
from rms_ml_push.store.engine import Store
from rms_ml_push.store.runs import JobRuns, RunRecord

# How many recent runs are searched for a model's latest fallback counts.
_RECENT_RUNS = 50


def run_view(record: RunRecord | None) -> dict[str, Any] | None:
    """A run as ``/info`` and ``jobs list`` show it: status, times, duration, fallback."""
    if record is None:
        return None
    finished = record.finished_at
    duration = (finished - record.started_at).total_seconds() if finished else None
    return {
        "run_id": record.id,
        "as_of": record.as_of,
        "status": record.status,
        "trigger": record.trigger,
        "full": record.full,
        "instance": record.instance,
        "started_at": record.started_at,
        "finished_at": finished,
        "duration_s": None if duration is None else round(duration, 3),
        "messages_enqueued": record.messages_enqueued,
        "fallback": fallback_counts(record),
        "error": record.error,
    }


def fallback_counts(record: RunRecord) -> dict[str, int]:
    """The run's results per fallback rung (``summary["fallback"]``), empty if none."""
    raw = (record.summary or {}).get("fallback") or {}
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): int(v) for k, v in raw.items() if isinstance(v, int | float)}


def models_section(
    store: Store, settings: Settings, clock: Clock, runs: JobRuns
) -> list[dict[str, Any]]:
    """Per model: latest version, when promoted, key metrics, fallback counts of its last run."""
    # Lazily: the registry pulls in joblib, which start-up does not otherwise need.
    from rms_ml_push.store.registry_admin import RegistryAdmin  # noqa: PLC0415

    registry = RegistryAdmin(store, settings.model_dir, settings.models, clock)
    recent = [r for r in runs.list_runs(limit=_RECENT_RUNS) if r.status == "succeeded"]
    section = []
    for name in registry.model_names():
        records = registry.versions(name)
        on_disk = registry.latest_version(name)
        promoted = [r for r in records if r.status == "promoted"]
        # Without a shared model dir a follower has no `latest` on disk: say which
        # version the store last promoted instead.
        latest = on_disk or (promoted[-1].version if promoted else None)
        record = next((r for r in records if r.version == latest), None)
        history = registry.promotion_history(name)
        last_run = next((r for r in recent if r.model_name == name), None)
        section.append(
            {
                "name": name,
                "latest_version": None if latest is None else str(latest),
                "latest_on_disk": on_disk is not None,
                "promoted_at": _iso(history[0].promoted_at) if history else None,
                "promoted_by": history[0].promoted_by if history else None,
                "metrics": _key_metrics(record.metrics if record else {}),
                "versions": len(records),
                "fallback": fallback_counts(last_run) if last_run else {},
                "fallback_run_id": last_run.id if last_run else None,
            }
        )
    return section


def _key_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The primary metric and the model's and baseline's scores, not the per-window detail."""
    if not metrics:
        return {}
    return {
        "metric": metrics.get("metric"),
        "model": metrics.get("model"),
        "baseline": metrics.get("baseline"),
    }


def outbox_section(store: Store, clock: Clock) -> dict[str, Any]:
    """Message counts by status and the oldest pending message's age."""
    with store.read() as conn:
        stats = messages.outbox_stats(conn)
    age = stats.oldest_pending_age_s(clock.now())
    return {
        "by_status": stats.by_status,
        "oldest_pending_at": _iso(stats.oldest_pending_at),
        "oldest_pending_age_s": None if age is None else round(age, 3),
    }


def endpoints_section(store: Store, settings: Settings, clock: Clock) -> list[dict[str, Any]]:
    """Per endpoint: breaker, enabled, last success, last error (URL masked, no secret)."""
    return [
        {k: _iso(v) if isinstance(v, datetime) else v for k, v in row.items()}
        for row in endpoint_rows(store, settings, clock.now())
    ]


def refresh_gauges(
    metrics: Metrics,
    store: Store,
    settings: Settings,
    clock: Clock,
    local_breaker: Callable[[str], str] | None = None,
) -> None:
    """Mirror the outbox and the breakers into the gauges (before a scrape).

    An endpoint paused in the store (any instance opened its breaker) is ``open``;
    otherwise this process's own breaker state (``half-open`` while probing) is shown.
    """
    with store.read() as conn:
        stats = messages.outbox_stats(conn)
    metrics.set_outbox(stats.by_status, stats.oldest_pending_age_s(clock.now()))
    for row in endpoint_rows(store, settings, clock.now()):
        name = row["name"]
        state = row["breaker"]
        if state == "closed" and local_breaker is not None:
            state = local_breaker(name)
        metrics.set_breaker(name, state)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else utc_iso(value)
