"""The demand job end to end on demo data: RMS -> models -> registry -> outbox -> schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from rms_ml_push.clock import utc_iso
from rms_ml_push.config import load_settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.demo.target import demo_engine
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.demand import MODEL_NAME, forecast_on_the_spot
from rms_ml_push.jobs.forecasts import demand_series
from rms_ml_push.jobs.runtime import JobRequest, run_job
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import messages, model_versions

SCHEMAS = Path(__file__).resolve().parents[2] / "webhooks" / "schemas"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
END = date(2026, 11, 27)
AS_OF = datetime(2026, 11, 28, 6, tzinfo=UTC)


@pytest.fixture(scope="module")
def rms_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One small demo RMS (2 restaurants in different zones, 150 days) for the module."""
    path = tmp_path_factory.mktemp("rms") / "rms.sqlite3"
    engine = demo_engine(f"sqlite:///{path}")
    generate_demo(engine, DemoConfig(end=END, restaurants=2, days=150, seed=5))
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def env(rms_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Settings for the RMS above and one loopback endpoint (nothing listens: no delivery)."""
    monkeypatch.setenv("RMS_ML_RMS_URL", rms_url)
    monkeypatch.setenv("RMS_ML_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("RMS_ML_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("RMS_ML_LOG_LEVEL", "WARNING")
    return {k: v for k, v in os.environ.items() if k.startswith("RMS_ML_")}


def _bodies(store_url: str) -> list[dict[str, object]]:
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(messages.c.body)).scalars().all()
    engine.dispose()
    return [json.loads(b) for b in rows]


def test_cli_run_enqueues_valid_forecasts(env: dict[str, str]) -> None:
    """`jobs run demand` exits 0 and every body validates against its JSON Schema."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rms_ml_push",
            "jobs",
            "run",
            "demand",
            "--as-of",
            AS_OF.isoformat(),
            "--no-deliver",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}, **env},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "succeeded"
    bodies = _bodies(env["RMS_ML_STORE_URL"])
    assert len(bodies) == report["messages"]
    kinds = {
        (b["data"].get("restaurant_id"), b["data"].get("granularity"))  # type: ignore[union-attr]
        for b in bodies
        if b["type"] == "demand.forecast.updated"
    }
    assert kinds == {(1, "day"), (1, "hour"), (2, "day"), (2, "hour")}
    for body in bodies:
        schema = json.loads((SCHEMAS / f"{body['type']}.schema.json").read_text())
        jsonschema.validate(body, schema)
    day = next(b for b in bodies if b["data"].get("granularity") == "day")  # type: ignore[union-attr]
    series = day["data"]["series"]  # type: ignore[index]
    targets = {s["target"] for s in series}
    assert targets == {"orders", "covers", "revenue", "menu_item"}
    for s in series:
        assert len(s["points"]) == 14
        assert s["points"][0]["ts"] == "2026-11-28"
        for p in s["points"]:
            assert 0 <= p["lo_95"] <= p["lo_80"] <= p["hi_80"] <= p["hi_95"]
            assert p["yhat"] >= 0
            if s["target"] != "revenue":  # counts: whole-number bounds
                assert float(p["lo_80"]).is_integer()
                assert float(p["hi_95"]).is_integer()
    engine = sa.create_engine(env["RMS_ML_STORE_URL"])
    with engine.connect() as conn:
        created = dict(
            conn.execute(sa.select(model_versions.c.version, model_versions.c.created_at)).all()
        )
    engine.dispose()
    model = day["data"]["model"]  # type: ignore[index]
    assert model["trained_at"] == utc_iso(created[model["version"]])  # the version's own time
    hour = next(b for b in bodies if b["data"].get("granularity") == "hour")  # type: ignore[union-attr]
    points = hour["data"]["series"][0]["points"]  # type: ignore[index]
    assert len(points) == 7 * 24
    assert points[0]["ts"].endswith(("+01:00", "-05:00", "+09:00", "+11:00", "+00:00"))


def test_stored_set_then_corrupt_model_falls_back(env: dict[str, str]) -> None:
    """Dependent jobs read the stored set; with the model file corrupted they get a lower rung."""
    settings = load_settings()
    store = Store.from_url(settings.store_url.get_secret_value())
    migrate(store)
    report = run_job(settings, store, JobRequest("demand", AS_OF, full=True))
    assert report.status == "succeeded"
    with open_resources(settings) as res:
        series, origin = demand_series(res, as_of=AS_OF, restaurant_id=1, granularity="hour")
        assert origin == "stored"
        assert series[0]["target"] == "orders"
        version = res.registry.latest_version(MODEL_NAME)
        assert version is not None
        model_file = settings.model_dir / MODEL_NAME / f"v{version}" / "model.joblib"
        data = bytearray(model_file.read_bytes())
        data[len(data) // 2] ^= 0xFF
        model_file.write_bytes(bytes(data))
        later = datetime(2026, 11, 28, 9, tzinfo=UTC)
        computed = forecast_on_the_spot(res, as_of=later, restaurant_id=1, granularity="day")
    sources = {s["source"] for s in computed}
    assert "model" not in sources
    assert sources <= {"previous_model", "rule_based", "default"}
    store.dispose()


def test_run_before_any_order_succeeds_with_nothing_to_push(env: dict[str, str]) -> None:
    """An as_of before the first order: a succeeded run that says why nothing was pushed."""
    settings = load_settings()
    store = Store.from_url(settings.store_url.get_secret_value())
    migrate(store)
    early = datetime(2025, 1, 10, 6, tzinfo=UTC)  # the demo RMS starts in mid-2026
    report = run_job(settings, store, JobRequest("demand", early, full=True))
    assert report.status == "succeeded", report.detail
    assert report.messages == 0
    assert report.summary["reason"] == "no order history before as_of"
