"""The kitchen job end to end on demo data: run_job against a real SQLite RMS and store."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa

from rms_ml_push.config import Settings, load_settings
from rms_ml_push.demo.generator import DemoSummary
from rms_ml_push.features.calendar import forecast_hours, hour0, hour_labels
from rms_ml_push.jobs.common import open_resources
from rms_ml_push.jobs.runtime import JobRequest, JobResult, PredictionSet, run_job
from rms_ml_push.models.kitchen.versions import KitchenVersion
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.schema import job_runs, model_versions
from tests.integration import kitchen_support as ks

EVENT = "kitchen.prep_time.updated"
NAME = "kitchen_performance"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    """Two restaurants x 60 days of demo data, shared by this module's tests."""
    path = tmp_path_factory.mktemp("kitchen_demo") / "rms.sqlite3"
    return path, ks.make_demo(path)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, demo: tuple[Path, DemoSummary]) -> Settings:
    """Settings reading the demo RMS, with one endpoint for every prediction event."""
    monkeypatch.setenv("RMS_ML_RMS_URL", f"sqlite:///{demo[0]}")
    monkeypatch.setenv("RMS_ML_ENDPOINTS", ks.endpoint_env())
    monkeypatch.setenv("RMS_ML_DELIVERY__MAX_BODY_BYTES", "16384")
    monkeypatch.setenv("RMS_ML_KITCHEN__MAX_ITER", "40")  # small models: a quick test
    return load_settings()


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    """The migrated store of the test's own folder."""
    st = Store.from_url(settings.store_url.get_secret_value())
    migrate(st)
    yield st
    st.dispose()


def _as_of() -> datetime:
    return ks.as_of_after(ks.demo_end())


def test_run_end_to_end(settings: Settings, store: Store, demo: tuple[Path, DemoSummary]) -> None:
    """Bodies validate, 24 hourly rows per station, every dirty ticket counted, slot once."""
    request = JobRequest("kitchen", _as_of())
    report = run_job(settings, store, request)
    assert report.status == "succeeded", report.detail
    found = ks.bodies(store, EVENT)
    check = ks.validator(EVENT)
    for body in found:
        check.validate(body)
    assert max(b["data"]["part"]["count"] for b in found) > 1  # 16 KiB forces parts
    zones = ks.zones(demo[0])
    merged = ks.per_restaurant(found)
    assert sorted(merged) == sorted(zones)
    for rid, got in merged.items():
        _check_station_load(got["station_load"], zones[rid], request.as_of)
        assert got["prep_times"], rid
        served = [r for r in got["prep_times"] if r["source"] == "model"]
        assert served, rid
        assert all(r["by_load"] and "total_p50_s" in r["by_load"][0] for r in served)
        assert all(r["per_extra_unit_s"] >= 0 for r in served)
        assert {d["orders_forecast"]["source"] for d in got["data"]} == {"computed"}
    with store.read() as conn:
        run = conn.execute(sa.select(job_runs).where(job_runs.c.id == report.run_id)).one()
    for demo_kind, rule in ks.KITCHEN_DIRTY.items():
        assert run.quality[rule] == demo[1].dirty[demo_kind], rule
    assert run.quality["quantity_non_positive"] > 0  # tickets of the demo's dirty lines
    trained = ks.bodies(store, "model.trained")
    assert [b["data"]["name"] for b in trained] == [NAME]  # one version for all restaurants
    ks.validator("model.trained").validate(trained[0])
    folder = Path(os.environ["RMS_ML_MODEL_DIR"]) / NAME
    assert (folder / "v1.0.0" / "model.joblib").is_file()
    assert _latest(folder) == "v1.0.0"
    assert sorted(p.name for p in Path(os.environ["RMS_ML_MODEL_DIR"]).iterdir()) == [NAME]
    metrics = json.loads((folder / "v1.0.0" / "metrics.json").read_text())
    for rid in zones:
        assert metrics["model"][f"r{rid}.mae_total_p50"] > 0
        assert metrics["baseline"][f"r{rid}.mae_total_p50"] > 0
    for data in (d for got in merged.values() for d in got["data"]):
        assert data["model"]["name"] == NAME
        assert data["model"]["version"] == "1.0.0"
        assert data["backtest"]["model"]["mae_total_p50"] == pytest.approx(
            metrics["model"][f"r{data['restaurant_id']}.mae_total_p50"]
        )
    assert run_job(settings, store, request).status == "skipped"


def _latest(folder: Path) -> str:
    latest = folder / "latest"
    return os.readlink(latest) if latest.is_symlink() else latest.read_text().strip()


def _version(settings: Settings, version: str) -> tuple[KitchenVersion, dict[str, Any]]:
    with open_resources(settings) as resources:
        loaded = resources.registry.load(NAME, version)
    assert isinstance(loaded.model, KitchenVersion)
    return loaded.model, dict(loaded.metrics)


def test_filtered_run_keeps_the_other_restaurants_bundle(
    settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run for restaurant 2 carries restaurant 1's bundle and scores over; the gate
    compares restaurant 2 only, against the champion re-scored on the same tickets."""
    as_of = _as_of()
    first = run_job(settings, store, JobRequest("kitchen", as_of))
    assert first.status == "succeeded", first.detail
    # Other hyper-parameters (a MINOR bump): restaurant 2's refit differs from its old fit.
    monkeypatch.setenv("RMS_ML_KITCHEN__MAX_ITER", "25")
    second = run_job(
        load_settings(), store, JobRequest("kitchen", as_of + timedelta(days=1), restaurants=(2,))
    )
    assert second.status == "succeeded", second.detail
    old, old_metrics = _version(settings, "1.0.0")
    new, new_metrics = _version(settings, "1.1.0")
    assert sorted(new.bundles) == [1, 2]
    kept, refitted = new.bundle(1), new.bundle(2)
    assert kept.table.to_prep_times() == old.bundle(1).table.to_prep_times()
    assert [p.station_id for p in kept.profiles] == [p.station_id for p in old.bundle(1).profiles]
    assert refitted.table.to_prep_times() != old.bundle(2).table.to_prep_times()
    model, old_model = new_metrics["model"], old_metrics["model"]
    assert {k: v for k, v in model.items() if k.startswith("r1.")} == {
        k: v for k, v in old_model.items() if k.startswith("r1.")
    }
    assert model["mae_total_p50"] == pytest.approx(model["r2.mae_total_p50"])  # run's only
    # Same history, so restaurant 2's old table re-scored on the same tickets scores what
    # it scored then; the pooled figure of both restaurants would not be like with like.
    champion = new_metrics["champion"]
    assert champion["mae_total_p50"] == pytest.approx(old_model["r2.mae_total_p50"])
    assert champion["mae_total_p50"] != pytest.approx(old_model["mae_total_p50"])
    carried = [w for w in new_metrics["windows"] if w["restaurant_id"] == 1]
    assert carried
    assert carried[0]["carried_from"] == "1.0.0"
    trained = ks.bodies(store, "model.trained")[-1]["data"]
    with open_resources(settings) as resources:
        latest = resources.registry.latest_version(NAME)
    assert str(latest) == ("1.1.0" if trained["promoted"] else "1.0.0")
    got = ks.per_restaurant(ks.bodies(store, EVENT))
    assert {d["model"]["version"] for d in got[2]["data"]} == {str(latest)}
    _corrupt_latest_falls_to_previous(settings, store, as_of + timedelta(days=2))


def _corrupt_latest_falls_to_previous(settings: Settings, store: Store, as_of: datetime) -> None:
    """1.1.0 promoted then corrupted, the next challenger rejected: restaurant 1 is served
    by 1.0.0 (``previous_model``)."""
    with open_resources(settings) as resources:
        resources.registry.promote(NAME, "1.1.0", reason="test")
    _make_champion_unbeatable(store, "1.1.0", rid=1)
    model_file = Path(os.environ["RMS_ML_MODEL_DIR"]) / NAME / "v1.1.0" / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:-10] + b"corrupted!")
    with store.write() as conn:
        conn.execute(sa.delete(ks.messages))
    third = run_job(settings, store, JobRequest("kitchen", as_of, restaurants=(1,)))
    assert third.status == "succeeded", third.detail
    assert [b["data"]["promoted"] for b in ks.bodies(store, "model.trained")] == [False]
    got = ks.per_restaurant(ks.bodies(store, EVENT))[1]
    assert {r["source"] for r in got["prep_times"]} == {"previous_model"}
    for data in got["data"]:
        assert data["model"]["source"] == "previous_model"
        assert data["model"]["version"] == "1.0.0"
    rejected, _ = _version(settings, "1.2.0")
    assert sorted(rejected.bundles) == [1, 2]  # 2 carried from 1.0.0, latest being corrupt


def _make_champion_unbeatable(store: Store, version: str, *, rid: int) -> None:
    with store.write() as conn:
        row = conn.execute(
            sa.select(model_versions.c.id, model_versions.c.metrics).where(
                model_versions.c.name == NAME, model_versions.c.version == version
            )
        ).one()
        metrics = dict(row.metrics)
        unbeatable = {"mae_total_p50": 0.001, f"r{rid}.mae_total_p50": 0.001}
        metrics["model"] = {**metrics["model"], **unbeatable}
        conn.execute(
            sa.update(model_versions).where(model_versions.c.id == row.id).values(metrics=metrics)
        )


def _check_station_load(rows: list[dict[str, Any]], tz: str, as_of: datetime) -> None:
    by_station: dict[int, list[str]] = {}
    for row in rows:
        by_station.setdefault(row["station_id"], []).append(row["ts"])
    assert by_station
    for labels in by_station.values():
        starts = pd.to_datetime(labels, utc=True)
        assert len(labels) == 24
        assert starts[0] <= pd.Timestamp(as_of) < starts[0] + pd.Timedelta(hours=1)
        assert (starts[1:] - starts[:-1] == pd.Timedelta(hours=1)).all()
        local = pd.Timestamp(labels[0]).tz_convert(tz)
        assert local.minute == 0
        assert local.utcoffset() == pd.Timestamp(labels[0]).utcoffset()  # offset of its zone


def _demand_set(rid: int, tz: str, as_of: datetime, orders: list[float]) -> JobResult:
    labels = hour_labels(forecast_hours(as_of, tz, 24), tz)
    points = [
        {"ts": ts, "yhat": y, "lo_80": y, "hi_80": y, "lo_95": y, "hi_95": y}
        for ts, y in zip(labels, orders, strict=True)
    ]
    series = [{"target": "orders", "menu_item_id": None, "source": "model", "points": points}]
    return JobResult(prediction_sets=[PredictionSet("demand.hour", rid, {"series": series})])


def test_stored_hourly_demand_drives_station_load(
    settings: Settings, store: Store, demo: tuple[Path, DemoSummary]
) -> None:
    """With a stored demand.hour set of the same as_of, expected tickets follow its orders."""
    rid, tz = 1, ks.zones(demo[0])[1]
    as_of = _as_of()
    orders = [float((h * 7) % 23) for h in range(24)]
    seeded = run_job(
        settings,
        store,
        JobRequest("demand", as_of, restaurants=(rid,)),
        compute=lambda _s, _r, _id: _demand_set(rid, tz, as_of, orders),
    )
    assert seeded.status == "succeeded"
    report = run_job(settings, store, JobRequest("kitchen", as_of, restaurants=(rid,)))
    assert report.status == "succeeded", report.detail
    got = ks.per_restaurant(ks.bodies(store, EVENT))[rid]
    assert {d["orders_forecast"]["source"] for d in got["data"]} == {"stored"}
    first = pd.Timestamp(hour0(as_of, tz))
    for station in {r["station_id"] for r in got["station_load"]}:
        rows = [r for r in got["station_load"] if r["station_id"] == station]
        assert pd.Timestamp(rows[0]["ts"]) == first
        tickets = [r["expected_tickets"] for r in rows]
        share = max(tickets) / max(orders)
        assert share > 0
        for t, o in zip(tickets, orders, strict=True):
            assert t == pytest.approx(o * share, abs=0.011)


def test_station_load_falls_back_to_weekday_hour_profile_without_demand(
    monkeypatch: pytest.MonkeyPatch, store: Store, demo: tuple[Path, DemoSummary]
) -> None:
    """No demand forecast can be computed (its payments table is unreadable): the station
    load still comes, from the recent same-weekday-hour profile, and says so."""
    # The demand job reads payments, the kitchen job does not: a table map pointing at a
    # table the RMS lacks breaks the demand forecast alone, as a broken grant would.
    monkeypatch.setenv("RMS_ML_RMS_TABLES__PAYMENTS", "no_such_payments")
    settings = load_settings()
    rid, tz = 1, ks.zones(demo[0])[1]
    as_of = _as_of()
    report = run_job(settings, store, JobRequest("kitchen", as_of, restaurants=(rid,)))
    assert report.status == "succeeded", report.detail
    got = ks.per_restaurant(ks.bodies(store, EVENT))[rid]
    forecasts = [d["orders_forecast"] for d in got["data"]]
    assert {f["source"] for f in forecasts} == {"rule_based"}
    assert all("no hourly demand forecast" in f["detail"] for f in forecasts)
    _check_station_load(got["station_load"], tz, as_of)
    expected = _profile_orders(demo[0], rid, tz, as_of)
    for station in {r["station_id"] for r in got["station_load"]}:
        rows = [r for r in got["station_load"] if r["station_id"] == station]
        tickets = [r["expected_tickets"] for r in rows]
        hours = [pd.Timestamp(r["ts"]).tz_convert(tz) for r in rows]
        share = max(tickets) / max(expected[(h.dayofweek, h.hour)] for h in hours)
        assert share > 0
        for t, h in zip(tickets, hours, strict=True):
            assert t == pytest.approx(expected[(h.dayofweek, h.hour)] * share, abs=0.011)


def _profile_orders(path: Path, rid: int, tz: str, as_of: datetime) -> dict[tuple[int, int], float]:
    """Mean completed orders per local (weekday, hour) over the four weeks before day 0,
    read straight from the RMS file: the profile the fallback is documented to use."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            orders = pd.read_sql(
                sa.text(
                    "SELECT created_at FROM orders WHERE restaurant_id = :rid"
                    " AND status = 'completed'"
                ),
                conn,
                params={"rid": rid},
            )
    finally:
        engine.dispose()
    created = pd.to_datetime(orders["created_at"], utc=True, format="ISO8601")
    day0 = pd.Timestamp(as_of).tz_convert(tz).normalize()
    local = created.dt.tz_convert(tz)
    window = local[(local >= day0 - pd.Timedelta(days=28)) & (local < day0)]
    counts = window.groupby([window.dt.dayofweek, window.dt.hour]).size()
    return {(d, h): counts.get((d, h), 0) / 4.0 for d in range(7) for h in range(24)}


def test_corrupt_model_and_rejected_challenger_never_reach_the_rms(
    settings: Settings, store: Store
) -> None:
    """Latest version corrupt, the next challenger rejected: every row is rule-based."""
    as_of = _as_of()
    first = run_job(settings, store, JobRequest("kitchen", as_of, restaurants=(2,)))
    assert first.status == "succeeded", first.detail
    _make_champion_unbeatable(store, "1.0.0", rid=2)
    model_file = Path(os.environ["RMS_ML_MODEL_DIR"]) / NAME / "v1.0.0" / "model.joblib"
    model_file.write_bytes(model_file.read_bytes()[:-10] + b"corrupted!")
    with store.write() as conn:
        conn.execute(sa.delete(ks.messages))
    second = run_job(
        settings, store, JobRequest("kitchen", as_of + timedelta(days=1), restaurants=(2,))
    )
    assert second.status == "succeeded", second.detail
    trained = ks.bodies(store, "model.trained")
    assert [b["data"]["promoted"] for b in trained] == [False]
    got = ks.per_restaurant(ks.bodies(store, EVENT))[2]
    assert {r["source"] for r in got["prep_times"]} == {"rule_based"}
    assert all(r["by_load"] == [] for r in got["prep_times"])
    for data in got["data"]:
        assert data["model"]["source"] == "rule_based"
        assert data["model"]["version"] is None
