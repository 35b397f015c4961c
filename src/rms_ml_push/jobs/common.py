"""What every job's compute step shares: resources, provenance, and its outgoing events.

A job module only sequences calls: open resources with :class:`JobResources`, extract
through ``resources.reader``, clean with ``features.quality``, fit/predict with its
``models/`` family, save through ``resources.registry``, and turn results into events
with :func:`prediction_events` and :func:`model_trained_event`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rms_ml_push.clock import Clock, SystemClock, utc_iso
from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import Event, build_event, split_rows, supersede_key
from rms_ml_push.features.quality import QualityContext
from rms_ml_push.models.fallback import Source
from rms_ml_push.rms.extract import RmsReader
from rms_ml_push.store.engine import Store
from rms_ml_push.store.registry import ModelRegistry, SaveResult


@dataclass(frozen=True)
class ModelRef:
    """Provenance of a message: which model version produced it, and the lowest rung used."""

    name: str
    version: str | None
    trained_at: datetime | None
    source: Source

    def to_json(self) -> dict[str, Any]:
        """The contract's ``data.model`` object."""
        return {
            "name": self.name,
            "version": self.version,
            "trained_at": None if self.trained_at is None else utc_iso(self.trained_at),
            "source": self.source,
        }


@dataclass
class JobResources:
    """Everything a compute step touches, built once from settings and closed after."""

    settings: Settings
    clock: Clock
    store: Store
    registry: ModelRegistry
    reader: RmsReader

    def quality_context(self, as_of: datetime) -> QualityContext:
        """The data-quality rules' context: wall-clock now, the run's as_of, the floor."""
        return QualityContext.from_settings(self.settings.rms, now=self.clock.now(), as_of=as_of)

    def close(self) -> None:
        """Dispose of the RMS and store connection pools."""
        self.reader.dispose()
        self.store.dispose()


@contextmanager
def open_resources(settings: Settings, clock: Clock | None = None) -> Iterator[JobResources]:
    """Open the RMS reader, the store and the registry for one compute step."""
    clock = clock or SystemClock()
    reader = RmsReader.from_settings(settings)
    store = Store.from_url(settings.store_url.get_secret_value())
    registry = ModelRegistry(store, settings.model_dir, settings.models, clock)
    resources = JobResources(settings, clock, store, registry, reader)
    try:
        yield resources
    finally:
        resources.close()


def base_data(
    *,
    restaurant_id: int | None,
    as_of: datetime,
    generated_at: datetime,
    model: ModelRef,
    **fields: Any,
) -> dict[str, Any]:
    """The common ``data`` fields of a prediction event (webhook-contract.md, "Body")."""
    return {
        "restaurant_id": restaurant_id,
        "generated_at": utc_iso(generated_at),
        "as_of": utc_iso(as_of),
        "model": model.to_json(),
        **fields,
    }


def prediction_events(
    event_type: str,
    data: Mapping[str, Any],
    rows_key: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    settings: Settings,
    now: datetime,
    granularity: str | None = None,
) -> list[Event]:
    """One set of events for ``rows``, split into parts under the body limit, supersedable.

    The supersede key is the contract's ``(type, restaurant_id, granularity)``.
    """
    restaurant_id = data.get("restaurant_id")
    key = supersede_key(
        event_type, None if restaurant_id is None else int(restaurant_id), granularity
    )
    return split_rows(
        event_type,
        data,
        rows_key,
        rows,
        now=now,
        max_body_bytes=settings.delivery.max_body_bytes,
        supersede=key,
    )


def model_trained_event(saved: SaveResult, *, settings: Settings, now: datetime) -> Event:
    """``model.trained`` for a saved version: never superseded."""
    return build_event(
        "model.trained",
        saved.event_data(),
        now=now,
        max_body_bytes=settings.delivery.max_body_bytes,
    )
