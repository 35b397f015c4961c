"""Per-customer purchase summary at a cutoff: the inputs of BG/NBD, Gamma-Gamma, RFM and
the churn classifier.

Input contract (the caller's job, see ``rms-data-contract.md``): a transactions frame of
already-cleaned demand with columns

- ``customer_id``   integer id (anonymous orders already dropped),
- ``restaurant_id`` the customer's home restaurant, nullable (null: a chain-wide
  customer); it should be constant per customer, otherwise the latest row's value wins,
- ``ts``            tz-aware timestamp of the order (converted to UTC here),
- ``amount``        order total, > 0 (cancelled, refunded and open orders removed).

Orders on the same UTC calendar day form one purchase occasion (their amounts add up),
as in Fader, Hardie & Lee (2005), whose CDNOW data are daily: a lunch and a dinner the
same day are one visit for the purpose of "how often does this customer come back".
Rows at or after ``as_of`` are ignored, so a summary never looks ahead.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("customer_id", "restaurant_id", "ts", "amount")
SECONDS_PER_DAY = 86_400.0
# Windows (days before the cutoff) of the behaviour features the classifier reads.
WINDOWS_DAYS = (30, 90, 180)


def _as_utc_timestamp(as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(as_of)
    if stamp.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return stamp.tz_convert("UTC")


def days_since_epoch(as_of: datetime | pd.Timestamp) -> float:
    """``as_of`` as fractional days since 1970-01-01 UTC."""
    return float(_as_utc_timestamp(as_of).value) / 1e9 / SECONDS_PER_DAY


def validate_transactions(transactions: pd.DataFrame) -> None:
    """Raise ``ValueError`` / ``TypeError`` naming how the frame breaks the input contract."""
    missing = [c for c in REQUIRED_COLUMNS if c not in transactions.columns]
    if missing:
        raise ValueError(f"transactions lack columns: {', '.join(missing)}")
    if not isinstance(transactions["ts"].dtype, pd.DatetimeTZDtype):
        raise TypeError("transactions.ts must be a tz-aware datetime column")


def occasions(tx: pd.DataFrame) -> pd.DataFrame:
    """One row per (customer, UTC day) with the day's spend, sorted by customer and day."""
    ts_ns = tx["ts"].dt.tz_convert("UTC").to_numpy(dtype="datetime64[ns]")
    day = ts_ns.astype("datetime64[D]").astype(np.int64)
    frame = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy(dtype=np.int64),
            "day": day,
            "amount": tx["amount"].to_numpy(dtype=np.float64),
        }
    )
    occ = frame.groupby(["customer_id", "day"], sort=True)["amount"].sum()
    return occ.reset_index()


def _home_restaurant(tx: pd.DataFrame) -> pd.Series:
    latest = tx.sort_values("ts", kind="stable").drop_duplicates("customer_id", keep="last")
    home = latest.set_index("customer_id")["restaurant_id"]
    return home.astype("Int64")


def summarise(
    transactions: pd.DataFrame,
    as_of: datetime | pd.Timestamp,
    *,
    time_unit_days: float = 7.0,
) -> pd.DataFrame:
    """Summarise every customer with at least one order before ``as_of``.

    Returns a frame indexed by ``customer_id`` (sorted) with:
    ``restaurant_id``; ``n_orders`` (raw orders); ``n_occasions`` (purchase days);
    ``frequency`` (repeat occasions, ``n_occasions - 1``); ``t_x`` and ``T`` (time of the
    last occasion and age at ``as_of``, both from the first occasion, in units of
    ``time_unit_days``); ``recency_days`` and ``tenure_days`` (days from the last and the
    first order to ``as_of``); ``monetary_value`` (mean spend per repeat occasion, 0
    without repeats: the Gamma-Gamma input); ``mean_spend`` and ``total_spend`` (over all
    occasions); ``mean_gap_days``; ``occasions_{30,90,180}d``; ``spend_90d``.
    """
    validate_transactions(transactions)
    cutoff = _as_utc_timestamp(as_of)
    tx = transactions.loc[transactions["ts"] < cutoff]
    if tx.empty:
        return _empty_summary()
    occ = occasions(tx)
    as_of_day = days_since_epoch(cutoff)
    grouped = occ.groupby("customer_id", sort=True)
    first_day = grouped["day"].min()
    last_day = grouped["day"].max()
    n_occ = grouped["day"].size()
    total = grouped["amount"].sum()
    first_amount = grouped["amount"].first()
    last_ts = tx.groupby("customer_id", sort=True)["ts"].max()
    out = pd.DataFrame(index=first_day.index)
    out["restaurant_id"] = _home_restaurant(tx).reindex(out.index)
    out["n_orders"] = tx.groupby("customer_id", sort=True).size().astype(np.int64)
    out["n_occasions"] = n_occ.astype(np.int64)
    out["frequency"] = (n_occ - 1).astype(np.int64)
    out["t_x"] = (last_day - first_day).astype(np.float64) / time_unit_days
    out["T"] = (as_of_day - first_day.astype(np.float64)) / time_unit_days
    last_days = (cutoff - last_ts).dt.total_seconds() / SECONDS_PER_DAY
    out["recency_days"] = last_days.to_numpy(dtype=np.float64)
    out["tenure_days"] = as_of_day - first_day.astype(np.float64)
    repeats = out["frequency"].to_numpy()
    repeat_spend = (total - first_amount).to_numpy()
    out["monetary_value"] = np.where(repeats > 0, repeat_spend / np.maximum(repeats, 1), 0.0)
    out["mean_spend"] = total / n_occ
    out["total_spend"] = total
    span = (last_day - first_day).astype(np.float64)
    out["mean_gap_days"] = np.where(repeats > 0, span / np.maximum(repeats, 1), np.nan)
    for window in WINDOWS_DAYS:
        recent = occ.loc[occ["day"] >= as_of_day - window]
        counts = recent.groupby("customer_id")["day"].size()
        out[f"occasions_{window}d"] = counts.reindex(out.index, fill_value=0).astype(np.int64)
        if window == 90:
            spend = recent.groupby("customer_id")["amount"].sum()
            out["spend_90d"] = spend.reindex(out.index, fill_value=0.0)
    return out


def _empty_summary() -> pd.DataFrame:
    columns = [
        "restaurant_id",
        "n_orders",
        "n_occasions",
        "frequency",
        "t_x",
        "T",
        "recency_days",
        "tenure_days",
        "monetary_value",
        "mean_spend",
        "total_spend",
        "mean_gap_days",
        *[f"occasions_{w}d" for w in WINDOWS_DAYS],
        "spend_90d",
    ]
    frame = pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id", dtype="int64"))
    return frame.astype({c: "float64" for c in columns if c != "restaurant_id"})


def future_activity(
    transactions: pd.DataFrame,
    start: datetime | pd.Timestamp,
    horizon_days: float,
) -> pd.DataFrame:
    """Orders, purchase occasions (UTC days) and spend per customer in
    ``[start, start + horizon_days)``: the labels.

    Indexed by ``customer_id``; only customers with an order in the window appear.
    """
    validate_transactions(transactions)
    lo = _as_utc_timestamp(start)
    hi = lo + pd.Timedelta(days=horizon_days)
    window = transactions.loc[(transactions["ts"] >= lo) & (transactions["ts"] < hi)]
    grouped = window.groupby("customer_id", sort=True)
    days = occasions(window).groupby("customer_id", sort=True)["day"].size()
    return pd.DataFrame(
        {"orders": grouped.size(), "occasions": days, "spend": grouped["amount"].sum()}
    )
