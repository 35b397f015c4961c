"""The demand forecasting job: restaurant totals and menu items (daily), orders (hourly).

    extract + clean (demand_data) -> challenger: forecast_demand (full: select by
    backtest; plain: refit the champion's choice) -> registry.save (promotion gate)
    -> forecasts through the fallback chain (latest -> previous -> same-weekday mean -> 0)
    -> demand.forecast.updated per restaurant and granularity, model.trained, and the
    prediction sets kitchen and inventory read.

Restaurants are forecast in groups that share day 0 (and hour 0): the models see one
calendar per call, and a chain spanning time zones may have restaurants a day apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from rms_ml_push.config import Settings
from rms_ml_push.errors import ModelNotFoundError
from rms_ml_push.features import calendar
from rms_ml_push.features.holidays import holiday_place
from rms_ml_push.jobs.common import JobResources, ModelRef, model_trained_event, open_resources
from rms_ml_push.jobs.demand_data import DemandInputs, Restaurant, load_inputs
from rms_ml_push.jobs.demand_output import build_outputs, series_rows
from rms_ml_push.jobs.runtime import JobRequest, JobResult
from rms_ml_push.logs import get_logger
from rms_ml_push.models.demand import (
    DemandConfig,
    DemandResult,
    DemandState,
    HolidayCalendar,
    detect_closures,
    forecast_demand,
)
from rms_ml_push.models.demand.rules import poisson_intervals, same_weekday_mean
from rms_ml_push.models.fallback import ChainResult, Rung, constant_rung, run_chain
from rms_ml_push.models.lifecycle import BacktestMetrics, Version
from rms_ml_push.store.registry import LoadedModel, SaveResult, TrainedModel, TrainingWindow

MODEL_NAME = "demand_forecasting"
OUTPUT_SCHEMA = "1"
Granularity = Literal["day", "hour"]
FORECAST_COLUMNS = ["ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "source"]


@dataclass
class GroupRun:
    """One group of restaurants sharing day 0 / hour 0, and the challenger's forecasts."""

    key: str
    restaurants: list[Restaurant]
    granularity: Granularity
    frame: pd.DataFrame
    info: pd.DataFrame
    config: DemandConfig
    calendars: dict[str, HolidayCalendar]
    active_items: set[int]
    result: DemandResult | None = None


def compute(settings: Settings, request: JobRequest, run_id: str) -> JobResult:
    """One demand run (see the module docstring)."""
    with open_resources(settings) as res:
        inputs = load_inputs(res, request.as_of, request.restaurants)
        if inputs.daily.empty:
            # Nothing before as_of (a new RMS, an as_of before the first order): nothing to
            # train on or forecast; a succeeded run that says so, not a failure every day.
            get_logger(__name__).warning(
                "demand_no_history",
                as_of=request.as_of.isoformat(),
                restaurants=request.restaurants,
            )
            return JobResult(
                quality=inputs.quality.counts(),
                summary={"series": 0, "reason": "no order history before as_of"},
                model_name=MODEL_NAME,
            )
        groups = group_runs(settings, inputs, request.as_of)
        champion = None if request.full else _champion_states(res)
        full = champion is None
        for group in groups:
            state = (champion or {}).get(group.granularity, {}).get(group.key)
            group.result = _forecast(group, group.frame, state, full=state is None)
        saved = _save(res, request, run_id, groups, inputs)
        loaded: dict[Version, LoadedModel] = {}
        chains = {
            g.key + g.granularity: _chain(res, g, saved, request.as_of, loaded) for g in groups
        }
        now = res.clock.now()
        outputs = build_outputs(
            settings,
            as_of=request.as_of,
            now=now,
            groups=groups,
            chains=chains,
            model=_model_ref(saved),
            trained_at={str(v.version): v.created_at for v in res.registry.versions(MODEL_NAME)},
        )
        events = [*outputs.events, model_trained_event(saved, settings=settings, now=now)]
        counts = _fallback_counts(chains.values())
        return JobResult(
            events=events,
            quality=inputs.quality.counts(),
            metrics=dict(saved.metrics),
            summary={
                **outputs.summary,
                "full": full,
                "promoted": saved.promoted,
                "gate": saved.reason,
            },
            model_name=MODEL_NAME,
            model_version=str(saved.version),
            fallback_counts=counts,
            prediction_sets=outputs.prediction_sets,
        )


def forecast_on_the_spot(
    resources: JobResources, *, as_of: datetime, restaurant_id: int, granularity: Granularity
) -> list[dict[str, Any]]:
    """A restaurant's series for ``as_of`` from the registry's models; nothing saved or pushed."""
    inputs = load_inputs(resources, as_of, [restaurant_id])
    every = group_runs(resources.settings, inputs, as_of)
    groups = [g for g in every if g.granularity == granularity]
    champion = _champion_states(resources)
    series: list[dict[str, Any]] = []
    for group in groups:
        state = (champion or {}).get(granularity, {}).get(group.key)
        group.result = _forecast(group, group.frame, state, full=state is None)
        chain = _chain(resources, group, None, as_of)
        series.extend(series_rows(group, chain, restaurant_id))
    return series


def group_runs(settings: Settings, inputs: DemandInputs, as_of: datetime) -> list[GroupRun]:
    """The run's groups: restaurants sharing day 0, daily, and per time zone hourly."""
    by_day: dict[date, list[Restaurant]] = {}
    for r in inputs.restaurants:
        by_day.setdefault(calendar.day0(as_of, r.timezone), []).append(r)
    reference = as_of.date()
    menu = inputs.menu_items
    active = set(menu.loc[menu["is_active"].astype(bool), "id"].astype(int).tolist())
    groups = []
    for day, members in sorted(by_day.items()):
        key = f"{(day - reference).days:+d}"
        prefixes = tuple(f"r{r.id}|" for r in members)
        cal = _calendars(settings, members)
        daily = inputs.daily[inputs.daily["unique_id"].str.startswith(prefixes)]
        hourly = inputs.hourly[inputs.hourly["unique_id"].str.startswith(prefixes)]
        info = inputs.info[inputs.info["unique_id"].str.startswith(prefixes)]
        groups.append(GroupRun(key, members, "day", daily, info, DemandConfig.daily(), cal, active))
        groups.extend(_hourly_groups(key, members, hourly, info=info, cal=cal, active=active))
    return groups


def _hourly_groups(
    key: str,
    members: Sequence[Restaurant],
    hourly: pd.DataFrame,
    *,
    info: pd.DataFrame,
    cal: dict[str, HolidayCalendar],
    active: set[int],
) -> list[GroupRun]:
    """One hourly group per time zone, modelled on that zone's wall clock, so that
    same-hour-last-week stays the same local hour across a DST change."""
    groups = []
    for tz in sorted({r.timezone for r in members}):
        zone_members = [r for r in members if r.timezone == tz]
        prefixes = tuple(f"r{r.id}|" for r in zone_members)
        rows = hourly[hourly["unique_id"].str.startswith(prefixes)]
        frame = rows.assign(ds=pd.DatetimeIndex(rows["ds"]).tz_convert(tz))
        groups.append(
            GroupRun(
                f"{key}|{tz}",
                zone_members,
                "hour",
                frame[["unique_id", "ds", "y"]],
                info,
                DemandConfig.hourly(),
                cal,
                active,
            )
        )
    return groups


def _calendars(settings: Settings, members: Sequence[Restaurant]) -> dict[str, HolidayCalendar]:
    out = {}
    for r in members:
        out[str(r.id)] = HolidayCalendar(*holiday_place(settings.holidays, r.id))
    return out


def _forecast(
    group: GroupRun, frame: pd.DataFrame, state: DemandState | None, *, full: bool
) -> DemandResult:
    totals = frame[frame["unique_id"].str.endswith("|orders")]
    closure_frame = totals.assign(unique_id=totals["unique_id"].str.split("|").str[0].str[1:])
    freq = "D" if group.granularity == "day" else "h"
    closures = detect_closures(closure_frame, freq=freq, calendars=group.calendars)
    return forecast_demand(
        frame,
        group.info,
        group.config,
        calendars=group.calendars,
        closures=closures,
        state=state,
        full=full,
    )


def _champion_states(res: JobResources) -> dict[str, dict[str, DemandState]] | None:
    """The promoted version's fitted states; None when there is none or it cannot load."""
    if res.registry.latest_version(MODEL_NAME) is None:
        return None
    try:
        return _states(res.registry.load_latest(MODEL_NAME))
    except Exception as exc:  # a broken champion means: select afresh (logged, not fatal)
        get_logger(__name__).warning(
            "demand_champion_unavailable", error=f"{type(exc).__name__}: {exc}"
        )
        return None


def _states(loaded: LoadedModel) -> dict[str, dict[str, DemandState]]:
    model = loaded.model
    if not isinstance(model, dict):
        raise ModelNotFoundError(f"{MODEL_NAME} {loaded.version}: unexpected model object")
    return model


def _save(
    res: JobResources,
    request: JobRequest,
    run_id: str,
    groups: Sequence[GroupRun],
    inputs: DemandInputs,
) -> SaveResult:
    states: dict[str, dict[str, DemandState]] = {"day": {}, "hour": {}}
    for g in groups:
        if g.result is not None:
            states[g.granularity][g.key] = g.result.state
    metrics = _backtest_metrics(groups)
    daily = inputs.daily
    first = pd.Timestamp(daily["ds"].min()).date() if not daily.empty else request.as_of.date()
    last = pd.Timestamp(daily["ds"].max()).date() if not daily.empty else request.as_of.date()
    config = DemandConfig.daily().to_dict()
    trained = TrainedModel(
        name=MODEL_NAME,
        model=states,
        metrics=metrics,
        window=TrainingWindow(as_of=request.as_of, history_start=first, history_end=last),
        data_fingerprint=_fingerprint(daily),
        features=("calendar", "holidays", "closures", "lags", "series_level"),
        hyper_parameters={"daily": config, "hourly": DemandConfig.hourly().to_dict()},
        output_schema=OUTPUT_SCHEMA,
        run_id=run_id,
    )
    return res.registry.save(trained)


def _backtest_metrics(groups: Sequence[GroupRun]) -> BacktestMetrics:
    model: dict[str, float] = {}
    baseline: dict[str, float] = {}
    frames = [
        g.result.groups.assign(freq=g.granularity)
        for g in groups
        if g.result is not None and not g.result.groups.empty
    ]
    if frames:
        table = pd.concat(frames, ignore_index=True)
        daily = table[table["freq"] == "day"]
        weights = daily["series"].astype(float)
        if weights.sum() > 0:
            for metric in ("mase", "wape", "cov_80", "cov_95"):
                model[metric] = float(np.average(daily[metric], weights=weights))
                baseline[metric] = float(np.average(daily["base_" + metric], weights=weights))
        for row in table.itertuples():
            prefix = f"{row.freq}.{row.group}"
            for metric in ("mase", "wape", "cov_80", "cov_95"):
                model[f"{prefix}.{metric}"] = float(getattr(row, metric))
                baseline[f"{prefix}.{metric}"] = float(getattr(row, "base_" + metric))
    return BacktestMetrics(
        metric="mase", model=model, baseline=baseline, baseline_name="seasonal_naive_7"
    )


def _fingerprint(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    if not frame.empty:
        hashed = pd.util.hash_pandas_object(frame[["unique_id", "ds", "y"]], index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


def _chain(
    res: JobResources,
    group: GroupRun,
    saved: SaveResult | None,
    as_of: datetime,
    loaded: dict[Version, LoadedModel] | None = None,
) -> ChainResult[str, pd.DataFrame]:
    uids = sorted(group.frame["unique_id"].unique().tolist())

    def from_model(loaded: LoadedModel, keys: Sequence[str]) -> Mapping[str, pd.DataFrame]:
        if saved is not None and saved.promoted and loaded.version == saved.version:
            result = group.result  # this run's challenger is the champion now
        else:
            state = _states(loaded)[group.granularity].get(group.key)
            if state is None:
                raise ModelNotFoundError(f"version {loaded.version} has no group {group.key}")
            subset = group.frame[group.frame["unique_id"].isin(keys)]
            result = _forecast(group, subset, state, full=False)
        if result is None:
            raise ModelNotFoundError("no forecast")
        return _by_series(result.forecasts, keys)

    rungs: list[Rung[str, pd.DataFrame]] = [
        *res.registry.model_rungs(MODEL_NAME, from_model, loaded=loaded),
        Rung("rule_based", lambda keys: _same_season_mean(group, keys, as_of)),
        constant_rung(_zeros(group, as_of)),
    ]
    return run_chain(uids, rungs, usable=lambda frame: _usable(frame, group.config.h))


def _by_series(forecasts: pd.DataFrame, keys: Sequence[str]) -> dict[str, pd.DataFrame]:
    wanted = set(keys)
    return {
        str(uid): rows[FORECAST_COLUMNS].reset_index(drop=True)
        for uid, rows in forecasts.groupby("unique_id")
        if uid in wanted
    }


def _usable(frame: pd.DataFrame, h: int) -> bool:
    values = frame[["yhat", "lo_80", "hi_80", "lo_95", "hi_95"]].to_numpy(dtype=float)
    return len(frame) == h and bool(np.isfinite(values).all())


def _future_index(group: GroupRun, as_of: datetime) -> pd.DatetimeIndex:
    tz = group.restaurants[0].timezone
    if group.granularity == "day":
        return pd.DatetimeIndex(pd.to_datetime(calendar.forecast_days(as_of, tz, group.config.h)))
    return calendar.forecast_hours(as_of, tz, group.config.h).tz_convert(tz)


def _same_season_mean(
    group: GroupRun, keys: Sequence[str], as_of: datetime
) -> dict[str, pd.DataFrame]:
    """Rule-based rung: the same weekday (hour of the week) over the last four weeks."""
    future = _future_index(group, as_of)
    h, season = group.config.h, group.config.season
    histories = {
        str(uid): part.sort_values("ds")["y"].to_numpy()
        for uid, part in group.frame[group.frame["unique_id"].isin(keys)].groupby("unique_id")
    }
    return {
        uid: _rule_frame(
            future, same_weekday_mean(histories.get(uid, np.zeros(0)), season, h), "rule_based"
        )
        for uid in keys
    }


def _zeros(group: GroupRun, as_of: datetime) -> pd.DataFrame:
    future = _future_index(group, as_of)
    return _rule_frame(future, np.zeros(len(future)), "default")


def _rule_frame(future: pd.DatetimeIndex, yhat: np.ndarray, source: str) -> pd.DataFrame:
    frame = pd.DataFrame({"ds": future, "yhat": np.round(yhat, 2)})
    return poisson_intervals(frame).assign(source=source)[FORECAST_COLUMNS]


def _model_ref(saved: SaveResult) -> ModelRef:
    return ModelRef(MODEL_NAME, str(saved.version), saved.created_at, "model")


def _fallback_counts(chains: Iterable[ChainResult[str, pd.DataFrame]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for chain in chains:
        for source, count in chain.counts.items():
            totals[source] = totals.get(source, 0) + count
    return totals
