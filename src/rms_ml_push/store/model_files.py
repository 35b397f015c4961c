"""The registry's files on disk, written so that a crash at any point changes nothing.

Layout (seed-architecture.md, "Model Storage")::

    <model_dir>/<model_name>/v1.4.0/{model.joblib, scaler.joblib, metadata.json, metrics.json}
    <model_dir>/<model_name>/latest -> v1.4.0   (or a file whose whole content is "v1.4.0")

A version is written into a hidden temporary folder beside its final place, every file
and the folder are fsynced, and only then is the folder renamed into place; ``latest`` is
a new symlink (or file) under a temporary name moved over the old one with
``os.replace``. Both renames are atomic on POSIX, so a reader sees the old state or the
new one, never half of either. Nothing here unpickles: see ``store/registry.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import joblib

from rms_ml_push.models.lifecycle import Version

MODEL_FILE = "model.joblib"
SCALER_FILE = "scaler.joblib"
METADATA_FILE = "metadata.json"
METRICS_FILE = "metrics.json"
LATEST = "latest"
TMP_PREFIX = ".tmp-"
_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    """Lowercase hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Lowercase hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    # A directory fsync makes a rename durable; not every platform allows it.
    fd = os.open(path, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _json_bytes(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def write_version(
    name_dir: Path,
    version: Version,
    *,
    model: object,
    scaler: object | None,
    metadata: Mapping[str, Any],
    metrics: Mapping[str, Any],
) -> dict[str, str]:
    """Write one version atomically; return the sha256 of every file in it.

    ``metadata.json`` gets ``files``: the digests of the other files (it cannot hold its
    own); the returned mapping has all four, for the store. Raises FileExistsError when
    the version's folder already exists (another writer got there first).
    """
    name_dir.mkdir(parents=True, exist_ok=True)
    final = name_dir / version.dirname
    if final.exists():
        raise FileExistsError(str(final))
    tmp = name_dir / f"{TMP_PREFIX}{version.dirname}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        joblib.dump(model, tmp / MODEL_FILE)
        if scaler is not None:
            joblib.dump(scaler, tmp / SCALER_FILE)
        (tmp / METRICS_FILE).write_bytes(_json_bytes(metrics))
        digests = {p.name: sha256_file(p) for p in sorted(tmp.iterdir())}
        (tmp / METADATA_FILE).write_bytes(_json_bytes({**metadata, "files": digests}))
        digests[METADATA_FILE] = sha256_file(tmp / METADATA_FILE)
        for path in tmp.iterdir():
            _fsync_file(path)
        _fsync_dir(tmp)
        # rename(2) onto a non-empty folder fails, so two writers cannot both win.
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(name_dir)
    return digests


def read_latest(name_dir: Path) -> Version | None:
    """The version ``latest`` names (symlink or plain file), None if there is none."""
    link = name_dir / LATEST
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:  # not a symlink: the plain-file form
        try:
            target = link.read_text(encoding="utf-8").strip()
        except (FileNotFoundError, IsADirectoryError):
            return None
    try:
        return Version.parse(Path(target).name)
    except ValueError:
        return None


def write_latest(name_dir: Path, version: Version, *, use_symlink: bool = True) -> None:
    """Point ``latest`` at ``version`` atomically (relative symlink, else a plain file)."""
    tmp = name_dir / f"{TMP_PREFIX}latest-{secrets.token_hex(4)}"
    try:
        if use_symlink:
            try:
                os.symlink(version.dirname, tmp)
            except (OSError, NotImplementedError):
                use_symlink = False
        if not use_symlink:
            with tmp.open("w", encoding="utf-8") as handle:
                handle.write(version.dirname)
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, name_dir / LATEST)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(name_dir)


def versions_on_disk(name_dir: Path) -> list[Version]:
    """The complete versions in a model's folder (temporary folders are not versions)."""
    found: list[Version] = []
    if not name_dir.is_dir():
        return found
    for child in name_dir.iterdir():
        if child.name.startswith(TMP_PREFIX) or not child.is_dir() or child.is_symlink():
            continue
        try:
            found.append(Version.parse(child.name))
        except ValueError:
            continue
    return sorted(found)


def model_names(model_dir: Path) -> list[str]:
    """The model folders under the model dir."""
    if not model_dir.is_dir():
        return []
    return sorted(p.name for p in model_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def remove_version(name_dir: Path, version: Version) -> None:
    """Delete a version's folder: renamed away first so that no reader sees half of it."""
    final = name_dir / version.dirname
    if not final.exists():
        return
    doomed = name_dir / f"{TMP_PREFIX}deleted-{version.dirname}-{secrets.token_hex(4)}"
    os.rename(final, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def remove_leftovers(name_dir: Path, *, older_than: float) -> list[str]:
    """Remove temporary entries left by crashed writers, last changed before the POSIX time
    ``older_than`` (so that a writer still at work keeps its folder); returns their names."""
    removed: list[str] = []
    if not name_dir.is_dir():
        return removed
    for child in name_dir.iterdir():
        if not child.name.startswith(TMP_PREFIX):
            continue
        try:
            if child.lstat().st_mtime >= older_than:
                continue
        except FileNotFoundError:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child.name)
    return removed
