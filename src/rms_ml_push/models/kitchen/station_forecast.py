"""Station load forecast: expected tickets, time at the station and bottlenecks per hour.

For each station, from history:

* ``tickets_per_order``: its tickets over the restaurant's orders in the same window (the
  item mix; the caller counts orders, e.g. distinct ``order_id`` of the history window);
* ``capacity_per_hour``: a high percentile (default p90) of tickets it completed per hour,
  over hours in which it completed any (closed hours say nothing about capacity);
* a load curve: the mean load met by tickets arriving in an hour, as a non-decreasing
  function of the hour's arrivals (isotonic regression, clipped at the ends);
* a wait curve: predicted median time at the station (``total_p50``) at each load, from
  the model on a sample of the station's tickets with their own items and quantities
  (on the rule-based rung: the observed median by load).

A forecast hour then gets ``expected_tickets = orders * tickets_per_order``, the load the
load curve gives for that many arrivals, the wait the wait curve gives for that load, and
``bottleneck = expected_tickets > capacity_per_hour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from rms_ml_push.models.kitchen.fit import KitchenFit

MAX_CURVE_LOAD = 60


@dataclass(frozen=True)
class StationProfile:
    """What the forecast needs to know about one station (plain data, picklable)."""

    station_id: int
    tickets_per_order: float
    capacity_per_hour: float
    rate_points: npt.NDArray[np.float64]  # arrivals per hour ...
    load_points: npt.NDArray[np.float64]  # ... -> mean load at arrival
    wait_by_load_s: npt.NDArray[np.float64]  # index: load 0..len-1

    def expected_wait_s(self, tickets_per_hour: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Predicted median time at the station for an hour with that many arrivals."""
        rate = np.asarray(tickets_per_hour, dtype=np.float64)
        load = np.interp(rate, self.rate_points, self.load_points)
        grid = np.arange(self.wait_by_load_s.size, dtype=np.float64)
        return np.interp(load, grid, self.wait_by_load_s)


def station_profiles(
    fit: KitchenFit,
    *,
    orders_in_history: int,
    capacity_quantile: float = 0.9,
    sample_per_station: int = 200,
    seed: int = 0,
) -> list[StationProfile]:
    """One profile per station in ``fit.history`` (see the module docstring)."""
    history = fit.history
    rng = np.random.default_rng(seed)
    profiles = []
    for station_id, rows in history.groupby("station_id", sort=True):
        arrivals = rows.groupby(rows["queued_at"].dt.floor("h"))["load"].agg(["size", "mean"])
        completed = rows.groupby(rows["completed_at"].dt.floor("h")).size()
        iso = IsotonicRegression(out_of_bounds="clip").fit(
            arrivals["size"], arrivals["mean"], sample_weight=arrivals["size"]
        )
        sample = rows.iloc[rng.choice(len(rows), min(sample_per_station, len(rows)), False)]
        profiles.append(
            StationProfile(
                station_id=int(cast(Any, station_id)),
                tickets_per_order=len(rows) / max(orders_in_history, 1),
                capacity_per_hour=float(np.quantile(completed, capacity_quantile)),
                rate_points=np.asarray(iso.X_thresholds_, dtype=np.float64),
                load_points=np.asarray(iso.y_thresholds_, dtype=np.float64),
                wait_by_load_s=_wait_curve(fit, rows, sample),
            )
        )
    return profiles


def _wait_curve(
    fit: KitchenFit, rows: pd.DataFrame, sample: pd.DataFrame
) -> npt.NDArray[np.float64]:
    top = int(min(rows["load"].max(), MAX_CURVE_LOAD))
    loads = np.arange(top + 1)
    if fit.model is None:
        observed = rows.groupby("load")["total_s"].median()
        curve = observed.reindex(loads).interpolate(limit_direction="both").to_numpy()
        return np.asarray(curve, dtype=np.float64)
    # Real moments at each load where there are some (the model reads the rest of the
    # station's state too, which must agree with the load); the sample with the load
    # overwritten where there are none.
    parts = []
    for level in loads:
        seen = rows[rows["load"] == level]
        part = seen.tail(len(sample)) if len(seen) else sample.assign(load=level)
        parts.append(part)
    grid = pd.concat(parts, ignore_index=True)
    predicted = fit.model.predict(grid)["total_p50"]
    per_load = predicted.groupby(grid["load"].to_numpy()).median()
    return np.asarray(per_load.reindex(loads).to_numpy(), dtype=np.float64)


def station_load_forecast(
    profiles: list[StationProfile], hourly_orders: pd.DataFrame
) -> list[dict[str, object]]:
    """Rows ``{station_id, ts, expected_tickets, expected_wait_s, bottleneck}`` per station
    and hour of ``hourly_orders`` (columns ``ts``: local ISO with offset, kept as given;
    ``orders``: expected orders that hour), ordered by station then ``ts`` as given."""
    orders = hourly_orders["orders"].to_numpy(dtype=np.float64).clip(min=0.0)
    rows: list[dict[str, object]] = []
    for profile in profiles:
        expected = orders * profile.tickets_per_order
        waits = profile.expected_wait_s(expected)
        for ts, tickets, wait in zip(hourly_orders["ts"], expected, waits, strict=True):
            rows.append(
                {
                    "station_id": profile.station_id,
                    "ts": str(ts),
                    "expected_tickets": round(float(tickets), 2),
                    "expected_wait_s": round(float(wait), 1),
                    "bottleneck": bool(tickets > profile.capacity_per_hour),
                }
            )
    return rows
