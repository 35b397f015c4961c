"""The candidate models, their cost rank and the statsforecast objects that implement them.

Costs are milliseconds per fit of a 364-day daily series measured here
(``bench/demand_speed.py``); they only order candidates so that near-ties go to the
cheaper one. ``gbm`` is the global gradient-boosting model (``gbm.py``), not a
statsforecast model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statsforecast.models import (
    ADIDA,
    IMAPA,
    MSTL,
    TSB,
    AutoETS,
    CrostonSBA,
    SeasonalNaive,
    SeasonalWindowAverage,
    Theta,
)

from rms_ml_push.models.demand.profile import DayProfile

BASELINE = "seasonal_naive"
GLOBAL_GBM = "gbm"
# Equal-weight combinations: measured on held-out windows, ETS + GBM beat either alone.
ENSEMBLES: dict[str, tuple[str, ...]] = {"ets_gbm": ("ets_ana", GLOBAL_GBM)}


@dataclass(frozen=True)
class Candidate:
    """One candidate: its name, cost rank and which series it may serve."""

    name: str
    cost_ms: float
    sparse_only: bool = False
    hourly: bool = True
    daily: bool = True
    # Can update its state on new data without re-estimating (statsforecast ``forward``):
    # the backtest then fits once at the first cutoff instead of once per window.
    forward: bool = False


CANDIDATES: dict[str, Candidate] = {
    c.name: c
    for c in (
        Candidate(BASELINE, 0.05, forward=True),
        Candidate("window_average", 0.1),
        Candidate("croston_sba", 0.2, sparse_only=True, hourly=False),
        Candidate("adida", 0.3, sparse_only=True, hourly=False),
        Candidate("imapa", 0.3, sparse_only=True, hourly=False),
        Candidate("tsb", 0.2, sparse_only=True, hourly=False),
        Candidate("theta", 5.0, hourly=False, forward=True),
        Candidate("ets_ana", 16.0, hourly=False, forward=True),
        Candidate("mstl", 60.0, daily=False),
        Candidate("day_profile", 2.0, daily=False),
        Candidate(GLOBAL_GBM, 3.0, hourly=False),
        Candidate("ets_gbm", 19.0, hourly=False),
    )
}

DAILY_DEFAULT: tuple[str, ...] = (
    BASELINE,
    "window_average",
    "croston_sba",
    "adida",
    "imapa",
    "tsb",
    "theta",
    "ets_ana",
    GLOBAL_GBM,
    "ets_gbm",
)
HOURLY_DEFAULT: tuple[str, ...] = (BASELINE, "window_average", "day_profile")


def statsforecast_model(name: str, season: int) -> Any:
    """The statsforecast object for a local candidate, aliased with the candidate's name."""
    # Window of four seasons: the same-weekday mean of the last 4 weeks (the rule rung).
    factories: dict[str, Any] = {
        BASELINE: lambda: SeasonalNaive(season_length=season, alias=name),
        "window_average": lambda: SeasonalWindowAverage(
            season_length=season, window_size=4, alias=name
        ),
        "croston_sba": lambda: CrostonSBA(alias=name),
        "adida": lambda: ADIDA(alias=name),
        "imapa": lambda: IMAPA(alias=name),
        "tsb": lambda: TSB(alpha_d=0.1, alpha_p=0.1, alias=name),
        "theta": lambda: Theta(season_length=season, alias=name),
        "ets_ana": lambda: AutoETS(season_length=season, model="ANA", alias=name),
        "day_profile": lambda: DayProfile(alias=name),
        "mstl": lambda: MSTL(
            season_length=[24, 168], trend_forecaster=AutoETS(model="AAN"), alias=name
        ),
    }
    if name not in factories:
        raise KeyError(f"unknown local candidate {name!r}")
    return factories[name]()


def members(name: str) -> tuple[str, ...]:
    """The base models a candidate needs (itself, or an ensemble's members)."""
    return ENSEMBLES.get(name, (name,))


def by_cost(names: list[str] | tuple[str, ...]) -> list[str]:
    """Candidate names, cheapest first."""
    return sorted(names, key=lambda n: (CANDIDATES[n].cost_ms, n))
