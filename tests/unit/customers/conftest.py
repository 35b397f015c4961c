"""Shared data for the customer-model tests: small simulated logs and the CDNOW files."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from rms_ml_push.models.customers.simulate import SimulationSpec, simulate_transactions

START = pd.Timestamp("2023-01-01", tz="UTC")


def lifetimes_dataset(name: str) -> Path:
    """Path of a data file shipped by the ``lifetimes`` package; skip when not installed."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes (CDNOW data) not installed: pip install --no-deps lifetimes")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.exists():
        pytest.skip(f"lifetimes ships no {name}")
    return path


@pytest.fixture(scope="session")
def sim_tx() -> pd.DataFrame:
    """Two years of BG/NBD + Gamma-Gamma customers (3,000 of them, fixed seed)."""
    return simulate_transactions(SimulationSpec(n_customers=3_000), START, seed=7)
