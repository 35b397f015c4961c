"""Where a restaurant's public holidays come from: the chain's place or its override.

One rule for every job that uses holidays (demand's calendar features, pricing's
regression controls), so a restaurant never has two calendars.
"""

from __future__ import annotations

from rms_ml_push.config import HolidaySettings


def holiday_place(settings: HolidaySettings, restaurant_id: int) -> tuple[str | None, str | None]:
    """(country, subdivision) of a restaurant's holidays.

    Without an override: the chain's. An override naming a country replaces both (the
    chain's subdivision belongs to the chain's country); an override with only a
    subdivision keeps the chain's country (another state of the same country).
    """
    override = settings.restaurants.get(restaurant_id)
    if not override:
        return settings.country, settings.subdivision
    if override.get("country"):
        return override.get("country"), override.get("subdivision")
    return settings.country, override.get("subdivision", settings.subdivision)
