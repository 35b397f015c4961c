"""Kitchen stations as multi-server FIFO queues, so that load matters as in a real kitchen.

Every order line becomes a ticket at each station its item is routed to (one or two).
A ticket waits until one of the station's ``servers`` cooks is free (queue wait grows
with load), and its cook time is::

    base(item, station) x (1 + 0.35 (quantity - 1)) x (1 + load_cook_factor x load) x noise

where ``load`` is the number of tickets queued or in progress at the station when the
ticket arrives (cooks juggling more pans work slower). Servers per station are sized from
the station's own 95th-percentile hourly workload, so busy hours queue and quiet hours do not.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.menu import Menu
from rms_ml_push.demo.orders import Sales
from rms_ml_push.demo.params import (
    CATEGORIES,
    LOAD_CAP,
    STATION_TARGET_UTILISATION,
    STATIONS,
)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Kitchen:
    """Tickets (index t) and each station's server count."""

    ticket_line: I64
    ticket_station: I64  # index into STATIONS
    queued_s: I64
    started_s: I64
    completed_s: I64
    load: I64
    servers: I64  # per station


def route_items(menu: Menu, rng: np.random.Generator) -> tuple[I64, I64]:
    """Primary and optional second station (-1) of each menu item."""
    names = [s.name for s in STATIONS]
    primary = np.empty(menu.n, dtype=np.int64)
    second = np.full(menu.n, -1, dtype=np.int64)
    for i in range(menu.n):
        cat = CATEGORIES[int(menu.category[i])]
        primary[i] = names.index(cat.stations[int(rng.integers(len(cat.stations)))])
        if cat.second_station is not None and rng.random() < cat.second_station_p:
            second[i] = names.index(cat.second_station)
    return primary, second


def simulate_kitchen(menu: Menu, sales: Sales, rng: np.random.Generator) -> Kitchen:
    """Tickets for every line at its stations, timed by the queue simulation."""
    primary, second = route_items(menu, rng)
    item_base = np.array([s.base_cook_s for s in STATIONS])[None, :] * rng.lognormal(
        0.0, 0.3, size=(menu.n, len(STATIONS))
    )
    lines = np.arange(len(sales.line_item), dtype=np.int64)
    two = second[sales.line_item] >= 0
    ticket_line = np.r_[lines, lines[two]]
    ticket_station = np.r_[primary[sales.line_item], second[sales.line_item][two]]
    order_delay = rng.exponential(45.0, size=len(sales.created_s))
    line_of = ticket_line
    queued = (
        sales.created_s[sales.line_order[line_of]]
        + np.round(order_delay[sales.line_order[line_of]] + rng.exponential(10.0, len(line_of)))
    ).astype(np.int64)
    qty = sales.line_qty[line_of]
    work = (
        item_base[sales.line_item[line_of], ticket_station]
        * (1.0 + 0.35 * (qty - 1))
        * rng.lognormal(0.0, 0.25, size=len(line_of))
    )
    started = np.empty(len(line_of), dtype=np.int64)
    completed = np.empty(len(line_of), dtype=np.int64)
    load = np.empty(len(line_of), dtype=np.int64)
    servers = np.zeros(len(STATIONS), dtype=np.int64)
    for s, spec in enumerate(STATIONS):
        idx = np.flatnonzero(ticket_station == s)
        if len(idx) == 0:
            servers[s] = 1
            continue
        idx = idx[np.argsort(queued[idx], kind="stable")]
        servers[s] = _servers(queued[idx], work[idx])
        st, co, ld = _queue(queued[idx], work[idx], int(servers[s]), spec.load_cook_factor)
        started[idx], completed[idx], load[idx] = st, co, ld
    return Kitchen(ticket_line, ticket_station, queued, started, completed, load, servers)


def _servers(queued: I64, work: F64) -> int:
    """Cooks needed so the 95th-percentile hour runs at the target utilisation."""
    hours = (queued - queued[0]) // 3600
    per_hour = np.bincount(hours, weights=work)
    busy = per_hour[per_hour > 0]
    p95 = float(np.percentile(busy, 95)) if len(busy) else 0.0
    return max(1, int(np.ceil(p95 / 3600.0 / STATION_TARGET_UTILISATION)))


def _queue(queued: I64, work: F64, servers: int, load_factor: float) -> tuple[I64, I64, I64]:
    """FIFO with ``servers`` cooks; returns start, completion and load at arrival."""
    free = [0.0] * servers
    in_system: list[float] = []
    started: list[float] = []
    completed: list[float] = []
    load: list[int] = []
    push, pop, replace = heapq.heappush, heapq.heappop, heapq.heapreplace
    for t, w in zip(queued.tolist(), work.tolist(), strict=True):
        while in_system and in_system[0] <= t:
            pop(in_system)
        ld = len(in_system)
        start = max(free[0], t)
        done = start + w * (1.0 + load_factor * min(ld, LOAD_CAP))
        replace(free, done)
        push(in_system, done)
        started.append(start)
        completed.append(done)
        load.append(ld)
    return (
        np.round(started).astype(np.int64),
        np.round(completed).astype(np.int64),
        np.array(load, dtype=np.int64),
    )
