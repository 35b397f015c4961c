"""Time a registry save (write, fsync, gate, promote) and a verified load on SQLite.

Run: .venv/bin/python bench/registry_roundtrip.py
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from rms_ml_push.clock import SystemClock
from rms_ml_push.config import ModelSettings
from rms_ml_push.models.lifecycle import BacktestMetrics
from rms_ml_push.store.engine import Store
from rms_ml_push.store.migrate import migrate
from rms_ml_push.store.registry import ModelRegistry, TrainedModel, TrainingWindow

ROUNDS = 10
SIZE_MB = 4


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{tmp}/store.sqlite3")
        migrate(store)
        registry = ModelRegistry(store, Path(tmp) / "models", ModelSettings(), SystemClock())
        model = {"weights": np.random.default_rng(0).random(SIZE_MB * 131072)}
        now = datetime.now(UTC)
        saves, loads = [], []
        for i in range(ROUNDS):
            trained = TrainedModel(
                name="demand_forecasting",
                model=model,
                metrics=BacktestMetrics("wape", {"wape": 0.2 - i * 0.001}, {"wape": 0.3}),
                window=TrainingWindow(now, date(2025, 1, 1), date(2025, 12, 31)),
                data_fingerprint="bench",
                features=("lag_7",),
            )
            start = time.perf_counter()
            registry.save(trained)
            saves.append(time.perf_counter() - start)
            start = time.perf_counter()
            registry.load_latest("demand_forecasting")
            loads.append(time.perf_counter() - start)
        store.dispose()
    print(
        f"{SIZE_MB} MB model, {ROUNDS} rounds: save median {np.median(saves) * 1000:.0f} ms, "
        f"verified load median {np.median(loads) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
