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
  a comp or a voided bill is not spend, and Gamma-Gamma needs positive amounts.

Spend is the completed order's ``total_amount``. Output columns are the customer
models' input (``models.customers.features``): ``customer_id``, ``restaurant_id`` (the
profile's home restaurant, NA = chain-wide), ``ts`` (``created_at``, UTC), ``amount``.
Ids and numbers only.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from rms_ml_push.features.quality import Rule, apply_rules
from rms_ml_push.features.report import QualityReport

ANONYMOUS_ORDER = "anonymous_order"
CUSTOMER_UNKNOWN = "customer_unknown"
AMOUNT_NON_POSITIVE = "amount_non_positive"
FRAME = "customer_orders"


def customer_transactions(
    orders: pd.DataFrame, profiles: pd.DataFrame
) -> tuple[pd.DataFrame, QualityReport]:
    """Clean completed orders -> the customer models' transactions frame, every drop counted."""
    known = pd.Index(profiles["id"].to_numpy(dtype=np.int64))
    rules: list[Rule] = [
        (ANONYMOUS_ORDER, lambda d: d["customer_id"].isna()),
        (CUSTOMER_UNKNOWN, lambda d: ~d["customer_id"].isin(known)),
        (AMOUNT_NON_POSITIVE, lambda d: ~(d["total_amount"] > 0)),
    ]
    kept, report = apply_rules(orders, FRAME, rules)
    home = profiles.drop_duplicates("id").set_index("id")["restaurant_id"].astype("Int64")
    customer = kept["customer_id"].astype(np.int64)
    transactions = pd.DataFrame(
        {
            "customer_id": customer.to_numpy(),
            "restaurant_id": home.reindex(customer.to_numpy()).to_numpy(),
            "ts": kept["created_at"].dt.tz_convert("UTC"),
            "amount": kept["total_amount"].to_numpy(dtype=np.float64),
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
