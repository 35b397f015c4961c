"""Guardrails: cap, floor (cap wins), price endings, keep when the direction is unknown."""

from __future__ import annotations

import pytest

from rms_ml_push.config import PricingSettings
from rms_ml_push.models.pricing.recommend import (
    direction,
    ending_candidates,
    expected_margin,
    flip_elasticity,
    recommend,
)
from rms_ml_push.models.pricing.shrinkage import Elasticity

SETTINGS = PricingSettings()  # +-10 %, markup 1.5, endings .00 .50 .90


def _ending_ok(price: float) -> bool:
    cents = round(price * 100) % 100
    return cents in {0, 50, 90}


def test_flip_elasticity_is_minus_inverse_lerner() -> None:
    """p0 10, c 4: margin rises with price iff e > -10/6."""
    assert flip_elasticity(10.0, 4.0) == pytest.approx(-10 / 6)
    assert flip_elasticity(4.0, 4.0) is None
    assert direction(10.0, 4.0, (-1.5, -0.5)) == "up"
    assert direction(10.0, 4.0, (-3.0, -1.8)) == "down"
    assert direction(10.0, 4.0, (-2.0, -1.0)) == "unknown"


def test_inelastic_item_moves_up_to_the_cap_on_an_ending() -> None:
    """e -0.5: margin rises with price, so the highest ending within +10 %."""
    rec = recommend(10.0, 3.0, Elasticity(-0.5, 0.05, "item"), SETTINGS)
    assert rec.basis == "item"
    assert rec.recommended_price == 11.0  # exactly +10 %, a .00 ending
    assert rec.quantity_change_pct is not None
    assert rec.quantity_change_pct < 0
    assert rec.margin_change_pct is not None
    assert rec.margin_change_pct > 0


def test_elastic_item_moves_down_within_the_cap() -> None:
    """e -3 with cost 2: the optimum (3.0) is far below; the cap stops at -10 %."""
    rec = recommend(10.0, 2.0, Elasticity(-3.0, 0.1, "category"), SETTINGS)
    assert rec.basis == "category"
    assert 9.0 <= rec.recommended_price < 10.0
    assert _ending_ok(rec.recommended_price)
    assert rec.margin_change_pct is not None
    assert rec.margin_change_pct > 0


def test_choice_is_the_best_rounded_candidate() -> None:
    """The recommended price has the best expected margin of all allowed endings."""
    e, cost, current = -2.2, 4.0, 11.0
    rec = recommend(current, cost, Elasticity(e, 0.05, "item"), SETTINGS)
    allowed = [p for p in ending_candidates(9.9, 12.1, [0.0, 0.5, 0.9]) if p >= cost * 1.5]
    best = max(allowed, key=lambda p: expected_margin(p, current, cost, e))
    assert rec.recommended_price == best


def test_floor_never_crossed_downward() -> None:
    """Even a very elastic item does not go below cost x 1.5."""
    rec = recommend(10.0, 6.5, Elasticity(-6.0, 0.1, "item"), SETTINGS)
    assert rec.recommended_price >= 6.5 * 1.5 - 1e-9


def test_price_below_floor_moves_up_by_at_most_the_cap() -> None:
    """Cost 9 (floor 13.5) at price 10: up, but no more than +10 %, even with keep."""
    wide = Elasticity(-2.0, 2.0, "item")
    rec = recommend(10.0, 9.0, wide, SETTINGS)
    assert 10.0 < rec.recommended_price <= 11.0
    assert _ending_ok(rec.recommended_price)
    assert rec.basis == "item"


def test_wide_interval_keeps_the_current_price() -> None:
    """The interval straddles the flip elasticity: keep, current price, no change."""
    rec = recommend(10.0, 4.0, Elasticity(-1.6, 0.6, "item"), SETTINGS)
    assert rec.basis == "keep"
    assert rec.recommended_price == 10.0
    assert rec.quantity_change_pct == 0.0
    assert rec.margin_change_pct == 0.0


def test_no_cost_keeps_the_price_without_margin() -> None:
    """No recipe cost: basis no_cost, the current price, margin change unknown."""
    rec = recommend(7.5, None, Elasticity(-0.4, 0.1, "item"), SETTINGS)
    assert rec.basis == "no_cost"
    assert rec.recommended_price == 7.5
    assert rec.margin_change_pct is None


def test_no_elasticity_keeps_the_price() -> None:
    """The default rung (no elasticity at all): keep the current price."""
    rec = recommend(7.5, 2.0, None, SETTINGS)
    assert (rec.basis, rec.recommended_price) == ("keep", 7.5)


def test_intervals_contain_the_point_change() -> None:
    """Expected quantity and margin changes lie inside their propagated intervals."""
    rec = recommend(10.0, 3.0, Elasticity(-0.7, 0.15, "item"), SETTINGS)
    assert rec.quantity_change_interval is not None
    assert rec.margin_change_interval is not None
    q_lo, q_hi = rec.quantity_change_interval
    m_lo, m_hi = rec.margin_change_interval
    assert q_lo <= rec.quantity_change_pct <= q_hi  # type: ignore[operator]
    assert m_lo <= rec.margin_change_pct <= m_hi  # type: ignore[operator]
    assert q_lo < q_hi


def test_tighter_cap_setting_is_respected() -> None:
    """max_change 0.05 with .00 endings only: 20.00 -> 21.00 at most."""
    settings = PricingSettings(max_change=0.05, price_endings=[0.0])
    rec = recommend(20.0, 5.0, Elasticity(-0.3, 0.05, "item"), settings)
    assert rec.recommended_price == 21.0
