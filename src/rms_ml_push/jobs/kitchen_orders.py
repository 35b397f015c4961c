"""Expected orders for the station load forecast's 24 hours, with where they came from.

First the demand job's hourly forecast for the same ``as_of`` (stored, or computed on the
spot by :func:`rms_ml_push.jobs.forecasts.demand_series`); if that fails or does not
cover the hours, the same-weekday-hour mean of the last four weeks of completed orders
(``rule_based``), logged with the reason and named in the message (``orders_forecast``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from rms_ml_push.errors import RmsMlPushError
from rms_ml_push.features.calendar import forecast_hours, history_end, hour0, hourly_totals
from rms_ml_push.features.quality import clean_orders
from rms_ml_push.features.report import QualityReport
from rms_ml_push.jobs.common import JobResources
from rms_ml_push.jobs.forecasts import demand_series
from rms_ml_push.logs import get_logger
from rms_ml_push.models.kitchen.hourly_orders import (
    hours_frame,
    orders_from_profile,
    orders_from_series,
)

HORIZON_HOURS = 24
PROFILE_DAYS = 28


@dataclass(frozen=True)
class RecentOrders:
    """Completed orders of the last ``PROFILE_DAYS`` before hour 0, hourly, and counts."""

    hourly: pd.DataFrame  # ds (UTC hour start), y
    since: pd.Timestamp  # UTC start of the window
    orders_before_day0: int  # completed orders in [since, start of day 0)
    quality: QualityReport


@dataclass(frozen=True)
class HourlyOrders:
    """``ts, orders`` per forecast hour and the source (``stored``, ``computed``,
    ``rule_based``); ``detail`` says why the fallback was taken."""

    frame: pd.DataFrame
    source: str
    detail: str | None = None


def recent_orders(
    resources: JobResources, *, as_of: datetime, restaurant_id: int, tz: str
) -> RecentOrders:
    """Extract and clean the window's orders; bucket them by local hour (DST-safe)."""
    day0_start = history_end(as_of, tz)
    since = day0_start - timedelta(days=PROFILE_DAYS)
    until = hour0(as_of, tz)
    raw = resources.reader.orders(
        since=since.to_pydatetime(), until=until.to_pydatetime(), restaurant_ids=[restaurant_id]
    )
    clean, report = clean_orders(raw, resources.quality_context(as_of))
    hourly = hourly_totals(clean, "created_at", tz, as_of, start=since.to_pydatetime())
    before = int((clean["created_at"] < day0_start).sum())
    return RecentOrders(hourly[["ds", "y"]], since, before, report)


def hourly_orders(
    resources: JobResources,
    *,
    as_of: datetime,
    restaurant_id: int,
    tz: str,
    recent: RecentOrders,
) -> HourlyOrders:
    """The demand forecast's orders for the 24 hours, else the history profile."""
    hours = hours_frame(forecast_hours(as_of, tz, HORIZON_HOURS), tz)
    try:
        series, how = demand_series(
            resources, as_of=as_of, restaurant_id=restaurant_id, granularity="hour"
        )
    except RmsMlPushError as exc:
        detail = f"no hourly demand forecast: {exc}"
    else:
        frame = orders_from_series(series, hours)
        if frame is not None:
            return HourlyOrders(frame, how)
        detail = f"the {how} hourly demand forecast does not cover the 24 hours"
    get_logger(__name__).warning(
        "kitchen_orders_fallback", restaurant_id=restaurant_id, reason=detail
    )
    return HourlyOrders(orders_from_profile(recent.hourly, hours, tz), "rule_based", detail)
