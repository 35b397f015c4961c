"""The gate's backtest of a production fit, on the slice the fit held out of training.

:func:`~rms_ml_push.models.kitchen.fit.fit_kitchen` trains the boosting models on tickets
before its last ``calib_days`` and uses those days only to rescale the p90s. So the p50s,
and the lookup table built from them, never saw the calibration tickets: scoring the p50
there is an honest holdout at no extra fit. The baseline (per-(station, item) median) is
refitted on the same training tickets, so both sides see the same past. The p90 coverage
on this slice is in-sample by construction (it was calibrated there); the true holdout
figures come from ``bench/kitchen_eval.py`` (``evaluate_kitchen``).

The table is scored as the RMS applies it with the additive contract extensions: total
time looked up by load bucket, then hour, then overall, plus ``per_extra_unit_s`` per
unit above one (``LookupTable.lookup(per_unit=True)``); items
the table lacks take the baseline's figures, as the RMS would take its own.

``champion``: the current champion's table for the same restaurant, scored the same way
on the same tickets, so that the gate compares like with like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rms_ml_push.models.kitchen.evaluate import busy_mask, score, time_split
from rms_ml_push.models.kitchen.fit import KitchenFit
from rms_ml_push.models.kitchen.rules import fit_median_rung
from rms_ml_push.models.kitchen.table import LookupTable

PRIMARY_METRIC = "mae_total_p50"


@dataclass(frozen=True)
class Backtest:
    """Scores of the table (``model``) and of the median baseline on the same tickets."""

    model: dict[str, float]
    baseline: dict[str, float]
    window: dict[str, str | int]
    champion: dict[str, float] | None = None


def calib_backtest(
    features: pd.DataFrame,
    fit: KitchenFit,
    *,
    calib_days: int,
    champion: LookupTable | None = None,
) -> Backtest | None:
    """Score ``fit``'s table (and ``champion``'s) against the median on ``fit``'s
    calibration slice; None on the rule-based rung or when the slice has no ticket the
    baseline knows."""
    if fit.model is None:
        return None
    split = time_split(features, test_days=0, calib_days=calib_days)
    baseline_rung = fit_median_rung(split.train)
    test = split.calib.reset_index(drop=True)
    baseline = baseline_rung.predict(test)
    keep = baseline["cook_p50"].notna().to_numpy()
    test, baseline = test[keep].reset_index(drop=True), baseline[keep].reset_index(drop=True)
    if test.empty:
        return None
    table = _looked_up(fit.table, test, baseline)
    busy = busy_mask(test)
    window: dict[str, str | int] = {
        "from": test["queued_at"].min().isoformat(),
        "to": test["queued_at"].max().isoformat(),
        "tickets": len(test),
        "busy_tickets": int(busy.sum()),
    }
    rescored = None
    if champion is not None:
        rescored = _scores(test, _looked_up(champion, test, baseline), busy)
    return Backtest(
        _scores(test, table, busy), _scores(test, baseline, busy), window, champion=rescored
    )


def _looked_up(table: LookupTable, test: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """``table`` applied as the RMS does; items it lacks take the baseline's figures."""
    found = table.lookup(test, per_unit=True)
    return pd.DataFrame(
        {
            f"{target}_{q}": found[f"{prefix}{q}_s"].fillna(baseline[f"{target}_{q}"])
            for target, prefix in (("cook", ""), ("total", "total_"))
            for q in ("p50", "p90")
        }
    )


def _scores(test: pd.DataFrame, pred: pd.DataFrame, busy: np.ndarray) -> dict[str, float]:
    out: dict[str, float] = {}
    everyone = np.ones(len(test), dtype=bool)
    for target, actual in (("cook", "cook_s"), ("total", "total_s")):
        for subset, mask in (("", everyone), ("_busy20", busy)):
            scores = score(
                test[actual][mask], pred[f"{target}_p50"][mask], pred[f"{target}_p90"][mask]
            )
            for name, value in scores.items():
                metric, quantile = name.split("_")
                out[f"{metric}_{target}_{quantile}{subset}"] = round(value, 4)
    return out
