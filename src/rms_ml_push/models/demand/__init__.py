"""Demand forecasting core (pure): restaurant totals, hourly orders and menu-item quantities.

Public API::

    forecast_demand(frame, info, config, calendars=None, closures=None, state=None,
                    full=True, n_jobs=1) -> DemandResult
    detect_closures(frame, freq="D", calendars=None, until=None) -> Closures
    DemandConfig.daily() / DemandConfig.hourly()
    HolidayCalendar(country, subdivision)
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
