"""The customers job end to end through run_job on a demo RMS (SQLite), real store and
model dir: events valid and PII-free, scopes, refunds, slots, the fallback chain."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from rms_ml_push.config import Settings, load_settings
from rms_ml_push.jobs.runtime import JobRequest, RunReport, run_job
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import job_runs
from tests.integration.customers_support import (
    AS_OF,
    CHAIN_WIDE,
    PROFILE_ONLY,
    REFUND_ONLY,
    SINGLE_ORDER,
    WITH_REFUND,
    DemoRms,
    build_demo,
    customer_sets,
    leaked,
    outbox_bodies,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# Under two 90-day horizons of history: no backtest, so a version saved then is rejected.
SHORT_AS_OF = AS_OF - timedelta(days=40)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRms:
    """The demo RMS, generated once for this module."""
    return build_demo(tmp_path_factory.mktemp("customers_rms"))


@pytest.fixture
def settings(demo: DemoRms, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings on the demo RMS with one loopback endpoint and 8 KiB bodies (so sets split)."""
    endpoint = {
        "name": "rms",
        "url": "http://127.0.0.1:9/hook",
        "secrets": [SECRET],
        "allow_insecure_http": True,
    }
    monkeypatch.setenv("RMS_ML_RMS_URL", demo.url)
    monkeypatch.setenv("RMS_ML_ENDPOINTS", json.dumps([endpoint]))
    monkeypatch.setenv("RMS_ML_DELIVERY__MAX_BODY_BYTES", "8192")
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Store:
    """The settings' store, migrated."""
    st = Store.from_url(settings.store_url.get_secret_value())
    migrate(st)
    return st


def _run(settings: Settings, store: Store, **request: Any) -> RunReport:
    as_of = request.pop("as_of", AS_OF)
    return run_job(settings, store, JobRequest("customers", as_of, **request))


def _expected_customers(demo: DemoRms) -> pd.DataFrame:
    """Customers with a completed, positive, profiled order before AS_OF, read directly."""
    with sqlite3.connect(demo.path) as conn:
        orders = pd.read_sql(
            "SELECT customer_id, created_at, status, total_amount FROM orders", conn
        )
        profiles = pd.read_sql("SELECT id, restaurant_id FROM customer_profiles", conn)
    ts = pd.to_datetime(orders["created_at"], utc=True, errors="coerce", format="ISO8601")
    keep = (
        (orders["status"] == "completed")
        & orders["customer_id"].notna()
        & (orders["total_amount"] > 0)
        & (ts < pd.Timestamp(AS_OF))
        & (ts >= pd.Timestamp("1990-01-01", tz="UTC"))
        & orders["customer_id"].isin(profiles["id"])
    )
    ids = orders.loc[keep, "customer_id"].astype("int64").unique()
    return profiles.set_index("id").loc[sorted(ids)]


def test_run_publishes_every_customer_with_an_order_under_its_home(
    demo: DemoRms, settings: Settings, store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """One valid set per restaurant plus the chain-wide null set, exactly the customers
    with a completed order, no PII anywhere; the same slot again is skipped."""
    report = _run(settings, store)
    assert report.status == "succeeded", report.detail
    bodies = outbox_bodies(settings.store_url.get_secret_value())
    sets = customer_sets(bodies)
    assert sorted(sets, key=lambda k: -1 if k is None else k) == [None, 1, 2]
    expected = _expected_customers(demo)
    published = {row["customer_id"]: home for home, rows in sets.items() for row in rows}
    assert sorted(published) == list(expected.index)
    for customer, home in published.items():
        want = expected.loc[customer, "restaurant_id"]
        assert home == (None if pd.isna(want) else int(want))
    assert published[CHAIN_WIDE] is None
    assert published[SINGLE_ORDER] == 1
    assert published[WITH_REFUND] == 2
    assert REFUND_ONLY not in published
    assert PROFILE_ONLY not in published
    parts = [b for b in bodies if b["type"] == "customer.scores.updated"]
    assert len(parts) > 3  # 8 KiB bodies: the sets are split into parts
    assert {b["data"]["model"]["source"] for b in parts} == {"model"}
    assert all(b["data"]["metrics"]["backtest"] for b in parts)
    assert [b["data"]["promoted"] for b in bodies if b["type"] == "model.trained"] == [True]
    assert leaked(f"x zebulon{SINGLE_ORDER}@example.org y", demo.pii)  # the check has teeth
    captured = capsys.readouterr()
    everything = json.dumps(bodies) + captured.out + captured.err
    assert leaked(everything, demo.pii) == []
    with store.read() as conn:
        run = conn.execute(sa.select(job_runs).where(job_runs.c.id == report.run_id)).one()
    assert run.quality["anonymous_order"] > 0
    assert run.quality["order_refunded"] > 0
    assert run.summary["customers_scored"] == len(expected)
    assert sum(run.summary["segments"].values()) == len(expected)
    assert _run(settings, store).status == "skipped"


def test_restaurant_filter_publishes_only_that_restaurant(
    demo: DemoRms, settings: Settings, store: Store
) -> None:
    """--restaurant 2 publishes restaurant 2's customers only: no other set, no null set."""
    report = _run(settings, store, restaurants=(2,))
    assert report.status == "succeeded", report.detail
    sets = customer_sets(outbox_bodies(settings.store_url.get_secret_value()))
    assert list(sets) == [2]
    expected = _expected_customers(demo)
    assert sorted(r["customer_id"] for r in sets[2]) == list(
        expected.index[expected["restaurant_id"] == 2]
    )


def _sources(settings: Settings, run_id: str | None) -> set[tuple[str, str]]:
    """(source, version) of every customer set that run ``run_id`` enqueued."""
    assert outbox_bodies(settings.store_url.get_secret_value())  # all valid
    store = Store.from_url(settings.store_url.get_secret_value())
    try:
        with store.read() as conn:
            rows = conn.execute(
                sa.text("SELECT body FROM messages WHERE run_id = :r AND type = :t"),
                {"r": run_id, "t": "customer.scores.updated"},
            ).all()
    finally:
        store.dispose()
    mine = [json.loads(bytes(r[0]))["data"]["model"] for r in rows]
    return {(m["source"], m["version"]) for m in mine}


def test_fallback_chain_never_publishes_a_rejected_or_corrupt_version(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rejected challengers never answer; a corrupt latest file falls back to the previous
    stable version, and with that corrupt too, to the recency rule (version "none")."""
    monkeypatch.setenv("RMS_ML_MODELS__PROMOTION_TOLERANCE", "1.0")
    settings = load_settings()
    versions = settings.model_dir / "customer_analytics"
    assert _run(settings, store, full=True).status == "succeeded"  # 1.0.0 promoted
    second = _run(settings, store, as_of=AS_OF + timedelta(days=7))  # 1.0.1 promoted
    assert second.summary["promoted"] is True
    # Under two horizons of history there is no backtest: the gate rejects 1.0.2, 1.0.3...
    rejected = _run(settings, store, as_of=SHORT_AS_OF)
    assert rejected.summary["promoted"] is False
    assert _sources(settings, rejected.run_id) == {("model", "1.0.1")}
    _corrupt(versions / "v1.0.1" / "model.joblib")
    fallen = _run(settings, store, as_of=SHORT_AS_OF + timedelta(days=1))
    assert fallen.summary["promoted"] is False
    assert _sources(settings, fallen.run_id) == {("previous_model", "1.0.0")}
    _corrupt(versions / "v1.0.0" / "model.joblib")
    ruled = _run(settings, store, as_of=SHORT_AS_OF + timedelta(days=2))
    assert ruled.status == "succeeded", ruled.detail
    assert _sources(settings, ruled.run_id) == {("rule_based", "none")}


def _corrupt(path: Path) -> None:
    assert path.is_file(), sorted(p.name for p in path.parent.iterdir())
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
