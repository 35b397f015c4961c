"""Same-season spend factor: in-sample, a year back, and picked only on the earlier split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.customers import CustomerModelConfig, bgnbd
from rms_ml_push.models.customers.evaluate import choose_spend_model
from rms_ml_push.models.customers.frames import build_frame
from rms_ml_push.models.customers.seasonal import SEASON_LAG_DAYS, same_season_factor
from tests.unit.customers.conftest import START

CUTOFF = START + pd.Timedelta(days=640)


def _params(tx: pd.DataFrame) -> bgnbd.BgNbdParams:
    return build_frame(tx, CUTOFF, CustomerModelConfig(), with_labels=False).bgnbd


def _boost_last_year(tx: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Amounts in the window a year before CUTOFF multiplied by ``factor``."""
    lo = CUTOFF.floor("D") - pd.Timedelta(days=SEASON_LAG_DAYS)
    inside = (tx["ts"] >= lo) & (tx["ts"] < lo + pd.Timedelta(days=90))
    out = tx.copy()
    out.loc[inside, "amount"] = out.loc[inside, "amount"] * factor
    return out


def test_stationary_log_has_a_factor_near_one(sim_tx: pd.DataFrame) -> None:
    """Customers with no calendar effect: last year's window is as the model expects."""
    factor = same_season_factor(sim_tx, CUTOFF, _params(sim_tx), 90)
    assert factor is not None
    assert abs(factor - 1.0) < 0.15


def test_a_busier_season_last_year_raises_the_factor(sim_tx: pd.DataFrame) -> None:
    """Spend 1.5x in last year's window moves the factor by about that much."""
    params = _params(sim_tx)
    plain = same_season_factor(sim_tx, CUTOFF, params, 90)
    boosted = same_season_factor(_boost_last_year(sim_tx, 1.5), CUTOFF, params, 90)
    assert plain is not None
    assert boosted is not None
    assert np.isclose(boosted / plain, 1.5, rtol=0.1)


def test_nothing_after_the_cutoff_is_read(sim_tx: pd.DataFrame) -> None:
    """Changing every order at or after the cutoff leaves the factor as it was."""
    params = _params(sim_tx)
    later = sim_tx["ts"] >= CUTOFF
    changed = sim_tx.copy()
    changed.loc[later, "amount"] = changed.loc[later, "amount"] * 10
    assert same_season_factor(changed, CUTOFF, params, 90) == same_season_factor(
        sim_tx, CUTOFF, params, 90
    )


def test_no_factor_without_a_year_of_history(sim_tx: pd.DataFrame) -> None:
    """Data that start after last year's window give no season to read."""
    early = START + pd.Timedelta(days=200)
    tx = sim_tx.loc[sim_tx["ts"] < early]
    params = build_frame(tx, early, CustomerModelConfig(), with_labels=False).bgnbd
    assert same_season_factor(tx, early, params, 90) is None


def test_spend_model_is_chosen_on_the_earlier_split_only(sim_tx: pd.DataFrame) -> None:
    """A season that inflated last year's window makes the seasonal model worse on the
    train split's own labels, so the plain model is kept."""
    tx = _boost_last_year(sim_tx, 3.0)
    train = build_frame(tx, CUTOFF, CustomerModelConfig(), with_labels=True)
    chosen, errors = choose_spend_model(train)
    assert set(errors) == {"bgnbd_gg", "bgnbd_gg_seasonal"}
    assert chosen == "bgnbd_gg"
    assert abs(errors["bgnbd_gg_seasonal"]) > abs(errors["bgnbd_gg"])
