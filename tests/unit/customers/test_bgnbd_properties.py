"""Property tests: BG/NBD probabilities stay probabilities for any parameters and data."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rms_ml_push.models.customers import bgnbd

positive = st.floats(min_value=1e-3, max_value=1e3)


@settings(max_examples=200, deadline=None)
@given(
    r=positive,
    alpha=positive,
    a=positive,
    b=positive,
    x=st.integers(min_value=0, max_value=500),
    share=st.floats(min_value=0.0, max_value=1.0),
    big_t=st.floats(min_value=1e-3, max_value=1e3),
    t=st.floats(min_value=0.0, max_value=100.0),
)
def test_probabilities_are_probabilities(
    r: float, alpha: float, a: float, b: float, x: int, share: float, big_t: float, t: float
) -> None:
    """P(alive), P(no purchase in t) in [0, 1]; E[purchases] finite and >= 0."""
    params = bgnbd.BgNbdParams(r=r, alpha=alpha, a=a, b=b)
    t_x = share * big_t if x > 0 else 0.0
    alive = bgnbd.p_alive(params, [x], [t_x], [big_t])[0]
    none = bgnbd.p_no_purchase(params, t, [x], [t_x], [big_t])[0]
    expected = bgnbd.expected_purchases(params, t, [x], [t_x], [big_t])[0]
    assert 0.0 <= alive <= 1.0
    assert 0.0 <= none <= 1.0 + 1e-12
    assert np.isfinite(expected)
    assert expected >= 0.0
