"""Demand forecasts for jobs that build on them (kitchen: hourly orders; inventory: items).

The demand job stores each restaurant's forecast as a prediction set of kind
``demand.day`` or ``demand.hour`` whose payload is ``{"series": [...]}`` in exactly the
shape of ``demand.forecast.updated``'s ``series`` (webhook-contract.md): a list of
``{target, menu_item_id, source, points: [{ts, yhat, lo_80, hi_80, lo_95, hi_95}]}``,
``ts`` a local date (day) or a local ISO 8601 date-time with offset (hour).

:func:`demand_series` returns the latest stored set for the same ``as_of`` and, where the
store has none, computes one on the spot with the demand job's models (through the
registry's fallback chain; nothing is saved or pushed).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from rms_ml_push.jobs.runtime import latest_prediction_set

if TYPE_CHECKING:
    from rms_ml_push.jobs.common import JobResources

Granularity = Literal["day", "hour"]


def prediction_kind(granularity: Granularity) -> str:
    """The prediction-set kind the demand job writes for a granularity."""
    return f"demand.{granularity}"


def demand_series(
    resources: JobResources,
    *,
    as_of: datetime,
    restaurant_id: int,
    granularity: Granularity,
) -> tuple[list[dict[str, Any]], Literal["stored", "computed"]]:
    """The restaurant's demand series for ``as_of``, and whether it was stored or computed."""
    stored = latest_prediction_set(
        resources.store, prediction_kind(granularity), restaurant_id, as_of
    )
    if stored is not None:
        return list(stored["series"]), "stored"
    from rms_ml_push.jobs.demand import forecast_on_the_spot  # noqa: PLC0415 - heavy

    return forecast_on_the_spot(
        resources, as_of=as_of, restaurant_id=restaurant_id, granularity=granularity
    ), "computed"
