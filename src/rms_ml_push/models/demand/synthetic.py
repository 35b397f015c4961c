"""Realistic synthetic restaurant demand for tests and benches (not used by the job).

Per restaurant: a weekly profile (some restaurants close one weekday), yearly seasonality,
a slow trend, closures on Christmas and New Year, busier days before public holidays,
multiplicative day noise shared by all of its series. Per item: a category, a popularity
share that drifts slowly, its own weekday tilt, negative-binomial counts; a few items are
new. Orders, covers and revenue are derived from the same days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.calendar import HolidayCalendar

CLOSED_HOLIDAYS = ("12-25", "01-01")


@dataclass(frozen=True)
class SyntheticData:
    """A long ``unique_id, ds, y`` frame, its per-series info and the calendars used."""

    frame: pd.DataFrame
    info: pd.DataFrame
    calendars: dict[str, HolidayCalendar]


def _restaurant_days(rng: np.random.Generator, dates: pd.DatetimeIndex, cal: pd.DataFrame):  # type: ignore[no-untyped-def]
    weekly = np.array([0.8, 0.85, 0.9, 1.0, 1.3, 1.5, 1.1]) * rng.uniform(0.9, 1.1, 7)
    closed_dow = rng.choice([0, 6]) if rng.random() < 0.3 else -1
    t = np.arange(len(dates))
    yearly = 1 + rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * (dates.dayofyear - 100) / 365.25)
    trend = np.exp(rng.normal(0, 0.15) * t / 365)
    eve = (cal["days_to_holiday"].to_numpy() == 1) * rng.uniform(0.1, 0.3)
    noise = np.exp(rng.normal(0, 0.08, len(dates)))
    mult = weekly[dates.dayofweek] * yearly * trend * (1 + eve) * noise
    closed = dates.dayofweek.to_numpy() == closed_dow
    closed |= np.isin(dates.strftime("%m-%d"), CLOSED_HOLIDAYS)
    return np.where(closed, 0.0, mult), closed


def _items(rng: np.random.Generator, n_items: int, days: int):  # type: ignore[no-untyped-def]
    base = rng.dirichlet(np.full(n_items, 0.6))
    drift = np.cumsum(rng.normal(0, 0.02, (n_items, days)), axis=1)
    share = base[:, None] * np.exp(drift)
    tilt = np.exp(rng.normal(0, 0.15, (n_items, 7)))
    return share / share.sum(axis=0, keepdims=True), tilt


def generate(
    n_restaurants: int = 3,
    n_items: int = 20,
    days: int = 730,
    *,
    seed: int = 0,
    end: str = "2025-06-29",
    country: str | None = "DE",
    new_items: int = 1,
) -> SyntheticData:
    """Daily series for ``n_restaurants`` restaurants with ``n_items`` menu items each."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end=pd.Timestamp(end), periods=days, freq="D")
    calendar = HolidayCalendar(country)
    cal = calendar.features(dates)
    frames: list[pd.DataFrame] = []
    infos: list[tuple[str, str, bool, str | None]] = []
    for r in range(n_restaurants):
        mult, _closed = _restaurant_days(rng, dates, cal)
        orders_mu = rng.uniform(60, 250) * mult
        share, tilt = _items(rng, n_items, days)
        prices = rng.uniform(4, 25, n_items)
        qty_mu = orders_mu[None, :] * 1.6 * share * tilt[:, dates.dayofweek]
        disp = 5.0
        qty = rng.negative_binomial(disp, disp / (disp + qty_mu + 1e-12)).astype(float)
        for j in range(max(0, n_items - new_items), n_items):
            qty[j, : days - int(rng.integers(5, 20))] = np.nan
        orders = rng.poisson(orders_mu).astype(float)
        covers = rng.poisson(orders * rng.uniform(1.8, 2.6)).astype(float)
        revenue = np.nansum(qty * prices[:, None], axis=0) * np.exp(rng.normal(0, 0.03, days))
        key = f"r{r}"
        for name, values in (("orders", orders), ("covers", covers), ("revenue", revenue)):
            frames.append(pd.DataFrame({"unique_id": f"{key}:{name}", "ds": dates, "y": values}))
            infos.append((f"{key}:{name}", name, name != "revenue", None))
        for j in range(n_items):
            keep = ~np.isnan(qty[j])
            uid = f"{key}:item{j}"
            frames.append(pd.DataFrame({"unique_id": uid, "ds": dates[keep], "y": qty[j][keep]}))
            infos.append((uid, "menu_item", True, f"{key}:cat{j % 4}"))
    frame = pd.concat(frames, ignore_index=True)
    info = pd.DataFrame(infos, columns=["unique_id", "group", "is_count", "category"])
    info["closure_key"] = info["unique_id"].str.split(":").str[0] + ":orders"
    info["calendar_key"] = country
    return SyntheticData(frame, info, {country: calendar} if country else {})
