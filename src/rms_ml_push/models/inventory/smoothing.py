"""Daily consumption forecasters over a ``[day, item]`` matrix, vectorised across items.

* :func:`smooth`: additive weekly-seasonal exponential smoothing (ETS(A,N,A) without
  the likelihood), one ``alpha`` (level) and ``gamma`` (weekday profile) per item. It can
  also return the forecasts it would have made at past origins, which is the backtest.
* :func:`same_weekday`: the rule and the baseline, the mean of the same weekday over the
  last 4 weeks before the origin (``models/rules.py`` does the same over frames).

Origins are day indexes: a forecast "at origin t" uses days < t and covers t, t+1, ...
Forecasts are clipped at 0 (use is never negative). Pure numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
WARM_UP_DAYS = 28
BASELINE_WEEKS = 4


def weekdays(first_weekday: int, n: int) -> I64:
    """Weekday (0 = Monday) of day indexes 0 .. n-1 when day 0 is ``first_weekday``."""
    return (first_weekday + np.arange(n, dtype=np.int64)) % 7


def smooth(
    y: F64,
    first_weekday: int,
    alpha: F64,
    gamma: F64,
    *,
    horizon: int,
    origins: Sequence[int] = (),
) -> tuple[F64, F64]:
    """Run the smoother over all of ``y``.

    Returns ``(final, past)``: ``final`` the forecast at origin ``len(y)`` (shape
    ``(horizon, items)``) and ``past`` the forecasts at ``origins`` (shape
    ``(len(origins), horizon, items)``).
    """
    n_days, n_items = y.shape
    wd = weekdays(first_weekday, n_days + horizon)
    level, season = _initial_state(y, wd)
    wanted = {int(t): i for i, t in enumerate(origins)}
    past = np.zeros((len(origins), horizon, n_items))
    for t in range(n_days):
        if t in wanted:
            past[wanted[t]] = level + season[wd[t : t + horizon]]
        old = season[wd[t]].copy()
        level = alpha * (y[t] - old) + (1 - alpha) * level
        season[wd[t]] = gamma * (y[t] - level) + (1 - gamma) * old
    final = level + season[wd[n_days : n_days + horizon]]
    return np.clip(final, 0.0, None), np.clip(past, 0.0, None)


def _initial_state(y: F64, wd: I64) -> tuple[F64, F64]:
    """Level: mean of the first weeks; weekday profile: each weekday's mean minus it."""
    warm = y[:WARM_UP_DAYS]
    n_items = y.shape[1]
    if len(warm) == 0:
        return np.zeros(n_items), np.zeros((7, n_items))
    level = warm.mean(axis=0)
    season = np.zeros((7, n_items))
    for day in range(7):
        rows = warm[wd[: len(warm)] == day]
        if len(rows):
            season[day] = rows.mean(axis=0) - level
    return level, season


def same_weekday(y: F64, origin: int, horizon: int, weeks: int = BASELINE_WEEKS) -> F64:
    """Mean of the same weekday over the ``weeks`` weeks before ``origin``; NaN where a
    weekday has no day in the history. Shape ``(horizon, items)``."""
    out = np.full((horizon, y.shape[1]), np.nan)
    for j in range(horizon):
        first_back = j // 7 + 1  # the nearest same weekday strictly before the origin
        rows = [origin + j - 7 * k for k in range(first_back, first_back + weeks)]
        rows = [r for r in rows if 0 <= r < origin]
        if rows:
            out[j] = y[rows].mean(axis=0)
    return out


def same_weekday_past(y: F64, origins: Sequence[int], horizon: int) -> F64:
    """:func:`same_weekday` at each origin, shape ``(len(origins), horizon, items)``."""
    if not len(origins):
        return np.zeros((0, horizon, y.shape[1]))
    return np.stack([same_weekday(y, int(t), horizon) for t in origins])


def actuals(y: F64, origins: Sequence[int], horizon: int) -> F64:
    """What happened in each origin's window, shape ``(len(origins), horizon, items)``."""
    index = np.asarray(origins, dtype=np.int64)[:, None] + np.arange(horizon)[None, :]
    out: F64 = y[index]
    return out


def backtest_origins(n_days: int, horizon: int, count: int) -> list[int]:
    """The last ``count`` daily origins whose whole window is observed, after the warm-up."""
    last = n_days - horizon
    first = max(WARM_UP_DAYS, last - count + 1)
    return list(range(first, last + 1))


def sigma_increments(errors: F64) -> F64:
    """Per-day sigmas whose squares add up to the measured variance of the cumulative error.

    ``errors`` is ``(origins, horizon, items)``. Forecast errors of consecutive days are
    correlated (a level that is off is off every day), so the error of a sum over L days
    grows faster than sqrt(L) times a day's; sigmas built this way make the policy's
    ``z * sigma * sqrt(L)`` (root mean square sigma over L days) equal ``z`` times the
    RMSE of the L-day total actually measured. Shape ``(horizon, items)``.
    """
    cumulative = np.sqrt(np.nanmean(np.cumsum(errors, axis=1) ** 2, axis=0))
    cumulative = np.maximum.accumulate(np.nan_to_num(cumulative), axis=0)
    variance = np.diff(cumulative**2, axis=0, prepend=0.0)
    out: F64 = np.sqrt(np.clip(variance, 0.0, None))
    return out
