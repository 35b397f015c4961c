"""Fit everything one restaurant needs, and evaluate it on a time-based holdout.

Production (:func:`fit_kitchen`): the last ``calib_days`` of history calibrate the p90s;
the boosting models train on the (at most ``max_train_rows``) most recent tickets before
that. Recency matters more than volume here (menus, staff and layouts change), and a
year of one restaurant's tickets adds little over the last few months, so the cap keeps
the daily job in seconds per restaurant. Too little history for a model (fewer than
``min_model_rows`` tickets) gives the rule-based table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rms_ml_push.models.kitchen.evaluate import evaluation_table, time_split
from rms_ml_push.models.kitchen.quantile_model import (
    KitchenModel,
    ModelParams,
    calibrate,
    fit_kitchen_model,
)
from rms_ml_push.models.kitchen.rules import MedianRung, fit_median_rung
from rms_ml_push.models.kitchen.table import KEYS, LookupTable
from rms_ml_push.models.kitchen.table_build import (
    build_model_table,
    build_rule_table,
    calibrate_table,
)


@dataclass(frozen=True)
class FitOptions:
    """Knobs of one fit; defaults suit one restaurant's daily run."""

    calib_days: int = 14
    max_train_rows: int = 60_000
    min_model_rows: int = 2_000
    params: ModelParams = field(default_factory=ModelParams)


@dataclass(frozen=True)
class KitchenFit:
    """What a run produces: the model (None on the rule-based rung), rules and table."""

    model: KitchenModel | None
    rules: MedianRung
    table: LookupTable
    source: str  # "model" or "rule_based"
    history: pd.DataFrame  # the features frame the fit saw (station forecasts reuse it)


def fit_kitchen(features: pd.DataFrame, options: FitOptions | None = None) -> KitchenFit:
    """Fit the models and the lookup table on a features frame (``build_features``)."""
    options = options or FitOptions()
    rules = fit_median_rung(features)
    if len(features) < options.min_model_rows:
        return KitchenFit(None, rules, build_rule_table(rules), "rule_based", features)
    split = time_split(features, test_days=0, calib_days=options.calib_days)
    train = split.train.tail(options.max_train_rows)
    if len(train) < options.min_model_rows or split.calib.empty:
        return KitchenFit(None, rules, build_rule_table(rules), "rule_based", features)
    model = calibrate(fit_kitchen_model(train, options.params), split.calib)
    recent = features.tail(options.max_train_rows)
    table = calibrate_table(build_model_table(model, recent), split.calib)
    return KitchenFit(model, rules, table, "model", features)


def evaluate_kitchen(
    features: pd.DataFrame, *, test_days: int = 21, options: FitOptions | None = None
) -> tuple[pd.DataFrame, KitchenFit]:
    """Fit on all but the last ``test_days`` and score model, table and median baseline.

    Methods: ``median`` (per-(station, item) median and p90 of history: the baseline),
    ``model``, ``table`` (looked up the RMS's way: cook by load bucket, then hour, then
    overall; total from the overall figures, the only total the contract carries) and
    ``table_total_by_load`` (total looked up by bucket too: the contract extension) and
    ``table_extended`` (both extensions: totals by bucket, plus ``(quantity - 1) x
    per_extra_unit_s`` on every figure).
    Tickets the table lacks (new items) take the baseline's figures, as the RMS would.
    """
    test, predictions, fit = holdout_predictions(features, test_days=test_days, options=options)
    return evaluation_table(test, predictions), fit


def holdout_predictions(
    features: pd.DataFrame, *, test_days: int = 21, options: FitOptions | None = None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], KitchenFit]:
    """The holdout tickets and each method's predictions for them (see ``evaluate_kitchen``);
    frames of several restaurants can be concatenated and scored together."""
    split = time_split(features, test_days=test_days, calib_days=0)
    fit = fit_kitchen(split.train, options)
    test = split.test.reset_index(drop=True)
    baseline = fit.rules.predict(test)
    keep = baseline["cook_p50"].notna().to_numpy()
    test, baseline = test[keep].reset_index(drop=True), baseline[keep].reset_index(drop=True)
    found = fit.table.lookup(test)
    overall = test[KEYS].merge(fit.table.items, on=KEYS, how="left")
    predictions = {"median": baseline.drop(columns="source")}
    if fit.model is not None:
        predictions["model"] = fit.model.predict(test)
    predictions["table"] = pd.DataFrame(
        {
            "cook_p50": found["p50_s"].fillna(baseline["cook_p50"]),
            "cook_p90": found["p90_s"].fillna(baseline["cook_p90"]),
            "total_p50": overall["total_p50_s"].fillna(baseline["total_p50"]),
            "total_p90": overall["total_p90_s"].fillna(baseline["total_p90"]),
        }
    )
    predictions["table_total_by_load"] = pd.DataFrame(
        {
            "total_p50": found["total_p50_s"].fillna(baseline["total_p50"]),
            "total_p90": found["total_p90_s"].fillna(baseline["total_p90"]),
        }
    )
    extended = fit.table.lookup(test, per_unit=True)
    predictions["table_extended"] = pd.DataFrame(
        {
            f"{target}_{q}": extended[f"{prefix}{q}_s"].fillna(baseline[f"{target}_{q}"])
            for target, prefix in (("cook", ""), ("total", "total_"))
            for q in ("p50", "p90")
        }
    )
    return test, predictions, fit
