"""The inventory job end to end on demo data: run_job, stored demand forecasts, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator

from rms_ml_push.config import Settings, load_settings
from rms_ml_push.demo.generator import generate_demo
from rms_ml_push.demo.params import DemoConfig
from rms_ml_push.jobs.runtime import JobRequest, JobResult, PredictionSet, run_job
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import messages

END = date(2026, 11, 27)
AS_OF = datetime(2026, 11, 28, 6, tzinfo=UTC)
EVENT = "inventory.recommendations.updated"
SCHEMAS = Path(__file__).resolve().parents[2] / "webhooks" / "schemas"


def _demo(path: Path, *, movements: bool) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    config = DemoConfig(end=END, restaurants=2, days=100, seed=1, movements=movements)
    generate_demo(engine, config)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def demo_movements(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small demo RMS with the optional inventory_movements table."""
    return _demo(tmp_path_factory.mktemp("rms") / "rms.sqlite3", movements=True)


@pytest.fixture(scope="module")
def demo_plain(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small demo RMS without inventory_movements."""
    return _demo(tmp_path_factory.mktemp("rms") / "rms.sqlite3", movements=False)


def _settings(monkeypatch: pytest.MonkeyPatch, rms_url: str) -> Settings:
    endpoint = {
        "name": "rms",
        "url": "http://127.0.0.1:9/hook",
        "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        "allow_insecure_http": True,
    }
    monkeypatch.setenv("RMS_ML_ENDPOINTS", json.dumps([endpoint]))
    monkeypatch.setenv("RMS_ML_RMS_URL", rms_url)
    monkeypatch.setenv("RMS_ML_DELIVERY__MAX_BODY_BYTES", "4096")  # several parts
    return load_settings()


@pytest.fixture
def store() -> Iterator[Store]:
    """The settings' store, migrated."""
    st = Store.from_url(os.environ["RMS_ML_STORE_URL"])
    migrate(st)
    yield st
    st.dispose()


def _bodies(store: Store, event_type: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        rows = conn.execute(sa.select(messages.c.body).where(messages.c.type == event_type))
        return [json.loads(row[0]) for row in rows]


def _validator(event_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{event_type}.schema.json").read_text())
    return Draft202012Validator(schema)


def _items_by_restaurant(bodies: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for body in bodies:
        out.setdefault(body["data"]["restaurant_id"], []).extend(body["data"]["items"])
    return out


def _inventory_ids(rms_url: str) -> dict[int, set[int]]:
    engine = sa.create_engine(rms_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT restaurant_id, id FROM inventory_items")).all()
    engine.dispose()
    out: dict[int, set[int]] = {}
    for rid, item in rows:
        out.setdefault(int(rid), set()).add(int(item))
    return out


def test_run_emits_valid_recommendations_for_every_item(
    monkeypatch: pytest.MonkeyPatch, demo_movements: str, store: Store
) -> None:
    """Without a demand forecast the model answers from movements; bodies match the schema."""
    settings = _settings(monkeypatch, demo_movements)
    report = run_job(settings, store, JobRequest("inventory", AS_OF))
    assert report.status == "succeeded", report.detail
    assert report.summary["demand_forecast"] == {"1": "computed", "2": "computed"}
    assert report.summary["movements"] is True
    bodies = _bodies(store, EVENT)
    validator = _validator(EVENT)
    for body in bodies:
        validator.validate(body)
    assert max(b["data"]["part"]["count"] for b in bodies) > 1
    items = _items_by_restaurant(bodies)
    expected = _inventory_ids(demo_movements)
    assert {rid: sorted(r["inventory_item_id"] for r in rows) for rid, rows in items.items()} == {
        rid: sorted(ids) for rid, ids in expected.items()
    }
    rows = [row for rs in items.values() for row in rs]
    assert all(len(row["daily_usage_forecast"]) == 14 for row in rows)
    sources = {row["source"] for row in rows}
    assert "model" in sources
    assert "default" in sources  # ingredients no recipe uses: no history, no batch
    unused = [row for row in rows if row["source"] == "default"]
    assert all(row["on_hand"] == 0 and row["days_until_stockout"] is None for row in unused)
    assert any(row["expiring"] for row in rows)
    trained = _bodies(store, "model.trained")
    assert [b["data"]["name"] for b in trained] == ["inventory_optimization"]
    _validator("model.trained").validate(trained[0])


def _demand_series(rms_url: str, restaurant_id: int, yhat: float) -> list[dict[str, Any]]:
    engine = sa.create_engine(rms_url)
    with engine.connect() as conn:
        ids = conn.execute(
            sa.text("SELECT id FROM menu_items WHERE restaurant_id = :r"), {"r": restaurant_id}
        ).scalars()
        menu_ids = [int(i) for i in ids]
    engine.dispose()
    days = [(AS_OF.date() + timedelta(days=k)).isoformat() for k in range(21)]
    return [
        {
            "target": "menu_item",
            "menu_item_id": menu_id,
            "source": "model",
            "points": [
                {
                    "ts": d,
                    "yhat": yhat,
                    "lo_80": yhat - 1.28,
                    "hi_80": yhat + 1.28,
                    "lo_95": yhat - 1.96,
                    "hi_95": yhat + 1.96,
                }
                for d in days
            ],
        }
        for menu_id in menu_ids
    ]


def _recipe_use(rms_url: str, yhat: float) -> dict[int, float]:
    engine = sa.create_engine(rms_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT inventory_item_id, SUM(quantity) FROM recipe_components "
                "GROUP BY inventory_item_id"
            )
        ).all()
    engine.dispose()
    return {int(item): float(total) * yhat for item, total in rows}


def test_stored_demand_forecast_feeds_recipe_items(
    monkeypatch: pytest.MonkeyPatch, demo_plain: str, store: Store
) -> None:
    """A stored demand.day set of the same as_of is used: use = sum of recipe qty x yhat."""
    settings = _settings(monkeypatch, demo_plain)
    series = _demand_series(demo_plain, 1, yhat=2.0)

    def demand_compute(_s: Settings, _r: JobRequest, _run_id: str) -> JobResult:
        return JobResult(prediction_sets=[PredictionSet("demand.day", 1, {"series": series})])

    stored = run_job(settings, store, JobRequest("demand", AS_OF), compute=demand_compute)
    assert stored.status == "succeeded"
    report = run_job(settings, store, JobRequest("inventory", AS_OF))
    assert report.status == "succeeded", report.detail
    assert report.summary["demand_forecast"] == {"1": "stored", "2": "computed"}
    assert report.summary["movements"] is False
    expected = _recipe_use(demo_plain, 2.0)
    items = _items_by_restaurant(_bodies(store, EVENT))
    checked = 0
    for row in items[1]:
        if row["inventory_item_id"] in expected:
            assert row["source"] == "model"
            want = round(expected[row["inventory_item_id"]], 3)
            assert row["daily_usage_forecast"] == pytest.approx([want] * 14, abs=2e-3)
            checked += 1
    assert checked >= 10
    assert any(r["source"] == "model" for r in items[2])


def test_cli_runs_the_job_without_delivering(demo_plain: str, tmp_path: Path) -> None:
    """`rms-ml-push jobs run inventory --no-deliver` succeeds for one restaurant, no traceback."""
    env = {
        **os.environ,
        "RMS_ML_RMS_URL": demo_plain,
        "RMS_ML_STORE_URL": f"sqlite:///{tmp_path / 'cli-store.sqlite3'}",
        "RMS_ML_MODEL_DIR": str(tmp_path / "cli-models"),
        "RMS_ML_WEBHOOK_URL": "http://127.0.0.1:9/hook",
        "RMS_ML_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "RMS_ML_LOG_FORMAT": "json",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rms_ml_push",
            "jobs",
            "run",
            "inventory",
            "--no-deliver",
            "--as-of",
            "2026-11-28T06:00:00Z",
            "--restaurant",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "succeeded" in done.stdout
    store = Store.from_url(env["RMS_ML_STORE_URL"])
    bodies = _bodies(store, EVENT)
    store.dispose()
    assert bodies
    assert {b["data"]["restaurant_id"] for b in bodies} == {2}
    validator = _validator(EVENT)
    for body in bodies:
        validator.validate(body)
