"""The registry's rows in the store: ``model_versions`` and ``promotions`` (SQL only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from rms_ml_push.models.lifecycle import PromotionEvent, Version
from rms_ml_push.store.schema import model_versions, promotions


@dataclass(frozen=True)
class VersionRecord:
    """One saved version as the store knows it; ``digests`` is what loads are checked against."""

    name: str
    version: Version
    created_at: datetime
    run_id: str | None
    digests: Mapping[str, str]
    metadata: Mapping[str, Any]
    metrics: Mapping[str, Any]
    status: str  # candidate | promoted | rejected | deleted
    gate_reason: str | None


@dataclass(frozen=True)
class PromotionRecord:
    """One switch of ``latest``: who did it and why."""

    name: str
    version: Version
    previous: Version | None
    promoted_at: datetime
    promoted_by: str
    reason: str | None

    def event(self) -> PromotionEvent:
        """The pure view used by :func:`~rms_ml_push.models.lifecycle.previous_stable`."""
        return PromotionEvent(self.version, self.previous, self.promoted_by)


def _version_record(row: sa.Row[Any]) -> VersionRecord:
    return VersionRecord(
        name=row._mapping["name"],
        version=Version.parse(row.version),
        created_at=row.created_at,
        run_id=row.run_id,
        digests=dict(row.digests),
        metadata=dict(row._mapping["metadata"]),
        metrics=dict(row.metrics),
        status=row.status,
        gate_reason=row.gate_reason,
    )


def insert_version(conn: Connection, record: VersionRecord) -> None:
    """Record a new version (unique per name and version)."""
    conn.execute(
        model_versions.insert().values(
            name=record.name,
            version=str(record.version),
            created_at=record.created_at,
            run_id=record.run_id,
            digests=dict(record.digests),
            metadata=dict(record.metadata),
            metrics=dict(record.metrics),
            status=record.status,
            gate_reason=record.gate_reason,
        )
    )


def fetch_version(conn: Connection, name: str, version: Version) -> VersionRecord | None:
    """The store's record of one version, or None."""
    row = conn.execute(
        sa.select(model_versions).where(
            model_versions.c.name == name, model_versions.c.version == str(version)
        )
    ).first()
    return None if row is None else _version_record(row)


def fetch_versions(conn: Connection, name: str | None = None) -> list[VersionRecord]:
    """Every recorded version (of one model, or all), oldest version first."""
    query = sa.select(model_versions)
    if name is not None:
        query = query.where(model_versions.c.name == name)
    records = [_version_record(row) for row in conn.execute(query)]
    return sorted(records, key=lambda r: (r.name, r.version))


def set_status(
    conn: Connection, name: str, version: Version, status: str, gate_reason: str | None = None
) -> None:
    """Change a version's status (and gate reason, when one is given)."""
    values: dict[str, Any] = {"status": status}
    if gate_reason is not None:
        values["gate_reason"] = gate_reason
    conn.execute(
        model_versions.update()
        .where(model_versions.c.name == name, model_versions.c.version == str(version))
        .values(**values)
    )


def insert_promotion(conn: Connection, record: PromotionRecord) -> None:
    """Append one switch of ``latest`` to the history."""
    conn.execute(
        promotions.insert().values(
            name=record.name,
            version=str(record.version),
            previous_version=None if record.previous is None else str(record.previous),
            promoted_at=record.promoted_at,
            promoted_by=record.promoted_by,
            reason=record.reason,
        )
    )


def fetch_promotions(conn: Connection, name: str) -> list[PromotionRecord]:
    """A model's promotion history, newest first (by insertion: clocks of instances differ)."""
    rows = conn.execute(
        sa.select(promotions).where(promotions.c.name == name).order_by(promotions.c.id.desc())
    )
    return [
        PromotionRecord(
            name=row._mapping["name"],
            version=Version.parse(row.version),
            previous=None if row.previous_version is None else Version.parse(row.previous_version),
            promoted_at=row.promoted_at,
            promoted_by=row.promoted_by,
            reason=row.reason,
        )
        for row in rows
    ]
