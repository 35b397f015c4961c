"""The lookup table the RMS applies live, and that lookup done the RMS's way.

Per ``(station_id, menu_item_id)``: overall cook time ``p50_s, p90_s`` (quantity 1),
time at the station ``total_p50_s, total_p90_s``, ``by_load`` buckets and ``by_hour``
entries. The RMS looks a ticket up by load bucket first, then by local hour, then the
overall figures (``webhook-contract.md``, ``kitchen.prep_time.updated``). The bucket and
hour frames also carry ``total_p50_s, total_p90_s``: the contract's entries do not (so
:meth:`LookupTable.to_prep_times` leaves them out by default), but evaluating them tells
whether adding them to the contract would pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

FIGURES: tuple[str, ...] = ("p50_s", "p90_s", "total_p50_s", "total_p90_s")
# Additive extension: seconds to add to the p50s per unit above quantity 1 (the table's
# figures are for one unit). Only the model's table has it (``items`` column).
PER_UNIT = "per_extra_unit_s"
KEYS: list[str] = ["station_id", "menu_item_id"]


@dataclass(frozen=True)
class LookupTable:
    """Three frames: ``items`` (KEYS, source, FIGURES), ``by_load`` (KEYS, queue_min,
    queue_max (nullable Int64, NA = open), FIGURES), ``by_hour`` (KEYS, hour, FIGURES)."""

    items: pd.DataFrame
    by_load: pd.DataFrame
    by_hour: pd.DataFrame

    def to_prep_times(
        self, *, total_in_buckets: bool = False, per_unit: bool = False
    ) -> list[dict[str, Any]]:
        """The contract's ``prep_times`` list, seconds rounded to 0.1 s, rows sorted by id.

        ``total_in_buckets`` and ``per_unit`` add the extension's fields (bucket and hour
        totals; ``per_extra_unit_s`` where the table has it)."""
        bucket_figures = list(FIGURES if total_in_buckets else FIGURES[:2])
        with_unit = per_unit and PER_UNIT in self.items.columns
        loads = _grouped(self.by_load.sort_values([*KEYS, "queue_min"]))
        hours = _grouped(self.by_hour.sort_values([*KEYS, "hour"]))
        rows: list[dict[str, Any]] = []
        for rec in self.items.sort_values(KEYS).to_dict("records"):
            key = (int(rec["station_id"]), int(rec["menu_item_id"]))
            row: dict[str, Any] = {"station_id": key[0], "menu_item_id": key[1]}
            row["source"] = str(rec["source"])
            row.update({f: _seconds(rec[f]) for f in FIGURES})
            if with_unit:
                row[PER_UNIT] = _seconds(rec[PER_UNIT])
            row["by_load"] = [
                {
                    "queue_min": int(b["queue_min"]),
                    "queue_max": None if pd.isna(b["queue_max"]) else int(b["queue_max"]),
                    **{f: _seconds(b[f]) for f in bucket_figures},
                }
                for b in loads.get(key, [])
            ]
            row["by_hour"] = [
                {"hour": int(h["hour"]), **{f: _seconds(h[f]) for f in bucket_figures}}
                for h in hours.get(key, [])
            ]
            rows.append(row)
        return rows

    def lookup(self, tickets: pd.DataFrame, *, per_unit: bool = False) -> pd.DataFrame:
        """For each ticket (KEYS, ``load``, ``local_hour``): FIGURES and ``rung`` as the RMS
        finds them: ``load`` bucket, else ``hour``, else ``overall``; ``missing`` if the
        (station, item) is not in the table (FIGURES NaN); ``queue_min`` of the bucket
        found (NaN off the ``load`` rung). With ``per_unit`` (and a
        ``per_extra_unit_s`` column), ``(quantity - 1) * per_extra_unit_s`` is added to
        both p50s and each p90 is raised to at least its p50, as the extension tells the
        RMS to. The p90s are calibrated over tickets of every quantity already, so they
        are not shifted (measured: shifting them too overshoots 90 % coverage)."""
        probe = tickets[[*KEYS, "load", "local_hour"]].reset_index(drop=True)
        probe["_row"] = np.arange(len(probe))
        by_load = probe.merge(self.by_load, on=KEYS, how="inner")
        hit = (by_load["load"] >= by_load["queue_min"]) & (
            by_load["queue_max"].isna() | (by_load["load"] <= by_load["queue_max"])
        )
        by_load = by_load[hit.to_numpy()].drop_duplicates("_row").set_index("_row")
        by_hour = probe.merge(
            self.by_hour, left_on=[*KEYS, "local_hour"], right_on=[*KEYS, "hour"], how="inner"
        ).set_index("_row")
        overall = probe.merge(self.items, on=KEYS, how="left").set_index("_row")
        out = pd.DataFrame(index=probe["_row"], columns=list(FIGURES), dtype=np.float64)
        out["rung"] = "missing"
        for rung, frame in (("overall", overall.dropna(subset=["p50_s"])), ("hour", by_hour)):
            out.loc[frame.index, list(FIGURES)] = frame[list(FIGURES)].to_numpy()
            out.loc[frame.index, "rung"] = rung
        out.loc[by_load.index, list(FIGURES)] = by_load[list(FIGURES)].to_numpy()
        out.loc[by_load.index, "rung"] = "load"
        out["queue_min"] = np.nan
        out.loc[by_load.index, "queue_min"] = by_load["queue_min"].to_numpy(dtype=np.float64)
        if per_unit and PER_UNIT in self.items.columns:
            extra = overall[PER_UNIT].reindex(out.index).fillna(0.0).to_numpy(dtype=np.float64)
            units = np.maximum(tickets["quantity"].to_numpy(dtype=np.float64) - 1.0, 0.0)
            for p50, p90 in (("p50_s", "p90_s"), ("total_p50_s", "total_p90_s")):
                out[p50] = out[p50].to_numpy(dtype=np.float64) + units * extra
                out[p90] = np.fmax(out[p90].to_numpy(dtype=np.float64), out[p50].to_numpy())
        out.index = tickets.index
        return out


def _grouped(frame: pd.DataFrame) -> dict[tuple[int, int], list[dict[Any, Any]]]:
    out: dict[tuple[int, int], list[dict[Any, Any]]] = {}
    for rec in frame.to_dict("records"):
        out.setdefault((int(rec["station_id"]), int(rec["menu_item_id"])), []).append(rec)
    return out


def _seconds(value: float) -> float:
    return round(float(value), 1)
