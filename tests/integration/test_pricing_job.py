"""The pricing job end to end on a small demo RMS (SQLite): run_job and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from rms_ml_push.config import Settings, load_settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.jobs.runtime import JobRequest, run_job
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import messages

AS_OF = datetime(2026, 11, 28, 6, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SCHEMA = Path(__file__).parents[2] / "webhooks/schemas/pricing.recommendations.updated.schema.json"


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo RMS of 2 restaurants x 120 days, written once for this module."""
    url = f"sqlite:///{tmp_path_factory.mktemp('pricing') / 'rms.sqlite3'}"
    engine = sa.create_engine(url)
    generate_demo(engine, DemoConfig(end=date(2026, 11, 27), restaurants=2, days=120, seed=1))
    engine.dispose()
    return url


@pytest.fixture
def settings(demo_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """One loopback endpoint for every event, small bodies so that sets split into parts."""
    endpoint = {"name": "rms", "url": "http://127.0.0.1:9/hook", "secrets": [SECRET]}
    monkeypatch.setenv("RMS_ML_ENDPOINTS", json.dumps([{**endpoint, "allow_insecure_http": True}]))
    monkeypatch.setenv("RMS_ML_DELIVERY__MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("RMS_ML_RMS_URL", demo_url)
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """The settings' store, migrated."""
    st = Store.from_url(settings.store_url.get_secret_value())
    migrate(st)
    yield st
    st.dispose()


def _bodies(store: Store, event_type: str) -> list[dict]:
    with store.read() as conn:
        rows = conn.execute(sa.select(messages.c.body).where(messages.c.type == event_type))
        return [json.loads(bytes(r[0])) for r in rows]


def _active_items(url: str) -> dict[int, int]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, restaurant_id FROM menu_items WHERE is_active"))
        found = {int(i): int(r) for i, r in rows}
    engine.dispose()
    return found


def test_run_job_publishes_every_active_item(
    settings: Settings, store: Store, demo_url: str
) -> None:
    """Every body validates; each active item appears once, with a numeric price."""
    report = run_job(settings, store, JobRequest("pricing", AS_OF))
    assert report.status == "succeeded", report.detail
    bodies = _bodies(store, "pricing.recommendations.updated")
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    for body in bodies:
        validator.validate(body)
    rows = [(b["data"]["restaurant_id"], row) for b in bodies for row in b["data"]["items"]]
    seen = {row["menu_item_id"]: rid for rid, row in rows}
    assert len(rows) == len(seen)
    assert seen == _active_items(demo_url)
    assert all(isinstance(row["recommended_price"], float | int) for _, row in rows)
    assert any(b["data"]["part"]["count"] > 1 for b in bodies)
    bases = {row["basis"] for _, row in rows}
    assert bases <= {"item", "category", "no_cost", "keep"}
    for _, row in rows:
        if row["basis"] in {"keep", "no_cost"}:
            assert row["recommended_price"] == row["current_price"]
    assert {b["data"]["model"]["name"] for b in bodies} == {"pricing_optimization"}
    trained = _bodies(store, "model.trained")
    assert [t["data"]["name"] for t in trained] == ["pricing_optimization"]
    assert "response_mae" in trained[0]["data"]["metrics"]["model"]


def test_restaurant_filter_publishes_only_that_restaurant(settings: Settings, store: Store) -> None:
    """--restaurant 2: only restaurant 2's set is enqueued."""
    report = run_job(settings, store, JobRequest("pricing", AS_OF, restaurants=(2,)))
    assert report.status == "succeeded", report.detail
    bodies = _bodies(store, "pricing.recommendations.updated")
    assert bodies
    assert {b["data"]["restaurant_id"] for b in bodies} == {2}


def test_cli_jobs_run_pricing(settings: Settings, tmp_path: Path) -> None:
    """`rms-ml-push jobs run pricing --no-deliver` exits 0 with no traceback."""
    cli = str(Path(sys.executable).with_name("rms-ml-push"))
    env = {k: v for k, v in os.environ.items() if k.startswith(("RMS_ML_", "PATH", "HOME"))}
    result = subprocess.run(
        [cli, "jobs", "run", "pricing", "--as-of", "2026-11-28T06:00:00Z", "--no-deliver"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "succeeded" in result.stdout
