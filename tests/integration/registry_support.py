"""Helpers for registry tests: a registry on a real store and small picklable models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rms_ml_push.clock import FixedClock
from rms_ml_push.config import ModelSettings
from rms_ml_push.models.lifecycle import BacktestMetrics
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.registry import LoadedModel, ModelRegistry, TrainedModel, TrainingWindow

NAME = "demand_forecasting"
T0 = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
HORIZON = 3


def make_registry(url: str, model_dir: Path, *, keep: int = 5) -> tuple[ModelRegistry, Store]:
    """A migrated store and a registry over ``model_dir`` with a fixed clock."""
    store = Store.from_url(url)
    migrate(store)
    settings = ModelSettings(promotion_tolerance=0.02, keep_versions=keep)
    return ModelRegistry(store, model_dir, settings, FixedClock(T0)), store


def trained(
    level: float,
    *,
    wape: float = 0.2,
    baseline: float | None = 0.3,
    features: tuple[str, ...] = ("lag_7", "dow"),
    params: Mapping[str, Any] | None = None,
    output_schema: str = "1",
    scaler: object | None = None,
    name: str = NAME,
) -> TrainedModel:
    """A 'model' that predicts a constant level, with the given backtest scores."""
    return TrainedModel(
        name=name,
        model={"level": level},
        metrics=BacktestMetrics(
            metric="wape",
            model={"wape": wape},
            baseline={} if baseline is None else {"wape": baseline},
            baseline_name="seasonal_naive",
            windows=({"cutoff": "2026-11-14", "h": 14},),
        ),
        window=TrainingWindow(T0, date(2025, 11, 1), date(2026, 11, 27)),
        data_fingerprint="sha256:" + "ab" * 32,
        features=features,
        hyper_parameters=dict(params or {"season_length": 7}),
        output_schema=output_schema,
        scaler=scaler,
        run_id="run_test",
    )


def predict_level(loaded: LoadedModel, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """The rung's predict: the loaded model's level for every key and horizon day."""
    return {k: np.full(HORIZON, float(loaded.model["level"])) for k in keys}
