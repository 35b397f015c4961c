"""Bulk writes of column frames: ``executemany`` on SQLite, ``COPY ... FROM STDIN`` on PostgreSQL.

Frames are dicts of numpy arrays keyed by column name. Timestamps arrive as UTC epoch
seconds and are written as ISO 8601 with an explicit ``+00:00`` offset (text on SQLite,
``timestamptz`` on PostgreSQL); :data:`NULL` in an int column and NaN in a float column
become SQL NULL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa

from rms_ml_push.config import RmsTables
from rms_ml_push.demo.arrays import NULL, iso_utc, nullify
from rms_ml_push.demo.csvtext import csv_text
from rms_ml_push.demo.schema import RMS_COLUMNS, TRUTH_COLUMNS, Col, split_name

Frame = Mapping[str, npt.NDArray[Any]]
_CHUNK_ROWS = 250_000


def _ts(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return iso_utc(values)


def _int(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr = np.asarray(values)
    if arr.dtype == object:
        return arr
    return nullify(arr == NULL, arr.astype(np.int64))


def _num(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr = np.round(np.asarray(values, dtype=np.float64), 2 if col.kind == "money" else 4)
    return nullify(np.isnan(arr), arr)


def _bool(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr = np.asarray(values, dtype=bool)
    return arr.astype(object)


def _date(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    arr = np.asarray(values)
    if arr.dtype.kind == "M":
        return np.datetime_as_string(arr.astype("datetime64[D]")).astype(object)
    return np.array([None if v is None else str(v) for v in arr], dtype=object)


def _text(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.asarray(values, dtype=object)


_CONVERT = {
    "ts": _ts,
    "id": _int,
    "int": _int,
    "money": _num,
    "num": _num,
    "bool": _bool,
    "date": _date,
    "text": _text,
}


def _column_values(col: Col, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Database-ready values of one column (object array, None for NULL)."""
    return _CONVERT[col.kind](col, values)


class DemoWriter:
    """Writes frames into the demo tables of one database, resolving mapped names."""

    def __init__(self, engine: sa.Engine, tables: RmsTables) -> None:
        self._engine = engine
        self._tables = tables
        self._postgres = engine.dialect.name == "postgresql"
        self._conn: Any = None
        self.rows: dict[str, int] = {}

    def __enter__(self) -> DemoWriter:
        self._conn = self._engine.raw_connection()
        if not self._postgres:
            cursor = self._conn.cursor()
            # A demo database is rebuilt from its seed; durability during the load buys nothing.
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            if exc[0] is None:
                self._conn.commit()
            else:
                self._conn.rollback()
            self._conn.close()
            self._conn = None

    def commit(self) -> None:
        """Commit what was written so far (one restaurant at a time keeps memory bounded)."""
        self._conn.commit()

    def _target(self, key: str) -> tuple[str, Sequence[Col]]:
        if key in RMS_COLUMNS:
            schema, name = split_name(getattr(self._tables, key))
            quoted = f'"{schema}"."{name}"' if schema else f'"{name}"'
            return quoted, RMS_COLUMNS[key]
        return f'"{key}"', TRUTH_COLUMNS[key]

    def write(self, key: str, frame: Frame) -> int:
        """Append a frame to table ``key`` (canonical or truth name); returns rows written."""
        table, cols = self._target(key)
        n = len(next(iter(frame.values()))) if frame else 0
        if n == 0:
            return 0
        for start in range(0, n, _CHUNK_ROWS):
            part = {c.name: frame[c.name][start : start + _CHUNK_ROWS] for c in cols}
            if self._postgres:
                self._copy(table, cols, part)
            else:
                self._insert(table, cols, part)
        self.rows[key] = self.rows.get(key, 0) + n
        return n

    def _insert(self, table: str, cols: Sequence[Col], frame: Frame) -> None:
        names = ", ".join(f'"{c.name}"' for c in cols)
        marks = ", ".join("?" for _ in cols)
        values = [_column_values(c, frame[c.name]).tolist() for c in cols]
        cursor = self._conn.cursor()
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})", zip(*values, strict=True)
        )
        cursor.close()

    def _copy(self, table: str, cols: Sequence[Col], frame: Frame) -> None:
        names = ", ".join(f'"{c.name}"' for c in cols)
        cursor = self._conn.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
            copy.write(csv_text(cols, frame))
        cursor.close()
