"""One holiday place per restaurant, for the demand and pricing jobs alike."""

from __future__ import annotations

import pytest

from rms_ml_push.config import HolidaySettings
from rms_ml_push.features.holidays import holiday_place

CHAIN = HolidaySettings(
    country="DE",
    subdivision="BE",
    restaurants={
        7: {"country": "US", "subdivision": "NY"},
        8: {"country": "AT"},  # another country: Berlin's state does not apply
        9: {"subdivision": "BY"},  # another state of the chain's country
        10: {"country": None, "subdivision": None},  # nulls: chain country, national only
    },
)


@pytest.mark.parametrize(
    ("restaurant_id", "place"),
    [
        (1, ("DE", "BE")),
        (7, ("US", "NY")),
        (8, ("AT", None)),
        (9, ("DE", "BY")),
        (10, ("DE", None)),
    ],
)
def test_override_rules(restaurant_id: int, place: tuple[str | None, str | None]) -> None:
    """No override: the chain's place; a country replaces both; a subdivision alone keeps
    the chain's country."""
    assert holiday_place(CHAIN, restaurant_id) == place


def test_no_country_means_no_holidays() -> None:
    """A chain without a country has no place, whatever the restaurant."""
    assert holiday_place(HolidaySettings(), 3) == (None, None)
