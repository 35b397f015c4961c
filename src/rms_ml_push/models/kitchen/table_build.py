"""Build the lookup table from the model (or from the rule-based rung), and calibrate it.

Model rung: for each station, a sample of its recent tickets stands for "a typical
moment" there. For each item of the station, the sample is copied with the item (and its
category) swapped in and quantity set to 1; the model predicts every copy and the cell
takes the median prediction. A load bucket's sample is drawn from the moments whose load
fell in the bucket, an hour's from the moments at that hour (the hour rung is what the
RMS uses when it does not know the load, so it must carry the hour's typical state): the
model also reads the rest of the station's and kitchen's state at arrival (queued vs
cooking, recent arrivals, other stations), and real moments keep those consistent with
the load, where overwriting the load alone would ask the model about kitchens that never
happen. Only hours in which the station has history get an entry.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import numpy as np
import pandas as pd

from rms_ml_push.models.kitchen.buckets import (
    bucket_index,
    choose_load_buckets,
    merge_sparse,
    representative_loads,
)
from rms_ml_push.models.kitchen.calibration import conformal_scale, group_scales
from rms_ml_push.models.kitchen.quantile_model import KitchenModel
from rms_ml_push.models.kitchen.rules import MedianRung
from rms_ml_push.models.kitchen.table import FIGURES, KEYS, PER_UNIT, LookupTable

RENAME = {"cook_p50": "p50_s", "cook_p90": "p90_s", "total_p50": "total_p50_s"}
RENAME["total_p90"] = "total_p90_s"
# Calibration tickets per band of a station's load buckets for its own p90 factor.
TABLE_CALIB_MIN_COUNT = 150


def build_model_table(
    model: KitchenModel, history: pd.DataFrame, *, sample_per_station: int = 64, seed: int = 0
) -> LookupTable:
    """The table predicted by ``model`` for every (station, item) seen in ``history``."""
    rng = np.random.default_rng(seed)
    cells: list[pd.DataFrame] = []
    bounds: list[tuple[int, int, int, int | None]] = []
    for station_id, rows in history.groupby("station_id", sort=True):
        sample = rows.iloc[rng.choice(len(rows), min(sample_per_station, len(rows)), False)]
        items = rows.drop_duplicates("menu_item_id")[["menu_item_id", "category"]]
        buckets = choose_load_buckets(rows["load"])
        levels = representative_loads(rows["load"], buckets)
        in_bucket = bucket_index(rows["load"], buckets)
        # "unit2" (two units, else as "overall") gives the per-extra-unit figure.
        variants = [("overall", -1, sample), ("unit2", -1, sample)]
        variants += [
            ("load", k, _moments(rows[in_bucket == k], sample_per_station, rng, sample, load=lv))
            for k, lv in enumerate(levels)
        ]
        variants += [
            ("hour", int(cast(Any, h)), _moments(at_hour, sample_per_station, rng, sample))
            for h, at_hour in rows.groupby("local_hour", sort=True)
        ]
        for kind, key, base in variants:
            units = 2 if kind == "unit2" else 1
            cells.append(
                _swap_items(base, items, units).assign(kind=kind, key=key, station_id=station_id)
            )
        bounds += [
            (int(cast(Any, station_id)), k, low, high) for k, (low, high) in enumerate(buckets)
        ]
    grid = pd.concat(cells, ignore_index=True)
    grid = pd.concat([grid, model.predict(grid).rename(columns=RENAME)], axis=1)
    edges = pd.DataFrame(bounds, columns=["station_id", "bucket", "queue_min", "queue_max"])
    return _table_from_grid(grid, edges.astype({"queue_max": "Int64"}))


def _moments(
    rows: pd.DataFrame,
    n: int,
    rng: np.random.Generator,
    fallback: pd.DataFrame,
    load: int | None = None,
) -> pd.DataFrame:
    """Up to ``n`` of ``rows`` at random; ``fallback`` (with ``load`` set) when empty."""
    if rows.empty:
        return fallback if load is None else fallback.assign(load=load)
    return rows.iloc[rng.choice(len(rows), min(n, len(rows)), False)]


def _swap_items(sample: pd.DataFrame, items: pd.DataFrame, units: int = 1) -> pd.DataFrame:
    """One copy of ``sample`` per item, with that item's id and category, ``units`` each."""
    base = sample.drop(columns=["menu_item_id", "category"]).assign(quantity=units)
    return base.merge(items, how="cross")


def _table_from_grid(grid: pd.DataFrame, edges: pd.DataFrame) -> LookupTable:
    figures = list(FIGURES)
    medians = grid.groupby(["kind", "key", *KEYS], sort=True)[figures].median()
    items = medians.loc["overall"].reset_index().drop(columns="key").assign(source="model")
    # Cook time added by the second unit (the demo's kitchens: about +35 % of one unit).
    two = medians.loc["unit2"].reset_index().drop(columns="key")
    extra = two.merge(items[[*KEYS, "p50_s"]], on=KEYS, suffixes=("", "_one"))
    extra[PER_UNIT] = (extra["p50_s"] - extra["p50_s_one"]).clip(lower=0.0)
    items = items.merge(extra[[*KEYS, PER_UNIT]], on=KEYS, how="left")
    by_load = medians.loc["load"].reset_index().rename(columns={"key": "bucket"})
    by_load = by_load.merge(edges, on=["station_id", "bucket"], how="left")
    by_hour = medians.loc["hour"].reset_index().rename(columns={"key": "hour"})
    return LookupTable(
        items=items[[*KEYS, "source", *figures, PER_UNIT]],
        by_load=by_load[[*KEYS, "queue_min", "queue_max", *figures]],
        by_hour=by_hour[[*KEYS, "hour", *figures]],
    )


def build_rule_table(rung: MedianRung) -> LookupTable:
    """The rule-based table: history quantiles per (station, item), no buckets or hours."""
    items = rung.by_item.reset_index().rename(columns=RENAME).assign(source="rule_based")
    empty_load = pd.DataFrame(columns=[*KEYS, "queue_min", "queue_max", *FIGURES])
    empty_hour = pd.DataFrame(columns=[*KEYS, "hour", *FIGURES])
    return LookupTable(
        items=items[[*KEYS, "source", *FIGURES]],
        by_load=empty_load.astype({"queue_max": "Int64"}),
        by_hour=empty_hour,
    )


def calibrate_table(
    table: LookupTable,
    calib: pd.DataFrame,
    coverage: float = 0.9,
    min_count: int = TABLE_CALIB_MIN_COUNT,
) -> LookupTable:
    """Rescale the table's p90 figures so that, looked up the RMS's way on ``calib``, they
    cover ``coverage`` of the actual times, at busy moments as well as overall.

    ``by_load``: one factor per station and band of its buckets (Mondrian split
    conformal; a station's buckets merged from the top down until each band holds
    ``min_count`` calibration tickets; a station with fewer in all takes the pooled
    factor). ``by_hour``: the factor of the lookup an RMS makes without the load (hour,
    else overall). ``items``: the factor of the overall figures alone, the only ones the
    contract's RMS looks the total up by.
    """
    # Calibrated on the contract's own lookup (no per-unit addition), so that an RMS that
    # ignores the extension keeps its coverage (the extension leaves p90s as they are).
    found = table.lookup(calib)
    without_load = replace(table, by_load=table.by_load.iloc[0:0]).lookup(calib)
    overall = calib[KEYS].merge(table.items, on=KEYS, how="left")
    factors = _bucket_factors(table.by_load, calib, found, coverage, min_count)
    by_load = table.by_load.merge(factors, on=["station_id", "queue_min"], how="left")
    scaled = {"by_load": _scaled(by_load, by_load["cook_k"], by_load["total_k"])}
    for name, looked_up in (("by_hour", without_load), ("items", overall)):
        cook = _scale(calib["cook_s"], looked_up["p90_s"], coverage)
        total = _scale(calib["total_s"], looked_up["total_p90_s"], coverage)
        scaled[name] = _scaled(getattr(table, name), cook, total)
    scaled["by_load"] = scaled["by_load"][list(table.by_load.columns)]
    return replace(table, **scaled)


def _bucket_factors(
    by_load: pd.DataFrame,
    calib: pd.DataFrame,
    found: pd.DataFrame,
    coverage: float,
    min_count: int,
) -> pd.DataFrame:
    """``station_id, queue_min, cook_k, total_k``: each bucket's p90 factors."""
    buckets = by_load[["station_id", "queue_min"]].drop_duplicates()
    buckets = buckets.sort_values(["station_id", "queue_min"]).reset_index(drop=True)
    on_load = found["rung"].to_numpy() == "load"
    hits = pd.DataFrame(
        {"station_id": calib["station_id"].to_numpy(), "queue_min": found["queue_min"].to_numpy()}
    )[on_load]
    counts = hits.value_counts().rename("n").reset_index()
    counts["queue_min"] = counts["queue_min"].astype(np.int64)
    buckets = buckets.merge(counts, on=["station_id", "queue_min"], how="left").fillna({"n": 0})
    labels = np.full(len(buckets), -1, dtype=np.int64)
    n_groups = 0
    for _station, rows in buckets.groupby("station_id", sort=True):
        if rows["n"].sum() < min_count:
            continue  # too few to calibrate on its own: the pooled factor
        groups = np.asarray(merge_sparse(rows["n"].astype(int).tolist(), min_count))
        labels[rows.index.to_numpy()] = groups + n_groups
        n_groups += int(groups.max()) + 1
    buckets["group"] = labels
    ticket = hits.merge(buckets, on=["station_id", "queue_min"], how="left")["group"]
    out = buckets[["station_id", "queue_min"]].copy()
    for target, actual, p90 in (("cook", "cook_s", "p90_s"), ("total", "total_s", "total_p90_s")):
        y = calib[actual].to_numpy(dtype=np.float64)[on_load]
        q = found[p90].to_numpy(dtype=np.float64)[on_load]
        per_group = group_scales(y, q, ticket.to_numpy(), n_groups, coverage)
        pooled = conformal_scale(y, q, coverage)
        out[f"{target}_k"] = [per_group[g] if g >= 0 else pooled for g in labels]
    return out


def _scaled(frame: pd.DataFrame, cook: Any, total: Any) -> pd.DataFrame:
    """``frame`` with p90s multiplied by the factors, never below their p50s."""
    frame = frame.copy()
    frame["p90_s"] = np.maximum(frame["p90_s"] * cook, frame["p50_s"])
    frame["total_p90_s"] = np.maximum(frame["total_p90_s"] * total, frame["total_p50_s"])
    return frame


def _scale(actual: pd.Series, p90: pd.Series, coverage: float) -> float:
    ok = p90.notna().to_numpy()
    return conformal_scale(actual.to_numpy()[ok], p90.to_numpy()[ok], coverage)
