"""Same-season correction of the 90-day spend forecast, estimated in-sample.

BG/NBD is stationary: a customer's purchase rate does not depend on the calendar. Real
logs are not: on CDNOW the repeat occasions of the 1997 cohort run 15-20 % above the
fitted model's expectation in the holiday quarter and 10-15 % below it in spring and
summer (``jobs/customers.md``, "Measured"). Under a multiplicative calendar effect
``lambda_i(t) = lambda_i * s(t)``, the stationary fit absorbs the average ``s`` over the
calibration data, so the forecast for a window ``H`` is off by ``s(H) / mean(s)``. Within
the calibration data that ratio is observable: actual repeat spend in a calendar window
over what the fitted BG/NBD expected there (every customer's unconditional
``E[X(t)]`` from their own first purchase, so acquisition timing is accounted for) times
the mean spend per repeat occasion. The factor for ``H`` is that ratio for the same
window 52 weeks earlier (52 weeks, not 365 days: the same weekdays, which matter to a
restaurant).

Nothing after the fit's cutoff is read. The factor is None when the calibration data do
not cover the window a year earlier or it holds too few expected occasions to measure;
whether it is used at all is decided by the backtest on the earlier split
(:mod:`.evaluate`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rms_ml_push.models.customers import bgnbd
from rms_ml_push.models.customers.features import days_since_epoch, occasions

SEASON_LAG_DAYS = 364
# Below this many expected repeat occasions in last year's window the ratio is noise.
MIN_EXPECTED_OCCASIONS = 100.0
# A factor outside these bounds is a data problem, not a season.
FACTOR_BOUNDS = (0.5, 2.0)


def same_season_factor(
    transactions: pd.DataFrame,
    cutoff: pd.Timestamp,
    params: bgnbd.BgNbdParams,
    horizon_days: float,
) -> float | None:
    """Actual / expected repeat spend in ``[cutoff - 52 w, cutoff - 52 w + horizon)``
    under ``params`` (fitted on the data before ``cutoff``); None when unmeasurable."""
    occ = occasions(transactions.loc[transactions["ts"] < cutoff])
    if occ.empty:
        return None
    lo = np.floor(days_since_epoch(cutoff)) - SEASON_LAG_DAYS
    hi = lo + horizon_days
    first = occ.groupby("customer_id", sort=True)["day"].transform("min").to_numpy()
    if float(first.min()) > lo:
        return None  # the data start after last year's window: no season to read
    repeat = occ.loc[occ["day"].to_numpy() > first]
    if repeat.empty:
        return None
    firsts = occ.groupby("customer_id", sort=True)["day"].min().to_numpy(dtype=np.float64)
    unit = params.time_unit_days
    age_hi = np.clip(hi - firsts, 0.0, None) / unit
    age_lo = np.clip(lo - firsts, 0.0, None) / unit
    expected = float(
        np.sum(
            bgnbd.expected_purchases_population(params, age_hi)
            - bgnbd.expected_purchases_population(params, age_lo)
        )
    )
    if not np.isfinite(expected) or expected < MIN_EXPECTED_OCCASIONS:
        return None
    days = repeat["day"].to_numpy()
    in_window = (days >= lo) & (days < hi)
    mean_per_occasion = float(repeat["amount"].mean())
    actual = float(repeat["amount"].to_numpy()[in_window].sum())
    factor = actual / (expected * mean_per_occasion)
    return float(np.clip(factor, *FACTOR_BOUNDS))
