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
KEYS: list[str] = ["station_id", "menu_item_id"]


@dataclass(frozen=True)
class LookupTable:
    """Three frames: ``items`` (KEYS, source, FIGURES), ``by_load`` (KEYS, queue_min,
    queue_max (nullable Int64, NA = open), FIGURES), ``by_hour`` (KEYS, hour, FIGURES)."""

    items: pd.DataFrame
    by_load: pd.DataFrame
    by_hour: pd.DataFrame

    def to_prep_times(self, *, total_in_buckets: bool = False) -> list[dict[str, Any]]:
        """The contract's ``prep_times`` list, seconds rounded to 0.1 s, rows sorted by id."""
        bucket_figures = list(FIGURES if total_in_buckets else FIGURES[:2])
        loads = _grouped(self.by_load.sort_values([*KEYS, "queue_min"]))
        hours = _grouped(self.by_hour.sort_values([*KEYS, "hour"]))
        rows: list[dict[str, Any]] = []
        for rec in self.items.sort_values(KEYS).to_dict("records"):
            key = (int(rec["station_id"]), int(rec["menu_item_id"]))
            row: dict[str, Any] = {"station_id": key[0], "menu_item_id": key[1]}
            row["source"] = str(rec["source"])
            row.update({f: _seconds(rec[f]) for f in FIGURES})
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

    def lookup(self, tickets: pd.DataFrame) -> pd.DataFrame:
        """For each ticket (KEYS, ``load``, ``local_hour``): FIGURES and ``rung`` as the RMS
        finds them: ``load`` bucket, else ``hour``, else ``overall``; ``missing`` if the
        (station, item) is not in the table (FIGURES NaN)."""
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
        out.index = tickets.index
        return out


def _grouped(frame: pd.DataFrame) -> dict[tuple[int, int], list[dict[Any, Any]]]:
    out: dict[tuple[int, int], list[dict[Any, Any]]] = {}
    for rec in frame.to_dict("records"):
        out.setdefault((int(rec["station_id"]), int(rec["menu_item_id"])), []).append(rec)
    return out


def _seconds(value: float) -> float:
    return round(float(value), 1)
