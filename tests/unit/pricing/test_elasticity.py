"""Elasticity fit: recovery of known elasticities on simulated data, controls, no-change items."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.models.pricing.controls import control_matrix, control_names, holiday_dates
from rms_ml_push.models.pricing.elasticity import price_changed
from rms_ml_push.models.pricing.evaluate import evaluate_holdout
from rms_ml_push.models.pricing.model import fit_pricing_model
from rms_ml_push.models.pricing.simulate import SimItem, simulate


def test_recovers_a_known_elasticity() -> None:
    """A busy item (60/day, three price steps, seed 11): estimate within 0.15 of -1.4."""
    data = simulate([SimItem(1, -1.4, "main", base=60.0, changes=3)], seed=11)
    model = fit_pricing_model(data, [1])
    fit = model.fits[1]
    assert fit.estimate is not None
    assert fit.se is not None
    assert fit.estimate == pytest.approx(-1.4, abs=0.15)
    # The price path drifts down with the trend term, which costs precision: s.e. ~0.27.
    assert fit.se < 0.35
    lo, hi = model.items[1].interval
    assert lo < -1.4 < hi


def test_pooled_estimates_beat_raw_ones_and_unchanged_items_get_the_category() -> None:
    """Ten small items per category: pooling cuts the error; unchanged items = prior mean."""
    rng = np.random.default_rng(5)
    items = [
        SimItem(
            i, float(mean + rng.normal(0, 0.15)), cat, base=4.0, changes=0 if i % 10 == 0 else 2
        )
        for cat, mean, start in (("main", -0.6, 1), ("drink", -1.8, 21))
        for i in range(start, start + 10)
    ]
    data = simulate(items, seed=5)
    model = fit_pricing_model(data, [i.menu_item_id for i in items])
    truth = {i.menu_item_id: i.elasticity for i in items}
    raw = [abs(f.estimate - truth[k]) for k, f in model.fits.items() if f.estimate is not None]
    pooled = [
        abs(model.items[k].estimate - truth[k])
        for k, f in model.fits.items()
        if f.estimate is not None
    ]
    assert np.mean(pooled) < np.mean(raw)
    for unchanged, category in ((10, "main"), (30, "drink")):
        assert model.fits[unchanged].estimate is None
        assert model.items[unchanged].basis == "category"
        assert model.items[unchanged].estimate == model.priors[category].mean


def test_holdout_model_beats_no_response() -> None:
    """Busy items with big steps: predicted responses beat "no response", n counted."""
    items = [SimItem(i, -1.5, "main", base=40.0, changes=3) for i in range(1, 7)]
    report = evaluate_holdout(simulate(items, seed=2), range(1, 7))
    assert report.scores["model"].n == 6
    assert report.scores["model"].mae < report.scores["no_response"].mae


def test_price_changed_needs_a_week_at_another_price() -> None:
    """Six days at a 5 % higher price is noise; seven is a change."""
    base = np.log(np.full(100, 10.0))
    six, seven = base.copy(), base.copy()
    six[:6] = np.log(10.5)
    seven[:7] = np.log(10.5)
    assert not price_changed(six)
    assert price_changed(seven)


def test_controls_columns_and_holidays() -> None:
    """Day-of-week dummies, Fourier terms, trend in years and the holiday flag line up."""
    days = pd.date_range("2024-12-23", periods=14, freq="D")
    hol = holiday_dates("DE", "BE", [2024, 2025])
    matrix = control_matrix(pd.Series(days), hol, date(2024, 12, 23))
    names = control_names()
    assert matrix.shape == (14, len(names))
    holiday = matrix[:, names.index("holiday")]
    assert list(days[holiday == 1].date) == [
        date(2024, 12, 25),
        date(2024, 12, 26),
        date(2025, 1, 1),
    ]
    assert matrix[7, names.index("trend_years")] == pytest.approx(7 / 365.25)
    assert matrix[0, :6].sum() == 0  # a Monday: the reference day


def test_holiday_dates() -> None:
    """A place's holidays; no country means none; an unknown country is named."""
    assert date(2024, 10, 3) in holiday_dates("DE", None, [2024])
    assert holiday_dates(None, None, [2024]) == set()
    with pytest.raises(ValueError, match="XX"):
        holiday_dates("XX", None, [2024])
