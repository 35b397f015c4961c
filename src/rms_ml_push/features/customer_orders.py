"""Customer transactions from clean orders: who bought, where they belong, what they spent.

Input: orders already through :func:`~rms_ml_push.features.quality.clean_orders`
(completed only: cancelled, refunded and open orders are not spend) and profiles through
:func:`~rms_ml_push.features.quality.clean_customers`. Rules, in order, each dropped row
counted once under ``customer_orders`` (rms-data-contract.md, "What real data looks
like"):

- ``anonymous_order``: no ``customer_id`` (a walk-in): not a customer transaction;
- ``customer_unknown``: a ``customer_id`` with no (clean) profile, so no home restaurant
  to publish the customer under;
- ``amount_non_positive``: a completed order with ``total_amount <= 0`` (or missing):
  a comp or a voided bill is not spend, and Gamma-Gamma needs positive amounts;
- ``refunded_in_full_by_payments``: a completed order whose refunded payments add up
  to its total: the money went back, as for an order with status ``refunded``.

Spend is the completed order's ``total_amount`` less its refunded payments (the
contract's ``payments.status = 'refunded'``, paid before ``as_of``): a partial refund
recorded only as a payment lowers the order's spend, so it lowers the customer's
monetary value and, in a backtest, the spend label. Output columns are the customer
models' input (``models.customers.features``): ``customer_id``, ``restaurant_id`` (the
profile's home restaurant, NA = chain-wide), ``ts`` (``created_at``, UTC), ``amount``
(net), and ``refunded`` (the amount subtracted, for the run's counts). Ids and numbers
only.

Refunded payments are cleaned by :func:`order_refunds` (frame ``customer_refunds``):
clock errors on ``paid_at`` and duplicate ids are dropped and counted, as is a refund of
no amount (``refund_amount_invalid``). A refund's sign is not trusted (an RMS may store
it negative): its absolute value is what went back.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from rms_ml_push.features.quality import (
    DUPLICATE_ROW,
    QualityContext,
    Rule,
    apply_rules,
    time_rules,
)
from rms_ml_push.features.report import QualityReport

ANONYMOUS_ORDER = "anonymous_order"
CUSTOMER_UNKNOWN = "customer_unknown"
AMOUNT_NON_POSITIVE = "amount_non_positive"
REFUNDED_IN_FULL = "refunded_in_full_by_payments"
REFUND_AMOUNT_INVALID = "refund_amount_invalid"
FRAME = "customer_orders"
REFUNDS_FRAME = "customer_refunds"
REFUNDED = "refunded"  # payments.status of money paid back


def order_refunds(payments: pd.DataFrame, ctx: QualityContext) -> tuple[pd.Series, QualityReport]:
    """Refunded amount per order id from the payments with status ``refunded`` (other
    statuses are ignored here: they are not refunds), every dropped refund counted."""
    refunds = payments.loc[payments["status"] == REFUNDED]
    rules: list[Rule] = [
        *time_rules("paid_at", ctx),
        (DUPLICATE_ROW, lambda d: d.duplicated(subset=["id"], keep="first")),
        (REFUND_AMOUNT_INVALID, lambda d: ~(d["amount"].abs() > 0)),
    ]
    kept, report = apply_rules(refunds, REFUNDS_FRAME, rules)
    amount = kept["amount"].astype(np.float64).abs()
    per_order = amount.groupby(kept["order_id"].astype(np.int64)).sum()
    return per_order.rename("refunded"), report


def customer_transactions(
    orders: pd.DataFrame, profiles: pd.DataFrame, refunds: pd.Series | None = None
) -> tuple[pd.DataFrame, QualityReport]:
    """Clean completed orders -> the customer models' transactions frame, every drop
    counted; ``refunds`` (from :func:`order_refunds`) is subtracted from the spend."""
    known = pd.Index(profiles["id"].to_numpy(dtype=np.int64))
    refunded_by_id = pd.Series(dtype=np.float64) if refunds is None else refunds

    def refunded(d: pd.DataFrame) -> pd.Series:
        ids = d["id"].astype(np.int64)
        values = refunded_by_id.reindex(ids.to_numpy()).fillna(0.0).to_numpy(np.float64)
        return pd.Series(values, index=d.index)

    rules: list[Rule] = [
        (ANONYMOUS_ORDER, lambda d: d["customer_id"].isna()),
        (CUSTOMER_UNKNOWN, lambda d: ~d["customer_id"].isin(known)),
        (AMOUNT_NON_POSITIVE, lambda d: ~(d["total_amount"] > 0)),
        (REFUNDED_IN_FULL, lambda d: d["total_amount"] - refunded(d) <= 0),
    ]
    kept, report = apply_rules(orders, FRAME, rules)
    paid_back = refunded(kept).to_numpy(dtype=np.float64)
    home = profiles.drop_duplicates("id").set_index("id")["restaurant_id"].astype("Int64")
    customer = kept["customer_id"].astype(np.int64)
    transactions = pd.DataFrame(
        {
            "customer_id": customer.to_numpy(),
            "restaurant_id": home.reindex(customer.to_numpy()).to_numpy(),
            "ts": kept["created_at"].dt.tz_convert("UTC"),
            "amount": kept["total_amount"].to_numpy(dtype=np.float64) - paid_back,
            "refunded": paid_back,
        }
    )
    transactions["restaurant_id"] = transactions["restaurant_id"].astype("Int64")
    return transactions, report


def in_scope(homes: pd.Series, restaurants: Collection[int] | None) -> pd.Series:
    """Which customers a run publishes: all (``restaurants`` None, chain-wide included), or
    those whose home restaurant is in ``restaurants`` (chain-wide customers excluded)."""
    if restaurants is None:
        return pd.Series(True, index=homes.index)
    return homes.isin(list(restaurants)).fillna(False).astype(bool)
