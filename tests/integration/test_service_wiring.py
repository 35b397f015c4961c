"""The wired service in-process: real dispatcher, run_job in a worker, /info and /metrics."""

from __future__ import annotations

import functools
import json
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from rms_ml_push.config import load_settings
from rms_ml_push.service.app import Service
from rms_ml_push.service.run import build_service
from rms_ml_push.service.wiring import build_deps
from rms_ml_push.store.engine import Store
from rms_ml_push.store.schema import job_runs, messages
from tests import service_computes
from tests.integration.delivery_kit import SECRET
from tests.integration.webhook_servers import Answer, ScriptedServer, wait_until

DAILY = '[[entries]]\njob = "demand"\ncron = "0 6 * * *"\n'


@pytest.fixture
def receiver() -> Iterator[ScriptedServer]:
    """A loopback webhook receiver answering 200."""
    server = ScriptedServer(lambda n: Answer(200))
    yield server
    server.close()


def _get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: ScriptedServer, compute: Any
) -> Service:
    rms = tmp_path / "rms.sqlite3"
    sqlite3.connect(rms).close()
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(DAILY)
    for key, value in {
        "RMS_ML_RMS_URL": f"sqlite:///{rms}",
        "RMS_ML_SCHEDULE_FILE": str(schedule),
        "RMS_ML_HTTP__PORT": "0",
        "RMS_ML_WEBHOOK_URL": receiver.url,
        "RMS_ML_WEBHOOK_SECRET": SECRET,
        "RMS_ML_DELIVERY__POLL_INTERVAL_S": "0.05",
        "RMS_ML_SERVICE__STOP_TIMEOUT_S": "5",
    }.items():
        monkeypatch.setenv(key, value)
    return build_service(
        load_settings(), deps_factory=functools.partial(build_deps, compute=compute)
    )


def _rows(store: Store, table: sa.Table) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(sa.select(table)).mappings())


def test_catch_up_run_is_recorded_delivered_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: ScriptedServer
) -> None:
    """The leader's catch-up runs in a worker, its messages go out, /info and /metrics say so."""
    svc = _service(tmp_path, monkeypatch, receiver, service_computes.train_and_predict)
    store = Store.from_url(load_settings().store_url.get_secret_value())
    svc.start()
    try:
        assert wait_until(lambda: len(set(receiver.ids())) == 3, timeout_s=60)
        assert wait_until(
            lambda: all(m["status"] == "delivered" for m in _rows(store, messages)), timeout_s=10
        )
        port = svc.api.port
        info = json.loads(_get(port, "/info")[1])
        metrics = _get(port, "/metrics")[1].decode()
        ready = _get(port, "/ready")
    finally:
        svc.stop()
    (run,) = _rows(store, job_runs)
    assert (run["status"], run["trigger"], run["instance"]) == (
        "succeeded",
        "catchup",
        svc.instance_id,
    )
    assert {m["run_id"] for m in _rows(store, messages)} == {run["id"]}
    store.dispose()
    assert ready[0] == 200
    job = info["jobs"][0]
    assert (job["job"], job["status"]) == ("demand", "succeeded")
    assert job["last_run"]["run_id"] == run["id"]
    assert job["last_run"]["fallback"] == {"model": 5, "rule_based": 2}
    (model,) = info["models"]
    assert model["latest_version"] == run["model_version"]
    assert model["promoted_at"] is not None
    assert model["metrics"]["metric"] == "wape"
    assert model["metrics"]["model"] == {"wape": 0.2}
    assert model["fallback"] == {"model": 5, "rule_based": 2}
    assert info["outbox"]["by_status"]["delivered"] == 3
    assert info["outbox"]["oldest_pending_at"] is None
    (endpoint,) = info["endpoints"]
    assert endpoint["enabled"] is True
    assert endpoint["breaker"] == "closed"
    assert endpoint["last_success_at"] is not None
    assert SECRET not in json.dumps(info)
    for line in (
        'rmsml_job_runs_total{job="demand",status="succeeded"} 1.0',
        'rmsml_deliveries_total{endpoint="default",outcome="delivered"} 3.0',
        'rmsml_delivery_latency_seconds_count{endpoint="default"} 3.0',
        'rmsml_fallback_rung_results_total{family="demand",rung="model"} 5.0',
        'rmsml_fallback_rung_results_total{family="demand",rung="rule_based"} 2.0',
        'rmsml_outbox_messages{status="delivered"} 3.0',
        'rmsml_outbox_messages{status="pending"} 0.0',
        'rmsml_breaker_state{endpoint="default"} 0.0',
    ):
        assert line in metrics, line


def test_rms_down_fails_the_run_with_its_reason_and_ready_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: ScriptedServer
) -> None:
    """No RMS file: the run is failed with the RMS reason, nothing enqueued, /ready says rms."""
    svc = _service(tmp_path, monkeypatch, receiver, service_computes.predict)
    (tmp_path / "rms.sqlite3").unlink()
    store = Store.from_url(load_settings().store_url.get_secret_value())
    svc.start()
    try:
        assert wait_until(
            lambda: [r["status"] for r in _rows(store, job_runs)] == ["failed"], timeout_s=60
        )
        status, body = _get(svc.api.port, "/ready")
        metrics = _get(svc.api.port, "/metrics")[1].decode()
    finally:
        svc.stop()
    (run,) = _rows(store, job_runs)
    assert run["error"].startswith("RmsUnavailableError: RMS database file not found")
    assert _rows(store, messages) == []
    store.dispose()
    assert status == 503
    assert json.loads(body)["failing"] == {"rms": "unavailable (RmsUnavailableError)"}
    assert 'rmsml_job_runs_total{job="demand",status="failed"} 1.0' in metrics
