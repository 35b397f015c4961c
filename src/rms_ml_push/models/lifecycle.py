"""Model life-cycle decisions, pure: version numbers, the promotion gate, retention.

The registry (``store/registry.py``) does the I/O; every decision it takes is one of
these functions, so each is tested with a table (issue 4, "Promotion gate", "Retention").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_VERSION = re.compile(r"^v?(\d{1,6})\.(\d{1,6})\.(\d{1,6})$")


@dataclass(frozen=True, order=True)
class Version:
    """A MAJOR.MINOR.PATCH model version; ``str()`` has no ``v``, ``dirname`` has one."""

    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse ``1.4.0`` or ``v1.4.0``; ValueError for anything else."""
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"not a model version: {text!r} (expected e.g. 1.4.0 or v1.4.0)")
        return cls(int(match[1]), int(match[2]), int(match[3]))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def dirname(self) -> str:
        """The version's folder name under the model's folder: ``v1.4.0``."""
        return f"v{self}"


FIRST_VERSION = Version(1, 0, 0)


class Change(StrEnum):
    """What changed since the previous version; decides which number is bumped."""

    RETRAIN = "retrain"  # same features, hyper-parameters and output: PATCH
    CONFIG = "config"  # features or hyper-parameters changed: MINOR
    OUTPUT_SCHEMA = "output_schema"  # what the model outputs changed: MAJOR


@dataclass(frozen=True)
class Signature:
    """What a version's number depends on besides the data it was fitted to."""

    features: tuple[str, ...]
    hyper_parameters: Mapping[str, Any] = field(default_factory=dict)
    output_schema: str = "1"


def classify_change(previous: Signature | None, current: Signature) -> Change:
    """The kind of change from ``previous`` (None: no earlier version) to ``current``."""
    if previous is None:
        return Change.RETRAIN
    if previous.output_schema != current.output_schema:
        return Change.OUTPUT_SCHEMA
    if tuple(previous.features) != tuple(current.features) or dict(
        previous.hyper_parameters
    ) != dict(current.hyper_parameters):
        return Change.CONFIG
    return Change.RETRAIN


def bump_version(previous: Version | None, change: Change) -> Version:
    """The next version: 1.0.0 for the first, else PATCH, MINOR or MAJOR per ``change``."""
    if previous is None:
        return FIRST_VERSION
    if change is Change.OUTPUT_SCHEMA:
        return Version(previous.major + 1, 0, 0)
    if change is Change.CONFIG:
        return Version(previous.major, previous.minor + 1, 0)
    return Version(previous.major, previous.minor, previous.patch + 1)


@dataclass(frozen=True)
class BacktestMetrics:
    """A version's backtest and the naive baseline's, on the same windows (``metrics.json``).

    ``champion`` is optional: the current champion re-scored on these same windows, when
    the job did that; the gate prefers it to the champion's own recorded metric.
    """

    metric: str  # the primary metric the gate compares, e.g. "wape"
    model: Mapping[str, float]
    baseline: Mapping[str, float] = field(default_factory=dict)
    baseline_name: str = "naive"
    windows: tuple[Mapping[str, Any], ...] = ()
    higher_is_better: bool = False
    champion: Mapping[str, float] | None = None

    @property
    def primary(self) -> float | None:
        """The challenger's primary metric."""
        return _number(self.model.get(self.metric))

    @property
    def baseline_primary(self) -> float | None:
        """The baseline's primary metric, None when the family has no baseline."""
        return _number(self.baseline.get(self.metric))

    def to_json(self) -> dict[str, Any]:
        """The content of ``metrics.json``."""
        return {
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "windows": [dict(w) for w in self.windows],
            "model": dict(self.model),
            "baseline": {"name": self.baseline_name, **self.baseline},
            "champion": None if self.champion is None else dict(self.champion),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BacktestMetrics:
        """Read back :meth:`to_json`'s output."""
        baseline = dict(data.get("baseline") or {})
        name = str(baseline.pop("name", "naive"))
        return cls(
            metric=str(data["metric"]),
            model=dict(data.get("model") or {}),
            baseline=baseline,
            baseline_name=name,
            windows=tuple(data.get("windows") or ()),
            higher_is_better=bool(data.get("higher_is_better", False)),
            champion=data.get("champion"),
        )


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


@dataclass(frozen=True)
class GateDecision:
    """Whether a challenger becomes ``latest``, and why (reported in ``model.trained``)."""

    promote: bool
    reason: str


def promotion_gate(
    challenger: float | None,
    *,
    champion: float | None,
    baseline: float | None,
    tolerance: float,
    higher_is_better: bool = False,
    metric: str = "metric",
) -> GateDecision:
    """Promote only if no worse than the champion by more than ``tolerance`` (relative)
    and strictly better than the naive baseline on the same windows.

    ``champion`` None means there is no promoted version yet; ``baseline`` None means the
    family has no naive baseline, which an operator sees in the reason.
    """
    if challenger is None or not math.isfinite(challenger):
        return GateDecision(False, f"challenger {metric} is missing or not finite")
    sign = -1.0 if higher_is_better else 1.0  # compare as "lower is better"
    score = sign * challenger
    if baseline is not None and math.isfinite(baseline) and not score < sign * baseline:
        return GateDecision(
            False, f"{metric} {challenger:.6g} is not better than the baseline's {baseline:.6g}"
        )
    if champion is not None and math.isfinite(champion):
        allowed = sign * champion + tolerance * abs(champion)
        if score > allowed:
            return GateDecision(
                False,
                f"{metric} {challenger:.6g} is worse than the champion's {champion:.6g} "
                f"by more than {tolerance:.1%}",
            )
        against = f"champion {champion:.6g} (tolerance {tolerance:.1%})"
    else:
        against = "no champion"
    versus_baseline = "no baseline" if baseline is None else f"baseline {baseline:.6g}"
    return GateDecision(True, f"{metric} {challenger:.6g} vs {against}, {versus_baseline}")


def versions_to_keep(
    versions: Iterable[Version], *, keep: int, protected: Iterable[Version | None]
) -> set[Version]:
    """The newest ``keep`` versions plus every protected one (latest, previous stable)."""
    newest = sorted(set(versions), reverse=True)[:keep]
    return set(newest) | {v for v in protected if v is not None}


def model_trained_data(
    *,
    name: str,
    version: Version | str,
    metrics: Mapping[str, Any],
    promoted: bool,
    reason: str,
    trained_at: str | None = None,
) -> dict[str, Any]:
    """The ``data`` of a ``model.trained`` event (webhook-contract.md): name, version,
    metrics, whether it was promoted and why."""
    data: dict[str, Any] = {"name": name, "version": str(version)}
    if trained_at is not None:
        data["trained_at"] = trained_at
    data.update(metrics=dict(metrics), promoted=promoted, reason=reason)
    return data


def parse_versions(versions: Iterable[str]) -> list[Version]:
    """Parse and sort version strings ascending, ignoring any that do not parse."""
    parsed = []
    for text in versions:
        try:
            parsed.append(Version.parse(text))
        except ValueError:
            continue
    return sorted(parsed)


@dataclass(frozen=True)
class PromotionEvent:
    """One row of the promotion history: ``version`` became latest, replacing ``previous``."""

    version: Version
    previous: Version | None
    by: str  # gate | operator | rollback


def previous_stable(
    history_newest_first: Iterable[PromotionEvent],
    *,
    current: Version | None,
    available: set[Version],
) -> Version | None:
    """The version promoted before ``current``: the newest promoted version that is not
    current, still available, and was not rolled back away from since it was promoted.

    Walking newest first, a rollback marks the version it left as unstable; an earlier
    promotion of that version is then skipped, a later one (seen first) is not.
    """
    rolled_back_from: set[Version] = set()
    for event in history_newest_first:
        if event.by == "rollback" and event.previous is not None:
            rolled_back_from.add(event.previous)
        candidate = event.version
        if candidate == current or candidate in rolled_back_from:
            continue
        if candidate in available:
            return candidate
    return None
