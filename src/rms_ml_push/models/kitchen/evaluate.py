"""Scores on a time-based holdout: MAE of the p50, pinball loss and coverage of the p90.

Scored overall and on the "busy" 20 %: the tickets that met the highest station load
(ranked by load, ties broken by arrival time, so the subset is exactly 20 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

TARGET_ACTUAL = {"cook": "cook_s", "total": "total_s"}


@dataclass(frozen=True)
class Split:
    """Train, calibration and test slices of a features frame, by ``queued_at``."""

    train: pd.DataFrame
    calib: pd.DataFrame
    test: pd.DataFrame


def time_split(frame: pd.DataFrame, *, test_days: int = 21, calib_days: int = 14) -> Split:
    """The last ``test_days`` are the holdout, the ``calib_days`` before them calibrate."""
    end = frame["queued_at"].max()
    test_from = end - pd.Timedelta(days=test_days)
    calib_from = test_from - pd.Timedelta(days=calib_days)
    queued = frame["queued_at"]
    return Split(
        train=frame[queued < calib_from],
        calib=frame[(queued >= calib_from) & (queued < test_from)],
        test=frame[queued >= test_from],
    )


def pinball_loss(actual: npt.ArrayLike, predicted: npt.ArrayLike, quantile: float) -> float:
    """Mean pinball (quantile) loss."""
    diff = np.asarray(actual, dtype=np.float64) - np.asarray(predicted, dtype=np.float64)
    return float(np.mean(np.maximum(quantile * diff, (quantile - 1.0) * diff)))


def busy_mask(frame: pd.DataFrame, share: float = 0.2) -> npt.NDArray[np.bool_]:
    """True for the ``share`` of rows with the highest ``load`` (ties: earlier first)."""
    n_busy = math.ceil(share * len(frame))
    order = np.lexsort((frame["queued_at"].to_numpy(), -frame["load"].to_numpy()))
    mask = np.zeros(len(frame), dtype=bool)
    mask[order[:n_busy]] = True
    return mask


def score(actual: pd.Series, p50: pd.Series, p90: pd.Series) -> dict[str, float]:
    """``mae_p50``, ``pinball_p90`` and ``coverage_p90`` (share of actual <= p90)."""
    y = actual.to_numpy(dtype=np.float64)
    return {
        "mae_p50": float(np.mean(np.abs(y - p50.to_numpy(dtype=np.float64)))),
        "pinball_p90": pinball_loss(y, p90, 0.9),
        "coverage_p90": float(np.mean(y <= p90.to_numpy(dtype=np.float64))),
    }


def evaluation_table(
    test: pd.DataFrame, predictions: dict[str, pd.DataFrame], baseline: str = "median"
) -> pd.DataFrame:
    """One row per (method, target, subset) with scores and the MAE gain over ``baseline``.

    Each predictions frame is aligned with ``test`` and holds ``{target}_p50`` and
    ``{target}_p90`` for the targets it predicts (``cook``, ``total``).
    """
    subsets = {"all": np.ones(len(test), dtype=bool), "busy20": busy_mask(test)}
    rows = []
    for method, pred in predictions.items():
        for target, actual in TARGET_ACTUAL.items():
            if f"{target}_p50" not in pred:
                continue
            for subset, mask in subsets.items():
                row = {"method": method, "target": target, "subset": subset, "n": int(mask.sum())}
                row.update(
                    score(
                        test[actual][mask], pred[f"{target}_p50"][mask], pred[f"{target}_p90"][mask]
                    )
                )
                rows.append(row)
    table = pd.DataFrame(rows)
    base = table[table["method"] == baseline].set_index(["target", "subset"])["mae_p50"]
    ref = base.reindex(pd.MultiIndex.from_frame(table[["target", "subset"]])).to_numpy()
    table["mae_gain_vs_median"] = 1.0 - table["mae_p50"].to_numpy() / ref
    return table
