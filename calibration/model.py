"""Item response functions of the parameter table, evaluated on a θ grid.

For a right/wrong item (1PL, 2PL, 3PL, with 4PL upper asymptote ``d``)

.. math:: P_1(\\theta) = c + (d - c)\\,\\sigma\\big(a(\\theta - b)\\big), \\qquad P_0 = 1 - P_1,

for a graded (GRM) item with thresholds :math:`b_1 < \\dots < b_k`

.. math:: P^*_j(\\theta) = \\sigma\\big(a(\\theta - b_j)\\big),\\quad
          P_j = P^*_j - P^*_{j+1}\\ (P^*_0 = 1,\\ P^*_{k+1} = 0),

and for a generalised partial credit (GPCM) item
:math:`P_j \\propto \\exp \\sum_{v \\le j} a(\\theta - b_v)`.

These are the engine's formulas; they are written here again only so that the calibration
numerics run (and are tested) without the engine.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.special import expit, roots_legendre

from calibration.data import FloatArray, ItemParameters

#: Smallest probability used inside logarithms.
TINY = 1e-300


def category_probabilities(params: ItemParameters, theta: npt.ArrayLike) -> FloatArray:
    """Probability of each score of each item at each θ.

    Parameters
    ----------
    params : ItemParameters
        n items, widest GRM item with ``kmax`` thresholds.
    theta : array_like, (Q,)

    Returns
    -------
    ndarray, (n, K + 1, Q)
        ``out[i, x, q]`` = :math:`P(X_i = x \\mid \\theta_q)`, with ``K = max(1, kmax)``;
        scores above an item's maximum have probability 0.
    """
    th = np.atleast_1d(np.asarray(theta, dtype=float))
    n = params.n_items
    kmax = max(1, int(np.max(np.sum(~np.isnan(params.thresholds), axis=1), initial=0)))
    # thresholds are left-aligned and NaN-padded: columns past the widest item are empty
    all_thr = params.thresholds[:, :kmax]
    out = np.zeros((n, kmax + 1, th.size))
    grm = np.array([m == "GRM" for m in params.models], dtype=bool)
    gpcm = np.array([m == "GPCM" for m in params.models], dtype=bool)
    dich = ~(grm | gpcm)
    if dich.any():
        a, b = params.a[dich, None], params.b[dich, None]
        c, d = params.c[dich, None], params.d[dich, None]
        p1 = c + (d - c) * expit(a * (th[None, :] - b))
        out[dich, 1, :] = p1
        out[dich, 0, :] = 1.0 - p1
    if grm.any():
        thr = all_thr[grm]
        k = thr.shape[1]
        star = np.zeros((thr.shape[0], kmax + 2, th.size))
        star[:, 0, :] = 1.0
        boundary = expit(params.a[grm, None, None] * (th[None, None, :] - thr[:, :, None]))
        star[:, 1 : k + 1, :] = np.where(np.isnan(thr)[:, :, None], 0.0, boundary)
        out[grm] = star[:, :-1, :] - star[:, 1:, :]
    if gpcm.any():
        thr = all_thr[gpcm]
        k = thr.shape[1]
        steps = params.a[gpcm, None, None] * (th[None, None, :] - thr[:, :, None])
        valid = ~np.isnan(thr)
        steps = np.where(valid[:, :, None], steps, 0.0)
        logits = np.concatenate([np.zeros((thr.shape[0], 1, th.size)), np.cumsum(steps, axis=1)], 1)
        logits[:, 1:][~valid] = -np.inf
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        out[gpcm, : k + 1] = e / e.sum(axis=1, keepdims=True)
    return np.clip(out, 0.0, 1.0)


def expected_scores(params: ItemParameters, theta: npt.ArrayLike) -> FloatArray:
    """Expected score of each item at each θ, (n, Q)."""
    probs = category_probabilities(params, theta)
    scores = np.arange(probs.shape[1], dtype=float)
    return np.einsum("ikq,k->iq", probs, scores)


def item_information(params: ItemParameters, theta: npt.ArrayLike) -> FloatArray:
    """Fisher information of each item at each θ, (n, Q).

    :math:`I_i(\\theta) = \\sum_x (\\partial_\\theta P_{ix})^2 / P_{ix}`, with the derivative
    taken by central differences (exact enough for plots and test-information curves).
    """
    th = np.atleast_1d(np.asarray(theta, dtype=float))
    h = 1e-4
    p = category_probabilities(params, th)
    dp = (category_probabilities(params, th + h) - category_probabilities(params, th - h)) / (2 * h)
    return np.sum(np.where(p > 1e-12, dp**2 / np.maximum(p, 1e-12), 0.0), axis=1)


def quadrature(n_points: int = 41, bound: float = 5.0) -> tuple[FloatArray, FloatArray]:
    """Nodes and normalised N(0, 1) weights for the marginal likelihood.

    girth's Gauss–Legendre rule (``girth.utilities.utils._get_quadrature_points``: the roots
    of the Legendre polynomial shifted from [-1, 1] to ``[-bound, bound]``) times the standard
    normal density, renormalised to sum to one. The rule is written out here rather than
    imported: importing girth (and with it ``scipy.stats``) took over a second of every fit.
    ``tests/calibration/test_model.py`` checks it against girth's.

    Returns
    -------
    nodes, weights : ndarray, each (n_points,)
    """
    roots, legendre = roots_legendre(n_points)
    half = bound  # (b - a) / 2 with a = -bound, b = bound
    nodes = half * (np.real(roots) + 1) - bound
    weights = half * legendre * np.exp(-0.5 * nodes**2)
    return np.asarray(nodes, dtype=float), np.asarray(weights / weights.sum(), dtype=float)
