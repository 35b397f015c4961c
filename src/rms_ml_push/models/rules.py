"""Generic rule-based predictions for the fallback chain's ``rule_based`` rung.

Families keep their own rules beside their models; the daily-demand rule lives here
because every daily family (demand, inventory usage) can use it.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd


def same_weekday_mean(
    history: pd.DataFrame, *, start: date, horizon_days: int, weeks: int = 4
) -> dict[str, np.ndarray]:
    """Per series, the mean of the same weekday over the ``weeks`` weeks before ``start``.

    ``history`` is a daily frame ``unique_id, ds, y``; only days before ``start`` (day 0)
    and at most ``weeks * 7`` days back count. A missing day is not a zero (fill closed
    days first if they mean no demand); a weekday with no value gives NaN, which the chain
    treats as unusable so that the series falls to the default rung.
    Returns ``{unique_id: array of horizon_days values, day 0 first}``.
    """
    first = start - timedelta(days=weeks * 7)
    days = pd.to_datetime(history["ds"]).dt.date
    window = history.loc[(days >= first) & (days < start), ["unique_id", "y"]].copy()
    window["weekday"] = [d.weekday() for d in days[window.index]]
    means = window.groupby(["unique_id", "weekday"])["y"].mean().to_dict()
    target_weekdays = [(start + timedelta(days=i)).weekday() for i in range(horizon_days)]
    result: dict[str, np.ndarray] = {}
    for uid in pd.unique(history["unique_id"]):
        values = [means.get((uid, w), np.nan) for w in target_weekdays]
        result[str(uid)] = np.array(values, dtype=float)
    return result
