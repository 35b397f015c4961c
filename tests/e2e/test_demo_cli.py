"""``rms-ml-push demo-data`` and ``make demo``'s runner, as an operator runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from rms_ml_push.demo import run as demo_run


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}
    env["RMS_ML_STORE_URL"] = os.environ["RMS_ML_STORE_URL"]
    return subprocess.run(
        [sys.executable, "-m", "rms_ml_push", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_demo_data_writes_then_refuses_then_replaces(tmp_path: Path) -> None:
    """Exit 0 with a row summary; exit 2 with one clear line on a non-empty database."""
    url = f"sqlite:///{tmp_path / 'rms.sqlite3'}"
    base = ["demo-data", "--url", url, "--restaurants", "1", "--days", "21", "--end", "2024-06-30"]
    first = _cli(*base)
    assert first.returncode == 0, first.stderr
    assert "orders" in first.stdout
    assert "order_items" in first.stdout
    again = _cli(*base)
    assert again.returncode == 2
    assert "already has an RMS orders table" in again.stderr
    assert "--replace" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = _cli(*base, "--replace", "--json")
    assert replaced.returncode == 0, replaced.stderr
    summary = json.loads(replaced.stdout)
    assert summary["end"] == "2024-06-30"
    assert summary["rows"]["orders"] > 0
    assert all(n > 0 for n in summary["dirty"].values())


def test_demo_data_bad_url_is_a_usage_error(tmp_path: Path) -> None:
    """An unsupported URL exits 2 with a line naming --url, no traceback."""
    result = _cli("demo-data", "--url", "mysql://x@localhost/db", "--days", "10")
    assert result.returncode == 2
    assert "--url" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_data_too_few_menu_items_is_a_usage_error(tmp_path: Path) -> None:
    """--menu-items below what the generator needs exits 2 naming the option."""
    url = f"sqlite:///{tmp_path / 'rms.sqlite3'}"
    result = _cli("demo-data", "--url", url, "--menu-items", "5")
    assert result.returncode == 2
    assert "--menu-items" in result.stderr
    assert "at least 12" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_runner_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make demo`'s loop: data, receiver, jobs, delivery; everything queued arrives verified."""
    monkeypatch.setattr(demo_run, "DEMO_RESTAURANTS", 1)
    monkeypatch.setattr(demo_run, "DEMO_DAYS", 90)
    ctx = demo_run.DemoContext(root=tmp_path / "demo")
    steps = demo_run.demo_steps()
    assert demo_run.run_steps(steps, ctx) == 0
    out = capsys.readouterr().out
    assert f"[1/{len(steps)}] generate demo RMS data" in out
    assert "demo done" in out
    assert (tmp_path / "demo" / "rms.sqlite3").is_file()
    assert ctx.receiver is not None
    received = ctx.receiver.state
    assert received.rejected == 0
    types = {json.loads(body)["type"] for body in received.bodies.values()}
    assert {"demand.forecast.updated", "model.trained"} <= types
    queued = sum(int(m.group(1)) for m in re.finditer(r"succeeded, (\d+) message\(s\) queued", out))
    assert queued == len(received.bodies) > 0

    def broken(_ctx: demo_run.DemoContext) -> str:
        raise RuntimeError("disk full\nsecond line")

    assert demo_run.run_steps([("broken step", broken)], ctx) == 1
    err = capsys.readouterr().err
    assert err.strip() == "[1/1] broken step: FAILED: RuntimeError: disk full / second line"
