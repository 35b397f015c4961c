"""The prediction fallback chain, one implementation for every prediction family.

seed-architecture.md, "Model Fallbacks"; design.md, "Fallback chain"::

    model (latest promoted) -> previous_model (previous stable) -> rule_based -> default

Each rung gets the keys (series or rows) that no higher rung answered and returns a
mapping key -> value. A rung that raises (a model that fails its integrity check, a
FitError, any exception in predict) loses all of its keys to the next rung; a key it
leaves out, or answers with an unusable value (NaN, wrong length), falls on its own.
Every answered key records its rung (``source``); a message's ``data.model.source`` is
:func:`lowest_source` over its rows. Pure: loading happens inside the callables given.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_args

import numpy as np

from rms_ml_push.errors import ModelError

Source = Literal["model", "previous_model", "rule_based", "default"]
SOURCES: tuple[Source, ...] = get_args(Source)  # best first

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Predict = Callable[[Sequence[K]], Mapping[K, V]]


@dataclass(frozen=True)
class Rung(Generic[K, V]):
    """One level of the chain; ``label`` names what answered (e.g. a model version)."""

    source: Source
    predict: Callable[[Sequence[K]], Mapping[K, V]]
    label: str | None = None


@dataclass(frozen=True)
class RungFailure:
    """Why a rung lost keys: an exception (all its keys) or unusable values (some)."""

    source: Source
    keys: int
    error_type: str
    error: str


@dataclass(frozen=True)
class ChainResult(Generic[K, V]):
    """Values and the rung that produced each, with counts for logs and ``/metrics``."""

    values: dict[K, V]
    sources: dict[K, Source]
    labels: dict[Source, str | None]
    failures: tuple[RungFailure, ...] = ()
    counts: dict[Source, int] = field(default_factory=dict)

    @property
    def lowest_source(self) -> Source:
        """The lowest rung used for any key (``data.model.source``)."""
        return lowest_source(self.sources.values())

    def log_fields(self) -> dict[str, Any]:
        """Fields for the job's canonical log line."""
        return {
            "fallback_counts": dict(self.counts),
            "fallback_failures": [
                {"source": f.source, "keys": f.keys, "error_type": f.error_type}
                for f in self.failures
            ],
        }


def lowest_source(sources: Iterable[Source]) -> Source:
    """The worst rung among ``sources``; ValueError when there are none."""
    ranks = [SOURCES.index(s) for s in sources]
    if not ranks:
        raise ValueError("no sources: a message needs at least one result row")
    return SOURCES[max(ranks)]


def finite_array(length: int) -> Callable[[Any], bool]:
    """A usability check: a numeric vector of exactly ``length`` finite values."""

    def check(value: Any) -> bool:
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            return False
        return array.shape == (length,) and bool(np.isfinite(array).all())

    return check


def finite_number(value: Any) -> bool:
    """A usability check: one finite number."""
    if isinstance(value, bool):
        return False
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False


def run_chain(
    keys: Sequence[K],
    rungs: Sequence[Rung[K, V]],
    *,
    usable: Callable[[V], bool],
) -> ChainResult[K, V]:
    """Answer every key from the highest rung that can; ModelError if even the last cannot."""
    remaining = list(dict.fromkeys(keys))
    values: dict[K, V] = {}
    sources: dict[K, Source] = {}
    failures: list[RungFailure] = []
    for rung in rungs:
        if not remaining:
            break
        answered, failure = _try_rung(rung, remaining, usable)
        if failure is not None:
            failures.append(failure)
        for key, value in answered.items():
            values[key] = value
            sources[key] = rung.source
        remaining = [k for k in remaining if k not in answered]
    if remaining:
        raise ModelError(f"no fallback rung answered {len(remaining)} of {len(keys)} keys")
    counts = {s: 0 for s in SOURCES}
    for source in sources.values():
        counts[source] += 1
    return ChainResult(
        values=values,
        sources=sources,
        labels={r.source: r.label for r in rungs},
        failures=tuple(failures),
        counts=counts,
    )


def _try_rung(
    rung: Rung[K, V], keys: list[K], usable: Callable[[V], bool]
) -> tuple[dict[K, V], RungFailure | None]:
    try:
        output = rung.predict(list(keys))
    except Exception as exc:  # any failure of a rung is the next rung's cue, by design
        return {}, RungFailure(rung.source, len(keys), type(exc).__name__, str(exc)[:300])
    answered: dict[K, V] = {}
    for key in keys:
        if key in output and _safe_usable(usable, output[key]):
            answered[key] = output[key]
    missing = len(keys) - len(answered)
    if missing:
        detail = f"{missing} of {len(keys)} keys missing or unusable (NaN, wrong length)"
        return answered, RungFailure(rung.source, missing, "UnusableOutput", detail)
    return answered, None


def _safe_usable(usable: Callable[[V], bool], value: V) -> bool:
    try:
        return usable(value)
    except Exception:  # a value the check cannot even inspect is unusable
        return False


def constant_rung(value: V, *, label: str = "default") -> Rung[Any, V]:
    """The last rung: the family's constant for every key."""
    return Rung("default", lambda keys: dict.fromkeys(keys, value), label=label)
