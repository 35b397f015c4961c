"""A writer killed (SIGKILL) in the middle of a save leaves the previous latest loadable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rms_ml_push.models.lifecycle import Version
from rms_ml_push.store import model_files
from tests.integration.registry_support import NAME, make_registry, trained

REPO = Path(__file__).resolve().parents[2]

WRITER = """
import os, sys, time, dataclasses
from pathlib import Path
sys.path.insert(0, {repo!r})
from tests.integration.registry_support import make_registry, trained

mode, url, model_dir, marker = sys.argv[1:]
registry, store = make_registry(url, Path(model_dir))

def block():
    Path(marker).write_text("stopped")
    time.sleep(600)

class Blocker:
    # Pickling this object pauses the writer half-way through model.joblib.
    def __reduce__(self):
        block()
        return (dict, ())

new = trained(20.0, wape=0.1)
if mode == "pickle":
    new = dataclasses.replace(new, model=[list(range(100000)), Blocker()])
else:
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith("latest"):
            block()
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace
registry.save(new)
"""


def _kill_mid_save(mode: str, url: str, model_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(repo=str(REPO)))
    marker = tmp_path / f"marker-{mode}"
    proc = subprocess.Popen(
        [sys.executable, str(script), mode, url, str(model_dir), str(marker)],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"writer exited early: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("writer never reached the crash point")
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_kill_while_writing_model_file(sqlite_url: str, tmp_path: Path) -> None:
    """Killed inside model.joblib: latest still loads v1.0.0 and the next save works."""
    model_dir = tmp_path / "models"
    registry, store = make_registry(sqlite_url, model_dir)
    try:
        registry.save(trained(10.0))
        _kill_mid_save("pickle", sqlite_url, model_dir, tmp_path)
        name_dir = model_dir / NAME
        leftovers = [p.name for p in name_dir.iterdir() if p.name.startswith(".tmp-")]
        assert leftovers  # the half-written folder is there, but is not a version
        assert registry.latest_version(NAME) == Version(1, 0, 0)
        assert registry.load_latest(NAME).model == {"level": 10.0}
        assert model_files.versions_on_disk(name_dir) == [Version(1, 0, 0)]
        after = registry.save(trained(11.0, wape=0.19))
        assert after.version == Version(1, 0, 1)
        assert registry.load_latest(NAME).model == {"level": 11.0}
        model_files.remove_leftovers(name_dir, older_than=time.time() + 60)
        assert sorted(p.name for p in name_dir.iterdir()) == ["latest", "v1.0.0", "v1.0.1"]
    finally:
        store.dispose()


@pytest.mark.slow
def test_kill_while_switching_latest(sqlite_url: str, tmp_path: Path) -> None:
    """Killed just before latest moves: the old latest loads; the next save completes it."""
    model_dir = tmp_path / "models"
    registry, store = make_registry(sqlite_url, model_dir)
    try:
        registry.save(trained(10.0))
        _kill_mid_save("latest", sqlite_url, model_dir, tmp_path)
        assert registry.latest_version(NAME) == Version(1, 0, 0)
        assert registry.load_latest(NAME).model == {"level": 10.0}
        # the store recorded the promotion before the crash: reconciling finishes it
        assert registry.version_record(NAME, "1.0.1").status == "promoted"
        registry.reconcile_latest(NAME)
        assert registry.load_latest(NAME).model == {"level": 20.0}
    finally:
        store.dispose()
