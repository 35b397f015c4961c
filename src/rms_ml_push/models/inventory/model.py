"""The consumption model (``inventory_optimization`` in the registry) and the chain's rungs.

Per restaurant and inventory item the model keeps what the backtest chose: which history
feeds the item (``recipes``: demand x recipes, ``movements``: observed sale + waste), the
smoother's ``alpha`` and ``gamma``, and the per-day error sigma measured on the backtest
windows. Prediction re-reads the current history (so a previous version still forecasts
from today's data):

* ``recipes`` items use the menu-item demand forecast x recipes where the demand forecast
  of the same ``as_of`` is there (intervals propagated), else the smoother over the
  line-derived history;
* ``movements`` items use the smoother over the movement history.

The rule rung is the same-weekday mean of the last 4 weeks (sigma from its own recent
errors); the default rung is zero use. Items without any recorded use and without a
demand-based forecast are left to the default rung. Pure and picklable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rms_ml_push.models.inventory.history import History, HistorySource
from rms_ml_push.models.inventory.smoothing import (
    actuals,
    backtest_origins,
    same_weekday,
    same_weekday_past,
    sigma_increments,
    smooth,
)

F64 = npt.NDArray[np.float64]
Forecast = tuple[F64, F64]  # (mean, sigma) per day from day 0
RULE_ERROR_ORIGINS = 28


@dataclass(frozen=True)
class ItemFit:
    """What the backtest chose for one item."""

    source: HistorySource
    alpha: float
    gamma: float
    sigma: tuple[float, ...]  # forecast error RMSE per horizon day


@dataclass(frozen=True)
class RestaurantInputs:
    """Everything a forecast of one restaurant reads; histories share ``item_ids``."""

    restaurant_id: int
    histories: Mapping[HistorySource, History]
    demand: Mapping[int, Forecast] = field(default_factory=dict)

    @property
    def target(self) -> History:
        """Observed consumption: movements where the table exists, else recipes."""
        return self.histories.get("movements") or self.histories["recipes"]

    def has_use(self, item_id: int) -> bool:
        """Whether the item has any recorded use in the target history."""
        target = self.target
        return item_id in target.item_ids and bool(np.any(target.column(item_id) != 0))


@dataclass(frozen=True)
class ConsumptionModel:
    """Chosen fits per restaurant and item."""

    fits: Mapping[int, Mapping[int, ItemFit]]
    horizon_days: int

    def predict(
        self, inputs: RestaurantInputs, item_ids: Sequence[int], length: int
    ) -> dict[int, Forecast]:
        """``(mean, sigma)`` of ``length`` days per item the model covers."""
        fits = self.fits.get(inputs.restaurant_id, {})
        out: dict[int, Forecast] = {}
        smoothed: dict[HistorySource, list[int]] = {}
        for item in item_ids:
            fit = fits.get(item)
            if (fit is None or fit.source == "recipes") and item in inputs.demand:
                # A dish's forecast needs no fitted parameters: new items get it too.
                mean, sigma = inputs.demand[item]
                out[item] = (mean[:length], sigma[:length])
            elif fit is not None and inputs.has_use(item) and fit.source in inputs.histories:
                smoothed.setdefault(fit.source, []).append(item)
        for source, items in smoothed.items():
            out.update(self._smooth(inputs.histories[source], fits, items, length))
        return out

    def _smooth(
        self, history: History, fits: Mapping[int, ItemFit], items: list[int], length: int
    ) -> dict[int, Forecast]:
        cols = [history.item_ids.index(i) for i in items]
        alpha = np.array([fits[i].alpha for i in items])
        gamma = np.array([fits[i].gamma for i in items])
        y = history.values[:, cols]
        mean, _ = smooth(y, history.first_day.weekday(), alpha, gamma, horizon=length)
        return {
            item: (mean[:, j], stretch(np.array(fits[item].sigma), length))
            for j, item in enumerate(items)
        }


def usable_forecast(length: int) -> Callable[[Forecast], bool]:
    """The chain's check: a mean and a sigma of ``length`` finite numbers each."""

    def check(value: Forecast) -> bool:
        mean, sigma = value
        return bool(
            len(mean) == length
            and len(sigma) == length
            and np.isfinite(mean).all()
            and np.isfinite(sigma).all()
        )

    return check


def stretch(values: F64, length: int) -> F64:
    """``values`` cut or extended to ``length`` by repeating the last (0 when empty)."""
    if len(values) == 0:
        return np.zeros(length)
    if len(values) >= length:
        return values[:length]
    return np.concatenate([values, np.full(length - len(values), values[-1])])


def rule_forecast(
    inputs: RestaurantInputs, item_ids: Sequence[int], length: int
) -> dict[int, Forecast]:
    """Same-weekday mean of the last 4 weeks of observed use; sigma from its recent errors."""
    target = inputs.target
    items = [i for i in item_ids if inputs.has_use(i)]
    if not items or target.days == 0:
        return {}
    y = target.values[:, [target.item_ids.index(i) for i in items]]
    mean = same_weekday(y, target.days, length)
    sigma = _rule_sigma(y, length)
    return {
        item: (mean[:, j], sigma[:, j])
        for j, item in enumerate(items)
        if np.isfinite(mean[:, j]).all()
    }


def _rule_sigma(y: F64, length: int) -> F64:
    """The rule's sigma from its recent windows (std of use when the history is too short)."""
    horizon = min(length, 14)
    origins = backtest_origins(len(y), horizon, RULE_ERROR_ORIGINS)
    if not origins:
        return np.tile(y.std(axis=0), (length, 1)) if len(y) else np.zeros((length, y.shape[1]))
    errors = same_weekday_past(y, origins, horizon) - actuals(y, origins, horizon)
    rmse = sigma_increments(errors)
    return np.vstack([rmse, np.tile(rmse[-1], (length - horizon, 1))]) if length > horizon else rmse
