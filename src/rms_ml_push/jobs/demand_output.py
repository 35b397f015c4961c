"""Turn demand forecasts into ``demand.forecast.updated`` events and prediction sets.

Pure apart from the settings it reads: one set of events per restaurant and granularity
(split into parts under the body limit), each series a list object carrying its own
``target``, ``menu_item_id`` and ``source`` (webhook-contract.md).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.delivery.payloads import Event
from rms_ml_push.features import calendar
from rms_ml_push.jobs.common import ModelRef, base_data, prediction_events
from rms_ml_push.jobs.demand_data import parse_series_id
from rms_ml_push.jobs.runtime import PredictionSet
from rms_ml_push.models.fallback import ChainResult, Source, lowest_source

if TYPE_CHECKING:
    from rms_ml_push.jobs.demand import GroupRun

EVENT_TYPE = "demand.forecast.updated"
VALUE_COLUMNS = ("yhat", "lo_80", "hi_80", "lo_95", "hi_95")


@dataclass
class DemandOutputs:
    """Events to enqueue, prediction sets to keep, and a summary for the run record."""

    events: list[Event] = field(default_factory=list)
    prediction_sets: list[PredictionSet] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)


def series_rows(
    group: GroupRun, chain: ChainResult[str, pd.DataFrame], restaurant_id: int
) -> list[dict[str, Any]]:
    """The contract's ``series`` list for one restaurant of a group."""
    tz = next(r.timezone for r in group.restaurants if r.id == restaurant_id)
    active = group.active_items
    rows = []
    for uid in sorted(chain.values):
        rid, target, item = parse_series_id(uid)
        if rid != restaurant_id or (item is not None and item not in active):
            continue
        frame = chain.values[uid]
        own: list[Source] = [chain.sources[uid], *frame["source"].astype(str).tolist()]  # type: ignore[list-item]
        rows.append(
            {
                "target": target,
                "menu_item_id": item,
                "source": lowest_source(own),
                "points": _points(frame, group.granularity, tz),
            }
        )
    return rows


def _points(frame: pd.DataFrame, granularity: str, tz: str) -> list[dict[str, Any]]:
    if granularity == "day":
        labels = [pd.Timestamp(ts).date().isoformat() for ts in frame["ds"]]
    else:
        labels = calendar.hour_labels(pd.DatetimeIndex(frame["ds"]), tz).tolist()
    values = frame[list(VALUE_COLUMNS)].astype(float).round(2)
    return [
        {"ts": label, **{c: float(v) for c, v in zip(VALUE_COLUMNS, row, strict=True)}}
        for label, row in zip(labels, values.itertuples(index=False), strict=True)
    ]


def backtest_summary(group: GroupRun) -> dict[str, Any]:
    """Chosen models' backtest metrics beside SeasonalNaive(7)'s on the same windows."""
    if group.result is None or group.result.groups.empty:
        return {}
    chosen: dict[str, dict[str, int]] = {}
    for target, model in zip(
        group.result.series["group"].tolist(), group.result.series["model"].tolist(), strict=True
    ):
        name = str(model) if isinstance(model, str) else "rule_based"  # no model: new series
        counts = chosen.setdefault(str(target), {})
        counts[name] = counts.get(name, 0) + 1
    out: dict[str, Any] = {}
    for row in group.result.groups.itertuples():
        target = str(row.group)
        out[target] = {
            "models": chosen.get(target, {}),
            "baseline": f"seasonal_naive_{group.config.season}",
            **{m: round(float(getattr(row, m)), 4) for m in ("mase", "wape", "cov_80", "cov_95")},
            **{
                f"baseline_{m}": round(float(getattr(row, "base_" + m)), 4)
                for m in ("mase", "wape", "cov_80", "cov_95")
            },
        }
    return out


def build_outputs(
    settings: Settings,
    *,
    as_of: datetime,
    now: datetime,
    groups: Sequence[GroupRun],
    chains: Mapping[str, ChainResult[str, pd.DataFrame]],
    model: ModelRef,
    trained_at: Mapping[str, datetime],
) -> DemandOutputs:
    """Events and prediction sets for every restaurant and granularity of the run.

    ``model`` is this run's saved version (named when only rule rungs answered);
    ``trained_at`` maps every recorded version to its creation time.
    """
    out = DemandOutputs()
    series_count: Counter[str] = Counter()
    for group in groups:
        chain = chains[group.key + group.granularity]
        backtest = backtest_summary(group)
        for r in group.restaurants:
            rows = series_rows(group, chain, r.id)
            if not rows:
                continue
            lowest = lowest_source([row["source"] for row in rows])
            # Provenance names the version that answered (the champion when the run's
            # challenger was rejected), with that version's own training time.
            version = _version(chain, model)
            ref = ModelRef(model.name, version, trained_at.get(version, model.trained_at), lowest)
            data = base_data(
                restaurant_id=r.id,
                as_of=as_of,
                generated_at=now,
                model=ref,
                granularity=group.granularity,
                horizon=group.config.h,
                backtest=backtest,
            )
            out.events.extend(
                prediction_events(
                    EVENT_TYPE,
                    data,
                    "series",
                    rows,
                    settings=settings,
                    now=now,
                    granularity=group.granularity,
                )
            )
            out.prediction_sets.append(
                PredictionSet(f"demand.{group.granularity}", r.id, {"series": rows})
            )
            series_count.update(f"{group.granularity}.{row['target']}" for row in rows)
    out.summary = run_summary(groups, series_count)
    return out


def run_summary(groups: Sequence[GroupRun], series_count: Counter[str]) -> dict[str, Any]:
    """What an operator reads first: series, models chosen, accuracy against the baseline."""
    models: Counter[str] = Counter()
    rows = []
    for group in groups:
        if group.result is None or group.result.groups.empty:
            continue
        chosen = group.result.series["model"]
        models.update(m if isinstance(m, str) else "rule_based" for m in chosen.tolist())
        rows.append(group.result.groups.assign(granularity=group.granularity))
    accuracy: dict[str, str] = {}
    if rows:
        table = pd.concat(rows, ignore_index=True)
        for (gran, target), part in table.groupby(["granularity", "group"]):
            w = part["series"].astype(float)
            mase, base = _avg(part["mase"], w), _avg(part["base_mase"], w)
            cov80, cov95 = _avg(part["cov_80"], w), _avg(part["cov_95"], w)
            accuracy[f"{gran}.{target}"] = (
                f"MASE {mase:.3f} vs {base:.3f} seasonal naive ({mase / base - 1:+.0%}), "
                f"coverage 80% {cov80:.0%}, 95% {cov95:.0%}"
            )
    return {"series": dict(series_count), "models": dict(models), "accuracy": accuracy}


def _avg(values: pd.Series, weights: pd.Series) -> float:
    return float((values.astype(float) * weights).sum() / max(float(weights.sum()), 1.0))


def _version(chain: ChainResult[str, pd.DataFrame], model: ModelRef) -> str:
    used = set(chain.sources.values())
    for rung in ("model", "previous_model"):
        label = chain.labels.get(rung)
        if rung in used and label:
            return str(label)
    return model.version or "none"
