"""`rms-ml-push config check` as a subprocess: bad settings exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.rms_fixtures import create_rms

CLI = str(Path(sys.executable).with_name("rms-ml-push"))


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_bad_env_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    """A bad URL, a missing secret file and an unknown table: exit 2, three lines, no traceback."""
    rms = tmp_path / "rms.sqlite3"
    create_rms(f"sqlite:///{rms}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}
    env.update(
        RMS_ML_STORE_URL="mysql://u:hunter2@h/db",
        RMS_ML_WEBHOOK_URL="http://127.0.0.1:9/hook",
        RMS_ML_WEBHOOK_SECRET_FILE=str(tmp_path / "missing-secret"),
        RMS_ML_LOG_FORMAT="json",
    )
    result = _run("config", "check", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "RMS_ML_STORE_URL" in lines[0]
    assert "missing-secret" in lines[1]
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr
    # Settings now load; the mapped table is absent from the RMS.
    env.update(
        RMS_ML_STORE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        RMS_ML_RMS_URL=f"sqlite:///{rms}",
        RMS_ML_RMS_TABLES__ORDERS="orders_order",
    )
    del env["RMS_ML_WEBHOOK_URL"], env["RMS_ML_WEBHOOK_SECRET_FILE"]
    result = _run("config", "check", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: RMS_ML_RMS_TABLES__ORDERS: table 'orders_order' (orders) "
        "not found in the RMS database"
    ]
    assert '"orders": "orders_order"' in result.stdout
