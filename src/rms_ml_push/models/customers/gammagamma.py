"""Gamma-Gamma model of spend per purchase occasion.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", J. Marketing Research 42(4); and Fader & Hardie's note "The Gamma-Gamma Model
of Monetary Value" (2013). Each occasion's spend is Gamma(p, nu) with the customer's
``nu ~ Gamma(q, gamma)``; the model is fitted on the mean spend ``m_x`` of the ``x``
repeat occasions of customers with x > 0. It assumes spend independent of frequency.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import gammaln

from rms_ml_push.errors import FitError

FloatArray = NDArray[np.float64]
_LOG_BOUND = (np.log(1e-4), np.log(1e6))


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted population parameters (``q > 1`` so that the mean spend is finite)."""

    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        """Parameters as a plain dict (for the registry's metadata)."""
        return {"p": self.p, "q": self.q, "gamma": self.gamma}

    @property
    def population_mean(self) -> float:
        """E[spend per occasion] of a customer we know nothing about."""
        return self.p * self.gamma / (self.q - 1.0)


def log_likelihood(
    params: GammaGammaParams | tuple[float, float, float], x: ArrayLike, m_x: ArrayLike
) -> FloatArray:
    """Per-customer log-density of the observed mean spend ``m_x`` given ``x`` repeats."""
    p, q, g = (params.p, params.q, params.gamma) if isinstance(params, GammaGammaParams) else params
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(m_x, dtype=np.float64)
    px = p * xs
    value = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1.0) * np.log(ms)
        + px * np.log(xs)
        - (px + q) * np.log(g + ms * xs)
    )
    return np.asarray(value, dtype=np.float64)


def _objective(theta: NDArray[np.float64], x: FloatArray, m_x: FloatArray) -> float:
    p, q_minus_one, g = np.exp(theta)
    return -float(np.mean(log_likelihood((p, 1.0 + q_minus_one, g), x, m_x)))


def fit(x: ArrayLike, m_x: ArrayLike) -> GammaGammaParams:
    """Maximum-likelihood fit over customers with x > 0 and m_x > 0 (others are ignored).

    ``q`` is parametrised as ``1 + exp(theta)`` so that the population mean exists.
    Raises :class:`FitError` with fewer than 3 usable customers.
    """
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(m_x, dtype=np.float64)
    usable = (xs > 0) & (ms > 0) & np.isfinite(ms)
    if int(usable.sum()) < 3:
        raise FitError("Gamma-Gamma: fewer than 3 customers with repeat purchases")
    xs, ms = xs[usable], ms[usable]
    mean = float(np.mean(ms))
    # Method-of-moments-ish start: p ~ 1, q ~ 2, gamma ~ mean spend.
    start = np.log(np.array([1.0, 1.0, max(mean, 1e-3)]))
    result = minimize(_objective, start, args=(xs, ms), method="L-BFGS-B", bounds=[_LOG_BOUND] * 3)
    if not np.all(np.isfinite(result.x)):
        raise FitError(f"Gamma-Gamma: optimiser failed ({result.message})")
    p, q_minus_one, g = (float(v) for v in np.exp(result.x))
    return GammaGammaParams(p=p, q=1.0 + q_minus_one, gamma=g)


def expected_spend_per_occasion(
    params: GammaGammaParams, x: ArrayLike, m_x: ArrayLike
) -> FloatArray:
    """E[M | x, m_x]: a weighted mean of the population mean and the customer's own mean.

    Customers with x = 0 (or no usable spend) get the population mean.
    """
    xs = np.asarray(x, dtype=np.float64)
    ms = np.asarray(m_x, dtype=np.float64)
    known = (xs > 0) & (ms > 0) & np.isfinite(ms)
    px = params.p * np.where(known, xs, 0.0)
    weight_own = px / (px + params.q - 1.0)
    own = np.where(known, ms, 0.0)
    value = (1.0 - weight_own) * params.population_mean + weight_own * own
    return np.asarray(value, dtype=np.float64)
