"""Ability estimation: EAP (default), MAP, WLE and bounded ML, each with a standard error.

A response pattern is two aligned arrays: ``items`` (m,) indices into the pool and ``scores``
(m,) integer scores ``0..k_i``. Missing answers (a pending oral score) are simply left out.
Every estimator returns a finite :class:`Estimate` for all-right, all-wrong and empty patterns:

* **EAP** — posterior mean and standard deviation on a quadrature grid with a normal prior
  :math:`N(\\mu, \\sigma^2)`:

  .. math:: \\hat\\theta = \\frac{\\sum_g \\theta_g L(\\theta_g) \\varphi(\\theta_g)}
                                 {\\sum_g L(\\theta_g) \\varphi(\\theta_g)},\\qquad
            SE^2 = \\frac{\\sum_g (\\theta_g - \\hat\\theta)^2 L \\varphi}{\\sum_g L \\varphi}

  On the pool's own grid it reads the precomputed log-probability table (a gather and a sum).
* **MAP** — the posterior mode (bounded Brent search); :math:`SE = (I(\\hat\\theta) +
  \\sigma^{-2})^{-1/2}`.
* **ML** — the likelihood maximum within ``bounds`` (an all-right pattern ends on the upper
  bound, an empty one at the middle); :math:`SE = I(\\hat\\theta)^{-1/2}`, at most the width
  of the bounds.
* **WLE** — Warm's weighted likelihood: the root of
  :math:`\\partial_\\theta \\log L + J(\\theta) / (2 I(\\theta)) = 0` with
  :math:`J = \\sum_i \\sum_k P'_{ik} P''_{ik} / P_{ik}`, clipped to ``bounds``; finite for
  all-right and all-wrong patterns of 2PL/GPCM items; :math:`SE = I(\\hat\\theta)^{-1/2}`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq, minimize_scalar

from placement.irt.errors import InvalidPattern
from placement.irt.models import (
    PROBABILITY_FLOOR,
    FloatArray,
    IntArray,
    Pool,
    _probabilities_and_derivatives,
    probabilities,
)

DEFAULT_BOUNDS = (-4.0, 4.0)


@dataclass(frozen=True, slots=True)
class Estimate:
    """An ability estimate and its standard error (logits, on the skill's θ scale)."""

    theta: float
    se: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready: ``{"theta": ..., "se": ...}``."""
        return {"theta": float(self.theta), "se": float(self.se)}


def check_pattern(
    pool: Pool, items: npt.ArrayLike, scores: npt.ArrayLike
) -> tuple[IntArray, IntArray]:
    """Validate a pattern and return it as two int arrays (m,).

    Raises
    ------
    InvalidPattern
        Mismatched lengths, an index outside the pool, an item twice, a score outside 0..k.
    """
    idx = np.atleast_1d(np.asarray(items, dtype=np.int64))
    raw = np.atleast_1d(np.asarray(scores, dtype=np.float64))
    if idx.ndim != 1 or idx.shape != raw.shape:
        raise InvalidPattern(f"{idx.size} items but {raw.size} scores")
    if idx.size == 0:
        return idx, idx.copy()
    if np.any((idx < 0) | (idx >= len(pool))):
        raise InvalidPattern(f"item index outside the pool of {len(pool)} items")
    if np.unique(idx).size != idx.size:
        raise InvalidPattern("an item appears twice in the pattern")
    if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
        raise InvalidPattern("scores must be whole numbers")
    sc = raw.astype(np.int64)
    top = pool.n_categories[idx] - 1
    bad = np.flatnonzero((sc < 0) | (sc > top))
    if bad.size:
        i = int(bad[0])
        raise InvalidPattern(f"item {pool.ids[idx[i]]!r}: score {sc[i]} outside 0..{top[i]}")
    return idx, sc


def log_likelihood(
    pool: Pool, items: npt.ArrayLike, scores: npt.ArrayLike, grid: npt.ArrayLike | None = None
) -> FloatArray:
    """Log-likelihood of a pattern on a grid.

    Parameters
    ----------
    pool : Pool
    items, scores : array_like of int, (m,)
    grid : array_like, (G,), optional
        Defaults to ``pool.grid`` (then the precomputed table is used).

    Returns
    -------
    ndarray, (G,)
        :math:`\\sum_i \\log P(X_i = x_i \\mid \\theta_g)`; zeros for an empty pattern.
    """
    idx, sc = check_pattern(pool, items, scores)
    if grid is None:
        return _table_loglik(pool, idx, sc)
    g = np.asarray(grid, dtype=np.float64)
    if idx.size == 0:
        return np.zeros(g.size)
    p = probabilities(pool.subset(idx), g)[np.arange(idx.size), :, sc]  # (m, G)
    out: FloatArray = np.log(np.maximum(p, PROBABILITY_FLOOR)).sum(axis=0)
    return out


def _table_loglik(pool: Pool, idx: IntArray, sc: IntArray) -> FloatArray:
    if idx.size == 0:
        return np.zeros(pool.grid.size)
    out: FloatArray = pool.log_prob_table[idx, :, sc].sum(axis=0)
    return out


def normal_log_prior(
    grid: FloatArray, mean: float | FloatArray, sd: float | FloatArray
) -> FloatArray:
    """Log-density of :math:`N(mean, sd^2)` on ``grid`` up to a constant: (G,).

    ``mean`` and ``sd`` may be arrays that broadcast against ``grid`` (one prior per row).
    """
    positive = sd > 0 if isinstance(sd, float | int) else bool(np.all(sd > 0))  # floats: no numpy
    if not positive:
        raise InvalidPattern(f"prior standard deviation must be > 0, got {sd}")
    z = (grid - mean) / sd
    out: FloatArray = -0.5 * z * z
    return out


def eap_from_log_posterior(grid: FloatArray, log_post: FloatArray) -> Estimate:
    """Posterior mean and standard deviation from an unnormalised log-posterior on ``grid``."""
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    theta = float(w @ grid)
    var = float(w @ (grid - theta) ** 2)
    return Estimate(theta, float(np.sqrt(max(var, 0.0))))


def eap(
    pool: Pool,
    items: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    grid: npt.ArrayLike | None = None,
) -> Estimate:
    """Expected a posteriori estimate with a normal prior on a quadrature grid.

    Parameters
    ----------
    pool : Pool
    items, scores : array_like of int, (m,)
        The pattern (indices into ``pool`` and their scores).
    prior_mean, prior_sd : float
        The normal prior :math:`N(\\mu, \\sigma^2)`.
    grid : array_like, (G,), optional
        Quadrature points; defaults to ``pool.grid`` and its precomputed table.

    Returns
    -------
    Estimate
        Posterior mean and posterior standard deviation.
    """
    g = pool.grid if grid is None else np.asarray(grid, dtype=np.float64)
    loglik = log_likelihood(pool, items, scores, None if grid is None else g)
    return eap_from_log_posterior(g, loglik + normal_log_prior(g, prior_mean, prior_sd))


def _pattern_terms(
    sub: Pool, sc: IntArray, theta: float, *, warm: bool = False
) -> tuple[float, float, float, float]:
    """log L, score function, test information and Warm's J (0 unless ``warm``) at one θ.

    ``sub`` is the pool of the pattern's items in order (``pool.subset(idx)``, built once by
    the estimator, not at each of the search's evaluations).
    """
    p, dp = _probabilities_and_derivatives(sub, theta)
    p, dp = p[:, 0, :], dp[:, 0, :]
    rows = np.arange(len(sub))
    p_obs = np.maximum(p[rows, sc], PROBABILITY_FLOOR)
    loglik = float(np.log(p_obs).sum())
    score = float((dp[rows, sc] / p_obs).sum())
    safe = np.maximum(p, PROBABILITY_FLOOR)
    valid = p > PROBABILITY_FLOOR
    info = float(np.where(valid, dp * dp / safe, 0.0).sum())
    j = 0.0
    if warm:
        h = 1e-5
        dp_hi = _probabilities_and_derivatives(sub, theta + h)[1][:, 0, :]
        dp_lo = _probabilities_and_derivatives(sub, theta - h)[1][:, 0, :]
        d2p = (dp_hi - dp_lo) / (2 * h)
        j = float(np.where(valid, dp * d2p / safe, 0.0).sum())
    return loglik, score, info, j


def _check_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    lo, hi = float(bounds[0]), float(bounds[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InvalidPattern(f"bounds must be two finite numbers lo < hi, got {bounds}")
    return lo, hi


def _se_from_information(info: float, cap: float) -> float:
    return float(min(1.0 / np.sqrt(info), cap)) if info > 0 else cap


def map_estimate(
    pool: Pool,
    items: npt.ArrayLike,
    scores: npt.ArrayLike,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> Estimate:
    """Maximum a posteriori estimate with a normal prior, searched within ``bounds``.

    The standard error is :math:`(I(\\hat\\theta) + \\sigma^{-2})^{-1/2}`.
    """
    idx, sc = check_pattern(pool, items, scores)
    lo, hi = _check_bounds(bounds)
    normal_log_prior(np.zeros(1), prior_mean, prior_sd)  # validates sd
    if idx.size == 0:
        theta = float(np.clip(prior_mean, lo, hi))
        return Estimate(theta, float(prior_sd))
    sub = pool.subset(idx)

    def negative_log_posterior(t: float) -> float:
        return -(_pattern_terms(sub, sc, t)[0] - 0.5 * ((t - prior_mean) / prior_sd) ** 2)

    res = minimize_scalar(
        negative_log_posterior, bounds=(lo, hi), method="bounded", options={"xatol": 1e-6}
    )
    theta = float(res.x)
    info = _pattern_terms(sub, sc, theta)[2]
    return Estimate(theta, float(1.0 / np.sqrt(info + prior_sd**-2)))


def ml_bounded(
    pool: Pool,
    items: npt.ArrayLike,
    scores: npt.ArrayLike,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> Estimate:
    """Maximum likelihood within ``bounds``.

    All-right (all-top) patterns end at the upper bound, all-wrong at the lower one, an empty
    pattern at the middle; the standard error :math:`I(\\hat\\theta)^{-1/2}` is capped at the
    width of the bounds.
    """
    idx, sc = check_pattern(pool, items, scores)
    lo, hi = _check_bounds(bounds)
    if idx.size == 0:
        return Estimate(0.5 * (lo + hi), hi - lo)
    sub = pool.subset(idx)
    top = pool.n_categories[idx] - 1
    if np.all(sc == top) and np.all(pool.d[idx] == 1):
        theta = hi
    elif np.all(sc == 0) and np.all(pool.c[idx] == 0):
        theta = lo
    else:
        res = minimize_scalar(
            lambda t: -_pattern_terms(sub, sc, t)[0],
            bounds=(lo, hi),
            method="bounded",
            options={"xatol": 1e-6},
        )
        theta = float(res.x)
    info = _pattern_terms(sub, sc, theta)[2]
    return Estimate(float(theta), _se_from_information(info, hi - lo))


def wle(
    pool: Pool,
    items: npt.ArrayLike,
    scores: npt.ArrayLike,
    bounds: tuple[float, float] = DEFAULT_BOUNDS,
) -> Estimate:
    """Warm's weighted likelihood estimate, clipped to ``bounds``.

    Solves :math:`S(\\theta) + J(\\theta) / (2 I(\\theta)) = 0` by Brent's method on the first
    sign change found on a 41-point scan of ``bounds``; with no sign change the estimate is the
    bound the function points to. The standard error is :math:`I(\\hat\\theta)^{-1/2}`, capped
    at the width of the bounds.
    """
    idx, sc = check_pattern(pool, items, scores)
    lo, hi = _check_bounds(bounds)
    if idx.size == 0:
        return Estimate(0.5 * (lo + hi), hi - lo)
    sub = pool.subset(idx)

    def warm(t: float) -> float:
        _, score, info, j = _pattern_terms(sub, sc, t, warm=True)
        return score + (j / (2.0 * info) if info > 0 else 0.0)

    scan = np.linspace(lo, hi, 41)
    values = np.array([warm(float(t)) for t in scan])
    change = np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) <= 0)
    if change.size:
        k = int(change[0])
        if values[k] == 0:
            theta = float(scan[k])
        else:
            theta = float(brentq(warm, scan[k], scan[k + 1], xtol=1e-8))
    else:
        theta = hi if values[0] > 0 else lo
    info = _pattern_terms(sub, sc, theta)[2]
    return Estimate(theta, _se_from_information(info, hi - lo))


ESTIMATORS = ("eap", "map", "wle", "ml")
