"""The training frame: clean tickets -> features and targets.

Expected input (one restaurant per call is the intended use; several work too), CLEAN per
the RMS data contract, i.e. the caller has already dropped and counted:

* rows with ``started_at`` or ``completed_at`` NULL (open tickets), and rows with
  ``queued_at`` NULL;
* rows with ``started_at < queued_at`` or ``completed_at < started_at``;
* rows whose time at the station is hours long (a ticket left open);
* duplicates of ``(order_item_id, station_id)``, quantity <= 0, timestamps after the
  run's ``as_of``.

Columns: ``order_item_id, order_id, station_id, restaurant_id, menu_item_id, category, quantity,
queued_at, started_at, completed_at`` with the three times tz-aware (any zone; they are
compared in UTC). ``category`` may be null. :func:`check_clean_tickets` rejects a frame
that breaks these rules, so a caller's cleaning bug surfaces as one clear error instead of
a silently wrong model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from rms_ml_push.models.kitchen.load import STATE_COLUMNS, arrival_state

TICKET_COLUMNS: tuple[str, ...] = (
    "order_item_id",
    "order_id",
    "station_id",
    "restaurant_id",
    "menu_item_id",
    "category",
    "quantity",
    "queued_at",
    "started_at",
    "completed_at",
)
TIME_COLUMNS: tuple[str, ...] = ("queued_at", "started_at", "completed_at")
CATEGORICAL_FEATURES: tuple[str, ...] = ("station_id", "menu_item_id", "category")
NUMERIC_FEATURES: tuple[str, ...] = ("quantity", "local_hour", "dow", *STATE_COLUMNS)
FEATURES: tuple[str, ...] = CATEGORICAL_FEATURES + NUMERIC_FEATURES
TARGETS: tuple[str, ...] = ("cook_s", "total_s")


class UncleanTicketsError(ValueError):
    """The tickets frame breaks the input rules of the kitchen model."""


def check_clean_tickets(tickets: pd.DataFrame) -> None:
    """Raise :class:`UncleanTicketsError` naming the first rule the frame breaks."""
    missing = [c for c in TICKET_COLUMNS if c not in tickets.columns]
    if missing:
        raise UncleanTicketsError(f"kitchen tickets lack columns: {', '.join(missing)}")
    for col in TIME_COLUMNS:
        if not isinstance(tickets[col].dtype, pd.DatetimeTZDtype):
            raise UncleanTicketsError(f"kitchen tickets: {col} must be tz-aware datetimes")
        if tickets[col].isna().any():
            raise UncleanTicketsError(f"kitchen tickets: {col} has nulls; drop open tickets")
    if (tickets["started_at"] < tickets["queued_at"]).any():
        raise UncleanTicketsError("kitchen tickets: started_at before queued_at")
    if (tickets["completed_at"] < tickets["started_at"]).any():
        raise UncleanTicketsError("kitchen tickets: completed_at before started_at")
    if (tickets["quantity"] <= 0).any():
        raise UncleanTicketsError("kitchen tickets: quantity <= 0")
    if tickets.duplicated(["order_item_id", "station_id"]).any():
        raise UncleanTicketsError("kitchen tickets: duplicate (order_item_id, station_id)")


def build_features(tickets: pd.DataFrame, timezones: Mapping[int, str]) -> pd.DataFrame:
    """Features and targets for each clean ticket, sorted by ``queued_at``.

    ``timezones`` maps ``restaurant_id`` to an IANA zone; ``local_hour`` (0-23) and ``dow``
    (Monday 0) are taken in that zone at ``queued_at``. Adds ``cook_s`` (started ->
    completed), ``total_s`` (queued -> completed) and the station and kitchen at arrival
    (``load``, ``waiting``, ``arrivals_15m``, ``kitchen_load``, ``order_units``; see
    :mod:`.load`).
    """
    check_clean_tickets(tickets)
    unknown = set(tickets["restaurant_id"].unique()) - set(timezones)
    if unknown:
        raise UncleanTicketsError(f"kitchen tickets: no timezone for restaurants {unknown}")
    frame = tickets.loc[:, list(TICKET_COLUMNS)].copy()
    state = arrival_state(frame)
    for col in STATE_COLUMNS:
        frame[col] = state[col].to_numpy()
    frame["cook_s"] = (frame["completed_at"] - frame["started_at"]).dt.total_seconds()
    frame["total_s"] = (frame["completed_at"] - frame["queued_at"]).dt.total_seconds()
    frame["local_hour"] = 0
    frame["dow"] = 0
    for restaurant_id, idx in frame.groupby("restaurant_id").groups.items():
        local = frame.loc[idx, "queued_at"].dt.tz_convert(timezones[int(cast(Any, restaurant_id))])
        frame.loc[idx, "local_hour"] = local.dt.hour.to_numpy()
        frame.loc[idx, "dow"] = local.dt.dayofweek.to_numpy()
    frame["category"] = frame["category"].astype("string").fillna("")
    return frame.sort_values("queued_at", kind="stable").reset_index(drop=True)
