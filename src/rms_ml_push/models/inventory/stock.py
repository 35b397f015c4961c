"""Stock on hand and its first-expiry-first-out projection over the forecast days.

Days are indexed from 0, the local day that contains ``as_of``. A lot (a batch's stock)
carries ``expiry_day``: the first day index on which it can no longer be used (None: it
does not expire). A batch that expires at instant E is usable on day k when E is after
the start of day k, so it is usable on the day it expires (a kitchen uses it that
morning) and ``expiry_day`` is the number of day starts before E (:func:`expiry_day_index`).

Consumption draws each day from the usable lot that expires first (ties: the older lot
first), after the lots that became unusable that day were set aside; what they still hold
is the quantity at risk (rms-data-contract.md: on hand excludes expired stock). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

F64 = npt.NDArray[np.float64]
# A shortfall below this share of the day's use is rounding, not a stockout.
_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Lot:
    """Stock of one batch: what is left, and the first day index it is unusable (None: never)."""

    batch_id: int
    quantity: float
    expiry_day: int | None
    order: int = 0  # receipt order, for ties between lots that expire together


@dataclass(frozen=True)
class Projection:
    """What FEFO consumption of a forecast does to the lots over the horizon."""

    days_until_stockout: int | None
    at_risk: dict[int, float] = field(default_factory=dict)  # batch_id -> quantity expiring
    end_of_day: tuple[float, ...] = ()  # usable stock left after each day's consumption
    unmet: tuple[float, ...] = ()  # demand that could not be met, per day


def on_hand_lots(batches: pd.DataFrame, as_of: datetime) -> pd.DataFrame:
    """Batches that count as on hand at ``as_of`` (contract: received before it, not
    expired at it, some quantity left). ``batches`` has the reader's columns."""
    ts = pd.Timestamp(as_of)
    received = batches["received_at"] < ts
    fresh = batches["expires_at"].isna() | (batches["expires_at"] > ts)
    left = batches["quantity_remaining"] > 0
    kept: pd.DataFrame = batches.loc[received & fresh & left]
    return kept


def expiry_day_index(expires_at: pd.Series, day_starts: pd.DatetimeIndex) -> list[int | None]:
    """Per batch, the first day index whose start is at or after its expiry (None: never)."""
    starts = day_starts.to_numpy(dtype="datetime64[ns]")
    out: list[int | None] = []
    for value in expires_at:
        if pd.isna(value):
            out.append(None)
            continue
        stamp = np.datetime64(pd.Timestamp(value).tz_convert("UTC").tz_localize(None), "ns")
        out.append(int(np.searchsorted(starts, stamp, side="left")))
    return out


def project_fefo(lots: Sequence[Lot], usage: F64) -> Projection:
    """Consume ``usage[k]`` on each day k first-expiry-first-out; find the first day the
    usable stock falls short and what expires unused by the end of the horizon."""
    order = sorted(
        lots,
        key=lambda lot: (np.inf if lot.expiry_day is None else lot.expiry_day, lot.order),
    )
    left = [max(float(lot.quantity), 0.0) for lot in order]
    at_risk: dict[int, float] = {}
    stockout: int | None = None
    end_of_day: list[float] = []
    unmet: list[float] = []
    horizon = len(usage)
    for day in range(horizon + 1):
        _set_aside_expired(order, left, day, at_risk)
        if day == horizon:
            break
        need = max(float(usage[day]), 0.0)
        short = _draw(order, left, day, need)
        if short > _TOLERANCE * max(need, 1.0):
            unmet.append(short)
            stockout = day if stockout is None else stockout
        else:
            unmet.append(0.0)
        end_of_day.append(sum(left))
    return Projection(stockout, at_risk, tuple(end_of_day), tuple(unmet))


def _set_aside_expired(
    order: Sequence[Lot], left: list[float], day: int, at_risk: dict[int, float]
) -> None:
    for i, lot in enumerate(order):
        if lot.expiry_day is not None and lot.expiry_day <= day and left[i] > 0:
            at_risk[lot.batch_id] = at_risk.get(lot.batch_id, 0.0) + left[i]
            left[i] = 0.0


def _draw(order: Sequence[Lot], left: list[float], day: int, need: float) -> float:
    """Take ``need`` from usable lots in FEFO order; returns the shortfall."""
    for i, lot in enumerate(order):
        if need <= 0:
            break
        if left[i] <= 0 or (lot.expiry_day is not None and lot.expiry_day <= day):
            continue
        take = min(left[i], need)
        left[i] -= take
        need -= take
    return need
