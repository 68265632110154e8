"""Item response models, the validated item pool, response probabilities and Fisher information.

Models (one pool may mix them; ``k`` is the highest score of the item)

* dichotomous, scores 0/1, the four-parameter logistic family:

  .. math:: P(X = 1 \\mid \\theta) = c + \\frac{d - c}{1 + e^{-a(\\theta - b)}}

  ``1PL`` and ``2PL`` have ``c = 0, d = 1`` (1PL: ``a`` is the common slope the calibration
  chose), ``3PL`` has ``d = 1``, ``4PL`` uses all four.
* ``GRM`` (Samejima's graded response model), scores 0..k with ordered thresholds
  :math:`b_1 < \\dots < b_k`:

  .. math:: P^*_j = \\frac{1}{1 + e^{-a(\\theta - b_j)}},\\quad
            P(X = j) = P^*_j - P^*_{j+1},\\quad P^*_0 = 1,\\ P^*_{k+1} = 0

* ``GPCM`` (Muraki's generalised partial credit model), scores 0..k with step parameters
  :math:`b_1..b_k` (not necessarily ordered):

  .. math:: P(X = j) \\propto \\exp \\sum_{v=1}^{j} a(\\theta - b_v)

Fisher information of one item is :math:`I(\\theta) = \\sum_j P_j'(\\theta)^2 / P_j(\\theta)`,
which reduces to :math:`a^2 (P - c)^2 (d - P)^2 / ((d - c)^2 P (1 - P))` for the 4PL family and
to :math:`a^2 \\operatorname{Var}(X \\mid \\theta)` for the GPCM.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from placement.irt.errors import InvalidPool

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MODELS = ("1PL", "2PL", "3PL", "4PL", "GRM", "GPCM")
DICHOTOMOUS = frozenset({"1PL", "2PL", "3PL", "4PL"})
POLYTOMOUS = frozenset({"GRM", "GPCM"})

#: The quadrature grid every pool precomputes its tables on: 61 points on [-4, 4].
DEFAULT_GRID: FloatArray = np.linspace(-4.0, 4.0, 61)

#: Probabilities are clipped to this floor before taking logs, so that a 0 probability (a 3PL
#: item can never be failed with certainty) never yields ``-inf`` in a likelihood.
PROBABILITY_FLOOR = 1e-12


def _frozen(array: npt.ArrayLike, dtype: Any) -> Any:
    out = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Pool:
    """A validated, calibrated item pool; index ``i`` is the same item in every array.

    Parameters
    ----------
    ids : tuple of str, (n,)
        Unique item ids.
    skills : tuple of str, (n,)
        The skill of each item (CO, CE, EO, EE, or any label of another bank).
    themes : tuple of str, (n,)
        The content theme of each item (used by content balancing).
    models : tuple of str, (n,)
        One of :data:`MODELS` per item.
    a, b, c, d : ndarray of float, (n,)
        Slope, location, lower and upper asymptote. ``b`` is the mean threshold for
        polytomous items; ``c = 0, d = 1`` for them.
    thresholds : ndarray of float, (n, kmax)
        GRM/GPCM thresholds ``b_1..b_k``, NaN-padded; dichotomous items hold ``b`` in column 0.
    n_categories : ndarray of int, (n,)
        Number of score categories (2 for dichotomous items, k + 1 otherwise).
    enemies : tuple of frozenset of int, (n,)
        Indices of the items never given in the same test as item ``i`` (symmetric).
    non_reader : ndarray of bool, (n,)
        Items that need no reading (the non-reader path uses only these).
    pretest : ndarray of bool, (n,)
        Items being pretested: given to some candidates, never used in an estimate.
    grid : ndarray of float, (G,)
        The quadrature grid of the precomputed tables (:data:`DEFAULT_GRID`).

    Raises
    ------
    InvalidPool
        Empty pool, mismatched lengths, duplicate ids, unknown model, ``a <= 0``, NaN,
        ``c`` outside [0, 1), ``d`` outside (c, 1], unordered GRM thresholds, bad enemies.

    Notes
    -----
    The pool caches, on first use, the log-probabilities ``log_prob_rows`` (one row per item
    and score) and the information ``information_by_grid`` (one row per grid point) on
    ``grid``, each once in memory: ``log_prob_table`` (n, G, kmax+1) and ``information_table``
    (n, G) are views of them. An EAP step is then a gather and a sum, and the information at
    any θ a linear interpolation between two rows.
    Build pools with :meth:`create` (defaults for the optional arrays) or from a parameter CSV
    with :func:`placement.bank.pool_from_csv`.
    """

    ids: tuple[str, ...]
    skills: tuple[str, ...]
    themes: tuple[str, ...]
    models: tuple[str, ...]
    a: FloatArray
    b: FloatArray
    c: FloatArray
    d: FloatArray
    thresholds: FloatArray
    n_categories: IntArray
    enemies: tuple[frozenset[int], ...]
    non_reader: BoolArray
    pretest: BoolArray
    grid: FloatArray = field(default_factory=DEFAULT_GRID.copy)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if n == 0:
            raise InvalidPool("la banque d'items est vide")
        set_ = object.__setattr__
        for name in ("ids", "skills", "themes", "models", "enemies"):
            labels = tuple(getattr(self, name))
            if len(labels) != n:
                raise InvalidPool(f"{name} has {len(labels)} entries for {n} items")
            set_(self, name, labels)
        for name in ("a", "b", "c", "d"):
            numbers = np.asarray(getattr(self, name), dtype=np.float64)
            if numbers.shape != (n,):
                raise InvalidPool(f"{name} has shape {numbers.shape}, expected ({n},)")
            set_(self, name, _frozen(numbers, np.float64))
        for name in ("non_reader", "pretest"):
            flags = np.asarray(getattr(self, name), dtype=bool)
            if flags.shape != (n,):
                raise InvalidPool(f"{name} has shape {flags.shape}, expected ({n},)")
            set_(self, name, _frozen(flags, bool))
        thresholds = np.asarray(self.thresholds, dtype=np.float64)
        if thresholds.ndim != 2 or thresholds.shape[0] != n or thresholds.shape[1] < 1:
            raise InvalidPool(f"thresholds has shape {thresholds.shape}, expected ({n}, kmax)")
        set_(self, "thresholds", _frozen(thresholds, np.float64))
        n_categories = np.asarray(self.n_categories)
        if n_categories.shape != (n,):
            raise InvalidPool(f"n_categories has shape {n_categories.shape}, expected ({n},)")
        set_(self, "n_categories", _frozen(n_categories, np.int64))
        grid = np.asarray(self.grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size < 3 or not np.all(np.diff(grid) > 0):
            raise InvalidPool("the quadrature grid must be at least 3 increasing points")
        set_(self, "grid", _frozen(grid, np.float64))
        self._validate()

    def _validate(self) -> None:
        n = len(self.ids)
        seen: dict[str, int] = {}
        for i, item_id in enumerate(self.ids):
            if not item_id:
                raise InvalidPool(f"l'item de rang {i} a un identifiant vide")
            if item_id in seen:
                raise InvalidPool(
                    f"l'identifiant {item_id!r} apparaît deux fois (rangs {seen[item_id]}, {i})"
                )
            seen[item_id] = i
        for i, model in enumerate(self.models):
            if model not in MODELS:
                raise InvalidPool(
                    f"item {self.ids[i]!r} : modèle {model!r} inconnu "
                    f"(attendu : {', '.join(MODELS)})"
                )
        for name in ("a", "b", "c", "d"):
            bad = np.flatnonzero(~np.isfinite(getattr(self, name)))
            if bad.size:
                raise InvalidPool(f"item {self.ids[bad[0]]!r} : {name} n'est pas un nombre fini")
        bad = np.flatnonzero(self.a <= 0)
        if bad.size:
            raise InvalidPool(
                f"item {self.ids[bad[0]]!r} : a = {self.a[bad[0]]:g}, "
                "la discrimination doit être > 0"
            )
        bad = np.flatnonzero((self.c < 0) | (self.c >= 1))
        if bad.size:
            raise InvalidPool(
                f"item {self.ids[bad[0]]!r} : c = {self.c[bad[0]]:g} est hors de [0, 1["
            )
        bad = np.flatnonzero((self.d <= self.c) | (self.d > 1))
        if bad.size:
            i = bad[0]
            raise InvalidPool(f"item {self.ids[i]!r} : d = {self.d[i]:g} doit être dans ]c, 1]")
        kmax = self.thresholds.shape[1]
        for i, model in enumerate(self.models):
            item_id = self.ids[i]
            k = int(self.n_categories[i]) - 1
            if model in DICHOTOMOUS:
                if k != 1:
                    raise InvalidPool(f"item {item_id!r} : un item {model} a 2 catégories de score")
                if model in ("1PL", "2PL") and (self.c[i] != 0 or self.d[i] != 1):
                    raise InvalidPool(f"item {item_id!r} : un item {model} a c = 0 et d = 1")
                if model == "3PL" and self.d[i] != 1:
                    raise InvalidPool(f"item {item_id!r} : un item 3PL a d = 1 (sinon : 4PL)")
                continue
            if k < 1 or k > kmax:
                raise InvalidPool(
                    f"item {item_id!r} : un item {model} a de 1 à {kmax} seuils, reçu {k}"
                )
            steps = self.thresholds[i, :k]
            if not np.all(np.isfinite(steps)):
                raise InvalidPool(
                    f"item {item_id!r} : les seuils b1..b{k} doivent être des nombres finis"
                )
            if model == "GRM" and not np.all(np.diff(steps) > 0):
                raise InvalidPool(
                    f"item {item_id!r} : les seuils GRM doivent croître, reçu {steps}"
                )
            if self.c[i] != 0 or self.d[i] != 1:
                raise InvalidPool(f"item {item_id!r} : un item {model} n'a pas de paramètre c ni d")
        for i, enemies in enumerate(self.enemies):
            for j in enemies:
                if not 0 <= j < n or j == i:
                    raise InvalidPool(
                        f"item {self.ids[i]!r} : l'ennemi de rang {j} n'est pas un autre item"
                    )

    # ------------------------------------------------------------------ construction helpers

    @classmethod
    def create(
        cls,
        ids: Sequence[str],
        *,
        a: npt.ArrayLike,
        b: npt.ArrayLike | None = None,
        models: Sequence[str] | str = "2PL",
        skills: Sequence[str] | str = "CE",
        themes: Sequence[str] | str = "vie pratique",
        c: npt.ArrayLike | None = None,
        d: npt.ArrayLike | None = None,
        thresholds: Sequence[Sequence[float]] | None = None,
        enemies: Sequence[Iterable[str]] | None = None,
        non_reader: npt.ArrayLike | None = None,
        pretest: npt.ArrayLike | None = None,
        grid: npt.ArrayLike | None = None,
    ) -> Pool:
        """Build a pool with defaults: a scalar string applies to every item.

        ``thresholds`` is one sequence per item (ignored for dichotomous items, which use
        ``b``); ``enemies`` are given by id and made symmetric; ``b`` of a polytomous item
        defaults to the mean of its thresholds.
        """
        n = len(ids)

        def labels(value: Sequence[str] | str) -> tuple[str, ...]:
            return (value,) * n if isinstance(value, str) else tuple(value)

        models_t = labels(models)
        a_arr = np.broadcast_to(np.asarray(a, dtype=np.float64), (n,))
        steps: list[list[float]] = []
        for i in range(n):
            row = list(thresholds[i]) if thresholds is not None else []
            if models_t[i] in POLYTOMOUS:
                steps.append([float(x) for x in row if not np.isnan(x)])
            else:
                steps.append([])
        if b is None:
            b_arr = np.array([float(np.mean(s)) if s else np.nan for s in steps], dtype=np.float64)
        else:
            b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), (n,)).copy()
            for i, s in enumerate(steps):
                if s and np.isnan(b_arr[i]):
                    b_arr[i] = float(np.mean(s))
        kmax = max([len(s) for s in steps] + [1])
        table = np.full((n, kmax), np.nan)
        n_categories = np.empty(n, dtype=np.int64)
        for i, s in enumerate(steps):
            if models_t[i] in POLYTOMOUS:
                table[i, : len(s)] = s
                n_categories[i] = len(s) + 1
            else:
                table[i, 0] = b_arr[i]
                n_categories[i] = 2
        index = {item_id: i for i, item_id in enumerate(ids)}
        links: list[set[int]] = [set() for _ in range(n)]
        for i, names in enumerate(enemies or [()] * n):
            for name in names:
                j = index.get(name)
                if j is not None and j != i:  # enemies outside the pool (retired) do not matter
                    links[i].add(j)
                    links[j].add(i)
        return cls(
            ids=tuple(ids),
            skills=labels(skills),
            themes=labels(themes),
            models=models_t,
            a=np.array(a_arr),
            b=b_arr,
            c=np.zeros(n) if c is None else np.broadcast_to(np.asarray(c, float), (n,)).copy(),
            d=np.ones(n) if d is None else np.broadcast_to(np.asarray(d, float), (n,)).copy(),
            thresholds=table,
            n_categories=n_categories,
            enemies=tuple(frozenset(s) for s in links),
            non_reader=np.zeros(n, bool) if non_reader is None else np.asarray(non_reader, bool),
            pretest=np.zeros(n, bool) if pretest is None else np.asarray(pretest, bool),
            grid=DEFAULT_GRID.copy() if grid is None else np.asarray(grid, float),
        )

    # ------------------------------------------------------------------ lookups and caches

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def kmax(self) -> int:
        """The highest score any item can get."""
        return int(self.n_categories.max()) - 1

    @cached_property
    def _index(self) -> dict[str, int]:
        return {item_id: i for i, item_id in enumerate(self.ids)}

    def index(self, item_id: str) -> int:
        """The index of ``item_id``; raises ``KeyError`` naming the id when it is unknown."""
        try:
            return self._index[item_id]
        except KeyError:
            raise KeyError(f"item {item_id!r} is not in the pool") from None

    def has(self, item_id: str) -> bool:
        """Whether ``item_id`` is in the pool."""
        return item_id in self._index

    @cached_property
    def log_prob_rows(self) -> FloatArray:
        """``log P(X_i = k | θ_g)`` with one contiguous row per (item, score): (n * (kmax + 1), G).

        Row ``i * (kmax + 1) + k`` holds item ``i``'s score ``k`` over the grid, so the
        log-likelihood of a pattern is one gather and one sum (the CAT step reads it so).
        """
        p = np.maximum(probabilities(self, self.grid), PROBABILITY_FLOOR)
        table = np.log(p)
        # scores an item cannot take: a very low log-probability instead of log(0)
        out_of_range = np.arange(self.kmax + 1)[None, None, :] >= self.n_categories[:, None, None]
        table[np.broadcast_to(out_of_range, table.shape)] = -1e6
        rows = np.ascontiguousarray(table.transpose(0, 2, 1)).reshape(-1, self.grid.size)
        rows.setflags(write=False)
        return rows

    @cached_property
    def log_prob_table(self) -> FloatArray:
        """``log P(X = k | θ_g)`` for every item, grid point and score: (n, G, kmax + 1).

        A view of :attr:`log_prob_rows`, not a second copy.
        """
        view: FloatArray = self.log_prob_rows.reshape(len(self), self.kmax + 1, -1).transpose(
            0, 2, 1
        )
        return view

    @cached_property
    def information_by_grid(self) -> FloatArray:
        """Fisher information of every item at every grid point, one θ a contiguous row: (G, n)."""
        table = np.ascontiguousarray(item_information(self, self.grid).T)
        table.setflags(write=False)
        return table

    @cached_property
    def information_table(self) -> FloatArray:
        """Fisher information of every item at every grid point: (n, G).

        A view of :attr:`information_by_grid`, not a second copy.
        """
        view: FloatArray = self.information_by_grid.T
        return view

    @cached_property
    def is_dichotomous(self) -> BoolArray:
        """Right/wrong items: (n,)."""
        return np.array([m in DICHOTOMOUS for m in self.models])

    def subset(self, keep: npt.ArrayLike) -> Pool:
        """The pool restricted to the items where ``keep`` (bool (n,) or indices) holds."""
        idx = np.arange(len(self))[np.asarray(keep)] if np.asarray(keep).dtype == bool else keep
        idx = np.asarray(idx, dtype=np.int64)
        remap = {int(old): new for new, old in enumerate(idx)}
        return Pool(
            ids=tuple(self.ids[i] for i in idx),
            skills=tuple(self.skills[i] for i in idx),
            themes=tuple(self.themes[i] for i in idx),
            models=tuple(self.models[i] for i in idx),
            a=self.a[idx],
            b=self.b[idx],
            c=self.c[idx],
            d=self.d[idx],
            thresholds=self.thresholds[idx],
            n_categories=self.n_categories[idx],
            enemies=tuple(frozenset(remap[j] for j in self.enemies[i] if j in remap) for i in idx),
            non_reader=self.non_reader[idx],
            pretest=self.pretest[idx],
            grid=self.grid,
        )


# ---------------------------------------------------------------------- probabilities


def _as_grid(theta: npt.ArrayLike) -> FloatArray:
    grid = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    if grid.ndim != 1:
        raise ValueError("theta must be a scalar or a 1-D array")
    return grid


def _logistic(x: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free 1 / (1 + e^-x)
    return out


def _probabilities_and_derivatives(
    pool: Pool, theta: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``P`` and ``dP/dθ`` for every item, θ and score: two (n, G, kmax + 1) arrays."""
    grid = _as_grid(theta)
    n, g, k1 = len(pool), grid.size, pool.kmax + 1
    p = np.zeros((n, g, k1))
    dp = np.zeros((n, g, k1))
    models = np.asarray(pool.models)

    dich = np.flatnonzero(pool.is_dichotomous)
    if dich.size:
        a, b = pool.a[dich, None], pool.b[dich, None]
        c, d = pool.c[dich, None], pool.d[dich, None]
        star = _logistic(a * (grid[None, :] - b))
        p1 = c + (d - c) * star
        dp1 = a * (d - c) * star * (1.0 - star)
        p[dich, :, 1], p[dich, :, 0] = p1, 1.0 - p1
        dp[dich, :, 1], dp[dich, :, 0] = dp1, -dp1

    grm = np.flatnonzero(models == "GRM")
    if grm.size:
        a = pool.a[grm, None, None]
        steps = pool.thresholds[grm]  # (m, kmax), NaN beyond k
        star = _logistic(a * (grid[None, :, None] - steps[:, None, :]))  # (m, G, kmax)
        star = np.where(np.isnan(steps)[:, None, :], 0.0, star)
        ones = np.ones((grm.size, g, 1))
        zeros = np.zeros((grm.size, g, 1))
        upper = np.concatenate([ones, star], axis=2)  # P*_0..P*_kmax
        lower = np.concatenate([star, zeros], axis=2)  # P*_1..P*_kmax+1
        dstar = a * star * (1.0 - star)
        dupper = np.concatenate([zeros, dstar], axis=2)
        dlower = np.concatenate([dstar, zeros], axis=2)
        p[grm] = (upper - lower)[:, :, :k1]
        dp[grm] = (dupper - dlower)[:, :, :k1]

    gpcm = np.flatnonzero(models == "GPCM")
    if gpcm.size:
        a = pool.a[gpcm, None, None]
        steps = np.nan_to_num(pool.thresholds[gpcm], nan=0.0)  # padded steps never reached
        z = np.cumsum(a * (grid[None, :, None] - steps[:, None, :]), axis=2)
        z = np.concatenate([np.zeros((gpcm.size, g, 1)), z], axis=2)[:, :, :k1]
        cats = np.arange(k1)[None, None, :]
        valid = cats < pool.n_categories[gpcm, None, None]
        z = np.where(valid, z, -np.inf)
        z -= z.max(axis=2, keepdims=True)
        ez = np.exp(z)
        pg = ez / ez.sum(axis=2, keepdims=True)
        mean = (pg * cats).sum(axis=2, keepdims=True)
        p[gpcm] = pg
        dp[gpcm] = a * pg * (cats - mean)
    return p, dp


def probabilities(pool: Pool, theta: npt.ArrayLike) -> FloatArray:
    """Response probabilities for every item, ability and score.

    Parameters
    ----------
    pool : Pool
        The items, n of them.
    theta : float or array_like, (G,)
        Abilities.

    Returns
    -------
    ndarray, (n, G, kmax + 1)
        ``P(X_i = k | θ_g)``; zero for scores item ``i`` cannot take; each (i, g) row sums to 1.
    """
    return _probabilities_and_derivatives(pool, theta)[0]


def item_information(pool: Pool, theta: npt.ArrayLike) -> FloatArray:
    """Fisher information of every item at every ability.

    Parameters
    ----------
    pool : Pool
        The items, n of them.
    theta : float or array_like, (G,)
        Abilities.

    Returns
    -------
    ndarray, (n, G)
        :math:`I_i(\\theta_g) = \\sum_k P'_{ik}(\\theta_g)^2 / P_{ik}(\\theta_g)`, never negative.
    """
    p, dp = _probabilities_and_derivatives(pool, theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > PROBABILITY_FLOOR, dp * dp / p, 0.0)
    info: FloatArray = terms.sum(axis=2)
    return info


def expected_score(pool: Pool, theta: npt.ArrayLike) -> FloatArray:
    """Expected score of every item at every ability: (n, G)."""
    p = probabilities(pool, theta)
    out: FloatArray = (p * np.arange(p.shape[2])[None, None, :]).sum(axis=2)
    return out


def sample_responses(
    pool: Pool, item_indices: npt.ArrayLike, theta: float, rng: np.random.Generator
) -> IntArray:
    """Draw the scores of the given items for a candidate of ability ``theta``.

    Returns
    -------
    ndarray of int, (m,)
        One score per index in ``item_indices``, drawn from ``P(X = k | theta)``.
    """
    idx = np.atleast_1d(np.asarray(item_indices, dtype=np.int64))
    p = probabilities(pool, theta)[idx, 0, :]
    u = rng.random(idx.size)[:, None]
    out: IntArray = (u > np.cumsum(p, axis=1)).sum(axis=1).astype(np.int64)
    return np.minimum(out, pool.n_categories[idx] - 1)
