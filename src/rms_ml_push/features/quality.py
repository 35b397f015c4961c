"""Data quality: the contract's "dirty data" rules, applied in order, every row counted.

Each ``clean_*`` function takes a frame from :class:`~rms_ml_push.rms.extract.RmsReader`
and a :class:`QualityContext` and returns ``(clean_frame, QualityReport)``. Rules run in
the order listed in each function; a row is counted once, by the first rule that drops
it, so per frame ``rows_in == rows_out + sum(dropped) + after_as_of`` always holds.
Rows after ``as_of`` are not errors: they are later than the run, counted apart
(``after_as_of``). Source: rms-data-contract.md, "What real data looks like".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from rms_ml_push.config import RmsSettings
from rms_ml_push.features.report import AFTER_AS_OF, FrameQuality, QualityReport

Mask = Callable[[pd.DataFrame], "pd.Series[bool]"]
Rule = tuple[str, Mask]

# Rule names, stable: they appear in logs, job run records and /metrics.
TIMESTAMP_INVALID = "timestamp_invalid"
TIMESTAMP_BEFORE_FLOOR = "timestamp_before_floor"
TIMESTAMP_IN_FUTURE = "timestamp_in_future"
DUPLICATE_ROW = "duplicate_row"
DUPLICATE_LINE = "duplicate_line"
ORDER_CANCELLED = "order_cancelled"
ORDER_REFUNDED = "order_refunded"
ORDER_OPEN = "order_open"
ORDER_STATUS_UNKNOWN = "order_status_unknown"
LINE_VOIDED = "line_voided"
QUANTITY_NON_POSITIVE = "quantity_non_positive"
MENU_ITEM_UNKNOWN = "menu_item_unknown"
KITCHEN_NOT_STARTED = "kitchen_not_started"
KITCHEN_NOT_COMPLETED = "kitchen_not_completed"
KITCHEN_COMPLETED_BEFORE_STARTED = "kitchen_completed_before_started"
KITCHEN_DURATION_TOO_LONG = "kitchen_duration_too_long"
PAYMENT_NOT_CAPTURED = "payment_not_captured"
PAYMENT_AMOUNT_NON_POSITIVE = "payment_amount_non_positive"
BATCH_QUANTITY_INVALID = "batch_quantity_invalid"
MOVEMENT_REASON_UNKNOWN = "movement_reason_unknown"

MOVEMENT_REASONS = frozenset({"sale", "waste", "adjustment", "receipt"})

# Rule names per frame, in order (after_as_of apart), for reports built from counts that
# the database made (rms.demand_sql): every rule is listed, with 0 when nothing matched.
_TIME = (TIMESTAMP_INVALID, TIMESTAMP_BEFORE_FLOOR, TIMESTAMP_IN_FUTURE)
_STATUS = (ORDER_CANCELLED, ORDER_REFUNDED, ORDER_OPEN, ORDER_STATUS_UNKNOWN)
ORDER_RULES = (*_TIME, DUPLICATE_ROW, *_STATUS)
LINE_RULES = (
    *_TIME,
    DUPLICATE_ROW,
    DUPLICATE_LINE,
    *_STATUS,
    LINE_VOIDED,
    QUANTITY_NON_POSITIVE,
    MENU_ITEM_UNKNOWN,
)
PAYMENT_RULES = (*_TIME, DUPLICATE_ROW, PAYMENT_NOT_CAPTURED, PAYMENT_AMOUNT_NON_POSITIVE)


@dataclass(frozen=True)
class QualityContext:
    """What the rules need: the wall clock's now, the run's as_of, the floor, a bound."""

    now: datetime
    as_of: datetime | None = None
    floor: datetime = datetime(1990, 1, 1, tzinfo=UTC)
    kitchen_max_duration_s: float = 3 * 3600.0

    @classmethod
    def from_settings(
        cls, rms: RmsSettings, *, now: datetime, as_of: datetime | None = None
    ) -> QualityContext:
        """Floor and kitchen bound from ``RMS_ML_RMS__*``; now from the caller's clock."""
        return cls(
            now=now,
            as_of=as_of,
            floor=parse_floor(rms.timestamp_floor),
            kitchen_max_duration_s=rms.kitchen_max_duration_s,
        )


def parse_floor(text: str) -> datetime:
    """``1990-01-01`` (or a date-time) as an aware UTC instant; naive means UTC."""
    ts = datetime.fromisoformat(text)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def apply_rules(
    df: pd.DataFrame, frame: str, rules: Sequence[Rule]
) -> tuple[pd.DataFrame, QualityReport]:
    """Drop rows rule by rule; count each dropped row under the first rule that matched."""
    rows_in = len(df)
    dropped: dict[str, int] = {}
    after_as_of = 0
    for name, mask_of in rules:
        mask = mask_of(df).fillna(False).astype(bool) if len(df) else pd.Series([], dtype=bool)
        hits = int(mask.sum())
        if name == AFTER_AS_OF:
            after_as_of += hits
        else:
            dropped[name] = dropped.get(name, 0) + hits
        if hits:
            df = df.loc[~mask.to_numpy(dtype=bool)]
    clean = df.reset_index(drop=True)
    quality = FrameQuality(rows_in, len(clean), dropped, after_as_of)
    return clean, QualityReport({frame: quality})


def report_from_counts(
    frame: str, rules: Sequence[str], counts: Mapping[str | None, int]
) -> QualityReport:
    """A frame's report from rows per rule (``None``: kept), as counted by the database."""
    unknown = set(counts) - {None, AFTER_AS_OF, *rules}
    if unknown:
        raise ValueError(f"{frame}: counts for unknown rules {sorted(map(str, unknown))}")
    dropped = {rule: int(counts.get(rule, 0)) for rule in rules}
    kept, later = int(counts.get(None, 0)), int(counts.get(AFTER_AS_OF, 0))
    rows_in = kept + later + sum(dropped.values())
    return QualityReport({frame: FrameQuality(rows_in, kept, dropped, later)})


def time_rules(column: str, ctx: QualityContext) -> list[Rule]:
    """Clock errors on ``column``, then rows later than the run's as_of."""
    now = pd.Timestamp(ctx.now).tz_convert(UTC)
    floor = pd.Timestamp(ctx.floor).tz_convert(UTC)
    rules: list[Rule] = [
        (TIMESTAMP_INVALID, lambda d: d[column].isna()),
        (TIMESTAMP_BEFORE_FLOOR, lambda d: d[column] < floor),
        (TIMESTAMP_IN_FUTURE, lambda d: d[column] > now),
    ]
    if ctx.as_of is not None:
        as_of = pd.Timestamp(ctx.as_of).tz_convert(UTC)
        rules.append((AFTER_AS_OF, lambda d: d[column] > as_of))
    return rules


def _duplicate(subset: list[str]) -> Mask:
    return lambda d: d.duplicated(subset=subset, keep="first")


def _status_rules() -> list[Rule]:
    known = {"completed", "cancelled", "refunded", "open"}
    return [
        (ORDER_CANCELLED, lambda d: d["status"] == "cancelled"),
        (ORDER_REFUNDED, lambda d: d["status"] == "refunded"),
        (ORDER_OPEN, lambda d: d["status"] == "open"),
        (ORDER_STATUS_UNKNOWN, lambda d: ~d["status"].isin(known)),
    ]


def clean_orders(orders: pd.DataFrame, ctx: QualityContext) -> tuple[pd.DataFrame, QualityReport]:
    """Completed orders only. Rules: time rules on created_at, duplicate_row (id),
    order_cancelled, order_refunded, order_open, order_status_unknown."""
    rules = [*time_rules("created_at", ctx), (DUPLICATE_ROW, _duplicate(["id"])), *_status_rules()]
    return apply_rules(orders, "orders", rules)


def clean_order_lines(
    lines: pd.DataFrame,
    ctx: QualityContext,
    menu_item_ids: Collection[int] | None = None,
) -> tuple[pd.DataFrame, QualityReport]:
    """Demand lines. Rules: time rules on the order's created_at, duplicate_row (id),
    duplicate_line (same order, item, quantity, price: the same line twice), the order
    status rules, line_voided, quantity_non_positive, menu_item_unknown (only when
    ``menu_item_ids`` is given: ids of items that exist, active or not)."""
    content = ["order_id", "menu_item_id", "quantity", "unit_price", "is_voided"]
    rules = [
        *time_rules("created_at", ctx),
        (DUPLICATE_ROW, _duplicate(["id"])),
        (DUPLICATE_LINE, _duplicate(content)),
        *_status_rules(),
        (LINE_VOIDED, lambda d: d["is_voided"]),
        (QUANTITY_NON_POSITIVE, lambda d: d["quantity"] <= 0),
    ]
    if menu_item_ids is not None:
        known = pd.Index(list(menu_item_ids))
        rules.append((MENU_ITEM_UNKNOWN, lambda d: ~d["menu_item_id"].isin(known)))
    return apply_rules(lines, "order_lines", rules)


def clean_kitchen_tickets(
    tickets: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Timed tickets. Rules: time rules on queued_at, duplicate_row, kitchen_not_started,
    kitchen_not_completed, kitchen_completed_before_started, kitchen_duration_too_long
    (completed - started above ``kitchen_max_duration_s``: a ticket left open)."""
    limit = pd.Timedelta(seconds=ctx.kitchen_max_duration_s)
    rules = [
        *time_rules("queued_at", ctx),
        (DUPLICATE_ROW, _duplicate(["id"])),
        (KITCHEN_NOT_STARTED, lambda d: d["started_at"].isna()),
        (KITCHEN_NOT_COMPLETED, lambda d: d["completed_at"].isna()),
        (KITCHEN_COMPLETED_BEFORE_STARTED, lambda d: d["completed_at"] < d["started_at"]),
        (KITCHEN_DURATION_TOO_LONG, lambda d: (d["completed_at"] - d["started_at"]) > limit),
    ]
    return apply_rules(tickets, "kitchen_tickets", rules)


def clean_payments(
    payments: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Captured payments. Rules: time rules on paid_at, duplicate_row,
    payment_not_captured (refunded, failed, anything else), payment_amount_non_positive."""
    rules = [
        *time_rules("paid_at", ctx),
        (DUPLICATE_ROW, _duplicate(["id"])),
        (PAYMENT_NOT_CAPTURED, lambda d: d["status"] != "captured"),
        (PAYMENT_AMOUNT_NON_POSITIVE, lambda d: ~(d["amount"] > 0)),
    ]
    return apply_rules(payments, "payments", rules)


def clean_inventory_batches(
    batches: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Deliveries. Rules: time rules on received_at, duplicate_row, batch_quantity_invalid
    (received <= 0 or remaining < 0). Empty and expired batches are kept: they are facts."""
    rules = [
        *time_rules("received_at", ctx),
        (DUPLICATE_ROW, _duplicate(["id"])),
        (
            BATCH_QUANTITY_INVALID,
            lambda d: ~(d["quantity_received"] > 0) | (d["quantity_remaining"] < 0),
        ),
    ]
    return apply_rules(batches, "inventory_batches", rules)


def clean_inventory_movements(
    movements: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Movements. Rules: time rules on occurred_at, duplicate_row, movement_reason_unknown
    (reason not in sale, waste, adjustment, receipt)."""
    rules = [
        *time_rules("occurred_at", ctx),
        (DUPLICATE_ROW, _duplicate(["id"])),
        (MOVEMENT_REASON_UNKNOWN, lambda d: ~d["reason"].isin(MOVEMENT_REASONS)),
    ]
    return apply_rules(movements, "inventory_movements", rules)


def clean_customers(
    customers: pd.DataFrame, ctx: QualityContext
) -> tuple[pd.DataFrame, QualityReport]:
    """Customer profiles. Rules: time rules on created_at (sign-up), duplicate_row."""
    rules = [*time_rules("created_at", ctx), (DUPLICATE_ROW, _duplicate(["id"]))]
    return apply_rules(customers, "customer_profiles", rules)
