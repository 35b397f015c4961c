"""``kitchen.prep_time.updated`` bodies: two result lists, split into parts together.

This message carries two lists (``station_load`` and ``prep_times``), packed in that
order into as few parts as fit under the body limit by ``delivery.payloads.split_lists``;
each part carries its slice of both (often an empty one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rms_ml_push.delivery.payloads import Event, split_lists, supersede_key

EVENT_TYPE = "kitchen.prep_time.updated"
LISTS = ("station_load", "prep_times")


def kitchen_events(
    data: Mapping[str, Any],
    lists: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    now: datetime,
    max_body_bytes: int,
) -> list[Event]:
    """The parts of one restaurant's message; supersede key ``(type, restaurant)``."""
    rid = data.get("restaurant_id")
    key = supersede_key(EVENT_TYPE, None if rid is None else int(rid), None)
    return split_lists(
        EVENT_TYPE,
        data,
        {name: lists.get(name, ()) for name in LISTS},
        now=now,
        max_body_bytes=max_body_bytes,
        supersede=key,
    )
