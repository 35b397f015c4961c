"""The data-quality report: per frame, rows in and out and dropped rows by rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

AFTER_AS_OF = "after_as_of"


@dataclass(frozen=True)
class FrameQuality:
    """One frame's counts; ``rows_in == rows_out + sum(dropped.values()) + after_as_of``."""

    rows_in: int
    rows_out: int
    dropped: Mapping[str, int]
    after_as_of: int = 0

    def __post_init__(self) -> None:
        accounted = self.rows_out + sum(self.dropped.values()) + self.after_as_of
        if accounted != self.rows_in:
            raise ValueError(f"rows uncounted: {self.rows_in} in, {accounted} accounted for")

    def merge(self, other: FrameQuality) -> FrameQuality:
        """Counts of both (e.g. two chunks of the same frame)."""
        dropped = dict(self.dropped)
        for rule, count in other.dropped.items():
            dropped[rule] = dropped.get(rule, 0) + count
        return FrameQuality(
            self.rows_in + other.rows_in,
            self.rows_out + other.rows_out,
            dropped,
            self.after_as_of + other.after_as_of,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able."""
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "after_as_of": self.after_as_of,
            "dropped": dict(sorted(self.dropped.items())),
        }


@dataclass(frozen=True)
class QualityReport:
    """Counts per frame name (``orders``, ``order_lines``, ...)."""

    frames: Mapping[str, FrameQuality] = field(default_factory=dict)

    def merge(self, other: QualityReport) -> QualityReport:
        """A report with both reports' counts; frames of the same name add up."""
        frames = dict(self.frames)
        for name, quality in other.frames.items():
            frames[name] = frames[name].merge(quality) if name in frames else quality
        return QualityReport(frames)

    def counts(self) -> dict[str, int]:
        """Dropped rows per rule name over all frames (``after_as_of`` not included)."""
        totals: dict[str, int] = {}
        for quality in self.frames.values():
            for rule, count in quality.dropped.items():
                totals[rule] = totals.get(rule, 0) + count
        return dict(sorted(totals.items()))

    @property
    def after_as_of(self) -> int:
        """Rows later than the run's as_of, over all frames (not errors)."""
        return sum(q.after_as_of for q in self.frames.values())

    @property
    def dropped_total(self) -> int:
        """Rows dropped by any rule, over all frames."""
        return sum(self.counts().values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: per-frame counts, totals per rule, and rows after as_of."""
        return {
            "frames": {name: q.to_dict() for name, q in sorted(self.frames.items())},
            "dropped": self.counts(),
            "after_as_of": self.after_as_of,
        }
