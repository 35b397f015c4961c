"""The model registry: versions on disk, their digests and promotions in the store.

The only unpickler in rms-ml-push. Loading a pickle is running code, so a file is
unpickled only after its sha256 matched the digest the STORE recorded when it was saved
(a digest in ``metadata.json`` beside the file would only detect corruption, not
tampering: design.md, "Pitfalls"). The bytes that were hashed are the bytes unpickled.

Ordering makes crashes harmless: files are complete on disk before the store records
them; the store records a promotion before ``latest`` moves; ``latest`` moves atomically.
"""

from __future__ import annotations

import io
import json
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, TypeVar

import joblib
import sqlalchemy as sa

from rms_ml_push.clock import Clock, utc_iso
from rms_ml_push.config import ModelSettings
from rms_ml_push.errors import ModelError, ModelNotFoundError
from rms_ml_push.logs import get_logger
from rms_ml_push.models import lifecycle
from rms_ml_push.models.fallback import Rung
from rms_ml_push.models.lifecycle import BacktestMetrics, Signature, Version
from rms_ml_push.store import model_files as files
from rms_ml_push.store import registry_records as records
from rms_ml_push.store.engine import Store
from rms_ml_push.store.registry_admin import RegistryAdmin

K = TypeVar("K")
V = TypeVar("V")

_LIBRARIES = ("rms-ml-push", "numpy", "pandas", "scikit-learn", "statsforecast", "joblib")
_SAVE_ATTEMPTS = 3
LEFTOVER_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class TrainingWindow:
    """What a version was fitted on: the run's ``as_of`` and the history's first/last day."""

    as_of: datetime
    history_start: date
    history_end: date


@dataclass(frozen=True)
class TrainedModel:
    """What a job hands the registry to save: the fitted objects and how they were made."""

    name: str
    model: object
    metrics: BacktestMetrics
    window: TrainingWindow
    data_fingerprint: str
    features: tuple[str, ...]
    hyper_parameters: Mapping[str, Any] = field(default_factory=dict)
    output_schema: str = "1"  # change it when the output changes: a MAJOR bump
    scaler: object | None = None
    run_id: str | None = None

    @property
    def signature(self) -> Signature:
        """What the version number depends on."""
        return Signature(self.features, dict(self.hyper_parameters), self.output_schema)


@dataclass(frozen=True)
class SaveResult:
    """The outcome of :meth:`ModelRegistry.save`; ``event_data()`` is ``model.trained``."""

    name: str
    version: Version
    created_at: datetime
    promoted: bool
    reason: str
    metrics: Mapping[str, Any]

    def event_data(self) -> dict[str, Any]:
        """The ``data`` of the ``model.trained`` event."""
        return lifecycle.model_trained_data(
            name=self.name,
            version=self.version,
            metrics=self.metrics,
            promoted=self.promoted,
            reason=self.reason,
            trained_at=utc_iso(self.created_at),
        )


@dataclass(frozen=True)
class LoadedModel:
    """A verified, unpickled version."""

    name: str
    version: Version
    model: Any
    scaler: Any | None
    metadata: Mapping[str, Any]
    metrics: Mapping[str, Any]
    created_at: datetime


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries a model's pickle depends on."""
    found = {"python": platform.python_version()}
    for dist in _LIBRARIES:
        try:
            found[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            continue
    return found


class ModelRegistry(RegistryAdmin):
    """Save (with the promotion gate), load (verified), promote, roll back, prune.

    One per process; thread-safe as far as the store and the file system are.
    """

    def __init__(
        self, store: Store, model_dir: Path, settings: ModelSettings, clock: Clock
    ) -> None:
        super().__init__(store, model_dir, settings, clock)
        self._log = get_logger("rms_ml_push.store.registry")

    # -- save ---------------------------------------------------------------------------

    def save(self, trained: TrainedModel) -> SaveResult:
        """Write a new version, record it, apply the gate, promote or flag it, prune."""
        now = self._clock.now()
        name_dir = self.name_dir(trained.name)
        files.remove_leftovers(name_dir, older_than=(now - LEFTOVER_AGE).timestamp())
        self.reconcile_latest(trained.name)
        with self._store.read() as conn:
            known = records.fetch_versions(conn, trained.name)
        version, digests, metadata = self._write(trained, known, now)
        decision = self._gate(trained, known)
        record = records.VersionRecord(
            name=trained.name,
            version=version,
            created_at=now,
            run_id=trained.run_id,
            digests=digests,
            metadata={
                **metadata,
                "files": {k: v for k, v in digests.items() if k != "metadata.json"},
            },
            metrics=trained.metrics.to_json(),
            status="promoted" if decision.promote else "rejected",
            gate_reason=decision.reason,
        )
        try:
            self._record_and_promote(record, decision.promote, by="gate", reason=decision.reason)
        except sa.exc.IntegrityError as exc:
            files.remove_version(name_dir, version)
            raise ModelError(
                f"{trained.name} {version}: already recorded by another writer"
            ) from exc
        self._log.info(
            "model_saved",
            model=trained.name,
            version=str(version),
            promoted=decision.promote,
            reason=decision.reason,
            run_id=trained.run_id,
        )
        self.prune(trained.name)
        return SaveResult(
            trained.name, version, now, decision.promote, decision.reason, record.metrics
        )

    def _write(
        self, trained: TrainedModel, known: Sequence[records.VersionRecord], now: datetime
    ) -> tuple[Version, dict[str, str], dict[str, Any]]:
        name_dir = self.name_dir(trained.name)
        newest = known[-1] if known else None
        previous_signature = None if newest is None else _signature(newest.metadata)
        change = lifecycle.classify_change(previous_signature, trained.signature)
        highest = max([r.version for r in known] + files.versions_on_disk(name_dir), default=None)
        version = lifecycle.bump_version(highest, change)
        for _ in range(_SAVE_ATTEMPTS):
            metadata = _metadata(trained, version, now, change)
            try:
                digests = files.write_version(
                    name_dir,
                    version,
                    model=trained.model,
                    scaler=trained.scaler,
                    metadata=metadata,
                    metrics=trained.metrics.to_json(),
                )
            except FileExistsError:
                version = Version(version.major, version.minor, version.patch + 1)
                continue
            return version, digests, metadata
        raise ModelError(f"{trained.name}: could not claim a new version folder")

    def _gate(
        self, trained: TrainedModel, known: Sequence[records.VersionRecord]
    ) -> lifecycle.GateDecision:
        metrics = trained.metrics
        champion_value = None
        if metrics.champion is not None:
            champion_value = _as_float(metrics.champion.get(metrics.metric))
        else:
            current = self.latest_version(trained.name)
            by_version = {r.version: r for r in known}
            if current in by_version:
                recorded = BacktestMetrics.from_json(by_version[current].metrics)
                champion_value = recorded.primary
        return lifecycle.promotion_gate(
            metrics.primary,
            champion=champion_value,
            baseline=metrics.baseline_primary,
            tolerance=self._settings.promotion_tolerance,
            higher_is_better=metrics.higher_is_better,
            metric=metrics.metric,
        )

    # -- load ---------------------------------------------------------------------------

    def load(self, name: str, version: Version | str) -> LoadedModel:
        """Verify every file against the store's digests, then unpickle.

        ModelNotFoundError when there is no such version; ModelIntegrityError (logged) when
        a digest is missing or differs.
        """
        version = _version(version)
        contents, record = self.verified_files(name, version)
        try:
            model = joblib.load(io.BytesIO(contents[files.MODEL_FILE]))
            scaler_bytes = contents.get(files.SCALER_FILE)
            scaler = None if scaler_bytes is None else joblib.load(io.BytesIO(scaler_bytes))
        except Exception as exc:  # verified bytes that do not unpickle: library drift
            raise ModelError(f"{name} {version}: cannot unpickle ({type(exc).__name__})") from exc
        return LoadedModel(
            name=name,
            version=version,
            model=model,
            scaler=scaler,
            metadata=json.loads(contents[files.METADATA_FILE]),
            metrics=json.loads(contents[files.METRICS_FILE]),
            created_at=record.created_at,
        )

    def load_latest(self, name: str) -> LoadedModel:
        """The version ``latest`` points at, verified."""
        current = self.latest_version(name)
        if current is None:
            raise ModelNotFoundError(f"model {name!r} has no latest version")
        return self.load(name, current)

    def load_previous(self, name: str) -> LoadedModel:
        """The previous stable version (promoted before the current one), verified."""
        previous = self.previous_stable_version(name)
        if previous is None:
            raise ModelNotFoundError(f"model {name!r} has no previous stable version")
        return self.load(name, previous)

    def model_rungs(
        self,
        name: str,
        predict: Callable[[LoadedModel, Sequence[K]], Mapping[K, V]],
        *,
        loaded: dict[Version, LoadedModel] | None = None,
    ) -> list[Rung[K, V]]:
        """The chain's first two rungs for ``name``: latest, then previous stable.

        Each loads (and verifies) its version when the chain reaches it, so a corrupt or
        missing file is an exception inside the rung and the chain moves on. A job that
        runs one chain per group passes one ``loaded`` dict to all of them: each version
        is then read and verified once per run, not once per group.
        """
        latest = self.latest_version(name)
        previous = self.previous_stable_version(name)

        def rung_for(version: Version | None) -> Callable[[Sequence[K]], Mapping[K, V]]:
            def run(keys: Sequence[K]) -> Mapping[K, V]:
                if version is None:
                    raise ModelNotFoundError(f"model {name!r}: no such version")
                if loaded is None:
                    return predict(self.load(name, version), keys)
                if version not in loaded:
                    loaded[version] = self.load(name, version)
                return predict(loaded[version], keys)

            return run

        return [
            Rung("model", rung_for(latest), None if latest is None else str(latest)),
            Rung("previous_model", rung_for(previous), None if previous is None else str(previous)),
        ]


def _version(value: Version | str) -> Version:
    if isinstance(value, Version):
        return value
    try:
        return Version.parse(value)
    except ValueError as exc:
        raise ModelNotFoundError(str(exc)) from None


def _as_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _signature(metadata: Mapping[str, Any]) -> Signature:
    return Signature(
        tuple(metadata.get("features") or ()),
        dict(metadata.get("hyper_parameters") or {}),
        str(metadata.get("output_schema", "1")),
    )


def _metadata(
    trained: TrainedModel, version: Version, now: datetime, change: lifecycle.Change
) -> dict[str, Any]:
    window = trained.window
    return {
        "name": trained.name,
        "version": str(version),
        "created_at": utc_iso(now),
        "change": change.value,
        "run_id": trained.run_id,
        "training_window": {
            "as_of": utc_iso(window.as_of),
            "history_start": window.history_start.isoformat(),
            "history_end": window.history_end.isoformat(),
        },
        "data_fingerprint": trained.data_fingerprint,
        "features": list(trained.features),
        "hyper_parameters": dict(trained.hyper_parameters),
        "output_schema": trained.output_schema,
        "library_versions": library_versions(),
    }
