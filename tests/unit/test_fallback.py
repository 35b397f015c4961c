"""The fallback chain: each key answered by the highest rung that can, with its source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from rms_ml_push.errors import FitError, ModelError, ModelIntegrityError
from rms_ml_push.models.fallback import (
    Rung,
    Source,
    constant_rung,
    finite_array,
    finite_number,
    lowest_source,
    run_chain,
)
from rms_ml_push.models.rules import same_weekday_mean


def _raise(exc: Exception) -> Rung[str, float]:
    def predict(keys: Sequence[str]) -> Mapping[str, float]:
        raise exc

    return Rung("model", predict)


def _answers(source: Source, answers: Mapping[str, float]) -> Rung[str, float]:
    return Rung(source, lambda keys: {k: answers[k] for k in keys if k in answers}, label=source)


def test_all_answered_by_the_model() -> None:
    """A healthy latest model answers everything; the message source is model."""
    result = run_chain(
        ["a", "b"],
        [_answers("model", {"a": 1.0, "b": 2.0}), constant_rung(0.0)],
        usable=finite_number,
    )
    assert result.values == {"a": 1.0, "b": 2.0}
    assert result.lowest_source == "model"
    assert result.counts == {"model": 2, "previous_model": 0, "rule_based": 0, "default": 0}
    assert result.failures == ()


@pytest.mark.parametrize(
    "exc", [ModelIntegrityError("flipped"), FitError("no fit"), ZeroDivisionError("boom")]
)
def test_raising_rung_falls_to_next(exc: Exception) -> None:
    """Any exception in a rung hands all its keys to the next rung, and is recorded."""
    result = run_chain(
        ["a", "b"],
        [_raise(exc), _answers("previous_model", {"a": 5.0, "b": 6.0}), constant_rung(0.0)],
        usable=finite_number,
    )
    assert result.sources == {"a": "previous_model", "b": "previous_model"}
    assert result.lowest_source == "previous_model"
    assert result.failures[0].error_type == type(exc).__name__
    assert result.failures[0].keys == 2


def test_unusable_values_fall_per_key() -> None:
    """NaN, missing and wrong-length answers fall alone; good ones stay on their rung."""
    model: Rung[str, object] = Rung(
        "model", lambda keys: {"a": [1.0, 2.0], "b": [np.nan, 1.0], "c": [1.0]}
    )
    rule: Rung[str, object] = Rung("rule_based", lambda keys: {"b": [3.0, 3.0]})
    result = run_chain(
        ["a", "b", "c", "d"], [model, rule, constant_rung([0.0, 0.0])], usable=finite_array(2)
    )
    assert result.sources == {"a": "model", "b": "rule_based", "c": "default", "d": "default"}
    assert result.counts == {"model": 1, "previous_model": 0, "rule_based": 1, "default": 2}
    assert result.lowest_source == "default"
    assert [f.source for f in result.failures] == ["model", "rule_based"]
    assert result.log_fields()["fallback_counts"]["default"] == 2


def test_rungs_only_see_unanswered_keys() -> None:
    """A lower rung is asked only for the keys the higher rungs did not answer."""
    asked: list[list[str]] = []

    def rule(keys: Sequence[str]) -> Mapping[str, float]:
        asked.append(list(keys))
        return dict.fromkeys(keys, 1.0)

    run_chain(
        ["a", "b"], [_answers("model", {"a": 1.0}), Rung("rule_based", rule)], usable=finite_number
    )
    assert asked == [["b"]]


def test_no_rung_answers_raises() -> None:
    """If even the last rung fails, the chain says so instead of inventing values."""
    with pytest.raises(ModelError, match="no fallback rung answered 1 of 1"):
        run_chain(["a"], [_raise(ValueError("x"))], usable=finite_number)


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        (["model"], "model"),
        (["model", "previous_model"], "previous_model"),
        (["rule_based", "model"], "rule_based"),
        (["model", "default", "previous_model"], "default"),
    ],
)
def test_lowest_source(sources: list[Source], expected: Source) -> None:
    """A message's source is its lowest rung."""
    assert lowest_source(sources) == expected


def test_lowest_source_empty() -> None:
    """No rows, no source."""
    with pytest.raises(ValueError, match="no sources"):
        lowest_source([])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1.0, True),
        (0, True),
        (np.nan, False),
        (np.inf, False),
        ("x", False),
        (True, False),
        (None, False),
    ],
)
def test_finite_number(value: object, ok: bool) -> None:
    """Only finite numbers are usable scalars."""
    assert finite_number(value) is ok


def test_same_weekday_mean() -> None:
    """Day 0 onward gets the mean of the same weekday over the 4 weeks before day 0."""
    start = date(2026, 11, 30)  # a Monday
    days = [start - timedelta(days=i) for i in range(1, 36)]  # 5 weeks back
    history = pd.DataFrame(
        {
            "unique_id": ["r1"] * len(days) + ["r2"],
            "ds": pd.to_datetime([*days, start - timedelta(days=1)]),
            # value = days back, so each weekday's mean is known exactly
            "y": [*(float((start - d).days) for d in days), 9.0],
        }
    )
    result = same_weekday_mean(history, start=start, horizon_days=8)
    # Mondays 7, 14, 21, 28 days back (35 is outside the 4 weeks): mean 17.5
    assert result["r1"][0] == pytest.approx(17.5)
    assert result["r1"][7] == pytest.approx(17.5)
    # Sundays 1, 8, 15, 22 days back: mean 11.5 (day 6 of the horizon is a Sunday)
    assert result["r1"][6] == pytest.approx(11.5)
    # r2 has only a Sunday: other weekdays are NaN, so the chain falls to default for them
    assert result["r2"][6] == 9.0
    assert np.isnan(result["r2"][0])
    assert not finite_array(8)(result["r2"])
    assert finite_array(8)(result["r1"])


def test_same_weekday_mean_ignores_day_zero_and_later() -> None:
    """Values on or after day 0 are never used (no peeking at the future)."""
    start = date(2026, 11, 30)
    history = pd.DataFrame(
        {
            "unique_id": ["r1", "r1"],
            "ds": pd.to_datetime([start - timedelta(days=7), start]),
            "y": [4.0, 1000.0],
        }
    )
    assert same_weekday_mean(history, start=start, horizon_days=1)["r1"][0] == 4.0
