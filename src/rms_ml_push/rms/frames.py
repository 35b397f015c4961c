"""Typing of extracted rows: one conversion per column kind, applied chunk by chunk.

Kinds: ``id`` int64 (NOT NULL), ``id?`` nullable Int64, ``int`` int64, ``int?`` Int64,
``num`` float64 (money, quantities), ``ts`` ``datetime64[ns, UTC]``, ``text`` object,
``bool`` bool (NULL read as False). Unparseable or out-of-range timestamps (year 9999
does not fit in nanoseconds) become NaT, which the quality step counts as ``timestamp_invalid``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import numpy as np
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
    """Rows (tuples in ``kinds`` order) to a frame with the dtypes of ``kinds``.

    Built column by column from plain tuples: ``DataFrame.from_records`` would first try to
    infer datetimes in every object column, which cost more than the query itself.
    """
    if not rows:
        return empty_frame(kinds)
    columns = list(zip(*rows, strict=True))
    data = {
        col: _convert(values, kind, f"{what}.{col}")
        for (col, kind), values in zip(kinds.items(), columns, strict=True)
    }
    return pd.DataFrame(data, copy=False)


def _convert(values: tuple[Any, ...], kind: Kind, where: str) -> Any:
    if kind in ("id", "int"):
        try:
            return np.asarray(values, dtype="int64")
        except TypeError:  # a None among them
            raise RmsSchemaError(f"{where} holds NULLs; the data contract says NOT NULL") from None
    if kind in ("id?", "int?"):
        return pd.array(values, dtype="Int64")
    if kind == "num":
        return _floats(values)
    if kind == "ts":
        return _timestamps(values)
    if kind == "bool":
        return np.asarray(values, dtype=bool)  # NULL (None) becomes False
    return pd.Series(values, dtype="object").to_numpy()


def _floats(values: tuple[Any, ...]) -> np.ndarray[Any, np.dtype[np.float64]]:
    try:
        return np.asarray(values, dtype="float64")  # None becomes NaN
    except (TypeError, ValueError):
        as_series = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
        return as_series.to_numpy(dtype="float64", na_value=np.nan)


def _timestamps(values: tuple[Any, ...]) -> pd.Series:
    first = next((v for v in values if v is not None), None)
    if isinstance(first, int | float):
        # PostgreSQL sends epoch seconds (date_part): parsing numbers is much cheaper than
        # building and converting a datetime object per value.
        return epoch_to_utc(_floats(values))
    return parse_utc(pd.Series(values, dtype="object"))


def epoch_to_utc(seconds: np.ndarray[Any, np.dtype[np.float64]]) -> pd.Series:
    """Epoch seconds (NaN allowed) -> UTC timestamps, exact to the microsecond.

    Out-of-range values (year 9999, PostgreSQL's infinity) become NaT.
    """
    # inf (PostgreSQL's 'infinity') cannot become an integer: make it NaN, hence NaT.
    micros = np.round(np.where(np.isfinite(seconds), seconds, np.nan) * 1e6)
    index = pd.to_datetime(cast(Any, micros), unit="us", utc=True, errors="coerce")
    parsed: pd.Series = pd.Series(index)
    return parsed.astype(pd.DatetimeTZDtype(unit="ns", tz="UTC"))


def parse_utc(values: pd.Series) -> pd.Series:
    """Aware datetimes or ISO 8601 text (with offsets, or naive meaning UTC) -> UTC."""
    if values.dtype == TS_DTYPE:
        return values
    text = values.where(values.map(lambda v: isinstance(v, str)), "")
    has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
    naive = ~has_offset & (text != "")
    if has_offset.any() and naive.any():
        # pandas applies one string's offset to naive neighbours: parse the two apart.
        loose: Any = values
        out = _parse_iso(loose.where(has_offset, None))
        return out.mask(naive, _parse_iso(loose.where(naive, None)))
    return _parse_iso(values)


def _parse_iso(values: pd.Series) -> pd.Series:
    parsed: pd.Series = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    return parsed.astype(pd.DatetimeTZDtype(unit="ns", tz="UTC"))
