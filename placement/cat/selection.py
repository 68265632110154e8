"""Item selection and exposure control over the eligible items of a section.

Scoring the eligible items (higher is better)

* ``max_info`` — Fisher information at θ̂, read from the pool's information table by linear
  interpolation between the two grid points around θ̂: :math:`I_i(\\hat\\theta)`.
* ``posterior_weighted`` — :math:`\\sum_g I_i(\\theta_g) \\pi(\\theta_g)` with :math:`\\pi`
  the current posterior on the grid (van der Linden's posterior-weighted information).
* ``a_stratified`` — Chang & Ying (1999): the section's items are cut into ``S`` strata of
  increasing ``a``; the ``j``-th item of a section of at most ``J`` items comes from stratum
  :math:`\\lfloor jS/J \\rfloor` (or the nearest one with an eligible item), where the item
  with ``b`` nearest θ̂ scores best: :math:`-|b_i - \\hat\\theta|`.

Exposure control, applied to the ranking

* Sympson–Hetter: walking down the ranking, item ``i`` is accepted with probability ``K_i``
  (one uniform draw per ranked item); when none of the first ranked items is accepted the best
  one is taken.
* randomesque: the item is drawn uniformly among the first ``k`` accepted items.
"""

from __future__ import annotations

import numpy as np

from placement.irt.models import FloatArray, IntArray, Pool

#: How many ranked items Sympson–Hetter considers before giving up and taking the best.
SH_DEPTH = 64


def information_at(pool: Pool, candidates: IntArray, theta: float) -> FloatArray:
    """Information of ``candidates`` at ``theta`` interpolated on the pool's table: (m,)."""
    grid = pool.grid
    t = min(max(theta, grid[0]), grid[-1])
    j = int(np.searchsorted(grid, t, side="right")) - 1
    j = min(max(j, 0), grid.size - 2)
    w = (t - grid[j]) / (grid[j + 1] - grid[j])
    table = pool.information_by_grid  # (G, n): two contiguous rows
    row: FloatArray = (1.0 - w) * table[j] + w * table[j + 1]
    return row[candidates]


def score_candidates(
    pool: Pool,
    candidates: IntArray,
    method: str,
    theta: float,
    posterior: FloatArray,
) -> FloatArray:
    """Selection scores of ``candidates`` (higher is better): (m,)."""
    if method == "posterior_weighted":
        weighted: FloatArray = pool.information_table[candidates] @ posterior
        return weighted
    if method == "a_stratified":
        distance: FloatArray = -np.abs(pool.b[candidates] - theta)
        return distance
    return information_at(pool, candidates, theta)


def choose(
    candidates: IntArray,
    scores: FloatArray,
    randomesque_k: int,
    sh_k: FloatArray | None,
    rng: np.random.Generator,
) -> int:
    """Pick one of ``candidates`` from their scores with exposure control.

    Parameters
    ----------
    candidates : ndarray of int, (m,), m >= 1
    scores : ndarray of float, (m,)
    randomesque_k : int
        Draw among this many best accepted items.
    sh_k : ndarray of float, (n_pool,) or None
        Sympson–Hetter parameters of the whole pool (None: no Sympson–Hetter).
    rng : numpy.random.Generator

    Returns
    -------
    int
        The chosen pool index.
    """
    m = candidates.size
    depth = min(m, SH_DEPTH if sh_k is not None else randomesque_k)
    if depth < m:
        top = np.argpartition(-scores, depth - 1)[:depth]
        order = top[np.argsort(-scores[top], kind="stable")]
    else:
        order = np.argsort(-scores, kind="stable")
    ranked = candidates[order]
    if sh_k is not None:
        accepted = ranked[rng.random(ranked.size) < sh_k[ranked]]
        ranked = accepted if accepted.size else ranked[:1]
    pick = int(rng.integers(min(randomesque_k, ranked.size))) if randomesque_k > 1 else 0
    return int(ranked[pick])
