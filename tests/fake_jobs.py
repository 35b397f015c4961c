"""Picklable job runners for tests and benches (module-level, importable by spawned workers)."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from rms_ml_push.errors import JobError


def quick_job(
    job: str,
    as_of: datetime,
    full: bool,
    restaurants: tuple[int, ...],
    trigger: str,
    *,
    run_id: str,
) -> Mapping[str, Any]:
    """Return what it was asked, and the worker's pid."""
    return {
        "job": job,
        "as_of": as_of.isoformat(),
        "full": full,
        "trigger": trigger,
        "restaurants": list(restaurants),
        "run_id": run_id,
        "pid": os.getpid(),
    }


def failing_job(
    job: str,
    as_of: datetime,
    full: bool,
    restaurants: tuple[int, ...],
    trigger: str,
    *,
    run_id: str,
) -> Mapping[str, Any]:
    """Fail like a job whose RMS is down."""
    raise JobError(f"{job}: RMS database unreachable")


def stuck_job(
    marker_dir: str,
    job: str,
    as_of: datetime,
    full: bool,
    restaurants: tuple[int, ...],
    trigger: str,
    *,
    run_id: str,
) -> Mapping[str, Any]:
    """Write ``<marker_dir>/<run_id>`` with the worker pid, then hang (use functools.partial)."""
    Path(marker_dir, run_id).write_text(str(os.getpid()))
    time.sleep(120)
    return {}
