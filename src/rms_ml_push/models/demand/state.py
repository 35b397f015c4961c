"""Configuration, fitted state and result of a demand forecasting run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from rms_ml_push.models.demand.candidates import DAILY_DEFAULT, HOURLY_DEFAULT
from rms_ml_push.models.demand.gbm import GbmParams

INFO_COLUMNS: tuple[str, ...] = ("group", "is_count", "category", "closure_key", "calendar_key")
OUTPUT_COLUMNS: tuple[str, ...] = (
    "unique_id",
    "ds",
    "yhat",
    "lo_80",
    "hi_80",
    "lo_95",
    "hi_95",
    "source",
)
Source = Literal["model", "previous_model", "rule_based", "default"]


@dataclass(frozen=True)
class DemandConfig:
    """How series are backtested, chosen and forecast. Build with ``daily()``/``hourly()``."""

    freq: Literal["D", "h"] = "D"
    h: int = 14
    season: int = 7
    n_windows: int = 3
    candidates: tuple[str, ...] = DAILY_DEFAULT
    # MASE within 0.5 % of the best: the cheaper model wins. At 2 % the cheaper GBM kept
    # beating the ETS+GBM ensemble, which was 1.7 % better on held-out item windows.
    tie_tolerance: float = 0.005
    switch_margin: float = 0.2  # a series leaves its group's model only if 20 % better
    min_history: int = 28  # fewer open days: new series, rule-based
    sparse_zero_share: float = 0.3  # intermittent models only above this share of zeros
    local_input_size: int | None = 364  # local models see at most this many steps
    # Groups with more series are screened: every candidate on this many (a fixed hash
    # sample), the rest only on candidates picked for >= screen_min_share of the sample.
    screen_sample: int = 300
    screen_min_share: float = 0.02
    gbm: GbmParams = field(default_factory=GbmParams)

    @classmethod
    def daily(cls, **overrides: Any) -> DemandConfig:
        """14 days ahead, weekly seasonality."""
        return replace(cls(), **overrides)

    @classmethod
    def hourly(cls, **overrides: Any) -> DemandConfig:
        """7 x 24 hours ahead, daily and weekly seasonality (baseline: same hour last week)."""
        base = cls(
            freq="h",
            h=7 * 24,
            season=168,
            candidates=HOURLY_DEFAULT,
            min_history=28 * 24,
            local_input_size=8 * 168,
        )
        return replace(base, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able hyper-parameters, stored with the model."""
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "gbm"}
        data["candidates"] = list(self.candidates)
        data["gbm"] = dict(self.gbm.__dict__)
        return data


@dataclass
class DemandState:
    """What a full run fitted and a refit run reuses; JSON-able except ``gbm``.

    ``selection`` maps unique_id to its chosen model; ``calibration`` holds the conformal
    quantiles per group; ``metrics`` the backtest metrics of the selecting run.
    """

    config: dict[str, Any]
    selection: dict[str, str]
    calibration: dict[str, Any]
    metrics: dict[str, Any]
    gbm: Any = None  # sklearn HistGradientBoostingRegressor fitted on the latest data

    @classmethod
    def from_json_dict(cls, data: dict[str, Any], gbm: Any = None) -> DemandState:
        """The inverse of :meth:`to_json_dict` (the registry loads ``gbm`` separately)."""
        return cls(
            config=dict(data["config"]),
            selection=dict(data["selection"]),
            calibration=dict(data["calibration"]),
            metrics=dict(data["metrics"]),
            gbm=gbm,
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Everything but the GBM object (save that with joblib)."""
        return {
            "config": self.config,
            "selection": self.selection,
            "calibration": self.calibration,
            "metrics": self.metrics,
        }


@dataclass
class DemandResult:
    """Forecast rows, per-series choices and metrics, and the state for the registry."""

    forecasts: pd.DataFrame  # OUTPUT_COLUMNS
    series: pd.DataFrame  # unique_id, group, model, source, mase, wape, cov_80, cov_95, base_*
    groups: pd.DataFrame  # per group aggregates of the same metrics
    state: DemandState
