"""Daily consumption history per inventory item, from order lines x recipes or movements.

Two sources (rms-data-contract.md, "Optional table"): ``recipes`` is clean order lines
times recipe components (what was sold, in the item's unit); ``movements`` is observed
consumption, sale + waste, where ``inventory_movements`` exists. Both become a matrix
``[day, item]`` over whole local days before day 0, days without use being 0. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from rms_ml_push.features.calendar import daily_totals, day0

F64 = npt.NDArray[np.float64]
HistorySource = Literal["recipes", "movements"]
CONSUMING_REASONS = ("sale", "waste")


@dataclass(frozen=True)
class History:
    """Daily use of ``item_ids`` (columns) on the days ``first_day`` .. day 0 - 1 (rows)."""

    item_ids: tuple[int, ...]
    first_day: date
    values: F64  # shape (days, items)

    @property
    def days(self) -> int:
        """Number of history days."""
        return int(self.values.shape[0])

    @property
    def end_day(self) -> date:
        """Day 0: the first day after the history."""
        return self.first_day + timedelta(days=self.days)

    def column(self, item_id: int) -> F64:
        """One item's series (zeros when the item has no use recorded)."""
        return self.values[:, self.item_ids.index(item_id)]


def recipe_use(lines: pd.DataFrame, recipes: pd.DataFrame) -> pd.DataFrame:
    """Order lines exploded into inventory use: ``created_at, inventory_item_id, use``."""
    bom = recipes[["menu_item_id", "inventory_item_id", "quantity"]].rename(
        columns={"quantity": "per_unit"}
    )
    merged = lines[["menu_item_id", "quantity", "created_at"]].merge(bom, on="menu_item_id")
    merged["use"] = merged["quantity"].astype("float64") * merged["per_unit"].astype("float64")
    return merged[["created_at", "inventory_item_id", "use"]]


def movement_use(movements: pd.DataFrame) -> pd.DataFrame:
    """Sale and waste movements as positive use: ``created_at, inventory_item_id, use``."""
    kept = movements.loc[movements["reason"].isin(CONSUMING_REASONS)]
    return pd.DataFrame(
        {
            "created_at": kept["occurred_at"],
            "inventory_item_id": kept["inventory_item_id"].astype("int64"),
            "use": -kept["quantity_delta"].astype("float64"),
        }
    )


def daily_history(
    use: pd.DataFrame,
    item_ids: Sequence[int],
    *,
    tz: str,
    as_of: datetime,
    first_day: date,
) -> History:
    """The ``[day, item]`` matrix of ``use`` from ``first_day`` to day 0 - 1 (zeros filled)."""
    end = day0(as_of, tz)
    n_days = max((end - first_day).days, 0)
    ids = tuple(int(i) for i in item_ids)
    values = np.zeros((n_days, len(ids)))
    if n_days and len(use) and ids:
        totals = daily_totals(
            use,
            "created_at",
            tz,
            as_of,
            keys=["inventory_item_id"],
            value_col="use",
            start=first_day,
        )
        column = {item: j for j, item in enumerate(ids)}
        cols = totals["inventory_item_id"].map(column)
        rows = (totals["ds"] - pd.Timestamp(first_day)).dt.days
        ok = cols.notna() & (rows >= 0) & (rows < n_days)
        np.add.at(
            values,
            (rows[ok].to_numpy(dtype=np.int64), cols[ok].to_numpy(dtype=np.int64)),
            totals.loc[ok, "y"].to_numpy(dtype=float),
        )
    return History(ids, first_day, values)
