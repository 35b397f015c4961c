"""Calendar controls for the elasticity regression, one row per local day.

Columns: day of week (6 dummies, Monday the reference), yearly seasonality (Fourier
terms of the day of year, ``FOURIER_ORDER`` harmonics of 365.25 days), a linear trend in
years, and a public-holiday flag from the ``holidays`` package for the restaurant's
country/subdivision (``settings.holidays``, per-restaurant override). Closing days (no
order at the restaurant) are not a column: they are dropped from the regression, since
a closed day says nothing about price.

A restaurant's holiday place is the same as the demand job's
(:func:`rms_ml_push.features.holidays.holiday_place`). The columns themselves differ on
purpose: a log-linear regression needs dummies and smooth Fourier terms, the demand
models take day of week / day of year and holiday distances.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import holidays
import numpy as np
import numpy.typing as npt
import pandas as pd

F64 = npt.NDArray[np.float64]
FOURIER_ORDER = 2
YEAR_DAYS = 365.25


def holiday_dates(country: str | None, subdivision: str | None, years: Sequence[int]) -> set[date]:
    """Public holidays of the place in ``years``; empty when no country is set.

    ValueError naming the place when the ``holidays`` package does not know it.
    """
    if not country or not years:
        return set()
    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=list(years))
    except NotImplementedError as exc:
        raise ValueError(f"unknown holiday calendar {country}/{subdivision}: {exc}") from None
    return set(calendar.keys())


def control_names() -> list[str]:
    """Names of :func:`control_matrix`'s columns, in order."""
    dow = [f"dow_{d}" for d in range(1, 7)]
    fourier = [f"{f}_{k}" for k in range(1, FOURIER_ORDER + 1) for f in ("sin", "cos")]
    return [*dow, *fourier, "trend_years", "holiday"]


def control_matrix(
    days: pd.Series | pd.DatetimeIndex, holiday_days: set[date], origin: date
) -> F64:
    """The controls for local ``days`` (naive midnights); trend counted from ``origin``."""
    index = pd.DatetimeIndex(days)
    dow = index.dayofweek.to_numpy()
    columns: list[F64] = [(dow == d).astype(np.float64) for d in range(1, 7)]
    doy = index.dayofyear.to_numpy().astype(np.float64)
    for k in range(1, FOURIER_ORDER + 1):
        angle = 2.0 * np.pi * k * doy / YEAR_DAYS
        columns.extend([np.sin(angle), np.cos(angle)])
    trend = (index - pd.Timestamp(origin)).days.to_numpy().astype(np.float64) / YEAR_DAYS
    columns.append(trend)
    columns.append(np.array([d in holiday_days for d in index.date], dtype=np.float64))
    return np.column_stack(columns) if columns else np.zeros((len(index), 0))


def closing_days(restaurant_orders: pd.DataFrame) -> set[date]:
    """Local days with zero orders at the restaurant (frame ``ds, y``, zeros filled)."""
    closed = restaurant_orders.loc[restaurant_orders["y"] <= 0, "ds"]
    return {pd.Timestamp(d).date() for d in closed}
