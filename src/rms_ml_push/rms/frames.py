"""Typing of extracted rows: one conversion per column kind, applied chunk by chunk.

Kinds: ``id`` int64 (NOT NULL), ``id?`` nullable Int64, ``int`` int64, ``int?`` Int64,
``num`` float64 (money, quantities), ``ts`` ``datetime64[ns, UTC]``, ``text`` object,
``bool`` bool (NULL read as False). Unparseable or out-of-range timestamps (year 9999
does not fit in nanoseconds) become NaT, which the quality step counts as ``timestamp_invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from rms_ml_push.errors import RmsSchemaError

Kind = Literal["id", "id?", "int", "int?", "num", "ts", "text", "bool"]
TS_DTYPE = "datetime64[ns, UTC]"

_EMPTY_DTYPES: dict[str, str] = {
    "id": "int64",
    "id?": "Int64",
    "int": "int64",
    "int?": "Int64",
    "num": "float64",
    "ts": TS_DTYPE,
    "text": "object",
    "bool": "bool",
}


def empty_frame(kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """A frame with no rows and the right dtypes."""
    return pd.DataFrame(
        {col: pd.Series([], dtype=_EMPTY_DTYPES[kind]) for col, kind in kinds.items()}
    )


def typed_frame(rows: Sequence[Any], kinds: Mapping[str, Kind], what: str) -> pd.DataFrame:
    """Rows (tuples in ``kinds`` order) to a frame with the dtypes of ``kinds``."""
    if not rows:
        return empty_frame(kinds)
    df = pd.DataFrame.from_records(rows, columns=list(kinds))
    for col, kind in kinds.items():
        df[col] = _convert(df[col], kind, f"{what}.{col}")
    return df


def _convert(values: pd.Series, kind: Kind, where: str) -> pd.Series:
    if kind in ("id", "int"):
        if values.isna().any():
            raise RmsSchemaError(f"{where} holds NULLs; the data contract says NOT NULL")
        return values.astype("int64")
    if kind in ("id?", "int?"):
        return values.astype("Int64")
    if kind == "num":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "ts":
        return parse_utc(values)
    if kind == "bool":
        return values.astype("boolean").fillna(False).astype(bool)
    return values.astype("object")


def parse_utc(values: pd.Series) -> pd.Series:
    """Aware datetimes or ISO 8601 text (with offsets, or naive meaning UTC) -> UTC."""
    if values.dtype == TS_DTYPE:
        return values
    parsed: pd.Series = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return parsed.astype(pd.DatetimeTZDtype(unit="ns", tz="UTC"))
