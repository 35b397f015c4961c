"""Inventory use from menu-item demand forecasts times recipe components. Pure.

The demand forecast's ``series`` (webhook-contract.md, ``demand.forecast.updated``) gives
per menu item and local day ``yhat`` and 80 / 95 % intervals. Per inventory item::

    mean[d]  = sum over menu items m of  q(m, item) * yhat(m, d)
    var[d]   = sum over menu items m of (q(m, item) * sigma(m, d)) ** 2

(menu items independent), with sigma(m, d) read off the interval widths as a normal's:
the mean of (hi - lo) / (2 z) over the 80 and 95 % intervals, and at least (hi - yhat) / z
so that an interval clipped at 0 below does not shrink it. Days past the demand horizon
repeat the last forecast week.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

F64 = npt.NDArray[np.float64]
Z = {"80": 1.2815515655446004, "95": 1.959963984540054}


def point_sigma(point: Mapping[str, Any]) -> float:
    """A normal sigma implied by one point's intervals (0 when it has none)."""
    yhat = _num(point.get("yhat"))
    found = []
    for level, z in Z.items():
        lo, hi = _num(point.get(f"lo_{level}")), _num(point.get(f"hi_{level}"))
        if lo is None or hi is None:
            continue
        width = (hi - lo) / (2 * z)
        upper = (hi - yhat) / z if yhat is not None else 0.0
        found.append(max(width, upper, 0.0))
    return float(np.mean(found)) if found else 0.0


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
        return float(value)
    return None


def menu_item_matrices(
    series: Sequence[Mapping[str, Any]], days: Sequence[date]
) -> tuple[list[int], F64, F64]:
    """Menu items with a complete daily forecast over ``days``: ids, means, sigmas."""
    index = {d.isoformat(): k for k, d in enumerate(days)}
    ids: list[int] = []
    means: list[F64] = []
    sigmas: list[F64] = []
    for s in series:
        if s.get("target") != "menu_item" or s.get("menu_item_id") is None:
            continue
        mean = np.full(len(days), np.nan)
        sigma = np.full(len(days), np.nan)
        for point in s.get("points", ()):
            k = index.get(str(point.get("ts"))[:10])
            yhat = _num(point.get("yhat"))
            if k is not None and yhat is not None:
                mean[k] = max(yhat, 0.0)
                sigma[k] = point_sigma(point)
        if np.isnan(mean).all():
            continue
        ids.append(int(s["menu_item_id"]))
        means.append(mean)
        sigmas.append(sigma)
    if not ids:
        return [], np.zeros((0, len(days))), np.zeros((0, len(days)))
    return ids, np.vstack(means), np.vstack(sigmas)


def extend_weekly(values: F64, length: int) -> F64:
    """Fill NaN days (and days up to ``length``) with the value 7 days earlier; NaN stays
    where no earlier week exists."""
    out = np.full(length, np.nan)
    n = min(len(values), length)
    out[:n] = values[:n]
    for k in range(length):
        if np.isnan(out[k]) and k >= 7:
            out[k] = out[k - 7]
    return out


def usage_from_demand(
    series: Sequence[Mapping[str, Any]],
    recipes: pd.DataFrame,
    days: Sequence[date],
    length: int,
) -> dict[int, tuple[F64, F64]]:
    """Per inventory item with a recipe over forecast menu items: ``(mean, sigma)`` of
    ``length`` days from day 0. Items whose forecast has a gap in its first week are left
    out (the caller falls back)."""
    ids, means, sigmas = menu_item_matrices(series, days)
    if not ids:
        return {}
    column = {m: i for i, m in enumerate(ids)}
    out: dict[int, tuple[F64, F64]] = {}
    for item, rows in recipes.groupby("inventory_item_id", sort=True):
        weights = np.zeros(len(ids))
        for menu_item, qty in zip(rows["menu_item_id"], rows["quantity"], strict=True):
            if int(menu_item) in column and np.isfinite(qty):
                weights[column[int(menu_item)]] += float(qty)
        if not weights.any():
            continue
        used = weights > 0
        mean_m = np.vstack([extend_weekly(r, length) for r in means[used]])
        sigma_m = np.vstack([extend_weekly(r, length) for r in sigmas[used]])
        if np.isnan(mean_m).any():
            continue  # a gap the weekly repeat cannot fill: not a usable forecast
        w = weights[used][:, None]
        mean = (w * mean_m).sum(axis=0)
        sigma = np.sqrt(((w * np.nan_to_num(sigma_m)) ** 2).sum(axis=0))
        out[int(cast(int, item))] = (mean, sigma)
    return out
