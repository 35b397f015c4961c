"""What a kitchen version keeps, and the rows each fallback rung gives the RMS.

A saved version (:class:`KitchenBundle`) holds the lookup table it built, the station
profiles for the load forecast and the boosting models behind them (kept for audit and
re-use; the RMS only ever gets the table). Each rung of the chain answers keys of two
kinds, so that one chain (one model load) serves a whole message:

* ``("prep", station_id, menu_item_id)`` -> a ``prep_times`` row without ``source``;
* ``("load", station_id, 0)`` -> that station's ``station_load`` rows for the hours asked.

Rungs: the version's table and profiles (``model``/``previous_model``); the current
history's per-(station, item) median table and observed load curves (``rule_based``);
the per-station median for every item, a flat wait and no bottleneck flag (``default``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rms_ml_push.models.kitchen.quantile_model import KitchenModel
from rms_ml_push.models.kitchen.rules import MedianRung
from rms_ml_push.models.kitchen.station_forecast import StationProfile, station_load_forecast
from rms_ml_push.models.kitchen.table import FIGURES, PER_UNIT, LookupTable
from rms_ml_push.models.kitchen.table_build import build_rule_table

Key = tuple[str, int, int]
PREP, LOAD = "prep", "load"


@dataclass(frozen=True)
class KitchenBundle:
    """One restaurant's saved version."""

    restaurant_id: int
    model: KitchenModel
    table: LookupTable
    profiles: tuple[StationProfile, ...]


def prep_keys(features: pd.DataFrame) -> list[Key]:
    """One prep key per (station, item) of the history, sorted."""
    pairs = features[["station_id", "menu_item_id"]].drop_duplicates()
    return sorted((PREP, int(s), int(i)) for s, i in pairs.itertuples(index=False))


def load_keys(features: pd.DataFrame) -> list[Key]:
    """One load key per station of the history, sorted."""
    return [(LOAD, int(s), 0) for s in sorted(features["station_id"].unique())]


def table_rows(table: LookupTable, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    """``prep_times`` rows of ``table`` (with the extension) for the prep keys it has."""
    wanted = {k for k in keys if k[0] == PREP}
    out: dict[Key, dict[str, Any]] = {}
    for row in table.to_prep_times(total_in_buckets=True, per_unit=True):
        key = (PREP, int(row["station_id"]), int(row["menu_item_id"]))
        if key in wanted:
            out[key] = {k: v for k, v in row.items() if k != "source"}
    return out


def rule_rows(rules: MedianRung, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    """The rule-based rung: history median and p90 per (station, item), no buckets."""
    return table_rows(build_rule_table(rules), keys)


def default_rows(rules: MedianRung, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
    """The default rung: the station's own figures for every item it serves."""
    names = {"cook_p50": "p50_s", "cook_p90": "p90_s"}
    names |= {"total_p50": "total_p50_s", "total_p90": "total_p90_s"}
    out: dict[Key, dict[str, Any]] = {}
    for key in keys:
        if key[0] != PREP or key[1] not in rules.by_station.index:
            continue
        station = rules.by_station.loc[key[1]]
        row: dict[str, Any] = {"station_id": key[1], "menu_item_id": key[2]}
        row |= {new: round(float(station[old]), 1) for old, new in names.items()}
        out[key] = row | {"by_load": [], "by_hour": []}
    return out


def load_rows(
    profiles: Sequence[StationProfile], hourly_orders: pd.DataFrame, keys: Sequence[Key]
) -> dict[Key, list[dict[str, object]]]:
    """``station_load`` rows per load key whose station has a profile."""
    by_station = {p.station_id: p for p in profiles}
    out: dict[Key, list[dict[str, object]]] = {}
    for key in keys:
        if key[0] == LOAD and key[1] in by_station:
            out[key] = station_load_forecast([by_station[key[1]]], hourly_orders)
    return out


def flat_profiles(rules: MedianRung, ticket_share: Mapping[int, float]) -> list[StationProfile]:
    """The default rung's profiles: the station's median time at any load, no capacity."""
    profiles = []
    for station_id, share in ticket_share.items():
        if station_id not in rules.by_station.index:
            continue
        wait = float(rules.by_station["total_p50"].loc[station_id])
        profiles.append(
            StationProfile(
                station_id=int(station_id),
                tickets_per_order=float(share),
                capacity_per_hour=math.inf,
                rate_points=np.array([0.0, 1.0]),
                load_points=np.array([0.0, 0.0]),
                wait_by_load_s=np.array([wait]),
            )
        )
    return profiles


def usable(value: Any) -> bool:
    """A rung's answer is usable when every figure in it is a finite number."""
    if isinstance(value, list):
        return bool(value) and all(
            _finite(r["expected_tickets"]) and _finite(r["expected_wait_s"]) for r in value
        )
    figures = [value[f] for f in FIGURES] + [value[k] for k in (PER_UNIT,) if k in value]
    figures += [b[f] for b in value["by_load"] + value["by_hour"] for f in FIGURES]
    return all(_finite(f) for f in figures)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
