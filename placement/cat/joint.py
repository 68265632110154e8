"""The joint posterior of the skills and the probabilities of the *decision*.

The model
---------
Between-item multidimensional IRT: each item loads on its own skill, and the abilities are
jointly normal,

.. math:: \\boldsymbol\\theta \\sim N(\\mu_0 \\mathbf 1, \\sigma_0^2 R),\\qquad
          p(\\boldsymbol\\theta \\mid \\text{data}) \\propto
          N(\\boldsymbol\\theta; \\mu_0 \\mathbf 1, \\sigma_0^2 R)
          \\prod_k L_k(\\theta_k)

with :math:`L_k` the likelihood of section ``k`` on the pool's grid (piecewise constant over
the grid's cells). The decision of the prescription policy is a function of all the skills at
once (dispense only when *every* counted skill reaches the level; hours by the skills'
weighted mean), so its probability is an integral over the joint posterior, not a product of
marginals.

The computation
---------------
Importance sampling on fixed quasi-random points (scrambled Sobol, mapped to standard normals;
deterministic, so a result is the same at every computation). The proposal is, per skill, a
normal at the mean and 1.25 times the SD of the section's posterior under the *marginal*
prior :math:`\\varphi(\\theta_k) L_k(\\theta_k)`; each draw weighs

.. math:: w \\propto \\frac{N(\\boldsymbol\\theta; \\mu_0, \\sigma_0^2 R)
                         \\prod_k L_k(\\theta_k)}{\\prod_k q_k(\\theta_k)}

with :math:`L_k` read at the grid point nearest :math:`\\theta_k` (one gather, no search).
With one skill the posterior is the grid's, exactly. From the weighted draws: each skill's
mean and SD, the probability of being at or above each cut, and the policy's outcome of every
draw (:func:`outcomes`), hence :math:`P(\\text{dispense})` and the probability of each band
of hours. The effective number of draws (``ess``) is reported.

:class:`DecisionModel` is the policy's structure as plain data (the engine may not read policy
files); :meth:`placement.levels.Policy.decision_model` builds it, and a test checks that
:func:`outcomes` agrees with :func:`placement.levels.decide` point by point.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri
from scipy.stats import qmc

from placement.cat.rules import LEVELS
from placement.irt.models import BoolArray, FloatArray, IntArray

#: Quasi-random draws of the joint posterior (a power of two for the Sobol sequence).
N_DRAWS = 2048
_SOBOL_SEED = 20161


@dataclass(frozen=True, slots=True)
class Band:
    """A band of hours: matched when the global level is at least ``min_level`` (if set) and,
    with ``above_debutant``, when the global θ is at or above the débutant cut."""

    hours: int
    min_level: str | None = None
    above_debutant: bool = False


@dataclass(frozen=True, slots=True)
class DecisionModel:
    """What a prescription policy decides from the abilities (the CIR 2016 rules by default).

    ``dispense_skills`` must each reach ``dispense_level`` for a dispense; otherwise the first
    band of ``bands`` that the global estimate (the ``weights``-weighted mean of the assessed
    skills, against the same mean of their cuts) matches gives the hours. A non-reader gets
    ``non_reader_hours`` unless ``non_reader_dispense``.
    """

    dispense_level: str = "A1"
    dispense_skills: tuple[str, ...] = ("CO", "CE", "EO", "EE")
    weights: Mapping[str, float] = field(
        default_factory=lambda: {"CO": 1.0, "CE": 1.0, "EO": 1.0, "EE": 1.0}
    )
    bands: tuple[Band, ...] = (Band(50, "A1.1"), Band(100, None, True), Band(200))
    debutant_below: str = "A1.1"
    debutant_offset: float = 1.0
    non_reader_dispense: bool = False
    non_reader_hours: int = 200


DEFAULT_DECISION = DecisionModel()


def outcomes(
    model: DecisionModel,
    thetas: FloatArray,
    skills: Sequence[str],
    cuts: Mapping[str, Mapping[str, float]],
    non_reader: bool = False,
) -> tuple[BoolArray, IntArray]:
    """The policy's decision for each row of abilities: (dispense (M,), hours (M,)).

    Parameters
    ----------
    model : DecisionModel
    thetas : (M, S) array
        Abilities of the assessed skills, columns in ``skills`` order.
    skills : sequence of str, (S,)
        The assessed skills (a non-reader's CE and EE are absent).
    cuts : mapping skill -> {level: θ}
    non_reader : bool
    """
    m = thetas.shape[0]
    column = {s: i for i, s in enumerate(skills)}
    if non_reader and not model.non_reader_dispense:
        return np.zeros(m, dtype=bool), np.full(m, model.non_reader_hours, dtype=np.int64)
    counted = [s for s in model.dispense_skills if not (non_reader and s not in column)]
    dispense = np.full(m, bool(counted), dtype=bool)
    for s in counted:
        if s not in column or s not in cuts or model.dispense_level not in cuts[s]:
            dispense[:] = False
            break
        dispense &= thetas[:, column[s]] >= float(cuts[s][model.dispense_level])
    used = [s for s, w in model.weights.items() if w > 0 and s in column and s in cuts]
    hours = np.full(m, model.bands[-1].hours, dtype=np.int64)
    if used:
        total = sum(model.weights[s] for s in used)
        theta_g = sum(model.weights[s] * thetas[:, column[s]] for s in used) / total
        global_cuts = {
            lv: sum(model.weights[s] * float(cuts[s][lv]) for s in used) / total
            for lv in LEVELS[1:]
            if all(lv in cuts[s] for s in used)
        }
        if all("débutant" in cuts[s] for s in used):
            debutant: float | None = (
                sum(model.weights[s] * float(cuts[s]["débutant"]) for s in used) / total
            )
        elif model.debutant_below in global_cuts:
            debutant = global_cuts[model.debutant_below] - model.debutant_offset
        else:
            debutant = None
        level = np.zeros(m, dtype=np.int64)
        for lv, cut in global_cuts.items():
            level = np.where(theta_g >= cut, np.maximum(level, LEVELS.index(lv)), level)
        open_ = np.ones(m, dtype=bool)
        for band in model.bands:
            match = open_.copy()
            if band.min_level is not None:
                match &= level >= LEVELS.index(band.min_level)
            if band.above_debutant:
                match &= theta_g >= debutant if debutant is not None else False
            hours = np.where(match, band.hours, hours)
            open_ &= ~match
    return dispense, np.where(dispense, 0, hours)


@dataclass(frozen=True, slots=True)
class JointPosterior:
    """The joint posterior's summaries and the probabilities of the decision.

    Attributes
    ----------
    skills : tuple of str
        The assessed skills.
    theta, se : dict skill -> float
        Mean and SD of each skill's marginal of the joint posterior (every skill informs every
        other, later ones included).
    p_at_least : dict skill -> {level: float}
        :math:`P(\\theta_s \\ge c_s(\\text{level}))` for each cut.
    p_dispense : float
    p_hours : dict hours -> float
        Probability of each band of hours among prescriptions (they sum to ``1 - p_dispense``).
    dispense : bool
        The more probable of dispense and prescription.
    hours : int
        0 for a dispense, else the most probable band.
    p_decision : float
        The probability of that decision (``p_dispense`` or ``p_hours[hours]``).
    pivotal : (skill, level, probability) or None
        The skill whose reaching the dispense level is most in doubt, with that probability.
    ess : float
        Effective number of draws (importance sampling), for diagnostics.
    """

    skills: tuple[str, ...]
    theta: dict[str, float]
    se: dict[str, float]
    p_at_least: dict[str, dict[str, float]]
    p_dispense: float
    p_hours: dict[int, float]
    dispense: bool
    hours: int
    p_decision: float
    pivotal: tuple[str, str, float] | None
    ess: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "skills": list(self.skills),
            "theta": dict(self.theta),
            "se": dict(self.se),
            "p_at_least": {s: dict(v) for s, v in self.p_at_least.items()},
            "p_dispense": self.p_dispense,
            "p_hours": {str(h): p for h, p in self.p_hours.items()},
            "dispense": self.dispense,
            "hours": self.hours,
            "p_decision": self.p_decision,
            "pivotal": list(self.pivotal) if self.pivotal else None,
            "ess": self.ess,
        }


#: The proposal's SDs are the sections' posterior SDs times this (heavier tails than the target).
_WIDEN = 1.25


@functools.lru_cache(maxsize=8)
def _normal_points(dims: int, n: int = N_DRAWS) -> FloatArray:
    """Fixed quasi-random standard normal points (scrambled Sobol): (n, dims)."""
    u = qmc.Sobol(d=dims, scramble=True, seed=_SOBOL_SEED + dims).random(n)
    points: FloatArray = ndtri(np.clip(u, 1e-12, 1 - 1e-12))
    points.setflags(write=False)
    return points


@functools.lru_cache(maxsize=64)
def _precision(correlation: tuple[tuple[float, ...], ...], index: tuple[int, ...]) -> FloatArray:
    """The inverse of the correlation of the skills at ``index``."""
    sub = np.array([[correlation[a][b] for b in index] for a in index])
    out: FloatArray = np.linalg.inv(sub)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True)
class Draws:
    """Weighted draws of the joint posterior: ``thetas`` (M, S), ``weights`` (M,) summing to 1,
    and ``cells`` (M, S), the grid cell of each coordinate."""

    skills: tuple[str, ...]
    thetas: FloatArray
    weights: FloatArray
    cells: IntArray


def joint_draws(
    logliks: FloatArray,
    grid: FloatArray,
    skills: Sequence[str],
    correlation: Sequence[Sequence[float]] | None,
    order: Sequence[str],
    *,
    mean: float = 0.0,
    sd: float = 1.0,
    n_draws: int = N_DRAWS,
) -> Draws:
    """Weighted draws of the joint posterior (see the module docstring).

    Parameters
    ----------
    logliks : (S, G) array
        Log-likelihood of each assessed skill's responses on ``grid`` (zeros without data).
    grid : (G,) array, evenly spaced
    skills : sequence of str, (S,)
    correlation : (K, K) nested sequences in ``order``, or None (independent skills)
    mean, sd : float
        The marginal prior :math:`N(\\mu_0, \\sigma_0^2)`.
    """
    n_skills, n_grid = logliks.shape
    if n_skills == 0:
        return Draws((), np.zeros((1, 0)), np.ones(1), np.zeros((1, 0), dtype=np.int64))
    g0, h = float(grid[0]), float(grid[1] - grid[0])
    log_post = logliks - 0.5 * ((grid - mean) / sd) ** 2
    post = np.exp(log_post - np.maximum.reduce(log_post, axis=1, keepdims=True))
    if n_skills == 1:  # the posterior is the grid's: one draw per grid point, exactly
        weights = post[0] / post[0].sum()
        return Draws(tuple(skills), grid[:, None].copy(), weights, np.arange(n_grid)[:, None])
    # proposal: independent normals at each section's marginal-prior posterior, widened
    mass = np.add.reduce(post, axis=1)
    centre = (post @ grid) / mass
    spread = np.sqrt(np.maximum((post @ (grid * grid)) / mass - centre * centre, h * h))
    spread = _WIDEN * spread
    z = _normal_points(n_skills, n_draws)
    thetas = centre + spread * z
    cells = np.clip(np.rint((thetas - g0) / h).astype(np.int64), 0, n_grid - 1)
    loglik = logliks.ravel().take(cells + np.arange(n_skills) * n_grid)  # (M, S)
    t = (thetas - mean) / sd
    if correlation is not None:
        pos = {s: i for i, s in enumerate(order)}
        precision = _precision(
            tuple(tuple(float(x) for x in row) for row in correlation),
            tuple(pos[s] for s in skills),
        )
        quadratic = np.add.reduce((t @ precision) * t, axis=1)
    else:
        quadratic = np.add.reduce(t * t, axis=1)
    # target: prior x likelihood; proposal: the normals (their constant cancels)
    log_w = np.add.reduce(loglik, axis=1) - 0.5 * quadratic + 0.5 * np.add.reduce(z * z, axis=1)
    w = np.exp(log_w - log_w.max())
    return Draws(tuple(skills), thetas, w / w.sum(), cells)


def summarise_draws(
    draws: Draws,
    cuts: Mapping[str, Mapping[str, float]],
    model: DecisionModel = DEFAULT_DECISION,
    non_reader: bool = False,
) -> JointPosterior:
    """Marginals, cut probabilities and decision probabilities of weighted draws."""
    w, thetas, skills = draws.weights, draws.thetas, draws.skills
    means = w @ thetas
    variances = w @ (thetas * thetas) - means * means
    p_at_least: dict[str, dict[str, float]] = {}
    for k, s in enumerate(skills):
        levels = [lv for lv in LEVELS[1:] if lv in cuts.get(s, {})]
        values = np.array([float(cuts[s][lv]) for lv in levels])
        above = (w @ (thetas[:, k : k + 1] >= values)).tolist() if levels else []
        p_at_least[s] = dict(zip(levels, above, strict=True))
    dispense, hours = outcomes(model, thetas, skills, cuts, non_reader)
    p_dispense = float(w @ dispense)
    p_hours: dict[int, float] = {}
    for h in sorted({b.hours for b in model.bands} | {model.non_reader_hours}):
        p = float(w @ ((hours == h) & ~dispense))
        if p > 0 or h == model.bands[-1].hours:
            p_hours[h] = p
    decided_dispense = p_dispense >= 0.5
    if decided_dispense:
        decided_hours, p_decision = 0, p_dispense
    else:
        decided_hours = max(p_hours, key=lambda x: (p_hours[x], -x))
        p_decision = p_hours[decided_hours]
    pivotal = None
    level = model.dispense_level
    doubts = [
        (abs(p[level] - 0.5), s, p[level])
        for s, p in p_at_least.items()
        if level in p and s in model.dispense_skills
    ]
    if doubts and not (non_reader and not model.non_reader_dispense):
        _, skill, p = min(doubts)
        pivotal = (skill, level, p)
    return JointPosterior(
        skills=tuple(skills),
        theta={s: float(means[k]) for k, s in enumerate(skills)},
        se={s: math.sqrt(max(float(variances[k]), 0.0)) for k, s in enumerate(skills)},
        p_at_least=p_at_least,
        p_dispense=p_dispense,
        p_hours=p_hours,
        dispense=decided_dispense,
        hours=decided_hours,
        p_decision=p_decision,
        pivotal=pivotal,
        ess=float(1.0 / (w @ w)),
    )


def joint_posterior(  # noqa: PLR0917 - the arguments of joint_draws, then the cuts
    logliks: FloatArray,
    grid: FloatArray,
    skills: Sequence[str],
    correlation: Sequence[Sequence[float]] | None,
    order: Sequence[str],
    cuts: Mapping[str, Mapping[str, float]],
    *,
    model: DecisionModel = DEFAULT_DECISION,
    non_reader: bool = False,
    mean: float = 0.0,
    sd: float = 1.0,
) -> JointPosterior:
    """:func:`joint_draws` then :func:`summarise_draws`."""
    draws = joint_draws(logliks, grid, skills, correlation, order, mean=mean, sd=sd)
    return summarise_draws(draws, cuts, model, non_reader)
