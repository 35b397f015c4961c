"""Registry state and operator actions: which version is latest, promote, roll back, prune.

:class:`~rms_ml_push.store.registry.ModelRegistry` adds saving and loading on top. No
unpickling here: :meth:`RegistryAdmin.verified_files` only reads and hashes bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from rms_ml_push.clock import Clock
from rms_ml_push.config import ModelSettings
from rms_ml_push.errors import ModelIntegrityError, ModelNotFoundError
from rms_ml_push.logs import get_logger
from rms_ml_push.models import lifecycle
from rms_ml_push.models.lifecycle import Version
from rms_ml_push.store import model_files as files
from rms_ml_push.store import registry_records as records
from rms_ml_push.store.engine import Store

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


@dataclass(frozen=True)
class Switch:
    """A change of ``latest`` made by promote or rollback."""

    name: str
    previous: Version | None
    version: Version
    changed: bool


class RegistryAdmin:
    """What the CLI needs without unpickling anything."""

    def __init__(
        self, store: Store, model_dir: Path, settings: ModelSettings, clock: Clock
    ) -> None:
        self._store = store
        self._model_dir = Path(model_dir)
        self._settings = settings
        self._clock = clock
        self._admin_log = get_logger("rms_ml_push.store.registry")

    def name_dir(self, name: str) -> Path:
        """The model's folder; the name must be a plain identifier (no path tricks)."""
        if not name or not set(name) <= _NAME_CHARS:
            raise ModelNotFoundError(f"not a model name: {name!r}")
        return self._model_dir / name

    # -- reading state ------------------------------------------------------------------

    def model_names(self) -> list[str]:
        """Every model with a folder or a record."""
        with self._store.read() as conn:
            recorded = {r.name for r in records.fetch_versions(conn)}
        return sorted(recorded | set(files.model_names(self._model_dir)))

    def latest_version(self, name: str) -> Version | None:
        """The version ``latest`` points at on disk."""
        return files.read_latest(self.name_dir(name))

    def previous_stable_version(self, name: str) -> Version | None:
        """The version promoted before the current one (rollback's default target)."""
        current = self.latest_version(name)
        with self._store.read() as conn:
            history = records.fetch_promotions(conn, name)
            known = records.fetch_versions(conn, name)
        on_disk = set(files.versions_on_disk(self.name_dir(name)))
        available = {r.version for r in known if r.status != "deleted"} & on_disk
        return lifecycle.previous_stable(
            (h.event() for h in history), current=current, available=available
        )

    def versions(self, name: str | None = None) -> list[records.VersionRecord]:
        """Recorded versions (deleted ones included, as history), oldest first."""
        if name is not None:
            self.name_dir(name)
        with self._store.read() as conn:
            return records.fetch_versions(conn, name)

    def version_record(self, name: str, version: Version | str) -> records.VersionRecord:
        """One version's record; ModelNotFoundError if the store has none."""
        self.name_dir(name)
        parsed = _parse(name, version)
        with self._store.read() as conn:
            found = records.fetch_version(conn, name, parsed)
        if found is None:
            raise ModelNotFoundError(f"model {name!r} has no version {parsed}")
        return found

    def promotion_history(self, name: str) -> list[records.PromotionRecord]:
        """Who switched ``latest`` and why, newest first."""
        self.name_dir(name)
        with self._store.read() as conn:
            return records.fetch_promotions(conn, name)

    def verified_files(
        self, name: str, version: Version
    ) -> tuple[dict[str, bytes], records.VersionRecord]:
        """Every file of a version, each checked against the store's sha256."""
        folder = self.name_dir(name) / version.dirname
        with self._store.read() as conn:
            record = records.fetch_version(conn, name, version)
        if record is None or record.status == "deleted":
            if folder.is_dir():
                self._integrity_failed(name, version, "*", "no digest recorded in the store")
            raise ModelNotFoundError(f"model {name!r} has no version {version}")
        if files.MODEL_FILE not in record.digests:
            self._integrity_failed(name, version, files.MODEL_FILE, "no digest recorded")
        contents: dict[str, bytes] = {}
        # The model file first, so that a tampered model is what the error names.
        ordered = sorted(record.digests.items(), key=lambda kv: (kv[0] != files.MODEL_FILE, kv[0]))
        for file_name, expected in ordered:
            try:
                data = (folder / file_name).read_bytes()
            except OSError as exc:
                self._integrity_failed(name, version, file_name, f"unreadable: {exc.strerror}")
            if files.sha256_bytes(data) != expected:
                self._integrity_failed(name, version, file_name, "sha256 mismatch")
            contents[file_name] = data
        return contents, record

    def _integrity_failed(self, name: str, version: Version, file_name: str, why: str) -> NoReturn:
        self._admin_log.error(
            "model_integrity_failed", model=name, version=str(version), file=file_name, reason=why
        )
        raise ModelIntegrityError(f"{name} {version}: {file_name}: {why}")

    # -- switching latest ---------------------------------------------------------------

    def _record_and_promote(
        self, record: records.VersionRecord, promote: bool, *, by: str, reason: str
    ) -> None:
        name_dir = self.name_dir(record.name)
        previous = files.read_latest(name_dir)
        with self._store.write() as conn:
            records.insert_version(conn, record)
            if promote:
                records.insert_promotion(
                    conn, self._promotion(record.name, record.version, previous, by, reason)
                )
        # The store knows first: a crash here leaves the old latest, which still loads;
        # reconcile_latest() finishes the switch on the next save.
        if promote:
            files.write_latest(name_dir, record.version)

    def _promotion(
        self, name: str, version: Version, previous: Version | None, by: str, reason: str | None
    ) -> records.PromotionRecord:
        return records.PromotionRecord(name, version, previous, self._clock.now(), by, reason)

    def promote(
        self, name: str, version: Version | str, *, by: str = "operator", reason: str | None = None
    ) -> Switch:
        """Point ``latest`` at a saved version whose files verify; logged and recorded."""
        target = _parse(name, version)
        record = self.version_record(name, target)
        if record.status == "deleted":
            raise ModelNotFoundError(f"model {name!r} version {target} was deleted by retention")
        self.verified_files(name, target)
        previous = self.latest_version(name)
        if previous == target:
            return Switch(name, previous, target, changed=False)
        with self._store.write() as conn:
            records.insert_promotion(conn, self._promotion(name, target, previous, by, reason))
            records.set_status(conn, name, target, "promoted")
        files.write_latest(self.name_dir(name), target)
        self._admin_log.warning(
            "model_promoted",
            model=name,
            version=str(target),
            previous=None if previous is None else str(previous),
            by=by,
            reason=reason,
        )
        return Switch(name, previous, target, changed=True)

    def rollback(
        self, name: str, to: Version | str | None = None, *, reason: str | None = None
    ) -> Switch:
        """Point ``latest`` back at ``to``, by default the previous stable version."""
        target = self.previous_stable_version(name) if to is None else _parse(name, to)
        if target is None:
            raise ModelNotFoundError(f"model {name!r} has no earlier promoted version")
        return self.promote(name, target, by="rollback", reason=reason)

    def reconcile_latest(self, name: str) -> None:
        """Finish a promotion the store recorded but a crash kept off the disk."""
        history = self.promotion_history(name)
        if not history:
            return
        newest = history[0].version
        current = self.latest_version(name)
        if current != newest and newest in files.versions_on_disk(self.name_dir(name)):
            files.write_latest(self.name_dir(name), newest)
            self._admin_log.warning(
                "model_latest_reconciled", model=name, version=str(newest), was=str(current)
            )

    # -- retention ----------------------------------------------------------------------

    def prune(self, name: str) -> list[Version]:
        """Delete versions beyond the newest N, never latest nor the previous stable one."""
        name_dir = self.name_dir(name)
        live = [r.version for r in self.versions(name) if r.status != "deleted"]
        keep = lifecycle.versions_to_keep(
            live,
            keep=self._settings.keep_versions,
            protected=(self.latest_version(name), self.previous_stable_version(name)),
        )
        deleted = sorted(set(live) - keep)
        for version in deleted:
            with self._store.write() as conn:
                records.set_status(conn, name, version, "deleted")
            files.remove_version(name_dir, version)
        if deleted:
            self._admin_log.info(
                "model_versions_pruned", model=name, deleted=[str(v) for v in deleted]
            )
        return deleted


def _parse(name: str, version: Version | str) -> Version:
    if isinstance(version, Version):
        return version
    try:
        return Version.parse(version)
    except ValueError:
        raise ModelNotFoundError(f"model {name!r}: not a version: {version!r}") from None
