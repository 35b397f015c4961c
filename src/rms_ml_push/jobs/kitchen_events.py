"""``kitchen.prep_time.updated`` bodies: two result lists, split into parts together.

``split_rows`` splits one list; this message carries two (``station_load`` and
``prep_times``). Rows are packed in that order into as few parts as fit under the body
limit, each part carrying its slice of both lists (often an empty one), so that the RMS
rebuilds each list by concatenating the parts, as for every other event type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rms_ml_push.delivery.payloads import (
    Event,
    build_event,
    canonical_json,
    envelope,
    supersede_key,
)
from rms_ml_push.errors import PayloadTooLargeError

EVENT_TYPE = "kitchen.prep_time.updated"
LISTS = ("station_load", "prep_times")
_PART_SLACK_BYTES = 48  # {"index": N, "count": N} with up to 6-digit numbers


def kitchen_events(
    data: Mapping[str, Any],
    lists: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    now: datetime,
    max_body_bytes: int,
) -> list[Event]:
    """The parts of one restaurant's message; supersede key ``(type, restaurant)``."""
    base = {**data, **{name: [] for name in LISTS}, "part": {"index": 1, "count": 1}}
    room = max_body_bytes - len(canonical_json(envelope(EVENT_TYPE, base, now=now)))
    room -= _PART_SLACK_BYTES
    tagged = [(name, row) for name in LISTS for row in lists.get(name, ())]
    sizes = [len(canonical_json(row)) + 1 for _, row in tagged]
    if room <= 0 or any(size > room for size in sizes):
        raise PayloadTooLargeError(
            f"{EVENT_TYPE}: a row does not fit in a {max_body_bytes}-byte body"
        )
    slices = _pack(sizes, room)
    rid = data.get("restaurant_id")
    key = supersede_key(EVENT_TYPE, None if rid is None else int(rid), None)
    events = []
    for index, (start, stop) in enumerate(slices, start=1):
        part: dict[str, Any] = {name: [] for name in LISTS}
        for name, row in tagged[start:stop]:
            part[name].append(row)
        body = {**data, **part, "part": {"index": index, "count": len(slices)}}
        events.append(
            build_event(EVENT_TYPE, body, now=now, max_body_bytes=max_body_bytes, supersede=key)
        )
    return events


def _pack(sizes: Sequence[int], room: int) -> list[tuple[int, int]]:
    """Greedy ``[start, stop)`` slices whose sizes fit in ``room``; one empty slice if none."""
    if not sizes:
        return [(0, 0)]
    slices: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > room and i > start:
            slices.append((start, i))
            start, used = i, 0
        used += size
    slices.append((start, len(sizes)))
    return slices
