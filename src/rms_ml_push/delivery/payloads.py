"""Webhook bodies (webhook-contract.md, "Body"): envelopes, canonical bytes, parts.

Pure: the caller passes ``now``. A body is built once, as canonical JSON bytes (sorted
keys, compact separators, UTF-8, no NaN), and those exact bytes are stored, signed and
sent. Large result lists are split by :func:`split_rows` into parts that each fit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rms_ml_push.clock import utc_iso
from rms_ml_push.errors import DeliveryError, PayloadTooLargeError

# Room kept for {"index": N, "count": N} with up to 6-digit numbers in each part.
_PART_SLACK_BYTES = 48


@dataclass(frozen=True)
class Event:
    """One event ready for the outbox: its type, exact body bytes and superseding facts."""

    type: str
    body: bytes
    supersede_key: str | None = None
    generated_at: datetime | None = None
    part_index: int | None = None
    part_count: int | None = None


def canonical_json(value: Any) -> bytes:
    """Sorted keys, compact separators, UTF-8; NaN and infinities are refused."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except ValueError as exc:
        raise DeliveryError(f"payload is not valid JSON (NaN or infinity?): {exc}") from exc
    return text.encode("utf-8")


def supersede_key(event_type: str, restaurant_id: int | None, granularity: str | None) -> str:
    """The contract's key ``(type, restaurant_id, granularity)`` as one string."""
    rid = "null" if restaurant_id is None else str(int(restaurant_id))
    return f"{event_type}|{rid}|{granularity or '-'}"


def envelope(event_type: str, data: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """``{type, timestamp, data}`` with ``timestamp`` the event's creation time."""
    return {"type": event_type, "timestamp": utc_iso(now), "data": dict(data)}


def _check_size(event_type: str, body: bytes, max_body_bytes: int) -> None:
    if len(body) > max_body_bytes:
        raise PayloadTooLargeError(
            f"{event_type} body is {len(body)} bytes, above the {max_body_bytes}-byte limit; "
            "split the results into parts (delivery.payloads.split_rows)"
        )


def _generated_at(data: Mapping[str, Any]) -> datetime | None:
    value = data.get("generated_at")
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def build_event(
    event_type: str,
    data: Mapping[str, Any],
    *,
    now: datetime,
    max_body_bytes: int,
    supersede: str | None = None,
) -> Event:
    """One event; PayloadTooLargeError above the limit."""
    body = canonical_json(envelope(event_type, data, now=now))
    _check_size(event_type, body, max_body_bytes)
    part = data.get("part")
    index = part.get("index") if isinstance(part, Mapping) else None
    count = part.get("count") if isinstance(part, Mapping) else None
    return Event(event_type, body, supersede, _generated_at(data), index, count)


def _row_sizes(rows: Sequence[Mapping[str, Any]]) -> list[int]:
    # +1 for the comma that separates a row from the next one.
    return [len(canonical_json(row)) + 1 for row in rows]


def _pack(sizes: Sequence[int], room: int) -> list[tuple[int, int]]:
    """Greedy [start, stop) slices whose summed sizes fit in ``room``."""
    slices: list[tuple[int, int]] = []
    start, used = 0, 0
    for i, size in enumerate(sizes):
        if used + size > room and i > start:
            slices.append((start, i))
            start, used = i, 0
        used += size
    slices.append((start, len(sizes)))
    return slices


def split_rows(
    event_type: str,
    data: Mapping[str, Any],
    rows_key: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    max_body_bytes: int,
    supersede: str | None = None,
) -> list[Event]:
    """Events carrying ``rows`` under ``data[rows_key]``, split into parts under the limit."""
    return split_lists(
        event_type,
        data,
        {rows_key: rows},
        now=now,
        max_body_bytes=max_body_bytes,
        supersede=supersede,
    )


def split_lists(
    event_type: str,
    data: Mapping[str, Any],
    lists: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    now: datetime,
    max_body_bytes: int,
    supersede: str | None = None,
) -> list[Event]:
    """Events carrying one or more result lists, packed in order into parts under the limit.

    Every part has every list key (its slice, often empty), ``part.index`` (1-based),
    ``part.count`` and the same other fields, ``generated_at`` included, so the RMS
    rebuilds each list by concatenating the parts. A single row too big for any body
    raises PayloadTooLargeError.
    """
    if "generated_at" not in data:
        raise ValueError("data must carry generated_at: parts of one set share it")
    base = {**data, **{name: [] for name in lists}, "part": {"index": 1, "count": 1}}
    base_size = len(canonical_json(envelope(event_type, base, now=now))) + _PART_SLACK_BYTES
    room = max_body_bytes - base_size
    tagged = [(name, row) for name, rows in lists.items() for row in rows]
    sizes = _row_sizes([row for _, row in tagged])
    too_big = [i for i, size in enumerate(sizes) if size > room]
    if too_big or room <= 0:
        raise PayloadTooLargeError(
            f"{event_type}: row {too_big[0] if too_big else 0} alone does not fit in a "
            f"{max_body_bytes}-byte body"
        )
    slices = _pack(sizes, room) if tagged else [(0, 0)]
    events = []
    for index, (start, stop) in enumerate(slices, start=1):
        part: dict[str, list[Mapping[str, Any]]] = {name: [] for name in lists}
        for name, row in tagged[start:stop]:
            part[name].append(row)
        body = {**data, **part, "part": {"index": index, "count": len(slices)}}
        events.append(
            build_event(
                event_type, body, now=now, max_body_bytes=max_body_bytes, supersede=supersede
            )
        )
    return events
