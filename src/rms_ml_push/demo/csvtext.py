"""CSV text for PostgreSQL ``COPY ... (FORMAT csv)``, built column-wise with numpy.

Faster than a generic CSV writer because each column is converted once, in C where
possible; rows are then joined with ``str.join``. An unquoted empty field is NULL; text
is always quoted (so an empty string stays an empty string and commas are safe).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from rms_ml_push.demo.arrays import NULL, iso_utc
from rms_ml_push.demo.schema import Col


def _ts_text(values: npt.NDArray[Any]) -> list[str]:
    text = iso_utc(values)
    text[text == None] = ""  # noqa: E711 - elementwise comparison on an object array
    return text.tolist()  # type: ignore[no-any-return]


def _int_text(values: npt.NDArray[Any]) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype == object:
        return ["" if v is None else str(int(v)) for v in arr]
    ints = arr.astype(np.int64)
    return np.where(ints == NULL, "", ints.astype(str)).tolist()  # type: ignore[no-any-return]


def _num_text(values: npt.NDArray[Any], decimals: int) -> list[str]:
    arr = np.round(np.asarray(values, dtype=np.float64), decimals)
    return np.where(np.isnan(arr), "", arr.astype(str)).tolist()  # type: ignore[no-any-return]


def _quoted(values: npt.NDArray[Any]) -> list[str]:
    return ["" if v is None else '"' + str(v).replace('"', '""') + '"' for v in values]


def _bool_text(values: npt.NDArray[Any]) -> list[str]:
    return np.where(np.asarray(values, dtype=bool), "t", "f").tolist()  # type: ignore[no-any-return]


def _date_text(values: npt.NDArray[Any]) -> list[str]:
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return np.datetime_as_string(arr.astype("datetime64[D]")).tolist()  # type: ignore[no-any-return]
    return ["" if v is None else str(v) for v in arr]


_TEXT: dict[str, Callable[[npt.NDArray[Any]], list[str]]] = {
    "ts": _ts_text,
    "id": _int_text,
    "int": _int_text,
    "money": lambda v: _num_text(v, 2),
    "num": lambda v: _num_text(v, 4),
    "bool": _bool_text,
    "date": _date_text,
    "text": _quoted,
}


def column_text(col: Col, values: npt.NDArray[Any]) -> list[str]:
    """One column as CSV fields."""
    return _TEXT[col.kind](values)


def csv_text(cols: Sequence[Col], frame: Mapping[str, npt.NDArray[Any]]) -> str:
    """The frame's rows as CSV text (no header), columns in ``cols`` order."""
    fields = [column_text(c, frame[c.name]) for c in cols]
    return "\n".join(map(",".join, zip(*fields, strict=True))) + "\n"
