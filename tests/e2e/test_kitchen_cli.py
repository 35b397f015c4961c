"""`rms-ml-push jobs run kitchen --no-deliver` as a real process against demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from rms_ml_push.store.engine import Store
from tests.integration import kitchen_support as ks

EVENT = "kitchen.prep_time.updated"


def test_cli_runs_kitchen_for_one_restaurant(tmp_path: Path) -> None:
    """Exit 0, a JSON report, schema-valid bodies, the seed's registry layout, no traceback."""
    rms = tmp_path / "rms.sqlite3"
    ks.make_demo(rms)
    as_of = ks.as_of_after(ks.demo_end())
    env = {
        **os.environ,
        "RMS_ML_RMS_URL": f"sqlite:///{rms}",
        "RMS_ML_ENDPOINTS": ks.endpoint_env(),
        "RMS_ML_KITCHEN__MAX_ITER": "40",
        "RMS_ML_LOG_FORMAT": "json",
    }
    args = ["jobs", "run", "kitchen", "--as-of", as_of.isoformat(), "--restaurant", "2"]
    proc = subprocess.run(
        [sys.executable, "-m", "rms_ml_push", *args, "--no-deliver", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["status"] == "succeeded"
    assert report["messages"] >= 2  # the kitchen set and model.trained
    store = Store.from_url(os.environ["RMS_ML_STORE_URL"])
    try:
        found = ks.bodies(store, EVENT)
    finally:
        store.dispose()
    assert found
    for body in found:
        ks.validator(EVENT).validate(body)
    merged = ks.per_restaurant(found)
    assert list(merged) == [2]
    stations = {r["station_id"] for r in merged[2]["station_load"]}
    assert len(merged[2]["station_load"]) == 24 * len(stations)
    assert report["summary"]["version"] == "1.0.0"
    models = Path(os.environ["RMS_ML_MODEL_DIR"])
    assert [p.name for p in models.iterdir()] == ["kitchen_performance"]
    folder = models / "kitchen_performance"
    assert (folder / "v1.0.0" / "model.joblib").is_file()
    assert {"metadata.json", "metrics.json"} <= {p.name for p in (folder / "v1.0.0").iterdir()}
    latest = folder / "latest"
    assert (os.readlink(latest) if latest.is_symlink() else latest.read_text()) == "v1.0.0"
