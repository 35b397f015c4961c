"""Gamma-Gamma spend model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.errors import FitError
from rms_ml_push.models.customers import gammagamma
from rms_ml_push.models.customers.features import summarise

from .conftest import START, lifetimes_dataset


def _cdnow_sample() -> pd.DataFrame:
    raw = pd.read_csv(
        lifetimes_dataset("CDNOW_sample.txt"),
        sep=r"\s+",
        header=None,
        names=["master_id", "customer_id", "date", "cds", "amount"],
    )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"],
            "restaurant_id": pd.array([pd.NA] * len(raw), dtype="Int64"),
            "ts": pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC"),
            "amount": raw["amount"],
        }
    )


def test_fit_reproduces_published_cdnow_estimates() -> None:
    """On CDNOW's 39-week calibration period p=6.25, q=3.74, gamma=15.44 (Fader & Hardie)."""
    # The calibration period includes purchases made on 1997-09-30 itself.
    summary = summarise(_cdnow_sample(), pd.Timestamp("1997-10-01", tz="UTC"))
    params = gammagamma.fit(summary["frequency"], summary["monetary_value"])
    assert (params.p, params.q, params.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)


def test_fit_recovers_simulation_parameters(sim_tx: pd.DataFrame) -> None:
    """The population mean spend per occasion comes back within 10 % of the truth."""
    summary = summarise(sim_tx, START + pd.Timedelta(days=730))
    params = gammagamma.fit(summary["frequency"], summary["monetary_value"])
    # Simulation: p=6, q=4, gamma=15 -> mean 6 * 15 / 3 = 30 (same-day merges add a bit).
    assert params.population_mean == pytest.approx(30.0, rel=0.10)


def test_expected_spend_shrinks_toward_population_mean() -> None:
    """No repeats -> population mean; many repeats -> close to the customer's own mean."""
    params = gammagamma.GammaGammaParams(p=6.0, q=4.0, gamma=15.0)
    got = gammagamma.expected_spend_per_occasion(params, [0, 1, 200], [0.0, 90.0, 90.0])
    assert got[0] == pytest.approx(params.population_mean)
    assert params.population_mean < got[1] < got[2] < 90.0
    assert got[2] == pytest.approx(90.0, rel=0.01)


def test_fit_needs_repeat_customers() -> None:
    """Fewer than three customers with repeats is a FitError."""
    with pytest.raises(FitError):
        gammagamma.fit(np.array([0, 0, 1]), np.array([0.0, 0.0, 10.0]))
