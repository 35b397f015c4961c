"""Demand forecasting core (pure): restaurant totals, hourly orders and menu-item quantities.

Public API (all frames use statsforecast's ``unique_id, ds, y`` naming)::

    detect_closures(frame, freq="D", *, calendars=None, until=None) -> Closures
    forecast_demand(frame, info, config, *, calendars=None, closures=None, state=None,
                    full=True, n_jobs=1) -> DemandResult
    DemandConfig.daily(**overrides) / DemandConfig.hourly(**overrides)
    HolidayCalendar(country=None, subdivision=None)

Inputs: ``frame`` is long ``unique_id, ds, y`` already bucketed into local days (or
hours), closed days present as 0 (missing steps are read as 0). ``info`` has one row per
series: ``unique_id, group`` (e.g. orders / covers / revenue / menu_item: the unit of
calibration and reporting), ``is_count`` (whole-number bounds), ``category`` (items: the
new-item share), ``closure_key`` (the key of ``Closures`` that applies, e.g. the
restaurant's orders series), ``calendar_key`` (a key of ``calendars``).

Output: ``DemandResult.forecasts`` has ``OUTPUT_COLUMNS`` (``unique_id, ds, yhat, lo_80,
hi_80, lo_95, hi_95, source``); ``.series`` the per-series chosen model and backtest
metrics beside the SeasonalNaive(7) baseline's; ``.groups`` per-group aggregates;
``.state`` what the registry saves (``to_json_dict()`` plus the ``gbm`` object).
"""

from rms_ml_push.models.demand.calendar import HolidayCalendar
from rms_ml_push.models.demand.closures import Closures, detect_closures
from rms_ml_push.models.demand.pipeline import forecast_demand
from rms_ml_push.models.demand.state import (
    OUTPUT_COLUMNS,
    DemandConfig,
    DemandResult,
    DemandState,
)

__all__ = [
    "OUTPUT_COLUMNS",
    "Closures",
    "DemandConfig",
    "DemandResult",
    "DemandState",
    "HolidayCalendar",
    "detect_closures",
    "forecast_demand",
]
