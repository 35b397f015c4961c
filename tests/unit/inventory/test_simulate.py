"""Day-by-day replay of reorder policies: the manual rule, expiry, and the forecast policy."""

from __future__ import annotations

import numpy as np
import pytest

from rms_ml_push.models.inventory.policy import PolicyParams
from rms_ml_push.models.inventory.simulate import (
    DayState,
    forecast_policy,
    manual_rule,
    simulate_policy,
)


def test_manual_rule_replay_by_hand() -> None:
    """Order 6 when on hand + on order <= 4, lead time 2: one stockout day, three orders."""
    result = simulate_policy(
        np.full(10, 2.0),
        manual_rule(4.0, 6.0),
        start=0,
        lead_time_days=2,
        shelf_life_days=None,
        initial_stock=5.0,
    )
    assert result.stockout_days == 1  # day 2: 1 left, 2 needed; the order lands on day 3
    assert result.unmet == pytest.approx(1.0)
    assert result.orders == 3
    assert result.average_held == pytest.approx(2.0)  # 3,1,0,4,2,0,4,2,0,4
    assert result.fill_rate == pytest.approx(0.95)


def test_expired_stock_is_written_off_and_not_used() -> None:
    """A batch with a two-day shelf life serves two days; the rest expires."""

    def never(_state: DayState) -> float:
        return 0.0

    result = simulate_policy(
        np.ones(10), never, start=0, lead_time_days=1, shelf_life_days=2, initial_stock=10.0
    )
    assert result.expired == pytest.approx(8.0)
    assert result.stockout_days == 8


def test_forecast_policy_with_a_perfect_forecast_never_runs_out() -> None:
    """Known use, zero error: no stockout once the first order lands, no waste."""
    days, lead = 60, 3
    params = PolicyParams(service_level=0.95, review_period_days=7, horizon_days=14)
    policy = forecast_policy(
        np.full((days, 14), 3.0),
        np.zeros(14),
        start=0,
        params=params,
        lead_time_days=lead,
        shelf_life_days=None,
        unit="kg",
    )
    result = simulate_policy(
        np.full(days, 3.0),
        policy,
        start=0,
        lead_time_days=lead,
        shelf_life_days=None,
        initial_stock=3.0,
    )
    # One day of stock to start: days 1 and 2 run dry, the day-0 order lands on day 3.
    assert result.stockout_days == 2
    assert result.unmet == pytest.approx(6.0)
    assert result.expired == 0.0
    assert result.average_held <= 3.0 * (lead + 1 + 7)
