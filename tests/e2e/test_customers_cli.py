"""`rms-ml-push jobs run customers --no-deliver` as a subprocess on a demo RMS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.customers_support import (
    AS_OF,
    CHAIN_WIDE,
    build_demo,
    customer_sets,
    leaked,
    outbox_bodies,
)

ENDPOINT = {
    "name": "rms",
    "url": "http://127.0.0.1:9/hook",
    "secrets": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    "allow_insecure_http": True,
}


def _cli(rms_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RMS_ML_")}
    env.update(
        RMS_ML_STORE_URL=os.environ["RMS_ML_STORE_URL"],
        RMS_ML_MODEL_DIR=os.environ["RMS_ML_MODEL_DIR"],
        RMS_ML_RMS_URL=rms_url,
        RMS_ML_ENDPOINTS=json.dumps([ENDPOINT]),
        RMS_ML_LOG_FORMAT="json",
    )
    return subprocess.run(
        [sys.executable, "-m", "rms_ml_push", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def test_jobs_run_customers_enqueues_valid_pii_free_sets(tmp_path: Path) -> None:
    """Exit 0, a JSON report, valid bodies with the chain-wide set, no PII in bodies or
    logs, no traceback; the same slot again is skipped."""
    demo = build_demo(tmp_path)
    args = ("jobs", "run", "customers", "--no-deliver", "--as-of", AS_OF.isoformat(), "--json")
    first = _cli(demo.url, *args)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)
    assert report["status"] == "succeeded"
    assert report["messages"] > 0
    assert report["summary"]["customers_scored"] > 0
    assert "Traceback" not in first.stderr
    bodies = outbox_bodies(os.environ["RMS_ML_STORE_URL"])
    sets = customer_sets(bodies)
    assert None in sets
    assert CHAIN_WIDE in {row["customer_id"] for row in sets[None]}
    assert leaked(first.stdout + first.stderr + json.dumps(bodies), demo.pii) == []
    second = _cli(demo.url, *args)
    assert second.returncode == 0, second.stderr[-2000:]
    assert json.loads(second.stdout)["status"] == "skipped"


@pytest.mark.parametrize("value", ["zebulon900001@example.org", "+44 7700 900123", "Zebulon"])
def test_pii_check_has_teeth(tmp_path: Path, value: str) -> None:
    """The leak check finds a placed customer's e-mail, phone or name inside a body."""
    pii = frozenset({"zebulon900001@example.org", "+44 7700 900123", "Zebulon", "1977-07-07"})
    assert leaked(json.dumps({"data": {"note": f"hello {value}."}}), pii) == [value]
