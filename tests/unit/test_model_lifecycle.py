"""Pure registry decisions: version numbers, the promotion gate, retention, rollback target."""

from __future__ import annotations

import math

import pytest

from rms_ml_push.models.lifecycle import (
    BacktestMetrics,
    Change,
    PromotionEvent,
    Signature,
    Version,
    bump_version,
    classify_change,
    model_trained_data,
    parse_versions,
    previous_stable,
    promotion_gate,
    versions_to_keep,
)

V = Version.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.4.0", Version(1, 4, 0)), ("v1.4.0", Version(1, 4, 0)), (" v10.0.12 ", Version(10, 0, 12))],
)
def test_version_parse(text: str, expected: Version) -> None:
    """Versions parse with or without the leading v."""
    assert Version.parse(text) == expected


@pytest.mark.parametrize("text", ["1.4", "v1.4.0.1", "latest", "", "x1.0.0", "1.0.0-rc1"])
def test_version_parse_rejects(text: str) -> None:
    """Anything but MAJOR.MINOR.PATCH is refused."""
    with pytest.raises(ValueError, match="not a model version"):
        Version.parse(text)


def test_version_order_and_names() -> None:
    """Versions order numerically, print without v and name folders with v."""
    assert V("1.10.0") > V("1.9.9")
    assert str(V("v2.0.1")) == "2.0.1"
    assert V("2.0.1").dirname == "v2.0.1"
    assert parse_versions(["v1.2.0", "junk", "1.0.0"]) == [V("1.0.0"), V("1.2.0")]


@pytest.mark.parametrize(
    ("previous", "change", "expected"),
    [
        (None, Change.RETRAIN, "1.0.0"),
        (None, Change.OUTPUT_SCHEMA, "1.0.0"),
        ("1.4.2", Change.RETRAIN, "1.4.3"),
        ("1.4.2", Change.CONFIG, "1.5.0"),
        ("1.4.2", Change.OUTPUT_SCHEMA, "2.0.0"),
    ],
)
def test_bump_version(previous: str | None, change: Change, expected: str) -> None:
    """PATCH for a retrain, MINOR for features/hyper-parameters, MAJOR for output schema."""
    assert bump_version(None if previous is None else V(previous), change) == V(expected)


BASE = Signature(("lag_7", "dow"), {"season_length": 7}, "1")


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        (None, BASE, Change.RETRAIN),
        (BASE, Signature(("lag_7", "dow"), {"season_length": 7}, "1"), Change.RETRAIN),
        (BASE, Signature(("lag_7",), {"season_length": 7}, "1"), Change.CONFIG),
        (BASE, Signature(("lag_7", "dow"), {"season_length": 14}, "1"), Change.CONFIG),
        (BASE, Signature(("lag_7",), {"season_length": 14}, "2"), Change.OUTPUT_SCHEMA),
    ],
)
def test_classify_change(previous: Signature | None, current: Signature, expected: Change) -> None:
    """The change kind follows what differs, output schema first."""
    assert classify_change(previous, current) is expected


@pytest.mark.parametrize(
    ("challenger", "champion", "baseline", "higher", "promote", "why"),
    [
        (0.20, None, 0.30, False, True, "no champion"),
        (0.20, 0.25, 0.30, False, True, "champion"),
        (0.204, 0.20, 0.30, False, True, "tolerance"),  # 2 % worse: allowed
        (0.205, 0.20, 0.30, False, False, "worse than the champion"),  # 2.5 % worse
        (0.31, None, 0.30, False, False, "not better than the baseline"),
        (0.30, None, 0.30, False, False, "not better than the baseline"),  # tie is not better
        (math.nan, 0.2, 0.3, False, False, "not finite"),
        (None, 0.2, 0.3, False, False, "missing"),
        (0.20, 0.25, None, False, True, "no baseline"),
        (0.80, 0.81, 0.50, True, True, "champion"),  # higher is better, 1.2 % worse
        (0.78, 0.81, 0.50, True, False, "worse than the champion"),
        (0.45, None, 0.50, True, False, "not better than the baseline"),
    ],
)
def test_promotion_gate(
    challenger: float | None,
    champion: float | None,
    baseline: float | None,
    higher: bool,
    promote: bool,
    why: str,
) -> None:
    """Promote only within tolerance of the champion and strictly better than the baseline."""
    decision = promotion_gate(
        challenger, champion=champion, baseline=baseline, tolerance=0.02, higher_is_better=higher
    )
    assert decision.promote is promote
    assert why in decision.reason


@pytest.mark.parametrize(
    ("versions", "keep", "protected", "expected"),
    [
        (["1.0.0", "1.0.1", "1.0.2"], 5, [], ["1.0.0", "1.0.1", "1.0.2"]),
        (["1.0.0", "1.0.1", "1.0.2", "1.0.3"], 2, [], ["1.0.2", "1.0.3"]),
        (["1.0.0", "1.0.1", "1.0.2", "1.0.3"], 2, ["1.0.0"], ["1.0.0", "1.0.2", "1.0.3"]),
        (["1.0.0", "1.0.1", "2.0.0", "1.0.3"], 1, ["1.0.1", None], ["1.0.1", "2.0.0"]),
    ],
)
def test_versions_to_keep(
    versions: list[str], keep: int, protected: list[str | None], expected: list[str]
) -> None:
    """The newest N by version number plus every protected version survive."""
    kept = versions_to_keep(
        [V(v) for v in versions], keep=keep, protected=[p and V(p) for p in protected]
    )
    assert kept == {V(v) for v in expected}


def _ev(version: str, previous: str | None, by: str = "gate") -> PromotionEvent:
    return PromotionEvent(V(version), None if previous is None else V(previous), by)


@pytest.mark.parametrize(
    ("history", "current", "available", "expected"),
    [
        ([], None, [], None),
        ([_ev("1.0.0", None)], "1.0.0", ["1.0.0"], None),
        ([_ev("1.0.1", "1.0.0"), _ev("1.0.0", None)], "1.0.1", ["1.0.0", "1.0.1"], "1.0.0"),
        # the previous one was pruned: nothing older is available
        ([_ev("1.0.1", "1.0.0"), _ev("1.0.0", None)], "1.0.1", ["1.0.1"], None),
        # after rolling back 1.0.2 -> 1.0.1, the previous stable is 1.0.0, not 1.0.2
        (
            [
                _ev("1.0.1", "1.0.2", "rollback"),
                _ev("1.0.2", "1.0.1"),
                _ev("1.0.1", "1.0.0"),
                _ev("1.0.0", None),
            ],
            "1.0.1",
            ["1.0.0", "1.0.1", "1.0.2"],
            "1.0.0",
        ),
        # an operator re-promoted 1.0.2 after the rollback: it is stable again
        (
            [
                _ev("1.0.3", "1.0.2"),
                _ev("1.0.2", "1.0.1", "operator"),
                _ev("1.0.1", "1.0.2", "rollback"),
                _ev("1.0.2", "1.0.1"),
            ],
            "1.0.3",
            ["1.0.1", "1.0.2", "1.0.3"],
            "1.0.2",
        ),
    ],
)
def test_previous_stable(
    history: list[PromotionEvent], current: str | None, available: list[str], expected: str | None
) -> None:
    """Rollback's default target: the newest earlier promotion not rolled back from."""
    found = previous_stable(
        history,
        current=None if current is None else V(current),
        available={V(a) for a in available},
    )
    assert found == (None if expected is None else V(expected))


def test_model_trained_data_and_metrics_round_trip() -> None:
    """The model.trained data carries name, version, metrics, promoted and reason."""
    metrics = BacktestMetrics(
        metric="wape",
        model={"wape": 0.2, "mae": 3.0},
        baseline={"wape": 0.3},
        baseline_name="seasonal_naive",
        windows=({"cutoff": "2026-11-01"},),
    )
    data = model_trained_data(
        name="demand_forecasting",
        version=V("1.4.0"),
        metrics=metrics.to_json(),
        promoted=False,
        reason="worse",
    )
    assert data["name"] == "demand_forecasting"
    assert data["version"] == "1.4.0"
    assert data["promoted"] is False
    assert data["reason"] == "worse"
    assert data["metrics"]["baseline"] == {"name": "seasonal_naive", "wape": 0.3}
    back = BacktestMetrics.from_json(data["metrics"])
    assert back == metrics
    assert back.primary == 0.2
    assert back.baseline_primary == 0.3
