"""Candidate screening: backtest every candidate on a sample, the rest only on what wins.

A full run backtests each candidate on every series; with thousands of menu items most of
that time goes to models no series picks (measured on demo data, 10 restaurants x 60
items: the GBM won 515 of 550 item series, seasonal ETS none). Large groups are therefore
judged on a fixed sample first; a candidate the sample's selection picked for fewer than
``min_share`` of its series is not backtested on the group's other series. The baseline
is always kept (the metrics compare against it), and an ensemble keeps its members.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from rms_ml_push.models.demand.candidates import BASELINE, ENSEMBLES


@dataclass(frozen=True)
class ScreenPlan:
    """Which series are screened with every candidate, and the rest grouped by group."""

    sample: list[str]
    rest: dict[str, list[str]]  # group -> series outside the sample


def _stable_key(uid: str) -> str:
    # A hash, not the id order: items of one restaurant are not all in or all out, and
    # the same series are sampled every run.
    return hashlib.blake2b(uid.encode(), digest_size=8).hexdigest()


def plan_screening(groups: pd.Series, sample_size: int) -> ScreenPlan:
    """Groups (unique_id -> group) larger than ``sample_size`` are sampled; others whole."""
    sample: list[str] = []
    rest: dict[str, list[str]] = {}
    for group, ids in groups.groupby(groups.astype(str), sort=True):
        members = sorted((str(u) for u in ids.index), key=_stable_key)
        if len(members) <= sample_size:
            sample.extend(members)
            continue
        sample.extend(members[:sample_size])
        rest[str(group)] = sorted(members[sample_size:])
    return ScreenPlan(sorted(sample), rest)


def kept_candidates(
    chosen: pd.Series, candidates: Sequence[str], min_share: float
) -> tuple[str, ...]:
    """Candidates picked for at least ``min_share`` of the sample's series, in order."""
    share = chosen.astype(str).value_counts(normalize=True) if len(chosen) else pd.Series()
    keep = {str(m) for m, s in share.items() if s >= min_share} | {BASELINE}
    for name in list(keep):
        keep.update(ENSEMBLES.get(name, ()))
    return tuple(c for c in candidates if c in keep)
