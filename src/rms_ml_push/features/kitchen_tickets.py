"""Kitchen tickets ready for the prep-time model: the rules beyond ``clean_kitchen_tickets``.

:func:`rms_ml_push.features.quality.clean_kitchen_tickets` applies the contract's
kitchen rules (clock errors, open tickets, completed before started, hours long). The
model needs a few more guarantees (``models.kitchen.features.check_clean_tickets``), each
a rule here, counted like the others (same report, frame ``kitchen_tickets``):

* ``ticket_line_missing``: the ticket's order line or order does not exist (no item, no
  restaurant), so it belongs to no restaurant's history;
* ``quantity_non_positive``: the line's quantity is 0 or negative (a dirty line);
* ``kitchen_started_before_queued``: cooking started before the ticket reached the station;
* ``kitchen_wait_too_long``: queued -> completed above the same bound as cook time (a
  ticket forgotten in the queue is as useless as one left open);
* ``duplicate_line``: a second row for the same (order line, station).

The item's ``category`` is joined from the menu (null when the item is unknown).
"""

from __future__ import annotations

import pandas as pd

from rms_ml_push.features.quality import (
    DUPLICATE_LINE,
    QUANTITY_NON_POSITIVE,
    QualityContext,
    Rule,
    apply_rules,
    clean_kitchen_tickets,
)
from rms_ml_push.features.report import FrameQuality, QualityReport

TICKET_LINE_MISSING = "ticket_line_missing"
KITCHEN_STARTED_BEFORE_QUEUED = "kitchen_started_before_queued"
KITCHEN_WAIT_TOO_LONG = "kitchen_wait_too_long"
FRAME = "kitchen_tickets"


def model_rules(ctx: QualityContext) -> list[Rule]:
    """The rules applied after ``clean_kitchen_tickets``, in order."""
    limit = pd.Timedelta(seconds=ctx.kitchen_max_duration_s)
    return [
        (
            TICKET_LINE_MISSING,
            lambda d: (
                d["menu_item_id"].isna()
                | d["restaurant_id"].isna()
                | d["quantity"].isna()
                | d["order_id"].isna()
            ),
        ),
        (QUANTITY_NON_POSITIVE, lambda d: d["quantity"] <= 0),
        (KITCHEN_STARTED_BEFORE_QUEUED, lambda d: d["started_at"] < d["queued_at"]),
        (KITCHEN_WAIT_TOO_LONG, lambda d: (d["completed_at"] - d["queued_at"]) > limit),
        (DUPLICATE_LINE, lambda d: d.duplicated(["order_item_id", "station_id"], keep="first")),
    ]


def prepare_tickets(
    tickets: pd.DataFrame, menu_items: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Clean ``RmsReader.kitchen_tickets`` rows for the model; every dropped row counted.

    Returns the model's ticket columns (``models.kitchen.TICKET_COLUMNS``) with int64 ids
    and quantity, and one report for frame ``kitchen_tickets``.
    """
    clean, report = clean_kitchen_tickets(tickets, ctx)
    ready, extra = apply_rules(clean, FRAME, model_rules(ctx))
    # Both passes saw the same frame: the second's rows_in are the first's rows_out.
    first, second = report.frames[FRAME], extra.frames[FRAME]
    dropped = dict(first.dropped)
    for rule, count in second.dropped.items():
        dropped[rule] = dropped.get(rule, 0) + count
    merged = FrameQuality(first.rows_in, second.rows_out, dropped, first.after_as_of)
    categories = menu_items.set_index("id")["category"]
    out = pd.DataFrame(
        {
            "order_item_id": ready["order_item_id"].astype("int64"),
            "order_id": ready["order_id"].astype("int64"),
            "station_id": ready["station_id"].astype("int64"),
            "restaurant_id": ready["restaurant_id"].astype("int64"),
            "menu_item_id": ready["menu_item_id"].astype("int64"),
            "category": ready["menu_item_id"].map(categories).astype("object"),
            "quantity": ready["quantity"].astype("int64"),
            "queued_at": ready["queued_at"],
            "started_at": ready["started_at"],
            "completed_at": ready["completed_at"],
        }
    )
    return out, QualityReport({FRAME: merged})
