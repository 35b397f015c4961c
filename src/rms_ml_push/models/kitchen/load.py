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
    stations = tickets["station_id"].to_numpy()
    load = np.zeros(len(tickets), dtype=np.int64)
    order = np.argsort(stations, kind="stable")
    bounds = np.flatnonzero(np.diff(stations[order])) + 1
    for idx in np.split(order, bounds):
        if idx.size == 0:
            continue
        q = queued[idx]
        started_before = np.searchsorted(np.sort(q), q, side="left")
        done_by = np.searchsorted(np.sort(completed[idx]), q, side="right")
        load[idx] = started_before - done_by
    return load


def _as_ns(column: pd.Series) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch in UTC, whatever the column's unit."""
    values = pd.to_datetime(column, utc=True).dt.tz_convert("UTC")
    return values.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]").view(np.int64)
