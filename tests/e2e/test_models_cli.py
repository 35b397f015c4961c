"""`models` and `runs` commands against a real SQLite store and model dir, without the RMS."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rms_ml_push.cli import main
from rms_ml_push.clock import FixedClock
from rms_ml_push.models.lifecycle import Version
from rms_ml_push.store.engine import Store
from rms_ml_push.store.registry import ModelRegistry
from rms_ml_push.store.runs import JobRuns, RunOutcome, RunSlot
from tests.integration.registry_support import NAME, T0, make_registry, trained


@pytest.fixture(autouse=True)
def _detach_log_handlers() -> Iterator[None]:
    """main() points logging at this test's captured stderr; do not leave it for the next."""
    yield
    logging.getLogger().handlers.clear()


@pytest.fixture
def populated() -> Iterator[tuple[ModelRegistry, Store]]:
    """The settings' store and model dir with 1.0.0, 1.0.1 (latest) and a rejected 1.0.2."""
    registry, store = make_registry(
        os.environ["RMS_ML_STORE_URL"], Path(os.environ["RMS_ML_MODEL_DIR"])
    )
    registry.save(trained(10.0, wape=0.20))
    registry.save(trained(11.0, wape=0.19))
    registry.save(trained(12.0, wape=0.30))
    yield registry, store
    store.dispose()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_empty_without_rms(capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh install lists no models (store migrated on the way), no RMS needed."""
    code, out, _ = _run(capsys, "models", "list", "--json")
    assert code == 0
    assert json.loads(out) == []


def test_list_marks_latest(
    populated: tuple[ModelRegistry, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    """Every version is listed with its status; latest is marked."""
    code, out, _ = _run(capsys, "models", "list", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["version"], r["status"], r["latest"]) for r in rows] == [
        ("1.0.0", "promoted", False),
        ("1.0.1", "promoted", True),
        ("1.0.2", "rejected", False),
    ]
    assert rows[2]["gate_reason"].startswith("wape 0.3 is not better than the baseline")
    code, out, _ = _run(capsys, "models", "list")
    assert code == 0
    assert any(line.split()[:3] == [NAME, "1.0.1", "*"] for line in out.splitlines())


def test_show_metadata_and_metrics(
    populated: tuple[ModelRegistry, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    """`show` prints the training window and the metric beside the baseline's."""
    code, out, _ = _run(capsys, "models", "show", NAME, "--json")
    shown = json.loads(out)
    assert code == 0
    assert shown["version"] == "1.0.1"
    assert shown["metadata"]["training_window"]["history_end"] == "2026-11-27"
    assert shown["metrics"]["baseline"]["wape"] == 0.3
    assert [p["version"] for p in shown["promotions"]] == ["1.0.1", "1.0.0"]
    code, out, _ = _run(capsys, "models", "show", NAME, "--version", "v1.0.2")
    assert code == 0
    wape_line = next(line for line in out.splitlines() if line.startswith("wape *"))
    assert wape_line.split()[2:4] == ["0.3", "0.3"]  # model and baseline side by side
    assert "rejected" in out


def test_rollback_and_promote(
    populated: tuple[ModelRegistry, Store], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rollback defaults to the version promoted before; promote accepts a leading v."""
    registry, _ = populated
    code, out, _ = _run(capsys, "models", "rollback", NAME, "--reason", "spiky")
    assert code == 0
    assert out.strip() == f"{NAME}: latest 1.0.1 -> 1.0.0 (rollback)"
    assert registry.latest_version(NAME) == Version(1, 0, 0)
    history = registry.promotion_history(NAME)
    assert history[0].promoted_by == "rollback"
    assert (history[0].reason or "").startswith("spiky (by ")
    code, out, _ = _run(capsys, "models", "promote", NAME, "v1.0.2")
    assert code == 0
    assert registry.latest_version(NAME) == Version(1, 0, 2)
    assert registry.promotion_history(NAME)[0].promoted_by == "operator"
    code, out, _ = _run(capsys, "models", "rollback", NAME, "--to", "1.0.1")
    assert code == 0
    assert registry.latest_version(NAME) == Version(1, 0, 1)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["models", "show", "nope"], "no model named 'nope'"),
        (["models", "show", NAME, "--version", "9.9.9"], "has no version 9.9.9"),
        (["models", "promote", NAME, "9.9.9"], "has no version 9.9.9"),
        (["models", "promote", NAME, "latest"], "not a version"),
        (["models", "rollback", "nope"], "no earlier promoted version"),
        (["models", "promote", "../etc", "1.0.0"], "not a model name"),
    ],
)
def test_unknown_model_or_version_exit_2(
    populated: tuple[ModelRegistry, Store],
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    needle: str,
) -> None:
    """An unknown model or version is exit 2 with one clear line on stderr."""
    code, _out, err = _run(capsys, *argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    assert needle in lines[0]
    assert "Traceback" not in err


def test_runs_list(capsys: pytest.CaptureFixture[str]) -> None:
    """`runs list` shows the newest runs first and filters by job."""
    store = Store.from_url(os.environ["RMS_ML_STORE_URL"])
    try:
        code, out, _ = _run(capsys, "runs", "list", "--json")  # migrates the store first
        assert (code, json.loads(out)) == (0, [])
        runs = JobRuns(store, FixedClock(T0), instance="i1")
        run = runs.start(RunSlot("demand", T0), trigger="schedule")
        runs.finish_now(run.id, RunOutcome("succeeded", model_version="1.0.0", messages_enqueued=4))
        runs.start(RunSlot("kitchen", T0))
    finally:
        store.dispose()
    code, out, _ = _run(capsys, "runs", "list", "--job", "demand", "--json")
    rows = json.loads(out)
    assert code == 0
    assert [(r["job"], r["status"], r["messages_enqueued"]) for r in rows] == [
        ("demand", "succeeded", 4)
    ]
    code, out, _ = _run(capsys, "runs", "list", "--limit", "5")
    assert code == 0
    assert "kitchen" in out
    assert "demand" in out


def test_cli_subprocess_unknown_model(tmp_path: Path) -> None:
    """As a real process: exit 2, one line on stderr, nothing on stdout, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "rms_ml_push", "models", "show", "demand_forecasting"],
        capture_output=True,
        text=True,
        env={**os.environ, "RMS_ML_LOG_FORMAT": "json"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == "error: no model named 'demand_forecasting'"
