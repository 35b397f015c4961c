"""Churn predictors fitted on an earlier cutoff's labelled frame and applied to a later one.

Candidates (chosen by holdout Brier score): ``bgnbd`` (the model's own probability),
``bgnbd_isotonic`` (the same, recalibrated by isotonic regression on the earlier split),
``classifier`` (a calibrated HistGradientBoostingClassifier on RFM, behaviour and
BG/NBD features), ``logistic`` (a regularised logistic regression on the log of a few
of those and BG/NBD's churn log-odds) and ``ensemble`` (the mean of ``bgnbd_isotonic``
and ``logistic``). Baselines: ``recency_rule`` (no order in 60 days = churned, a 0/1
"probability"), ``recency_isotonic`` (recency mapped to a probability on the earlier
split) and ``rfm`` (the churn rate of each RFM score sum on the earlier split).
Predictors are small picklable objects, so the registry can keep them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from rms_ml_push.models.customers.frames import CustomerModelConfig

FloatArray = NDArray[np.float64]

CLASSIFIER_FEATURES: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "n_orders",
    "n_occasions",
    "mean_spend",
    "monetary_value",
    "total_spend",
    "mean_gap_days",
    "recency_over_gap",
    "occasions_30d",
    "occasions_90d",
    "occasions_180d",
    "spend_90d",
    "r_score",
    "f_score",
    "m_score",
    "p_alive",
    "churn_bgnbd",
    "expected_purchases",
)
# BG/NBD's churn probability enters as log-odds, the counts and durations as log1p: on
# those scales the relation to churn's log-odds is close to linear.
LOGISTIC_FEATURES: tuple[str, ...] = (
    "churn_bgnbd",
    "recency_days",
    "tenure_days",
    "n_occasions",
    "mean_spend",
    "recency_over_gap",
    "occasions_30d",
    "occasions_90d",
    "occasions_180d",
    "expected_purchases",
)
CANDIDATES: tuple[str, ...] = ("bgnbd", "bgnbd_isotonic", "classifier", "logistic", "ensemble")
# The frame columns each candidate reads beyond BG/NBD's own inputs (the version's
# signature, see model.CustomerAnalyticsModel.features); the BG/NBD ones read none.
CANDIDATE_FEATURES: dict[str, tuple[str, ...]] = {
    "classifier": CLASSIFIER_FEATURES,
    "logistic": LOGISTIC_FEATURES,
    "ensemble": LOGISTIC_FEATURES,  # bgnbd_isotonic's churn_bgnbd is among them
}
BASELINES: tuple[str, ...] = ("recency_rule", "recency_isotonic", "rfm")


class ChurnPredictor(Protocol):
    """Maps a cutoff frame to P(no order within the horizon) per row."""

    @property
    def name(self) -> str: ...

    def predict(self, data: pd.DataFrame) -> FloatArray: ...


@dataclass(frozen=True)
class ColumnAsProbability:
    """A column that already is a probability (BG/NBD's own churn probability)."""

    name: str
    column: str

    def predict(self, data: pd.DataFrame) -> FloatArray:
        values = data[self.column].to_numpy(dtype=np.float64)
        return np.asarray(np.clip(values, 0.0, 1.0), dtype=np.float64)


@dataclass(frozen=True)
class RecencyRule:
    """The RMS's naive rule: churned when the last order is older than ``days``."""

    days: float
    name: str = "recency_rule"

    def predict(self, data: pd.DataFrame) -> FloatArray:
        return (data["recency_days"].to_numpy(dtype=np.float64) > self.days).astype(np.float64)


@dataclass(frozen=True)
class IsotonicOnColumn:
    """A monotone map from one column to a probability, fitted on the earlier split."""

    name: str
    column: str
    model: IsotonicRegression

    def predict(self, data: pd.DataFrame) -> FloatArray:
        values = data[self.column].to_numpy(dtype=np.float64)
        return np.asarray(self.model.predict(values), dtype=np.float64)


@dataclass(frozen=True)
class RateByScore:
    """Churn rate per value of an integer score (plain RFM), smoothed toward the mean."""

    rates: dict[int, float]
    default: float
    column: str = "rfm_score"
    name: str = "rfm"

    def predict(self, data: pd.DataFrame) -> FloatArray:
        mapped = data[self.column].astype(np.int64).map(self.rates)
        return np.asarray(mapped.fillna(self.default).to_numpy(), dtype=np.float64)


def churn_column(model: Any, features: FloatArray) -> FloatArray:
    """P(churned) from a fitted scikit-learn classifier: the column of class True."""
    positive = list(model.classes_).index(True)
    return np.asarray(model.predict_proba(features)[:, positive], dtype=np.float64)


@dataclass(frozen=True)
class CalibratedClassifier:
    """A calibrated gradient-boosting classifier over :data:`CLASSIFIER_FEATURES`."""

    model: Any
    columns: tuple[str, ...] = CLASSIFIER_FEATURES
    name: str = "classifier"
    method: str = field(default="isotonic")
    threads: int = 1

    def predict(self, data: pd.DataFrame) -> FloatArray:
        features = data.loc[:, list(self.columns)].to_numpy(dtype=np.float64)
        with threadpool_limits(limits=self.threads, user_api="openmp"):
            return churn_column(self.model, features)


def logistic_design(data: pd.DataFrame, columns: tuple[str, ...]) -> FloatArray:
    """The logistic model's inputs: ``churn_bgnbd`` as clipped log-odds (NaN as 0.5),
    every other column as ``log1p`` of its non-negative part (NaN, e.g. the gap of a
    one-order customer, as 0). Always finite: scikit-learn's regression rejects NaN."""
    out = np.empty((len(data), len(columns)), dtype=np.float64)
    for index, column in enumerate(columns):
        values = data[column].to_numpy(dtype=np.float64)
        if column == "churn_bgnbd":
            p = np.clip(np.nan_to_num(values, nan=0.5), 1e-4, 1.0 - 1e-4)
            out[:, index] = np.log(p / (1.0 - p))
        else:
            out[:, index] = np.log1p(np.maximum(np.nan_to_num(values, nan=0.0), 0.0))
    return out


@dataclass(frozen=True)
class LogisticOnFeatures:
    """Standardised logistic regression over :func:`logistic_design` of ``columns``."""

    model: Any
    columns: tuple[str, ...] = LOGISTIC_FEATURES
    name: str = "logistic"

    def predict(self, data: pd.DataFrame) -> FloatArray:
        return churn_column(self.model, logistic_design(data, self.columns))


@dataclass(frozen=True)
class MeanOfPredictors:
    """The mean of calibrated members' probabilities: their errors are partly
    independent (a recalibrated BG/NBD and a regression on behaviour), so the mean has a
    lower Brier score than either on most backtests (``jobs/customers.md``)."""

    members: tuple[ChurnPredictor, ...]
    name: str = "ensemble"

    def predict(self, data: pd.DataFrame) -> FloatArray:
        stacked = np.vstack([member.predict(data) for member in self.members])
        return np.asarray(stacked.mean(axis=0), dtype=np.float64)


def labels(data: pd.DataFrame) -> NDArray[np.bool_]:
    """The ``churned`` label column as a boolean array (KeyError without labels)."""
    return data["churned"].to_numpy(dtype=bool)


def fit_isotonic(
    train: pd.DataFrame, column: str, name: str, *, increasing: bool = True
) -> IsotonicOnColumn:
    """Isotonic regression of the label on one column of the earlier split."""
    model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=increasing, out_of_bounds="clip")
    model.fit(train[column].to_numpy(dtype=np.float64), labels(train).astype(np.float64))
    return IsotonicOnColumn(name=name, column=column, model=model)


def fit_rfm_rates(train: pd.DataFrame, *, prior_weight: float = 10.0) -> RateByScore:
    """Per-RFM-score churn rate, shrunk toward the overall rate by ``prior_weight`` rows."""
    y = labels(train).astype(np.float64)
    overall = float(y.mean())
    grouped = pd.DataFrame({"s": train["rfm_score"].to_numpy(), "y": y}).groupby("s")["y"]
    sums, counts = grouped.sum(), grouped.size()
    rates = (sums + prior_weight * overall) / (counts + prior_weight)
    table = {int(k): float(v) for k, v in zip(rates.index, rates.to_numpy(), strict=True)}
    return RateByScore(rates=table, default=overall)


def _calibration_method(config: CustomerModelConfig, n_rows: int) -> str:
    if config.calibration != "auto":
        return config.calibration
    # Isotonic needs data; on small restaurants a two-parameter sigmoid is safer.
    return "isotonic" if n_rows >= 1_000 else "sigmoid"


def fit_classifier(train: pd.DataFrame, config: CustomerModelConfig) -> CalibratedClassifier:
    """Gradient boosting calibrated by 3-fold cross-validation on the earlier split."""
    features = train.loc[:, list(CLASSIFIER_FEATURES)].to_numpy(dtype=np.float64)
    y = labels(train)
    booster = HistGradientBoostingClassifier(
        max_iter=config.classifier_max_iter,
        learning_rate=0.05,
        max_leaf_nodes=31,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=config.seed,
    )
    method = _calibration_method(config, len(train))
    model = CalibratedClassifierCV(booster, method=method, cv=3)
    # OpenMP threads spin-wait: on a busy 2-core host an unbounded pool made this fit
    # 14x slower (28 s against 2 s for 5,000 customers); the service scales by processes.
    with threadpool_limits(limits=config.classifier_threads, user_api="openmp"):
        model.fit(features, y)
    return CalibratedClassifier(model=model, method=method, threads=config.classifier_threads)


def fit_logistic(train: pd.DataFrame, *, strength: float = 0.5) -> LogisticOnFeatures:
    """L2-regularised (C = ``strength``) logistic regression on the earlier split."""
    model = make_pipeline(StandardScaler(), LogisticRegression(C=strength, max_iter=2_000))
    model.fit(logistic_design(train, LOGISTIC_FEATURES), labels(train))
    return LogisticOnFeatures(model=model)


def can_train(train: pd.DataFrame, config: CustomerModelConfig) -> bool:
    """Enough labelled customers of both classes to fit anything on the earlier split."""
    if "churned" not in train.columns or len(train) < config.min_training_customers:
        return False
    y = labels(train)
    return bool(y.any() and (~y).any() and min(y.sum(), (~y).sum()) >= 6)


def fit_predictors(
    train: pd.DataFrame, config: CustomerModelConfig, *, with_classifier: bool = True
) -> dict[str, ChurnPredictor]:
    """Every candidate and baseline that the earlier split supports, by name."""
    predictors: dict[str, ChurnPredictor] = {
        "bgnbd": ColumnAsProbability(name="bgnbd", column="churn_bgnbd"),
        "recency_rule": RecencyRule(days=config.recency_rule_days),
    }
    if not can_train(train, config):
        return predictors
    predictors["bgnbd_isotonic"] = fit_isotonic(train, "churn_bgnbd", "bgnbd_isotonic")
    predictors["recency_isotonic"] = fit_isotonic(train, "recency_days", "recency_isotonic")
    predictors["rfm"] = fit_rfm_rates(train)
    predictors["logistic"] = fit_logistic(train)
    predictors["ensemble"] = MeanOfPredictors(
        members=(predictors["bgnbd_isotonic"], predictors["logistic"])
    )
    if with_classifier:
        predictors["classifier"] = fit_classifier(train, config)
    return predictors
