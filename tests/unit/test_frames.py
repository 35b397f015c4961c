"""Typing of extracted values: timestamps in every shape the RMS may hold become UTC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.errors import RmsSchemaError
from rms_ml_push.rms.frames import epoch_to_utc, parse_utc, typed_frame


def test_iso_text_with_offsets_naive_and_garbage() -> None:
    """Offsets are honoured, naive text means UTC even next to offsets, junk becomes NaT."""
    values = pd.Series(
        ["2024-01-01T01:00:00+02:00", "1995-03-01 10:00:00", "2024-06-01T00:00:00Z", "junk", None],
        dtype="object",
    )
    out = parse_utc(values)
    assert str(out.dtype) == "datetime64[ns, UTC]"
    assert out[0] == pd.Timestamp("2023-12-31T23:00Z")
    assert out[1] == pd.Timestamp("1995-03-01T10:00Z")
    assert out[2] == pd.Timestamp("2024-06-01T00:00Z")
    assert out[3:].isna().all()


def test_epoch_seconds_exact_to_microseconds_and_out_of_range_nat() -> None:
    """Epoch floats keep microseconds; year 9999 and infinity become NaT."""
    exact = pd.Timestamp("2001-02-03T04:05:06.789012Z")
    seconds = np.array([exact.timestamp(), 253402214400.0, np.inf, np.nan])
    out = epoch_to_utc(seconds)
    assert out[0] == exact
    assert out[1:].isna().all()


def test_typed_frame_kinds_and_not_null_guard() -> None:
    """Each kind gets its dtype; a NULL in a NOT NULL id is a schema error."""
    frame = typed_frame(
        [(1, None, 2.5, True, "a"), (2, 7, None, None, None)],
        {"id": "id", "ref": "id?", "amount": "num", "flag": "bool", "name": "text"},
        "t",
    )
    assert [str(t) for t in frame.dtypes] == ["int64", "Int64", "float64", "bool", "object"]
    assert frame["flag"].tolist() == [True, False]
    with pytest.raises(RmsSchemaError, match=r"t\.id holds NULLs"):
        typed_frame([(None,)], {"id": "id"}, "t")
