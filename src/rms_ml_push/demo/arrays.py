"""Column-frame conventions shared by the generator and the writer."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

# SQL NULL in int64 columns (ids, counts, epoch seconds); float columns use NaN.
NULL = np.int64(-(2**62))
Frame = dict[str, npt.NDArray[Any]]


def nullify(mask: npt.NDArray[np.bool_], values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """An object array of ``values`` with None where ``mask`` is set."""
    out = np.asarray(values).astype(object)
    out[mask] = None
    return out
