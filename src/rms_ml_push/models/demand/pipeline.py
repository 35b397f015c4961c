"""``forecast_demand``: backtest, choose, fit, forecast and calibrate demand series.

Full run: every candidate is backtested, each series gets the cheapest near-best model,
conformal quantiles are calibrated on the chosen models' backtest residuals. Refit run:
the previous selection and calibration are reused and only the chosen models are fitted
(series the state does not know are selected as in a full run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import structlog

from rms_ml_push.models.demand.backtest import Reuse, cutoffs, run_backtest
from rms_ml_push.models.demand.calendar import HolidayCalendar, holiday_mask
from rms_ml_push.models.demand.candidates import BASELINE, GLOBAL_GBM, members
from rms_ml_push.models.demand.closures import Closures
from rms_ml_push.models.demand.conformal import calibrate
from rms_ml_push.models.demand.finalize import finalize
from rms_ml_push.models.demand.fit import fit_forecast
from rms_ml_push.models.demand.localtime import to_real_hours, to_wall_clock, wall_clock_tz
from rms_ml_push.models.demand.metrics import score_frame
from rms_ml_push.models.demand.panel import Panel, build_panel
from rms_ml_push.models.demand.prepare import (
    closed_mask,
    prepare_frame,
    prepare_info,
    series_facts,
    step_of,
)
from rms_ml_push.models.demand.screening import kept_candidates, plan_screening
from rms_ml_push.models.demand.selection import (
    _with_scale,
    choose_models,
    evaluate,
    group_metrics,
    residual_rows,
)
from rms_ml_push.models.demand.state import (
    OUTPUT_COLUMNS,
    DemandConfig,
    DemandResult,
    DemandState,
)

log = structlog.get_logger(__name__)
DESCRIPTIVE = ("group", "model", "baseline", "source")


@dataclass(frozen=True)
class _Run:
    """The prepared inputs every step of one run reads."""

    data: pd.DataFrame
    closed: np.ndarray
    details: pd.DataFrame
    config: DemandConfig
    n_jobs: int
    calendars: Mapping[str, HolidayCalendar]

    def subset(self, ids: list[str]) -> _Run:
        rows = self.data["unique_id"].isin(ids).to_numpy()
        return replace(self, data=self.data[rows].reset_index(drop=True), closed=self.closed[rows])


def forecast_demand(
    frame: pd.DataFrame,
    info: pd.DataFrame | None,
    config: DemandConfig,
    *,
    calendars: Mapping[str, HolidayCalendar] | None = None,
    closures: Closures | None = None,
    state: DemandState | None = None,
    full: bool = True,
    n_jobs: int = 1,
) -> DemandResult:
    """Forecast ``h`` steps after the end of ``frame`` for every series in it."""
    if GLOBAL_GBM in config.candidates and config.freq != "D":
        raise ValueError("the global model is daily only; drop 'gbm' from hourly candidates")
    tz = wall_clock_tz(frame, config.freq)
    if tz is not None:
        # One spare step: 168 real hours span 169 wall-clock hours in a spring week.
        real_h, config = config.h, replace(config, h=config.h + 1)
        frame = to_wall_clock(frame, tz)
    data = prepare_frame(frame, config)
    if data.empty:
        empty = pd.DataFrame({c: [] for c in OUTPUT_COLUMNS})
        state = DemandState(config.to_dict(), {}, {}, {"series": [], "groups": []})
        return DemandResult(empty, pd.DataFrame(), pd.DataFrame(), state)
    details = prepare_info(info, data["unique_id"].unique())
    calendars = calendars or {}
    closed = closed_mask(data, details, closures, config.freq)
    run = _Run(data, closed, details, config, n_jobs, calendars)
    last = data["ds"].max()
    facts = series_facts(data, run.closed, last + step_of(config), config)
    need = config.n_windows * config.h + 4 * config.season
    lengths = data.groupby("unique_id").size()
    modelled = sorted(lengths.index[(lengths >= need) & (facts["open_days"] >= config.min_history)])
    panel = _panel(run.subset(modelled))
    chosen, metrics, calibration, reuse = _choose(run, panel, modelled, state if not full else None)
    points, gbm = fit_forecast(data, chosen, panel, config, n_jobs, reuse=reuse)
    forecasts = finalize(
        data,
        details,
        facts=facts,
        points=points,
        calibration=calibration,
        closures=closures,
        config=config,
        last=last,
        modelled=modelled,
        calendars=calendars,
    )
    if tz is not None:
        forecasts = to_real_hours(forecasts, tz, last, real_h)
    series = _series_table(details, chosen, forecasts, metrics)
    groups = group_metrics(series) if "mase" in series.columns else pd.DataFrame()
    new_state = DemandState(
        config=config.to_dict(),
        selection={str(k): str(v) for k, v in chosen.items()},
        calibration=calibration,
        metrics={"series": _records(series), "groups": _records(groups)},
        gbm=gbm,
    )
    return DemandResult(forecasts, series, groups, new_state)


def _panel(run: _Run) -> Panel | None:
    needed = {m for c in run.config.candidates for m in members(c)}
    if GLOBAL_GBM not in needed or run.data.empty:
        return None
    codes = {g: i for i, g in enumerate(sorted(run.details["group"].astype(str).unique()))}
    return build_panel(
        run.data,
        pd.Series(run.closed),
        run.details.assign(group=run.details["group"].astype(str)),
        calendars=run.calendars,
        h=run.config.h,
        group_codes=codes,
    )


def _choose(
    run: _Run, panel: Panel | None, modelled: list[str], state: DemandState | None
) -> tuple[pd.Series, pd.DataFrame, dict[str, Any], Reuse]:
    """Selection, backtest metrics, calibration (reused from ``state`` where it has them)
    and the backtest's fits that the final forecast can reuse."""
    known = state.selection if state is not None else {}
    kept = pd.Series({u: known[u] for u in modelled if u in known}, dtype=object)
    fresh = [u for u in modelled if u not in known]
    calibration: dict[str, Any] = dict(state.calibration) if state is not None else {}
    metrics = pd.DataFrame()
    reuse = Reuse()
    if fresh:
        picked, metrics, table, reuse = _select(run.subset(fresh), panel)
        kept = pd.concat([kept, picked]) if len(kept) else picked
        calibration = {**table, **calibration}
    if state is not None:
        old = pd.DataFrame(state.metrics.get("series", []))
        if not old.empty:
            old = old.set_index("unique_id").drop(columns=list(DESCRIPTIVE), errors="ignore")
            old = old.drop(index=fresh, errors="ignore")
            metrics = pd.concat([df for df in (old, metrics) if not df.empty])
    return kept.astype(str), metrics, calibration, reuse


def _select(
    run: _Run, panel: Panel | None
) -> tuple[pd.Series, pd.DataFrame, dict[str, Any], Reuse]:
    config = run.config
    first = cutoffs(run.data["ds"].max(), config)[0]
    facts = series_facts(run.data, run.closed, first + step_of(config), config)
    groups = run.details["group"].astype(str)
    ids = sorted(run.data["unique_id"].unique())
    plan = plan_screening(groups.reindex(ids), config.screen_sample)
    reuse = Reuse()
    parts = [_backtest(run.subset(plan.sample), panel, config.candidates, facts, reuse)]
    chosen = _choose_on(parts[0], facts, groups, config)
    for group, rest in plan.rest.items():
        in_group = chosen[groups.reindex(chosen.index).to_numpy() == group]
        keep = kept_candidates(in_group, config.candidates, config.screen_min_share)
        log.info("demand.screened", group=group, sample=len(in_group), kept=list(keep))
        parts.append(_backtest(run.subset(rest), panel, keep, facts, reuse))
    bt = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    chosen = _choose_on(bt, facts, groups, config) if len(parts) > 1 else chosen
    metrics = evaluate(bt, chosen)
    calibration = calibrate(_with_scale(residual_rows(bt, chosen)))
    log.info("demand.selected", series=len(chosen), models=chosen.value_counts().to_dict())
    return chosen, metrics, calibration, reuse


def _backtest(
    run: _Run,
    panel: Panel | None,
    candidates: tuple[str, ...],
    facts: pd.DataFrame,
    reuse: Reuse,
) -> pd.DataFrame:
    """The backtest of ``candidates`` on ``run``'s series, open days only, scored columns."""
    config = replace(run.config, candidates=candidates)
    bt = run_backtest(run.data, panel, config, run.n_jobs, reuse=reuse)
    shut = pd.Series(run.closed, index=pd.MultiIndex.from_frame(run.data[["unique_id", "ds"]]))
    bt = bt[~shut.reindex(pd.MultiIndex.from_frame(bt[["unique_id", "ds"]])).to_numpy(bool)]
    bt = bt.join(facts[["scale", "level"]], on="unique_id").join(
        run.details[["group", "is_count"]], on="unique_id"
    )
    bt["holiday"] = holiday_mask(bt, run.details["calendar_key"], run.calendars)
    models = [m for m in candidates if m in bt.columns]
    bt[models] = bt[models].clip(lower=0.0)
    return bt


def _choose_on(
    bt: pd.DataFrame, facts: pd.DataFrame, groups: pd.Series, config: DemandConfig
) -> pd.Series:
    models = [m for m in config.candidates if m in bt.columns]
    return choose_models(
        score_frame(bt, models),
        facts["sparse"],
        groups,
        candidates=tuple(models),
        tolerance=config.tie_tolerance,
        switch_margin=config.switch_margin,
    )


def _series_table(
    details: pd.DataFrame, chosen: pd.Series, forecasts: pd.DataFrame, metrics: pd.DataFrame
) -> pd.DataFrame:
    rung_order = {"model": 0, "previous_model": 1, "rule_based": 2, "default": 3}
    source = forecasts.groupby("unique_id")["source"].agg(
        lambda s: max(s, key=lambda v: rung_order[v])
    )
    table = pd.DataFrame({"group": details["group"].astype(str)})
    table["model"] = chosen.reindex(table.index)
    table["baseline"] = BASELINE
    table["source"] = source.reindex(table.index)
    table = table.join(metrics) if not metrics.empty else table
    return table.rename_axis("unique_id")


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    out = table.reset_index().astype(object)
    out = out.astype(object).where(pd.notna(out))
    out = out.replace({np.nan: None})
    return [{str(k): v for k, v in row.items()} for row in out.to_dict(orient="records")]
