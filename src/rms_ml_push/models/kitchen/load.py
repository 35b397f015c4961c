"""Station load at ticket arrival, without look-ahead.

The load of a ticket queued at ``t`` at station ``s`` is the number of OTHER tickets at
``s`` that were queued strictly before ``t`` and not yet completed at ``t``::

    load(t) = #{j : queued_at_j < t and completed_at_j > t}

Why this uses no information from after ``t``:

* ``queued_at_j < t``: only tickets that had already reached the station. Tickets queued
  at the same instant (other lines of the same order) are left out, so the count does not
  depend on the order in which the RMS inserts simultaneous rows, and a ticket never
  counts itself.
* ``completed_at_j > t``: we read ``completed_at`` from history, but the predicate only
  asks "was j still open at t?", which the RMS knows live at ``t`` (the row has no
  completion yet). No value from after ``t`` enters the feature; it is a state at ``t``.
  Adding tickets queued after ``t`` cannot change it (tested).

The same argument covers the rest of :func:`arrival_state`, the station and the kitchen
as the RMS sees them at ``t``:

* ``waiting``: of the station's load, the tickets not started yet (``started_at_j > t``:
  "no start recorded yet" at ``t``); the rest are on the heat;
* ``arrivals_15m``: tickets queued at the station in the 15 minutes before ``t`` (how
  fast the rail is filling: a ticket that waits will be cooked among them and the next);
* ``kitchen_load``: tickets open at the restaurant's OTHER stations (a rush reaches every
  station; a quiet grill in a busy kitchen is about to get busy);
* ``order_units``: units of the same order at this station queued up to ``t``, this line
  included (a large order is cooked together).

Tickets the caller dropped as dirty (open tickets, hours-long durations) are missing from
the count, so the feature slightly undercounts where data is dirty; the RMS counts them
live. Vectorised per station: ``load = #{queued < t} - #{completed <= t}`` with two
sorted arrays and ``searchsorted``; a zero-length ticket's completion is moved one
nanosecond after its queueing so that the identity holds (it is never open at any t).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd


def station_load_at_arrival(tickets: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Tickets queued or in progress at the same station when each ticket arrived.

    ``tickets`` needs ``station_id``, ``queued_at`` and ``completed_at`` (tz-aware, clean:
    ``completed_at >= queued_at``). Returns an int64 array aligned with the rows.
    """
    queued = _as_ns(tickets["queued_at"])
    completed = np.maximum(_as_ns(tickets["completed_at"]), queued + 1)
    return _open_at_arrival(tickets["station_id"].to_numpy(), queued, completed)


ARRIVAL_WINDOW_NS = 15 * 60 * 1_000_000_000
STATE_COLUMNS: tuple[str, ...] = (
    "load",
    "waiting",
    "arrivals_15m",
    "kitchen_load",
    "order_units",
)


def arrival_state(tickets: pd.DataFrame) -> pd.DataFrame:
    """The station and kitchen at each ticket's ``queued_at`` (:data:`STATE_COLUMNS`).

    ``tickets`` needs ``order_id``, ``station_id``, ``restaurant_id``, ``quantity`` and the
    three times (clean: ``queued_at <= started_at <= completed_at``). Aligned with the rows.
    """
    queued = _as_ns(tickets["queued_at"])
    started = np.maximum(_as_ns(tickets["started_at"]), queued + 1)
    completed = np.maximum(_as_ns(tickets["completed_at"]), queued + 1)
    stations = tickets["station_id"].to_numpy()
    load = _open_at_arrival(stations, queued, completed)
    restaurant_load = _open_at_arrival(tickets["restaurant_id"].to_numpy(), queued, completed)
    waiting = _open_at_arrival(stations, queued, started)
    recent = np.zeros(len(tickets), dtype=np.int64)
    for idx in _groups(stations):
        q = np.sort(queued[idx])
        now = queued[idx]
        since = now - ARRIVAL_WINDOW_NS
        recent[idx] = np.searchsorted(q, now, "left") - np.searchsorted(q, since, "left")
    return pd.DataFrame(
        {
            "load": load,
            "waiting": waiting,
            "arrivals_15m": recent,
            "kitchen_load": restaurant_load - load,
            "order_units": _order_units(tickets, queued),
        },
        index=tickets.index,
    )


def _open_at_arrival(
    keys: npt.NDArray[np.int64], queued: npt.NDArray[np.int64], until: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Per key: rows queued strictly before each row's queueing and not past ``until``."""
    out = np.zeros(len(keys), dtype=np.int64)
    for idx in _groups(keys):
        q = queued[idx]
        arrived = np.searchsorted(np.sort(q), q, side="left")
        gone = np.searchsorted(np.sort(until[idx]), q, side="right")
        out[idx] = arrived - gone
    return out


def _groups(keys: npt.NDArray[np.int64]) -> list[npt.NDArray[np.intp]]:
    order = np.argsort(keys, kind="stable")
    bounds = np.flatnonzero(np.diff(keys[order])) + 1
    return [idx for idx in np.split(order, bounds) if idx.size]


def _order_units(tickets: pd.DataFrame, queued: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Units of the same (order, station) queued at or before each row's queueing."""
    frame = pd.DataFrame(
        {
            "order": tickets["order_id"].to_numpy(),
            "station": tickets["station_id"].to_numpy(),
            "queued": queued,
            "units": tickets["quantity"].to_numpy(dtype=np.int64),
        }
    )
    # Lines queued at the same instant count each other: same-time rows share one total.
    per_instant = frame.groupby(["order", "station", "queued"], sort=True)["units"].sum()
    running = per_instant.groupby(level=["order", "station"]).cumsum().rename("running")
    keys = frame[["order", "station", "queued"]]
    return keys.merge(running, on=["order", "station", "queued"], how="left")["running"].to_numpy(
        dtype=np.int64
    )


def _as_ns(column: pd.Series) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch in UTC, whatever the column's unit."""
    values = pd.to_datetime(column, utc=True).dt.tz_convert("UTC")
    return values.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view(np.int64)
