"""A synthetic kitchen in which load matters the way it does in real kitchens.

Each station is a FIFO queue with ``servers`` cooks. Orders arrive with lunch and dinner
peaks and busier weekends; each order line becomes a ticket at its item's station. A cook
takes the item's base time, longer for larger quantities, with log-normal noise, and a
little longer when the queue behind them is long (cooks hurry less well under pressure).
Waiting therefore grows sharply as arrivals approach a station's capacity, which is what
a per-item median cannot see. Used by ``bench/`` and tests; pure numpy and pandas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class StationSpec:
    """A station: name, cooks, share of all order lines, base cook time (s) of each item."""

    name: str
    servers: int
    line_share: float
    item_base_s: tuple[float, ...]


DEFAULT_STATIONS: tuple[StationSpec, ...] = (
    StationSpec("grill", 4, 0.28, (420.0, 540.0, 600.0, 480.0, 660.0, 360.0)),
    StationSpec("fryer", 2, 0.20, (240.0, 300.0, 210.0, 270.0, 330.0)),
    StationSpec("cold", 1, 0.17, (150.0, 120.0, 180.0, 210.0, 90.0)),
    StationSpec("pastry", 1, 0.10, (240.0, 180.0, 300.0, 150.0)),
    StationSpec("bar", 1, 0.25, (60.0, 90.0, 120.0, 75.0, 150.0, 45.0)),
)
DOW_FACTOR = np.array([0.8, 0.85, 0.9, 1.0, 1.25, 1.35, 1.1])
QUANTITY_P = np.array([0.8, 0.15, 0.05])
SLOWDOWN_PER_WAITING = 0.03  # +3 % cook time per ticket waiting behind the cook ...
SLOWDOWN_CAP = 15  # ... up to 15 waiting tickets (+45 %)


def simulate_kitchen(
    restaurant_id: int,
    *,
    days: int,
    start: str = "2024-01-01",
    timezone: str = "Europe/Berlin",
    orders_per_day: float = 125.0,
    seed: int = 0,
    stations: tuple[StationSpec, ...] = DEFAULT_STATIONS,
) -> pd.DataFrame:
    """Clean tickets of one restaurant over ``days`` local days, plus an ``order_id`` column."""
    rng = np.random.default_rng(seed)
    station_of, base_s = _menu(stations)
    popularity = _popularity(rng, stations)
    order_time = _order_times(rng, days, start, timezone, orders_per_day)
    lines = 1 + np.minimum(rng.poisson(1.3, order_time.size), 5)
    order_idx = np.repeat(np.arange(order_time.size), lines)
    item = rng.choice(len(base_s), size=order_idx.size, p=popularity)
    quantity = 1 + rng.choice(3, size=order_idx.size, p=QUANTITY_P)
    queued = order_time[order_idx] + rng.uniform(0, 30, order_idx.size)
    work = base_s[item] * (1 + 0.55 * (quantity - 1)) * rng.lognormal(0, 0.22, item.size)
    started = np.empty_like(queued)
    completed = np.empty_like(queued)
    for k, spec in enumerate(stations):
        idx = np.flatnonzero(station_of[item] == k)
        idx = idx[np.argsort(queued[idx], kind="stable")]
        s, c = _fifo_queue(queued[idx], work[idx], spec.servers)
        started[idx], completed[idx] = s, c
    ids = np.arange(item.size)
    order_rank = np.argsort(queued, kind="stable")
    return (
        pd.DataFrame(
            {
                "order_item_id": restaurant_id * 100_000_000 + ids,
                "order_id": restaurant_id * 100_000_000 + order_idx,
                "station_id": restaurant_id * 100 + station_of[item],
                "restaurant_id": restaurant_id,
                "menu_item_id": restaurant_id * 1000 + item,
                "category": np.array([s.name for s in stations])[station_of[item]],
                "quantity": quantity,
                "queued_at": _utc(queued),
                "started_at": _utc(started),
                "completed_at": _utc(completed),
            }
        )
        .iloc[order_rank]
        .reset_index(drop=True)
    )


def _menu(
    stations: tuple[StationSpec, ...],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    station_of = np.concatenate(
        [np.full(len(s.item_base_s), k, dtype=np.int64) for k, s in enumerate(stations)]
    )
    base_s = np.concatenate([np.asarray(s.item_base_s, dtype=np.float64) for s in stations])
    return station_of, base_s


def _popularity(
    rng: np.random.Generator, stations: tuple[StationSpec, ...]
) -> npt.NDArray[np.float64]:
    """Each station gets its share of lines; its items split that share at random."""
    shares = [s.line_share * rng.dirichlet(np.full(len(s.item_base_s), 2.0)) for s in stations]
    weights = np.concatenate(shares)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def _order_times(
    rng: np.random.Generator, days: int, start: str, timezone: str, orders_per_day: float
) -> npt.NDArray[np.float64]:
    """Order times in epoch seconds: open 11:00-23:00 local, lunch and dinner peaks."""
    day0 = pd.date_range(start, periods=days, freq="D")
    counts = rng.poisson(orders_per_day * DOW_FACTOR[day0.dayofweek] * rng.gamma(20, 1 / 20, days))
    day_of = np.repeat(np.arange(days), counts)
    part = rng.choice(3, size=day_of.size, p=[0.35, 0.5, 0.15])
    hour = np.where(
        part == 0,
        rng.normal(12.6, 0.8, day_of.size),
        np.where(part == 1, rng.normal(19.6, 1.1, day_of.size), rng.uniform(11, 23, day_of.size)),
    )
    hour = np.clip(hour, 11.0, 22.99)
    local = day0[day_of] + pd.to_timedelta(hour * 3600.0, unit="s")
    utc = local.tz_localize(timezone, ambiguous="NaT", nonexistent="shift_forward")
    seconds = ((utc - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy()
    return np.sort(seconds[~np.isnan(seconds)])


def _fifo_queue(
    arrival: npt.NDArray[np.float64], work: npt.NDArray[np.float64], servers: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """First come, first served with ``servers`` cooks; cooks slow down under a long queue."""
    free_at = [0.0] * servers
    started = np.empty_like(arrival)
    completed = np.empty_like(arrival)
    waiting_upto = np.searchsorted(arrival, arrival, side="right")  # refined below
    arrivals = arrival.tolist()
    for i, t in enumerate(arrivals):
        k = min(range(servers), key=free_at.__getitem__)
        begin = max(t, free_at[k])
        upto = int(waiting_upto[i])
        while upto < len(arrivals) and arrivals[upto] <= begin:
            upto += 1
        waiting = min(upto - i - 1, SLOWDOWN_CAP)
        end = begin + work[i] * (1 + SLOWDOWN_PER_WAITING * waiting)
        started[i], completed[i] = begin, end
        free_at[k] = end
    return started, completed


def _utc(seconds: npt.NDArray[np.float64]) -> pd.DatetimeIndex:
    return pd.to_datetime(np.round(seconds * 1000).astype(np.int64), unit="ms", utc=True)
