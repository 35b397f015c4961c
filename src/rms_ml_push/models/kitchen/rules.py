"""The rule-based rung: per-(station, item) median and p90 of history; default per station.

This is what an RMS would do without us, and the baseline every model is measured
against. Items with fewer than ``min_count`` tickets at a station take the station's
figures (the ``default`` rung).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

OUTPUT_COLUMNS: tuple[str, ...] = ("cook_p50", "cook_p90", "total_p50", "total_p90")
_STATS = {
    "cook_p50": ("cook_s", 0.5),
    "cook_p90": ("cook_s", 0.9),
    "total_p50": ("total_s", 0.5),
    "total_p90": ("total_s", 0.9),
}


@dataclass(frozen=True)
class MedianRung:
    """Quantiles of history per (station, item) and per station."""

    by_item: pd.DataFrame  # index (station_id, menu_item_id); OUTPUT_COLUMNS
    by_station: pd.DataFrame  # index station_id; OUTPUT_COLUMNS

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Figures for each row of ``frame`` plus ``source`` (``rule_based`` or ``default``).

        Rows at a station never seen in history get NaN and ``source`` ``missing``.
        """
        keys = pd.MultiIndex.from_frame(frame[["station_id", "menu_item_id"]])
        item = self.by_item.reindex(keys).reset_index(drop=True)
        station = self.by_station.reindex(frame["station_id"].to_numpy()).reset_index(drop=True)
        known = item["cook_p50"].notna().to_numpy()
        out = item.copy()
        out.loc[~known, :] = station.loc[~known, :]
        out["source"] = "rule_based"
        out.loc[~known, "source"] = "default"
        out.loc[out["cook_p50"].isna().to_numpy(), "source"] = "missing"
        out.index = frame.index
        return out


def fit_median_rung(history: pd.DataFrame, *, min_count: int = 5) -> MedianRung:
    """Quantiles of ``cook_s`` and ``total_s`` from a features frame (see ``build_features``)."""
    by_item = _quantiles(history, ["station_id", "menu_item_id"])
    by_item = by_item[by_item["n"] >= min_count].drop(columns="n")
    by_station = _quantiles(history, ["station_id"]).drop(columns="n")
    return MedianRung(by_item=by_item, by_station=by_station)


def _quantiles(history: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    grouped = history.groupby(keys, sort=True)
    out = pd.DataFrame({name: grouped[col].quantile(q) for name, (col, q) in _STATS.items()})
    out["n"] = grouped.size()
    return out
