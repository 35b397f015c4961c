"""The service with real worker processes, a real store and a real HTTP endpoint."""

from __future__ import annotations

import functools
import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rms_ml_push.clock import SystemClock
from rms_ml_push.config import load_settings
from rms_ml_push.jobs.schedule import JOB_NAMES, parse_schedule
from rms_ml_push.metrics import Metrics
from rms_ml_push.service.app import Service
from rms_ml_push.service.launcher import JobLauncher
from rms_ml_push.service.protocols import JobRequest, JobRunner, ServiceDeps
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.runs import JobRuns
from rms_ml_push.store.schema import job_runs
from tests import fake_jobs

DAILY = '[[entries]]\njob = "demand"\ncron = "0 6 * * *"\n'


class FakeDispatcher:
    """Records start/stop like the real dispatcher's interface."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")

    def stop(self, timeout: float) -> None:
        self.events.append(f"stop<={timeout:.0f}")


class Finished:
    """on_run_finished recorder that lets a test wait for N completions."""

    def __init__(self) -> None:
        self.items: list[tuple[JobRequest, Any, BaseException | None]] = []
        self.cond = threading.Condition()

    def __call__(self, req: JobRequest, result: Any, error: BaseException | None) -> None:
        with self.cond:
            self.items.append((req, result, error))
            self.cond.notify_all()

    def wait_for(self, n: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.items) >= n, timeout=60)


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    """A migrated SQLite store."""
    s = Store.from_url(sqlite_url)
    migrate(s)
    yield s
    s.dispose()


def _deps(store: Store, runner: JobRunner, **extra: Any) -> ServiceDeps:
    runs = JobRuns(store, SystemClock())
    base: dict[str, Any] = {
        "dispatcher": FakeDispatcher(),
        "job_runner": runner,
        "registered_jobs": JOB_NAMES,
        "last_successful_slot": lambda j, s: getattr(
            runs.last_successful_slot(j, s), "as_of", None
        ),
        "record_interrupted": lambda r, why: runs.mark_interrupted(r.run_id, why),
        "last_run": lambda j, s: None,
        "rms_check": lambda: None,
    }
    base.update(extra)
    return ServiceDeps(**base)


def _launcher(deps: ServiceDeps, metrics: Metrics | None = None) -> JobLauncher:
    return JobLauncher(
        runner=deps.job_runner,
        deps=deps,
        metrics=metrics or Metrics(),
        clock=SystemClock(),
        instance="test",
        workers=1,
    )


def _req_args(job: str = "demand") -> dict[str, Any]:
    return {
        "job": job,
        "as_of": datetime(2024, 6, 12, 6, tzinfo=UTC),
        "full": False,
        "restaurants": (),
        "scope": "all",
        "trigger": "schedule",
    }


def test_runs_execute_in_a_spawned_worker_process(store: Store) -> None:
    """A submitted run executes in another process and its result reaches the parent hook."""
    finished = Finished()
    metrics = Metrics()
    launcher = _launcher(_deps(store, fake_jobs.quick_job, on_run_finished=finished), metrics)
    launcher.start()
    try:
        req = launcher.submit(**_req_args())
        assert req is not None
        finished.wait_for(1)
    finally:
        launcher.stop(time.monotonic() + 5)
    got, result, error = finished.items[0]
    assert error is None
    assert got == req
    assert result["pid"] != os.getpid()
    assert result["run_id"] == req.run_id
    assert result["as_of"] == "2024-06-12T06:00:00+00:00"
    assert b'rmsml_job_runs_total{job="demand",status="succeeded"} 1.0' in metrics.render()


def test_a_failing_run_is_reported_with_its_reason(store: Store) -> None:
    """An exception in the worker reaches the hook and counts as failed."""
    finished = Finished()
    metrics = Metrics()
    launcher = _launcher(_deps(store, fake_jobs.failing_job, on_run_finished=finished), metrics)
    launcher.start()
    try:
        launcher.submit(**_req_args())
        finished.wait_for(1)
    finally:
        launcher.stop(time.monotonic() + 5)
    _, result, error = finished.items[0]
    assert result is None
    assert "RMS database unreachable" in str(error)
    assert b'rmsml_job_runs_total{job="demand",status="failed"} 1.0' in metrics.render()


def test_stop_terminates_a_stuck_run_and_records_it_interrupted(
    store: Store, tmp_path: Path
) -> None:
    """A run still going at the stop bound is killed, its row marked interrupted; dups refused."""
    runner = functools.partial(fake_jobs.stuck_job, str(tmp_path))
    launcher = _launcher(_deps(store, runner))
    launcher.start()
    req = launcher.submit(**_req_args())
    assert req is not None
    assert launcher.submit(**_req_args()) is None  # same slot already in the pool
    marker = tmp_path / req.run_id
    while not marker.exists():
        time.sleep(0.05)
    now = datetime.now(UTC)
    with store.write() as conn:  # the run record the job itself would have written
        conn.execute(
            job_runs.insert().values(
                id=req.run_id,
                job="demand",
                as_of=req.as_of,
                scope="all",
                trigger="schedule",
                status="running",
                started_at=now,
                heartbeat_at=now,
            )
        )
    interrupted = launcher.stop(time.monotonic() + 0.5)
    assert interrupted == [req]
    pid = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with store.read() as conn:
        row = conn.execute(job_runs.select()).mappings().one()
    assert row["status"] == "interrupted"
    assert "service stopped" in row["error"]


def _settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(DAILY)
    monkeypatch.setenv("RMS_ML_SCHEDULE_FILE", str(schedule))
    monkeypatch.setenv("RMS_ML_HTTP__PORT", "0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


def _service(settings: Any, store: Store, deps: ServiceDeps, name: str) -> Service:
    entries = parse_schedule(
        DAILY, timezone="UTC", registered_jobs=JOB_NAMES, now=datetime.now(UTC)
    )
    return Service(
        settings,
        store,
        deps,
        entries=entries,
        clock=SystemClock(),
        metrics=Metrics(),
        instance_id=name,
    )


def _get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_leader_catches_up_follower_waits_and_stop_releases(
    store: Store, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First instance leads and runs the missed slot; the second follows; stopping hands over."""
    settings = _settings(tmp_path, monkeypatch)
    finished = Finished()
    deps_a = _deps(store, fake_jobs.quick_job, on_run_finished=finished)
    a = _service(settings, store, deps_a, "a")
    store_b = Store.from_url(sqlite_url)
    b = _service(settings, store_b, _deps(store_b, fake_jobs.quick_job), "b")
    a.start()
    b.start()
    try:
        finished.wait_for(1)
        req, _result, _ = finished.items[0]
        assert (req.job, req.trigger, req.as_of) == (
            "demand",
            "catchup",
            parse_schedule(DAILY, timezone="UTC", registered_jobs=JOB_NAMES, now=datetime.now(UTC))[
                0
            ].previous_slot(datetime.now(UTC)),
        )
        status, body = _get(a.api.port, "/info")
        info = json.loads(body)
        assert status == 200
        assert (info["role"], info["epoch"], info["instance"]) == ("leader", 1, "a")
        assert info["jobs"][0]["job"] == "demand"
        assert json.loads(_get(b.api.port, "/info")[1])["role"] == "follower"
        assert _get(a.api.port, "/ready") == (200, b'{"status": "ready"}')
    finally:
        a.stop()
    assert deps_a.dispatcher.events == ["start", "stop<=18"]  # type: ignore[attr-defined]
    b.keeper.tick()  # the lease was released: b takes over at its next renewal, epoch 2
    try:
        assert b.keeper.is_leader
        assert b.keeper.epoch == 2
        assert b.scheduler.running
    finally:
        b.stop()


def test_ready_names_failing_parts_and_token_guards_info(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/ready is 503 naming the RMS; /info and /metrics need the token; /health does not."""
    settings = _settings(tmp_path, monkeypatch, RMS_ML_HTTP__TOKEN="tok-123456789")

    def rms_down() -> None:
        raise ConnectionRefusedError("postgresql://reader:hunter2@db/rms refused")

    svc = _service(settings, store, _deps(store, fake_jobs.quick_job, rms_check=rms_down), "x")
    svc.start()
    try:
        port = svc.api.port
        status, body = _get(port, "/ready")
        assert status == 503
        assert json.loads(body)["failing"] == {"rms": "unavailable (ConnectionRefusedError)"}
        assert b"hunter2" not in body
        assert _get(port, "/health")[0] == 200
        assert _get(port, "/info")[0] == 401
        assert _get(port, "/metrics")[0] == 401
        assert _get(port, "/info", token="wrong")[0] == 401
        assert _get(port, "/info", token="tok-123456789")[0] == 200
        status, text = _get(port, "/metrics", token="tok-123456789")
        assert status == 200
        assert b"# TYPE rmsml_job_runs_total counter" in text
        assert _get(port, "/nope")[0] == 404
    finally:
        svc.stop()


def test_no_secret_or_pii_in_info_or_metrics(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Secrets in settings and in what providers return never reach /info or /metrics."""
    secrets = {
        "RMS_ML_RMS_URL": "postgresql+psycopg://reader:Sup3rS3cret@127.0.0.1:1/rms",
        "RMS_ML_HTTP__TOKEN": "tok-abcdefghij",
        "RMS_ML_WEBHOOK_URL": "http://127.0.0.1:9/hook",
        "RMS_ML_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }
    settings = _settings(tmp_path, monkeypatch, **secrets)

    def leaky_endpoints() -> list[Mapping[str, Any]]:
        return [
            {
                "name": "default",
                "url": "https://bob:pw-Sup3rS3cret@rms.example/hook",
                "secret": secrets["RMS_ML_WEBHOOK_SECRET"],
                "last_error": "mail a@b.example",
            }
        ]

    deps = _deps(store, fake_jobs.quick_job, info_providers={"endpoints": leaky_endpoints})
    svc = _service(settings, store, deps, "x")
    svc.start()
    try:
        token = secrets["RMS_ML_HTTP__TOKEN"]
        outputs = [_get(svc.api.port, p, token=token)[1] for p in ("/info", "/metrics", "/ready")]
    finally:
        svc.stop()
    for body in outputs:
        for needle in (
            "Sup3rS3cret",
            "tok-abcdefghij",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "a@b.example",
        ):
            assert needle.encode() not in body
    assert json.loads(outputs[0])["endpoints"][0]["name"] == "default"
