"""BG/NBD ("beta-geometric / negative binomial") purchase model.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
Way: An Alternative to the Pareto/NBD Model. Marketing Science 24(2), 275-284.

While alive a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each
repeat purchase she drops out with probability ``p ~ Beta(a, b)``. Per customer the data
are ``x`` (repeat purchases), ``t_x`` (time of the last one) and ``T`` (age), all in the
same time unit, measured from the first purchase. Everything here is vectorised over
customers; there is no per-customer Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import digamma, gammaln, hyp2f1

from rms_ml_push.errors import FitError

FloatArray = NDArray[np.float64]
# Log-parameter box for L-BFGS-B: keeps exp() finite and the optimiser away from the
# degenerate corners (a -> 0 means "nobody ever drops out", alpha -> inf "nobody buys").
_LOG_BOUND = (np.log(1e-4), np.log(1e5))


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted population parameters; ``alpha`` is in the time unit of the fit."""

    r: float
    alpha: float
    a: float
    b: float
    time_unit_days: float = 7.0

    def as_dict(self) -> dict[str, float]:
        """Parameters as a plain dict (for the registry's metadata)."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


def _arrays(x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> tuple[FloatArray, ...]:
    return (
        np.asarray(x, dtype=np.float64),
        np.asarray(t_x, dtype=np.float64),
        np.asarray(big_t, dtype=np.float64),
    )


def _log_terms(
    theta: tuple[float, float, float, float], x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``ln A1 + ln A2``, ``ln A3`` and ``ln A4`` (-inf where x = 0) of the paper's eq. (6)."""
    r, alpha, a, b = theta
    a12 = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + big_t)
    has_repeat = x > 0
    # B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1); only defined (and only used) for x > 0.
    safe_bx = np.where(has_repeat, b + x - 1.0, 1.0)
    a4 = np.where(
        has_repeat,
        np.log(a) - np.log(safe_bx) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a12, a3, a4


def log_likelihood(
    params: BgNbdParams | tuple[float, float, float, float],
    x: ArrayLike,
    t_x: ArrayLike,
    big_t: ArrayLike,
) -> FloatArray:
    """Per-customer log-likelihood ``ln L(r, alpha, a, b | x, t_x, T)`` (paper eq. 6)."""
    r, alpha, a, b = _unpack(params)
    xs, txs, ts = _arrays(x, t_x, big_t)
    a12, a3, a4 = _log_terms((r, alpha, a, b), xs, txs, ts)
    return np.asarray(a12 + np.logaddexp(a3, a4), dtype=np.float64)


def _unpack(params: BgNbdParams | tuple[float, float, float, float]) -> tuple[float, ...]:
    if isinstance(params, BgNbdParams):
        return params.r, params.alpha, params.a, params.b
    return tuple(float(v) for v in params)


def _neg_ll_and_grad(
    log_params: FloatArray,
    data: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    penalizer: float,
) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood and its analytic gradient in log-parameters."""
    x, t_x, big_t, weights = data
    r, alpha, a, b = (float(v) for v in np.exp(log_params))
    a12, a3, a4 = _log_terms((r, alpha, a, b), x, t_x, big_t)
    lse = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - lse)  # share of the "still alive at T" term
    w4 = np.exp(a4 - lse)  # share of the "dropped out after t_x" term (0 when x = 0)
    log_at = np.log(alpha + big_t)
    log_atx = np.log(alpha + t_x)
    safe_bx = np.where(x > 0, b + x - 1.0, 1.0)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_at - w4 * log_atx
    d_alpha = r / alpha - w3 * (r + x) / (alpha + big_t) - w4 * (r + x) / (alpha + t_x)
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(a + b) + digamma(b + x) - digamma(b) - digamma(a + b + x) - w4 / safe_bx
    total_w = weights.sum()
    ll = float(np.dot(weights, a12 + lse)) / total_w
    grads = np.array([np.dot(weights, g) for g in (d_r, d_alpha, d_a, d_b)]) / total_w
    theta = np.array([r, alpha, a, b])
    value = -ll + penalizer * float(np.sum(theta**2))
    grad_log = -(grads * theta) + penalizer * 2.0 * theta**2
    return value, np.asarray(grad_log, dtype=np.float64)


def _compress(
    x: FloatArray, t_x: FloatArray, big_t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Collapse identical (x, t_x, T) rows into one weighted row: a large speed-up on
    real logs, where many customers share a first-purchase day and have no repeats."""
    stacked = np.column_stack([x, t_x, big_t])
    unique, counts = np.unique(stacked, axis=0, return_counts=True)
    return unique[:, 0], unique[:, 1], unique[:, 2], counts.astype(np.float64)


def fit(
    x: ArrayLike,
    t_x: ArrayLike,
    big_t: ArrayLike,
    *,
    time_unit_days: float = 7.0,
    penalizer: float = 0.0,
    initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0),
) -> BgNbdParams:
    """Maximum-likelihood fit by L-BFGS-B on log-parameters with the analytic gradient.

    Raises :class:`FitError` when there is nothing to fit or the optimiser fails.
    """
    xs, txs, ts = _arrays(x, t_x, big_t)
    if xs.size == 0:
        raise FitError("BG/NBD: no customers to fit")
    if np.any(ts <= 0) or np.any(txs > ts) or np.any(xs < 0):
        raise FitError("BG/NBD: need T > 0, 0 <= t_x <= T and x >= 0 for every customer")
    ux, utx, ut, w = _compress(xs, txs, ts)
    # Start alpha near the data's time scale so the first steps are not wasted.
    start = np.log(np.array(initial) * np.array([1.0, max(float(np.mean(ts)), 1e-3), 1.0, 1.0]))
    result = minimize(
        _neg_ll_and_grad,
        start,
        args=((ux, utx, ut, w), penalizer),
        jac=True,
        method="L-BFGS-B",
        bounds=[_LOG_BOUND] * 4,
        options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-8},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise FitError(f"BG/NBD: optimiser failed ({result.message})")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, time_unit_days=time_unit_days)


def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike) -> FloatArray:
    """P(alive at T | x, t_x, T) (paper eq. 11); exactly 1 for x = 0."""
    xs, txs, ts = _arrays(x, t_x, big_t)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    safe_bx = np.where(xs > 0, b + xs - 1.0, 1.0)
    log_odds = np.log(a) - np.log(safe_bx) + (r + xs) * (np.log(alpha + ts) - np.log(alpha + txs))
    odds_dead = np.where(xs > 0, np.exp(np.minimum(log_odds, 700.0)), 0.0)
    return np.asarray(1.0 / (1.0 + odds_dead), dtype=np.float64)


def p_no_purchase(
    params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> FloatArray:
    """P(no purchase in (T, T + t]) = 1 - P(alive) + P(alive) * P(0 in t | alive).

    Given alive, the posterior rate is Gamma(r + x, alpha + T), and a BG/NBD customer
    can only drop out right after a purchase, so P(0 in t | alive) is the
    negative-binomial zero term ``((alpha + T) / (alpha + T + t)) ** (r + x)``.
    """
    xs, txs, ts = _arrays(x, t_x, big_t)
    alive = p_alive(params, xs, txs, ts)
    zero_given_alive = np.exp(
        (params.r + xs) * np.log((params.alpha + ts) / (params.alpha + ts + t))
    )
    return np.asarray(1.0 - alive + alive * zero_given_alive, dtype=np.float64)


def expected_purchases(
    params: BgNbdParams, t: float, x: ArrayLike, t_x: ArrayLike, big_t: ArrayLike
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (paper eq. 10)."""
    xs, txs, ts = _arrays(x, t_x, big_t)
    r, alpha, b = params.r, params.alpha, params.b
    a = _away_from_one(params.a)
    z = t / (alpha + ts + t)
    given_alive = (a + b + xs - 1.0) / (a - 1.0) * (1.0 - _ratio_times_hyp(r, a, b, xs, z))
    value = given_alive * p_alive(params, xs, txs, ts)
    # Should hyp2f1 still lose all precision, fall back to the alive-posterior rate times
    # t: an upper bound that ignores dropout inside the window.
    fallback = p_alive(params, xs, txs, ts) * (r + xs) / (alpha + ts) * t
    bad = ~np.isfinite(value) | (value < 0)
    return np.asarray(np.where(bad, fallback, value), dtype=np.float64)


def expected_purchases_population(params: BgNbdParams, t: ArrayLike) -> FloatArray:
    """E[X(t)]: expected repeat purchases of a new customer in (0, t] (paper eq. 7)."""
    ts = np.asarray(t, dtype=np.float64)
    r, alpha, b = params.r, params.alpha, params.b
    a = _away_from_one(params.a)
    z = ts / (alpha + ts)
    value = (a + b - 1.0) / (a - 1.0) * (1.0 - _ratio_times_hyp(r, a, b, np.zeros_like(z), z))
    return np.asarray(value, dtype=np.float64)


def _ratio_times_hyp(r: float, a: float, b: float, x: FloatArray, z: FloatArray) -> FloatArray:
    """``(1-z)**(r+x) * 2F1(r+x, b+x; a+b+x-1; z)`` of eq. 7 / 10, where ``1 - z`` is
    ``(alpha+T)/(alpha+T+t)``, computed after Euler's transformation
    ``2F1(A, B; C; z) = (1-z)**(C-A-B) 2F1(C-A, C-B; C; z)``: the ``(1-z)**(r+x)`` cancels,
    leaving ``(1-z)**(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``. The direct form multiplies an
    underflowing power by an overflowing series for frequent buyers (0 * inf)."""
    with np.errstate(over="ignore", invalid="ignore"):
        hyp = hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)
        return np.asarray(np.exp((a - 1.0) * np.log1p(-z)) * hyp, dtype=np.float64)


def _away_from_one(a: float) -> float:
    # Eq. 7 and 10 divide by a - 1; the limit is finite, the float is not.
    return a + 1e-6 if abs(a - 1.0) < 1e-6 else a


def time_to_next_purchase(
    params: BgNbdParams,
    x: ArrayLike,
    t_x: ArrayLike,
    big_t: ArrayLike,
    *,
    quantile: float = 0.5,
) -> FloatArray:
    """Time from T until the customer has bought again with probability ``quantile``.

    P(next purchase within s) = P(alive) * (1 - ((alpha+T)/(alpha+T+s)) ** (r+x)), so
    s = (alpha+T) * ((1 - quantile / P(alive)) ** (-1/(r+x)) - 1). NaN where P(alive) <=
    quantile: that probability is never reached (the customer is more likely gone).
    """
    xs, txs, ts = _arrays(x, t_x, big_t)
    alive = p_alive(params, xs, txs, ts)
    reachable = alive > quantile
    share = np.where(reachable, 1.0 - quantile / np.where(reachable, alive, 1.0), 1.0)
    with np.errstate(over="ignore"):
        scale = np.expm1(-np.log(share) / (params.r + xs))
    return np.asarray(np.where(reachable, (params.alpha + ts) * scale, np.nan), dtype=np.float64)
