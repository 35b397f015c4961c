"""The demand forecasting job (being wired: the modelling core lands in models/demand/)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from rms_ml_push.errors import JobError

if TYPE_CHECKING:
    from rms_ml_push.jobs.common import JobResources


def forecast_on_the_spot(
    resources: JobResources,
    *,
    as_of: datetime,
    restaurant_id: int,
    granularity: Literal["day", "hour"],
) -> list[dict[str, Any]]:
    """Compute a restaurant's demand series without saving or pushing anything."""
    raise JobError(
        f"no stored demand.{granularity} forecast for restaurant {restaurant_id} at "
        f"{as_of.isoformat()}, and the demand job is not wired in this build yet"
    )
