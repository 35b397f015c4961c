"""Small synthetic series for the demand tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKLY = np.array([0.8, 0.9, 1.0, 1.0, 1.3, 1.5, 1.2])


def daily_frame(
    n_series: int = 4, days: int = 150, level: float = 30.0, seed: int = 0, end: str = "2025-03-30"
) -> pd.DataFrame:
    """Poisson counts with a weekly profile, ``n_series`` series ending on ``end``."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range(end=pd.Timestamp(end), periods=days, freq="D")
    parts = []
    for i in range(n_series):
        mu = level * (1 + 0.3 * i) * WEEKLY[dates.dayofweek]
        parts.append(pd.DataFrame({"unique_id": f"s{i}", "ds": dates, "y": rng.poisson(mu)}))
    return pd.concat(parts, ignore_index=True).astype({"y": float})
