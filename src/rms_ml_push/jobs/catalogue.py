"""The jobs this version ships, by name, each imported only when it runs."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from rms_ml_push.errors import ConfigError

if TYPE_CHECKING:
    from rms_ml_push.jobs.runtime import ComputeFn

# name -> module with a ``compute(settings, request, run_id) -> JobResult``. Order matters
# where runs share a slot: demand first, since kitchen and inventory read its forecasts.
_MODULES: dict[str, str] = {
    "demand": "rms_ml_push.jobs.demand",
    "kitchen": "rms_ml_push.jobs.kitchen",
    "customers": "rms_ml_push.jobs.customers",
    "inventory": "rms_ml_push.jobs.inventory",
    "pricing": "rms_ml_push.jobs.pricing",
}


def job_names() -> tuple[str, ...]:
    """Every job this version can run."""
    return tuple(_MODULES)


def compute_fn(name: str) -> ComputeFn:
    """The compute step of job ``name``; ConfigError for an unknown name."""
    if name not in _MODULES:
        raise ConfigError([f"unknown job {name!r}; known jobs: {', '.join(_MODULES)}"])
    module = importlib.import_module(_MODULES[name])
    fn: ComputeFn = module.compute
    return fn
