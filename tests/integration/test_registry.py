"""The model registry on a real store (SQLite and PostgreSQL) and a real folder."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from rms_ml_push.errors import ModelIntegrityError, ModelNotFoundError
from rms_ml_push.models.fallback import Rung, constant_rung, finite_array, run_chain
from rms_ml_push.models.lifecycle import Version
from rms_ml_push.models.rules import same_weekday_mean
from rms_ml_push.store import model_files
from rms_ml_push.store.registry import ModelRegistry
from rms_ml_push.store.schema import model_versions, promotions
from tests.integration.registry_support import (
    HORIZON,
    NAME,
    make_registry,
    predict_level,
    trained,
)

V = Version.parse


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh store URL on each back end."""
    return (
        sqlite_url if request.param == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    )


@pytest.fixture
def registry(url: str, tmp_path: Path) -> Iterator[ModelRegistry]:
    """A registry over a fresh store and model dir."""
    reg, store = make_registry(url, tmp_path / "models")
    yield reg
    store.dispose()


def _chain(registry: ModelRegistry, keys: list[str]) -> object:
    rungs = [
        *registry.model_rungs(NAME, predict_level),
        Rung("rule_based", lambda ks: {k: np.full(HORIZON, 1.0) for k in ks}),
        constant_rung(np.zeros(HORIZON)),
    ]
    return run_chain(keys, rungs, usable=finite_array(HORIZON))


def test_layout_matches_the_seed(registry: ModelRegistry, tmp_path: Path) -> None:
    """<name>/v1.0.0/{model,scaler,metadata,metrics} and a relative symlink latest -> v1.0.0."""
    result = registry.save(trained(10.0, scaler={"mean": 1.0}))
    assert result.version == V("1.0.0")
    assert result.promoted
    name_dir = tmp_path / "models" / NAME
    assert sorted(p.name for p in name_dir.iterdir()) == ["latest", "v1.0.0"]
    assert os.readlink(name_dir / "latest") == "v1.0.0"
    version_dir = name_dir / "v1.0.0"
    assert sorted(p.name for p in version_dir.iterdir()) == [
        "metadata.json",
        "metrics.json",
        "model.joblib",
        "scaler.joblib",
    ]
    meta = json.loads((version_dir / "metadata.json").read_text())
    assert meta["name"] == NAME
    assert meta["version"] == "1.0.0"
    assert meta["training_window"] == {
        "as_of": "2026-11-28T06:00:00.000Z",
        "history_start": "2025-11-01",
        "history_end": "2026-11-27",
    }
    assert meta["features"] == ["lag_7", "dow"]
    assert meta["hyper_parameters"] == {"season_length": 7}
    assert meta["data_fingerprint"].startswith("sha256:")
    assert "joblib" in meta["library_versions"]
    for file_name in ("model.joblib", "scaler.joblib", "metrics.json"):
        digest = hashlib.sha256((version_dir / file_name).read_bytes()).hexdigest()
        assert meta["files"][file_name] == digest
    metrics = json.loads((version_dir / "metrics.json").read_text())
    assert metrics["model"] == {"wape": 0.2}
    assert metrics["baseline"] == {"name": "seasonal_naive", "wape": 0.3}
    record = registry.version_record(NAME, "v1.0.0")
    assert set(record.digests) == {"model.joblib", "scaler.joblib", "metrics.json", "metadata.json"}
    assert (
        record.digests["metadata.json"]
        == hashlib.sha256((version_dir / "metadata.json").read_bytes()).hexdigest()
    )
    loaded = registry.load_latest(NAME)
    assert loaded.model == {"level": 10.0}
    assert loaded.scaler == {"mean": 1.0}


def test_latest_as_a_plain_file(registry: ModelRegistry, tmp_path: Path) -> None:
    """Where symlinks are unavailable, latest is a file holding 'v1.0.1'; loads read both."""
    registry.save(trained(10.0))
    registry.save(trained(11.0, wape=0.19))
    name_dir = tmp_path / "models" / NAME
    model_files.write_latest(name_dir, V("1.0.1"), use_symlink=False)
    assert not (name_dir / "latest").is_symlink()
    assert (name_dir / "latest").read_text() == "v1.0.1"
    assert registry.load_latest(NAME).model == {"level": 11.0}


def test_worse_challenger_is_kept_flagged_not_promoted(registry: ModelRegistry) -> None:
    """A challenger 2.5 % worse than the champion is rejected; latest stays; event says why."""
    registry.save(trained(10.0, wape=0.20))
    worse = registry.save(trained(12.0, wape=0.205))
    assert worse.version == V("1.0.1")
    assert not worse.promoted
    assert "worse than the champion" in worse.reason
    assert registry.latest_version(NAME) == V("1.0.0")
    record = registry.version_record(NAME, "1.0.1")
    assert record.status == "rejected"
    assert record.gate_reason == worse.reason
    event = worse.event_data()
    assert event["promoted"] is False
    assert event["reason"] == worse.reason
    assert event["version"] == "1.0.1"
    assert event["metrics"]["model"] == {"wape": 0.205}
    # still loadable on purpose (an operator may promote it)
    assert registry.load(NAME, "1.0.1").model == {"level": 12.0}
    better = registry.save(trained(13.0, wape=0.199))
    assert better.promoted
    assert registry.latest_version(NAME) == V("1.0.2")


def test_first_model_must_beat_the_baseline(registry: ModelRegistry) -> None:
    """With no champion, a model no better than the naive baseline is not promoted."""
    result = registry.save(trained(10.0, wape=0.35, baseline=0.3))
    assert not result.promoted
    assert "baseline" in result.reason
    assert registry.latest_version(NAME) is None


def test_version_bumps_follow_the_change(registry: ModelRegistry) -> None:
    """Retrain -> PATCH, new features -> MINOR, new output schema -> MAJOR."""
    assert registry.save(trained(1.0)).version == V("1.0.0")
    assert registry.save(trained(1.0)).version == V("1.0.1")
    assert registry.save(trained(1.0, features=("lag_7",))).version == V("1.1.0")
    assert registry.save(trained(1.0, features=("lag_7",), params={"k": 2})).version == V("1.2.0")
    assert registry.save(trained(1.0, features=("lag_7",), output_schema="2")).version == V("2.0.0")


def test_flipped_byte_falls_to_previous_model(registry: ModelRegistry, tmp_path: Path) -> None:
    """A corrupt latest model.joblib: integrity error logged, previous version answers."""
    registry.save(trained(10.0, wape=0.2))
    registry.save(trained(20.0, wape=0.19))
    path = tmp_path / "models" / NAME / "v1.0.1" / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with capture_logs() as logs:
        result = _chain(registry, ["r1", "r2"])
    assert result.sources == {"r1": "previous_model", "r2": "previous_model"}  # type: ignore[attr-defined]
    assert result.lowest_source == "previous_model"  # type: ignore[attr-defined]
    assert result.labels["previous_model"] == "1.0.0"  # type: ignore[attr-defined]
    assert float(result.values["r1"][0]) == 10.0  # type: ignore[attr-defined]
    assert result.failures[0].error_type == "ModelIntegrityError"  # type: ignore[attr-defined]
    failed = [e for e in logs if e["event"] == "model_integrity_failed"]
    assert failed
    assert failed[0]["file"] == "model.joblib"
    assert failed[0]["version"] == "1.0.1"


def test_shared_loads_read_each_version_once_per_run(
    registry: ModelRegistry, tmp_path: Path
) -> None:
    """Chains given one ``loaded`` dict read the file once: a later change is not re-read."""
    registry.save(trained(10.0, wape=0.2))
    loaded: dict[Any, Any] = {}

    def chain(keys: list[str]) -> Any:
        rungs = [
            *registry.model_rungs(NAME, predict_level, loaded=loaded),
            constant_rung(np.zeros(HORIZON)),
        ]
        return run_chain(keys, rungs, usable=finite_array(HORIZON))

    assert chain(["r1"]).sources == {"r1": "model"}
    path = tmp_path / "models" / NAME / "v1.0.0" / "model.joblib"
    path.write_bytes(b"corrupted after the first read")
    assert chain(["r2"]).sources == {"r2": "model"}  # answered from this run's load
    assert _chain(registry, ["r3"]).sources == {"r3": "rule_based"}  # type: ignore[attr-defined]


def test_store_digest_wins_over_rewritten_metadata(registry: ModelRegistry, tmp_path: Path) -> None:
    """A swapped model.joblib with metadata.json rewritten to match is still refused."""
    registry.save(trained(10.0))
    version_dir = tmp_path / "models" / NAME / "v1.0.0"
    joblib.dump({"level": 999.0}, version_dir / "model.joblib")
    meta = json.loads((version_dir / "metadata.json").read_text())
    meta["files"]["model.joblib"] = hashlib.sha256(
        (version_dir / "model.joblib").read_bytes()
    ).hexdigest()
    (version_dir / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelIntegrityError, match=r"model\.joblib: sha256 mismatch"):
        registry.load_latest(NAME)


def test_unrecorded_version_is_refused(registry: ModelRegistry, tmp_path: Path) -> None:
    """A version folder the store never recorded is not unpickled."""
    registry.save(trained(10.0))
    fake = tmp_path / "models" / NAME / "v9.0.0"
    fake.mkdir()
    joblib.dump({"level": 1.0}, fake / "model.joblib")
    with pytest.raises(ModelIntegrityError, match="no digest recorded"):
        registry.load(NAME, "9.0.0")
    with pytest.raises(ModelNotFoundError):
        registry.load(NAME, "8.0.0")


def test_no_model_rule_based_answers(registry: ModelRegistry) -> None:
    """With an empty registry the same-weekday rule answers, and the message says so."""
    start = date(2026, 11, 30)
    days = [start - timedelta(days=i) for i in range(1, 29)]
    history = pd.DataFrame(
        {"unique_id": ["r1"] * len(days), "ds": pd.to_datetime(days), "y": [5.0] * len(days)}
    )
    rungs = [
        *registry.model_rungs(NAME, predict_level),
        Rung(
            "rule_based",
            lambda keys: same_weekday_mean(history, start=start, horizon_days=HORIZON),
        ),
        constant_rung(np.zeros(HORIZON)),
    ]
    result = run_chain(["r1", "r2"], rungs, usable=finite_array(HORIZON))
    assert result.sources == {"r1": "rule_based", "r2": "default"}
    assert list(result.values["r1"]) == [5.0, 5.0, 5.0]
    assert [f.error_type for f in result.failures[:2]] == ["ModelNotFoundError"] * 2


def test_rollback_and_promote_switch_latest_and_are_logged(registry: ModelRegistry) -> None:
    """Rollback goes to the version promoted before; promote takes 'v' or not; both logged."""
    registry.save(trained(10.0, wape=0.20))
    registry.save(trained(11.0, wape=0.19))
    registry.save(trained(12.0, wape=0.25))  # rejected 1.0.2
    with capture_logs() as logs:
        back = registry.rollback(NAME, reason="bad numbers")
        assert (back.previous, back.version) == (V("1.0.1"), V("1.0.0"))
        assert registry.latest_version(NAME) == V("1.0.0")
        forced = registry.promote(NAME, "v1.0.2", reason="operator knows best")
        assert forced.version == V("1.0.2")
        assert registry.load_latest(NAME).model == {"level": 12.0}
        again = registry.rollback(NAME, to="1.0.1")
        assert again.version == V("1.0.1")
    promoted = [e for e in logs if e["event"] == "model_promoted"]
    assert [(e["version"], e["by"]) for e in promoted] == [
        ("1.0.0", "rollback"),
        ("1.0.2", "operator"),
        ("1.0.1", "rollback"),
    ]
    history = registry.promotion_history(NAME)
    assert [(h.version, h.promoted_by) for h in history][:3] == [
        (V("1.0.1"), "rollback"),
        (V("1.0.2"), "operator"),
        (V("1.0.0"), "rollback"),
    ]
    assert history[2].reason == "bad numbers"
    assert registry.version_record(NAME, "1.0.2").status == "promoted"
    with pytest.raises(ModelNotFoundError):
        registry.promote(NAME, "7.7.7")


def test_retention_never_deletes_latest_or_previous(url: str, tmp_path: Path) -> None:
    """With keep=2, old rejected versions go; latest and the previous stable one stay."""
    registry, store = make_registry(url, tmp_path / "models", keep=2)
    try:
        registry.save(trained(10.0, wape=0.20))  # 1.0.0 promoted
        registry.save(trained(11.0, wape=0.19))  # 1.0.1 promoted, latest
        for _ in range(4):  # 1.0.2 .. 1.0.5, all rejected
            registry.save(trained(99.0, wape=0.5))
        name_dir = tmp_path / "models" / NAME
        on_disk = model_files.versions_on_disk(name_dir)
        assert on_disk == [V("1.0.0"), V("1.0.1"), V("1.0.4"), V("1.0.5")]
        assert registry.latest_version(NAME) == V("1.0.1")
        assert registry.load_previous(NAME).version == V("1.0.0")
        with store.read() as conn:
            rows = dict(
                conn.execute(
                    sa.select(model_versions.c.version, model_versions.c.status).where(
                        model_versions.c.name == NAME
                    )
                ).all()
            )
            promotion_count = conn.execute(
                sa.select(sa.func.count()).select_from(promotions)
            ).scalar()
        assert rows["1.0.2"] == rows["1.0.3"] == "deleted"
        assert promotion_count == 2
        with pytest.raises(ModelNotFoundError):
            registry.load(NAME, "1.0.2")
    finally:
        store.dispose()
