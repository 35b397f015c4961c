"""A dense series x day matrix view of a long frame, with O(1) trailing-window means.

Closed days and days before a series started are NaN in ``open_y``, so that window means,
same-weekday profiles and training targets only ever see days the restaurant was open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rms_ml_push.models.demand.calendar import HolidayCalendar, calendar_for


@dataclass(frozen=True)
class Panel:
    """Series x day arrays over a grid that runs ``h`` days past the last history day."""

    ids: np.ndarray  # unique_id per row
    dates: pd.DatetimeIndex  # the grid; history is dates[: last + 1]
    last: int  # column index of the last history day
    open_y: np.ndarray  # float, NaN where closed, missing or in the future
    closed: np.ndarray  # bool, closed days (history and future)
    calendar: dict[str, np.ndarray]  # per-row calendar columns (n x T)
    group_code: np.ndarray  # int per row
    ewm: tuple[np.ndarray, np.ndarray]  # exponentially weighted level (alpha 0.1, 0.3), n x T
    _csum: np.ndarray  # cumulative sums of open values, leading zero column
    _ccount: np.ndarray  # cumulative count of open observed days
    _cpos: np.ndarray  # cumulative count of open days with positive demand

    def window_mean(self, rows: np.ndarray, end: np.ndarray, width: int) -> np.ndarray:
        """Mean of open days in columns ``(end - width, end]``; NaN when none or off-grid."""
        start = end - width
        # Off-grid windows are NaN: a negative column would silently wrap to the end.
        ok = (start >= -1) & (end >= 0)
        start_c = np.clip(start + 1, 0, None)
        end_c = np.clip(end + 1, 0, None)
        total = self._csum[rows, end_c] - self._csum[rows, start_c]
        count = self._ccount[rows, end_c] - self._ccount[rows, start_c]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where((count > 0) & ok, total / np.maximum(count, 1), np.nan)
        return mean

    def zero_share(self, rows: np.ndarray, end: np.ndarray, width: int) -> np.ndarray:
        """Share of open days with zero demand in ``(end - width, end]``."""
        start_c = np.clip(end - width + 1, 0, None)
        end_c = np.clip(end + 1, 0, None)
        count = self._ccount[rows, end_c] - self._ccount[rows, start_c]
        pos = self._cpos[rows, end_c] - self._cpos[rows, start_c]
        return np.where((count > 0) & (end >= 0), 1.0 - pos / np.maximum(count, 1), np.nan)


def build_panel(
    frame: pd.DataFrame,
    closed: pd.Series,
    info: pd.DataFrame,
    *,
    calendars: Mapping[str, HolidayCalendar],
    h: int,
    group_codes: Mapping[str, int],
) -> Panel:
    """Pivot ``unique_id, ds, y`` (daily) into a :class:`Panel`.

    ``closed`` is a boolean Series aligned with ``frame``'s rows; ``info`` is indexed by
    unique_id with ``group`` and ``calendar_key`` columns.
    """
    end = frame["ds"].max()
    dates = pd.date_range(frame["ds"].min(), end + pd.Timedelta(days=h), freq="D")
    wide = frame.assign(y=frame["y"].where(~closed.to_numpy())).pivot(
        index="unique_id", columns="ds", values="y"
    )
    wide = wide.reindex(columns=dates)
    ids = wide.index.to_numpy()
    open_y = wide.to_numpy(dtype=float)
    closed_wide = (
        frame.assign(c=closed.to_numpy().astype(float))
        .pivot(index="unique_id", columns="ds", values="c")
        .reindex(index=ids, columns=dates)
        .to_numpy(dtype=float)
        == 1.0
    )
    observed = ~np.isnan(open_y)
    values = np.where(observed, open_y, 0.0)
    zeros = np.zeros((len(ids), 1))
    keys = info.loc[ids, "calendar_key"].to_numpy()
    return Panel(
        ids=ids,
        dates=dates,
        last=int(dates.searchsorted(end)),
        open_y=open_y,
        closed=closed_wide,
        calendar=_calendar_arrays(dates, keys, calendars),
        group_code=np.array([group_codes[g] for g in info.loc[ids, "group"]], dtype=np.int64),
        ewm=(_ewm(wide, 0.1), _ewm(wide, 0.3)),
        _csum=np.hstack([zeros, np.cumsum(values, axis=1)]),
        _ccount=np.hstack([zeros, np.cumsum(observed, axis=1)]),
        _cpos=np.hstack([zeros, np.cumsum(observed & (values > 0), axis=1)]),
    )


def _ewm(wide: pd.DataFrame, alpha: float) -> np.ndarray:
    """Exponentially weighted level up to each column, skipping closed/missing days."""
    level = wide.T.ewm(alpha=alpha, ignore_na=True).mean().ffill().T
    return level.to_numpy(dtype=float)


def _calendar_arrays(
    dates: pd.DatetimeIndex, keys: np.ndarray, calendars: Mapping[str, HolidayCalendar]
) -> dict[str, np.ndarray]:
    unique = pd.unique(keys)
    tables = {k: calendar_for(calendars, k).features(dates) for k in unique}
    out: dict[str, np.ndarray] = {}
    for column in ("is_holiday", "days_to_holiday", "days_since_holiday"):
        per_key = {k: t[column].to_numpy(dtype=float) for k, t in tables.items()}
        out[column] = np.vstack([per_key[k] for k in keys]) if len(keys) else np.zeros((0, 0))
    return out
