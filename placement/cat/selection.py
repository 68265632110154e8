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

The scores are computed over all the operational items of the section from tables laid out in
the section's order (:class:`SectionItems`); the items that may not be given (given already,
enemies, a full theme, outside the stratum) get the score ``-inf`` rather than being gathered
out. A step thus reads two contiguous rows of the information table and makes a dozen numpy
calls in all, which is what its time is made of on a bank of a few thousand items.

Exposure control, applied to the ranking

* Sympson–Hetter: walking down the ranking, item ``i`` is accepted with probability ``K_i``
  (one uniform draw per ranked item) until ``k`` items are accepted; when none of the first
  ``SH_DEPTH`` ranked items is accepted the best one is taken.
* randomesque: the item is drawn uniformly among the first ``k`` accepted items.

The ranking is by score, then by position in the section, so equal scores rank the same way
on every run.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from placement.cat.draws import Draws
from placement.irt.models import BoolArray, FloatArray, IntArray, Pool

#: How many ranked items Sympson–Hetter considers before giving up and taking the best.
SH_DEPTH = 64

_EXCLUDED = -np.inf


@dataclass(frozen=True, slots=True, eq=False)
class SectionItems:
    """The operational items of one section, and what selection reads of them, in one order.

    Attributes
    ----------
    index : ndarray of int, (m,)
        Pool indices.
    grid : tuple of float, (G,)
        The pool's grid, which the tables are on (as Python floats: one θ is looked up per
        step, cheaper in plain Python than through numpy).
    info : ndarray of float, (G, m)
        Fisher information at each grid point (one contiguous row per grid point).
    info_steps : ndarray of float, (G - 1, m)
        ``info[g + 1] - info[g]``, for linear interpolation between grid points.
    b : ndarray of float, (m,)
    by_theme : tuple of ndarray of int
        Positions of the items of each theme code; the last entry holds the items of no
        balanced theme (code -1).
    stratum : ndarray of int, (m,)
        a-stratum of each item within the section (0 = lowest a).
    sh_k : ndarray of float, (m,) or None
        Sympson–Hetter parameters (None: no Sympson–Hetter).
    """

    index: IntArray
    grid: tuple[float, ...]
    info: FloatArray
    info_steps: FloatArray
    b: FloatArray
    by_theme: tuple[IntArray, ...]
    stratum: IntArray
    sh_k: FloatArray | None

    @classmethod
    def build(
        cls,
        pool: Pool,
        index: IntArray,
        *,
        theme_code: IntArray,
        n_themes: int,
        n_strata: int,
        sh_k: FloatArray | None,
    ) -> SectionItems:
        """The tables of the pool items ``index``, with ``n_strata`` strata of increasing a.

        ``theme_code`` (n,) gives each pool item's theme in ``0..n_themes - 1``, or -1.
        """
        info = np.ascontiguousarray(pool.information_by_grid[:, index])
        steps = np.ascontiguousarray(np.diff(info, axis=0))
        n_strata = min(n_strata, max(index.size, 1))
        rank = np.empty(index.size, dtype=np.int64)
        rank[np.argsort(pool.a[index], kind="stable")] = np.arange(index.size)
        stratum = (rank * n_strata) // max(index.size, 1)
        codes = theme_code[index]
        by_theme = tuple(np.flatnonzero(codes == t) for t in (*range(n_themes), -1))
        items = cls(
            index.copy(),
            tuple(pool.grid.tolist()),
            info,
            steps,
            pool.b[index],
            by_theme,
            stratum,
            sh_k[index] if sh_k is not None else None,
        )
        for array in (items.index, info, steps, items.b, stratum, items.sh_k, *by_theme):
            if array is not None:
                array.setflags(write=False)
        return items

    @property
    def size(self) -> int:
        """The number of items."""
        return int(self.index.size)


def information_at(items: SectionItems, theta: float) -> FloatArray:
    """Information of every item of ``items`` at ``theta``, interpolated on the grid: (m,)."""
    grid = items.grid
    j = min(max(bisect.bisect_right(grid, theta) - 1, 0), len(grid) - 2)
    w = min(max((theta - grid[j]) / (grid[j + 1] - grid[j]), 0.0), 1.0)
    return items.info[j] + w * items.info_steps[j]


def section_scores(
    items: SectionItems,
    method: str,
    theta: float,
    posterior: FloatArray | None = None,
) -> FloatArray:
    """Selection scores of every item of the section (higher is better), a new array: (m,).

    ``posterior`` (G,) is needed by ``posterior_weighted`` only.
    """
    if method == "posterior_weighted":
        if posterior is None:
            raise ValueError("posterior_weighted selection needs the posterior")
        weighted: FloatArray = posterior @ items.info
        return weighted
    if method == "a_stratified":
        distance: FloatArray = -np.abs(items.b - theta)
        return distance
    return information_at(items, theta)


def exclude(scores: FloatArray, positions: IntArray | BoolArray | list[int]) -> None:
    """Mark the items at ``positions`` (indices or a mask) as not eligible, in place."""
    scores[positions] = _EXCLUDED


def any_eligible(scores: FloatArray, positions: IntArray | None = None) -> bool:
    """Whether an item (of ``positions``, or of the whole section) is still eligible."""
    if positions is not None:
        return bool(positions.size) and bool(scores[positions].max() > _EXCLUDED)
    return bool(scores.size) and bool(scores.max() > _EXCLUDED)


def restrict_to_stratum(
    items: SectionItems, scores: FloatArray, position: int, max_items: int, n_strata: int
) -> None:
    """Keep eligible only the stratum for the ``position``-th item (or the nearest one)."""
    available = np.unique(items.stratum[scores > _EXCLUDED])
    wanted = min((position * n_strata) // max(max_items, 1), n_strata - 1)
    nearest = available[np.argmin(np.abs(available - wanted))]
    scores[items.stratum != nearest] = _EXCLUDED


def choose(items: SectionItems, scores: FloatArray, randomesque_k: int, rng: Draws) -> int:
    """Pick one eligible item (score above ``-inf``; at least one) with exposure control.

    The ranking is walked best first by repeated ``argmax`` (ties: the first position), which
    for the few items a step looks at is cheaper than partitioning the section.

    Parameters
    ----------
    items : SectionItems
    scores : ndarray of float, (m,)
        ``-inf`` for the items that may not be given; overwritten.
    randomesque_k : int
        Draw among this many best accepted items.
    rng : Draws
        :func:`placement.cat.step_rng`, or a ``numpy.random.Generator``.

    Returns
    -------
    int
        The chosen pool index.
    """
    sh_k = items.sh_k
    k = max(randomesque_k, 1)
    depth = SH_DEPTH if sh_k is not None else k
    accepted: list[int] = []
    best = -1
    for _ in range(depth):
        p = int(scores.argmax())
        if scores[p] == _EXCLUDED:
            break
        scores[p] = _EXCLUDED
        if best < 0:
            best = p
        if sh_k is None or rng.random() < sh_k[p]:
            accepted.append(p)
            if len(accepted) == k:
                break
    if best < 0:
        raise ValueError("choose() needs at least one eligible item")
    if not accepted:  # Sympson–Hetter turned down every ranked item: the best one
        accepted = [best]
    pick = int(rng.integers(len(accepted))) if len(accepted) > 1 else 0
    return int(items.index[accepted[pick]])
