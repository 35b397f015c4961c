"""``rms-ml-push run`` as a process: endpoints answer, SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from rms_ml_push.jobs.catalogue import job_names

STOP_BOUND_S = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert proc.poll() is None, "the service exited during start-up"
        try:
            if _get(port, "/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail("the service did not answer /health")


@pytest.mark.slow
def test_run_serves_endpoints_and_stops_on_sigterm(tmp_path: Path) -> None:
    """health 200, ready 503 naming the RMS, info JSON, metrics text; SIGTERM -> exit 0."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}
    env.update(
        RMS_ML_STORE_URL=f"sqlite:///{tmp_path / 'store.sqlite3'}",
        RMS_ML_MODEL_DIR=str(tmp_path / "models"),
        RMS_ML_HTTP__PORT=str(port),
        RMS_ML_LOG_FORMAT="json",
        RMS_ML_SERVICE__STOP_TIMEOUT_S=str(STOP_BOUND_S),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "rms_ml_push", "run"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_healthy(port, proc)
        status, body = _get(port, "/ready")
        assert status == 503
        assert json.loads(body)["failing"]["rms"] == "not configured"
        # /health answers before the first lease renewal; a lone instance then leads.
        for _ in range(100):
            status, body = _get(port, "/info")
            info = json.loads(body)
            if info["role"] == "leader":
                break
            time.sleep(0.1)
        assert status == 200
        assert info["role"] == "leader"
        # The default schedule minus the jobs this build does not ship (skipped, warned).
        assert {j["job"] for j in info["jobs"]} == set(job_names())
        status, body = _get(port, "/metrics")
        assert status == 200
        assert b"rmsml_leader 1.0" in body
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=STOP_BOUND_S + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail("the service did not stop within its bound")
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"Traceback" not in err
    assert out == b""
    events = [json.loads(line)["event"] for line in err.decode().splitlines()]
    assert events[-1] == "service_stopped"
    assert "catch_up" in events
