"""Marginal maximum likelihood calibration on sparse (CAT) data.

Why not girth's ``twopl_mml`` / ``grm_mml`` / ``onepl_mml`` / ``threepl_mml`` as they are
----------------------------------------------------------------------------------------
girth builds the marginal likelihood correctly for missing entries (an ``INVALID_RESPONSE``
contributes a factor 1 to a person's likelihood), but it never *maximises* that likelihood in
the difficulties: for each item it solves the moment equation

.. math:: \\int \\sigma\\big(a(\\theta - b)\\big)\\, \\varphi(\\theta)\\, d\\theta = \\hat p_i,

where :math:`\\hat p_i` is the proportion of right answers **among those who saw the item** and
:math:`\\varphi` the N(0, 1) prior (``_solve_integral_equations`` / ``_mml_abstract``, or the
look-up table that tabulates the same equation), and only the discrimination is chosen by the
likelihood (``fminbound`` on ``a``). On complete data the equation is a good approximation; on
CAT data it is wrong by design: the CAT gives each item to the people for whom it is about 50 %
hard, so every :math:`\\hat p_i \\approx 0.5` and every :math:`b \\approx 0` whatever the item's
real difficulty — and ``a`` is then fitted around the wrong ``b``. An item that nobody saw makes
``np.unique`` of an empty vector feed the equation, which crashes.

What we do instead
------------------
Bock–Aitkin marginal maximum likelihood with the proper missing-data likelihood, the fixed
point of the EM algorithm, reached by EM-gradient steps then a quasi-Newton method
preconditioned by the items' complete-data information (:func:`_maximise`) on the marginal
log-likelihood itself (each evaluation is one E-step; the gradient is the expected
complete-data gradient, Fisher's identity, so no numerical derivatives):

.. math::
    \\ell(\\xi) = \\sum_p \\log \\sum_q w_q \\prod_{i \\in S_p} P_i(x_{pi} \\mid \\theta_q; \\xi_i),
    \\qquad
    \\nabla_{\\xi_i} \\ell = \\sum_q \\sum_x \\bar n_{ixq}\\, \\nabla_{\\xi_i}
        \\log P_i(x \\mid \\theta_q),

where :math:`S_p` is the set of items person *p* answered (unseen items are simply absent, not
coded), :math:`(\\theta_q, w_q)` girth's Gauss–Legendre nodes times the N(0, 1) density and
:math:`\\bar n_{ixq}` the expected number of persons at node *q* who gave score *x* to item *i*
(posterior weights summed over responses). All persons' responses enter the likelihood, so the
item selection, which depends only on earlier responses, is ignorable (missing at random given
the observed data); plugging a point estimate θ̂ into a per-item fit would not be.

Parameters are fitted in slope–intercept form (:math:`a = e^\\alpha`, :math:`z = a\\theta + d`,
:math:`b = -d/a`; 3PL :math:`c = \\sigma(\\gamma)`; GRM
:math:`d_j = d_1 - \\sum_{l \\le j} e^{\\eta_l}`, which keeps thresholds ordered) with weak
priors (Bayes modal): :math:`\\alpha_i \\sim N(\\mu, 0.5^2)` around the mean log-slope
:math:`\\mu \\sim N(0, 1)` of the items of the same model (integrated out; Mislevy's
hierarchical Bayes modal estimation, BILOG-MG's log-normal SD, so a sparsely answered item's
slope is pulled towards the other items', not towards 1, and the scale is not pulled),
:math:`d \\sim N(0, 4^2)`, :math:`c \\sim \\mathrm{Beta}(5, 17)`, and for the GRM the log of
each gap between thresholds in θ units, :math:`\\eta - \\alpha \\sim N(0, 2^2)`.
On top of the priors, Firth's bias-reducing penalty (the Jeffreys prior of each item given who
answered it, :meth:`_Problem._bias_penalty`): the posterior mode of a sparsely answered item's
slope is biased up, like any maximum-likelihood logistic slope on few responses, and when its
responses are separated (a GRM item whose lowest score nobody gave) only the prior holds it.
Standard errors come from the cross-product of the persons' score vectors (mirt's
``SE.type = "crossprod"``), or from a person bootstrap.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp
from tqdm import tqdm

from calibration.data import (
    DICHOTOMOUS,
    ESTIMATED,
    MODELS,
    BoolArray,
    FloatArray,
    IntArray,
    ItemParameters,
    Responses,
)
from calibration.errors import FitError
from calibration.model import TINY, quadrature

#: Spread of the log-slopes of one model's items around their common mean (BILOG-MG's
#: default log-normal slope prior has SD 0.5); the mean itself has a N(0, 1) prior
#: (``PRIOR_SD_LOG_A_MEAN``), so it floats with the scale of the data (see ``_Problem._prior``).
PRIOR_SD_LOG_A = 0.5
PRIOR_SD_LOG_A_MEAN = 1.0
PRIOR_SD_INTERCEPT = 4.0
PRIOR_SD_GAP = 2.0
PRIOR_BETA_C = (5.0, 17.0)
#: Responses per block when the person score vectors are computed (memory ~ chunk × k × Q).
PERSON_SCORE_CHUNK = 20_000
#: EM-gradient steps before the preconditioned quasi-Newton search (see :func:`_maximise`).
EM_STEPS = 10
#: Largest preconditioned gradient component at which the search stops (≈ standard errors).
GRADIENT_TOLERANCE = 1e-5

SeMethod = Literal["crossprod", "bootstrap", "none"]


@dataclass(frozen=True, slots=True)
class KeptItem:
    """An item whose parameters were not re-estimated, and why."""

    item_id: str
    n_responses: int
    reason: str


@dataclass(frozen=True, slots=True)
class FitResult:
    """Result of :func:`fit`.

    Attributes
    ----------
    params : ItemParameters
        New table: re-estimated items replaced, kept items at their old values.
    se_a, se_b, se_c : ndarray, (n,)
        Standard errors (NaN for kept items and for parameters not estimated).
    se_thresholds : ndarray, (n, kmax)
        Standard errors of GRM thresholds.
    fitted : ndarray of bool, (n,)
    n_responses : ndarray of int, (n,)
    kept : tuple of KeptItem
    theta_eap, theta_psd : ndarray, (N, S)
        Posterior mean and standard deviation of each person on each scale (NaN for a person
        with no response on that scale) under the new parameters.
    scales : tuple of str, (S,)
        The θ scales (skills) fitted separately, in the column order of ``theta_eap``.
    log_likelihood : float
        Marginal log-likelihood at the estimate (without the priors).
    n_evaluations : int
    converged : bool
    time_s : float
    se_method : str
    """

    params: ItemParameters
    se_a: FloatArray
    se_b: FloatArray
    se_c: FloatArray
    se_thresholds: FloatArray
    fitted: BoolArray
    n_responses: IntArray
    kept: tuple[KeptItem, ...]
    theta_eap: FloatArray
    theta_psd: FloatArray
    log_likelihood: float
    n_evaluations: int
    converged: bool
    time_s: float
    se_method: str
    scales: tuple[str, ...] = ("",)
    messages: tuple[str, ...] = field(default=())


@dataclass(slots=True)
class _Group:
    """Items of one model family and width, fitted together (vectorised)."""

    model: str
    items: IntArray  # (g,) item indices
    k: int  # highest score
    pos: IntArray  # (g, m) positions of each item's parameters in the flat vector
    c_fixed: FloatArray | None = None  # 3PL lower asymptotes held at their values


class _Preconditioner:
    """The change of variables x = x₀ + P y with Pᵀ H P = I for a block-diagonal H.

    H is the complete-data (M-step) information; in y the marginal likelihood is close to
    isotropic except in the few directions where much information is missing (the scale),
    which the quasi-Newton memory then learns in a few steps.
    """

    def __init__(
        self,
        size: int,
        blocks: Sequence[tuple[IntArray, FloatArray]],
        shared_pos: IntArray,
        shared_info: FloatArray,
    ) -> None:
        self.size = size
        self.blocks: list[tuple[IntArray, FloatArray]] = []
        scale = np.ones(size)
        for pos, raw in blocks:
            m = raw.shape[1]
            info = np.where(np.isfinite(raw), raw, 0.0)
            # a tiny ridge keeps the factor defined for an item with almost no information
            ridge = 1e-8 * np.maximum(np.trace(info, axis1=1, axis2=2) / m, 1.0)
            try:
                chol = np.linalg.cholesky(info + ridge[:, None, None] * np.eye(m)[None])
            except np.linalg.LinAlgError:
                # numerically indefinite somewhere (extreme parameters): scale by the diagonal
                diag = np.maximum(np.diagonal(info, axis1=1, axis2=2), 1e-8)
                chol = np.sqrt(diag)[:, :, None] * np.eye(m)[None]
            self.blocks.append((pos, np.linalg.inv(chol)))  # L⁻¹, (g, m, m)
        self.shared_pos = shared_pos.astype(np.int64)
        if self.shared_pos.size:
            scale[self.shared_pos] = 1.0 / np.sqrt(np.maximum(shared_info, 1e-8))
        self.shared_scale = scale[self.shared_pos] if self.shared_pos.size else scale[:0]

    def to_x(self, y: FloatArray) -> FloatArray:
        """P y."""
        out = np.zeros(self.size)
        for pos, inv in self.blocks:
            out[pos] = np.einsum("inm,in->im", inv, y[pos])  # L⁻ᵀ y
        out[self.shared_pos] = self.shared_scale * y[self.shared_pos]
        return out

    def to_y(self, grad: FloatArray) -> FloatArray:
        """Pᵀ g."""
        out = np.zeros(self.size)
        for pos, inv in self.blocks:
            out[pos] = np.einsum("imn,in->im", inv, grad[pos])  # L⁻¹ g
        out[self.shared_pos] = self.shared_scale * grad[self.shared_pos]
        return out


def _pooling(n: int) -> float:
    """c of the hierarchical slope prior's precision (I - c 11^T) / s^2 for n slopes."""
    return PRIOR_SD_LOG_A_MEAN**2 / (PRIOR_SD_LOG_A**2 + n * PRIOR_SD_LOG_A_MEAN**2)


class _Problem:
    """The marginal likelihood of a parameter table on a response set, over a flat vector."""

    def __init__(
        self,
        params: ItemParameters,
        models: Sequence[str],
        responses: Responses,
        *,
        free: BoolArray,
        nodes: FloatArray,
        weights: FloatArray,
        priors: bool,
        fit_guessing: bool = False,
        person_prior: tuple[FloatArray, FloatArray] | None = None,
    ) -> None:
        self.params = params
        self.models = tuple(models)
        self.nodes = nodes
        self.log_w = np.log(weights)[None, :]
        if person_prior is not None:
            # each person's own normal prior (conditioned on other skills, as the engine did)
            mean, sd = person_prior
            base = np.log(weights) + 0.5 * nodes**2  # the Legendre weights, up to a constant
            log_w = base[None, :] - 0.5 * ((nodes[None, :] - mean[:, None]) / sd[:, None]) ** 2
            self.log_w = log_w - logsumexp(log_w, axis=1, keepdims=True)
        self.priors = priors
        self.k = params.max_scores.astype(np.int64)
        self.offset = np.concatenate([[0], np.cumsum(self.k + 1)[:-1]]).astype(np.int64)
        self.n_cols = int(np.sum(self.k + 1))
        cols = self.offset[responses.item] + responses.score
        self.S = sp.csr_matrix(
            (np.ones(responses.n_responses), (responses.person, cols)),
            shape=(responses.n_persons, self.n_cols),
        )
        self.ST = self.S.T.tocsr()
        self.responses = responses
        # fixed items contribute constant columns
        self.fixed_logp = np.zeros((self.n_cols, nodes.size))
        fixed = np.flatnonzero(~free)
        if fixed.size:
            from calibration.model import category_probabilities

            probs = category_probabilities(params.subset(fixed), nodes)
            for j, i in enumerate(fixed):
                width = self.k[i] + 1
                self.fixed_logp[self.offset[i] : self.offset[i] + width] = np.log(
                    np.maximum(probs[j, :width], TINY)
                )
        # groups of free items
        self.groups: list[_Group] = []
        size = 0
        shared_alpha: int | None = None
        free_idx = np.flatnonzero(free)
        keys = sorted({(self.models[i], int(self.k[i])) for i in free_idx})
        for model, k in keys:
            items = np.array(
                [i for i in free_idx if self.models[i] == model and self.k[i] == k], dtype=np.int64
            )
            g = items.size
            if model == "1PL":
                if shared_alpha is None:
                    shared_alpha = size
                    size += 1
                pos = np.column_stack([np.full(g, shared_alpha), size + np.arange(g)]).astype(
                    np.int64
                )
                size += g
            else:
                m = {"2PL": 2, "3PL": 3 if fit_guessing else 2, "GRM": k + 1}[model]
                pos = (size + np.arange(g * m).reshape(g, m)).astype(np.int64)
                size += g * m
            c_fixed = params.c[items].copy() if model == "3PL" and not fit_guessing else None
            self.groups.append(_Group(model, items, k, pos, c_fixed))
        self.size = size
        self.n_evaluations = 0
        # positions of the free log-slopes of each model (not 1PL: one shared slope), pooled
        # by the hierarchical slope prior (see ``_prior``)
        self.slope_pools = [
            np.concatenate([g.pos[:, 0] for g in self.groups if g.model == model])
            for model in sorted({g.model for g in self.groups} - {"1PL"})
        ]
        #: each group's expected respondents per node, (g, Q), frozen for the bias-reducing
        #: penalty (see ``freeze_takers``); None until then
        self.takers: list[FloatArray] | None = None

    # -- packing ----------------------------------------------------------------------------
    def start_vector(self, start: ItemParameters) -> FloatArray:
        """Initial flat vector from a starting table (old or provisional parameters)."""
        x = np.zeros(self.size)
        for grp in self.groups:
            a = np.clip(start.a[grp.items], 0.2, 4.0)
            if grp.model in ("1PL", "2PL", "3PL"):
                x[grp.pos[:, 0]] = np.log(a) if grp.model != "1PL" else np.log(np.mean(a))
                x[grp.pos[:, 1]] = -a * np.clip(start.b[grp.items], -5, 5)
                if grp.model == "3PL" and grp.c_fixed is None:
                    c = np.clip(start.c[grp.items], 0.02, 0.4)
                    x[grp.pos[:, 2]] = np.log(c / (1 - c))
            else:
                thr = start.thresholds[grp.items, : grp.k]
                # an item that was dichotomous or lacks thresholds: spread them around b
                bad = np.isnan(thr).any(axis=1)
                if bad.any():
                    thr[bad] = start.b[grp.items][bad, None] + np.linspace(-1, 1, grp.k)[None, :]
                thr = np.maximum.accumulate(np.clip(thr, -5, 5), axis=1)
                gaps = np.maximum(np.diff(thr, axis=1), 0.05)
                d = -a[:, None] * thr
                x[grp.pos[:, 0]] = np.log(a)
                x[grp.pos[:, 1]] = d[:, 0]
                if grp.k > 1:
                    x[grp.pos[:, 2:]] = np.log(a[:, None] * gaps)
        return x

    def natural(self, x: FloatArray, out: ItemParameters) -> ItemParameters:
        """The table ``out`` with free items replaced by the values in ``x``."""
        a, b, c = out.a.copy(), out.b.copy(), out.c.copy()
        d_up, thr = out.d.copy(), out.thresholds.copy()
        for grp in self.groups:
            alpha = x[grp.pos[:, 0]]
            ai = np.exp(alpha)
            a[grp.items] = ai
            if grp.model in DICHOTOMOUS:
                b[grp.items] = -x[grp.pos[:, 1]] / ai
                if grp.model != "3PL":
                    c[grp.items] = 0.0
                elif grp.c_fixed is None:
                    c[grp.items] = expit(x[grp.pos[:, 2]])
                else:
                    c[grp.items] = grp.c_fixed
                d_up[grp.items] = 1.0
                thr[grp.items] = np.nan
            else:
                d = self._grm_intercepts(x, grp)
                t = -d / ai[:, None]
                thr[grp.items] = np.nan
                thr[grp.items, : grp.k] = t
                b[grp.items] = t.mean(axis=1)
                c[grp.items] = 0.0
                d_up[grp.items] = 1.0
        models = tuple(self.models)
        return out.with_values(a=a, b=b, c=c, d=d_up, thresholds=thr, models=models)

    @staticmethod
    def _grm_intercepts(x: FloatArray, grp: _Group) -> FloatArray:
        d1 = x[grp.pos[:, 1]]
        if grp.k == 1:
            return d1[:, None]
        gaps = np.exp(x[grp.pos[:, 2:]])
        return np.column_stack([d1, d1[:, None] - np.cumsum(gaps, axis=1)])

    # -- likelihood ---------------------------------------------------------------------------
    def _group_logp(self, x: FloatArray, grp: _Group) -> tuple[FloatArray, dict[str, FloatArray]]:
        """Log-probabilities (g, k+1, Q) and the intermediate arrays the gradient needs."""
        th = self.nodes[None, :]
        a = np.exp(x[grp.pos[:, 0]])[:, None]
        if grp.model in DICHOTOMOUS:
            z = a * th + x[grp.pos[:, 1]][:, None]
            if grp.model == "3PL":
                c = (expit(x[grp.pos[:, 2]]) if grp.c_fixed is None else grp.c_fixed)[:, None]
                s = expit(z)
                p1 = c + (1 - c) * s
                logp = np.stack([np.log1p(-c) + log_expit(-z), np.log(p1)], axis=1)
                return logp, {"a": a, "c": c, "s": s, "p1": p1}
            logp = np.stack([log_expit(-z), log_expit(z)], axis=1)
            return logp, {"a": a, "p1": expit(z)}
        d = self._grm_intercepts(x, grp)  # (g, k)
        z = a[:, :, None] * th[:, None, :] + d[:, :, None]  # (g, k, Q)
        star = expit(z)
        g, q = star.shape[0], self.nodes.size
        full = np.concatenate([np.ones((g, 1, q)), star, np.zeros((g, 1, q))], axis=1)
        p = np.maximum(full[:, :-1] - full[:, 1:], TINY)
        return np.log(p), {"a": a, "star": star, "p": p}

    def log_table(self, x: FloatArray) -> FloatArray:
        """Log-probability of each (item, score) column at each node, (C, Q)."""
        table = self.fixed_logp.copy()
        for grp in self.groups:
            logp, _ = self._group_logp(x, grp)
            cols = self.offset[grp.items][:, None] + np.arange(grp.k + 1)[None, :]
            table[cols] = logp
        return table

    def posterior(self, table: FloatArray) -> tuple[FloatArray, float]:
        """Posterior weights of each person over the nodes, (N, Q), and the log-likelihood."""
        L = np.asarray(self.S @ table) + self.log_w
        m = L.max(axis=1, keepdims=True)
        W = np.exp(L - m)
        s = W.sum(axis=1, keepdims=True)
        W /= s
        return W, float(np.sum(m) + np.sum(np.log(s)))

    def _group_grad(self, x: FloatArray, grp: _Group, counts: FloatArray) -> FloatArray:
        """Gradient of Σ n log P for the items of ``grp`` given expected counts (g, k+1, Q)."""
        th = self.nodes[None, :]
        _, aux = self._group_logp(x, grp)
        a = aux["a"]
        if grp.model in DICHOTOMOUS:
            n0, n1 = counts[:, 0], counts[:, 1]
            if grp.model == "3PL":
                c, s, p1 = aux["c"], aux["s"], aux["p1"]
                dl_dp = n1 / np.maximum(p1, TINY) - n0 / np.maximum(1 - p1, TINY)
                dz = dl_dp * (1 - c) * s * (1 - s)
                g_alpha, g_d = a[:, 0] * np.sum(dz * th, axis=1), dz.sum(axis=1)
                if grp.c_fixed is not None:
                    return np.column_stack([g_alpha, g_d])
                g_gamma = np.sum(dl_dp * (1 - s), axis=1) * (c[:, 0] * (1 - c[:, 0]))
                return np.column_stack([g_alpha, g_d, g_gamma])
            dz = n1 - (n0 + n1) * aux["p1"]
            return np.column_stack([a[:, 0] * np.sum(dz * th, axis=1), dz.sum(axis=1)])
        star, p = aux["star"], aux["p"]
        ratio = counts / p  # (g, k+1, Q)
        dz = (ratio[:, 1:] - ratio[:, :-1]) * star * (1 - star)  # (g, k, Q)
        g_alpha = a[:, 0] * np.sum(dz * th[:, None, :], axis=(1, 2))
        g_d = dz.sum(axis=2)  # (g, k)
        cols = [g_alpha, g_d.sum(axis=1)]
        if grp.k > 1:
            gaps = np.exp(x[grp.pos[:, 2:]])
            tail = np.cumsum(g_d[:, ::-1], axis=1)[:, ::-1][:, 1:]  # Σ_{k >= j}, j = 2..k
            cols.append(-gaps * tail)
        return np.column_stack(cols)

    def _group_dp(self, x: FloatArray, grp: _Group) -> tuple[FloatArray, FloatArray]:
        """Derivatives of each score's probability, (g, k+1, m, Q), and the probabilities.

        ``dp[i, x, j, q]`` = :math:`\\partial P_{ix}(\\theta_q) / \\partial \\xi_{ij}` in the
        fitted (slope–intercept) parameters; ``p`` is (g, k+1, Q).
        """
        th = self.nodes[None, :]
        _, aux = self._group_logp(x, grp)
        a = aux["a"]
        if grp.model in DICHOTOMOUS:
            p1 = aux["p1"]
            if grp.model == "3PL":
                c, s = aux["c"], aux["s"]
                dp_dz = (1 - c) * s * (1 - s)
            else:
                dp_dz = p1 * (1 - p1)
            parts = [dp_dz * a * th, dp_dz]
            if grp.model == "3PL" and grp.c_fixed is None:
                parts.append((1 - aux["s"]) * aux["c"] * (1 - aux["c"]))
            deriv = np.stack(parts, axis=1)  # (g, m, Q)
            p = np.stack([np.maximum(1 - p1, TINY), np.maximum(p1, TINY)], axis=1)
            return np.stack([-deriv, deriv], axis=1), p
        star, p = aux["star"], aux["p"]  # (g, k, Q), (g, k+1, Q)
        g, k, q = star.shape
        slope = star * (1 - star)
        dstar = np.zeros((g, k + 2, k + 1, q))  # ∂P*_j/∂ξ, with P*_0 = 1 and P*_{k+1} = 0
        dstar[:, 1 : k + 1, 0] = slope * (a[:, :, None] * th[:, None, :])
        dstar[:, 1 : k + 1, 1] = slope
        if k > 1:
            gaps = np.exp(x[grp.pos[:, 2:]])  # (g, k-1): d_j = d_1 - Σ_{l<=j} e^{η_l}
            for col in range(2, k + 1):
                dstar[:, col : k + 1, col] = -gaps[:, col - 2, None, None] * slope[:, col - 1 :]
        return dstar[:, :-1] - dstar[:, 1:], p

    def _group_information(self, x: FloatArray, grp: _Group, n_at: FloatArray) -> FloatArray:
        """Expected complete-data information of each item of ``grp``, (g, m, m).

        :math:`\\sum_q \\bar n_{iq} \\sum_x \\nabla P_{ix}(\\theta_q) \\nabla P_{ix}(\\theta_q)^T
        / P_{ix}(\\theta_q)`, with :math:`\\bar n_{iq}` (``n_at``, (g, Q)) the expected number
        of respondents of item *i* at node *q*: the M-step's Fisher information, the
        block-diagonal curvature that EM would use.
        """
        dp, p = self._group_dp(x, grp)
        return np.einsum("ixmq,ixnq,ixq->imn", dp, dp, n_at[:, None, :] / p)

    def _prior_curvature(self, x: FloatArray, grp: _Group) -> FloatArray:
        """Minus the second derivative of the log-prior, (g, m), for ``grp``'s parameters."""
        curv = np.zeros(grp.pos.shape)
        if not self.priors:
            return curv
        if grp.model == "1PL":
            curv[:, 0] = 1.0 / PRIOR_SD_LOG_A_MEAN**2 / grp.items.size
        else:
            n = next(pool.size for pool in self.slope_pools if grp.pos[0, 0] in pool)
            curv[:, 0] = (1.0 - _pooling(n)) / PRIOR_SD_LOG_A**2
        curv[:, 1] = 1.0 / PRIOR_SD_INTERCEPT**2
        if grp.model == "3PL" and grp.c_fixed is None:
            c = expit(x[grp.pos[:, 2]])
            curv[:, 2] = sum(PRIOR_BETA_C) * c * (1 - c)
        if grp.model == "GRM" and grp.k > 1:  # the diagonal of the log-gaps' prior
            curv[:, 2:] = 1.0 / PRIOR_SD_GAP**2
            curv[:, 0] += (grp.k - 1) / PRIOR_SD_GAP**2
        return curv

    def _prior_hessian(self, x: FloatArray, grp: _Group) -> FloatArray:
        """Minus the log-prior's second derivatives within each item, (g, m, m): the diagonal,
        and for a GRM item the terms between its log-slope and log-gaps (the gaps' prior is on
        eta - alpha). Slopes of one pool are also coupled across items (through their mean):
        that weak term, O(1/n), is left out."""
        m = grp.pos.shape[1]
        hess = np.zeros((grp.items.size, m, m))
        hess[:, np.arange(m), np.arange(m)] = self._prior_curvature(x, grp)
        if self.priors and grp.model == "GRM" and grp.k > 1:
            hess[:, 0, 2:] = hess[:, 2:, 0] = -1.0 / PRIOR_SD_GAP**2
        return hess

    def preconditioner(self, x: FloatArray, counts: FloatArray) -> _Preconditioner:
        """Block-diagonal factor of the complete-data information (prior included) at ``x``.

        ``counts`` are the expected counts (C, Q) of the E-step at ``x``. A parameter shared by
        several items (the 1PL slope) keeps its diagonal only.
        """
        blocks: list[tuple[IntArray, FloatArray]] = []
        shared_pos: list[int] = []
        shared_val: list[float] = []
        for grp in self.groups:
            cols = self.offset[grp.items][:, None] + np.arange(grp.k + 1)[None, :]
            info = self._group_information(x, grp, counts[cols].sum(axis=1))
            info += self._prior_hessian(x, grp)
            if grp.model == "1PL":  # column 0 is the one slope of every 1PL item
                shared_pos.append(int(grp.pos[0, 0]))
                shared_val.append(float(info[:, 0, 0].sum()))
                blocks.append((grp.pos[:, 1:], info[:, 1:, 1:]))
            else:
                blocks.append((grp.pos, info))
        return _Preconditioner(self.size, blocks, np.array(shared_pos), np.array(shared_val))

    def _prior(self, x: FloatArray) -> tuple[float, FloatArray]:
        value, grad = 0.0, np.zeros_like(x)
        if not self.priors:
            return value, grad
        for pool in self.slope_pools:
            # log a_i = mu + e_i, e_i ~ N(0, s^2), mu ~ N(0, t^2), mu integrated out: the
            # log-slopes are jointly normal with precision (I - c 11^T) / s^2,
            # c = t^2 / (s^2 + n t^2); with many items they shrink towards their own mean,
            # not towards a = 1, so the prior does not pull the scale (the linking's A)
            alpha = x[pool]
            dev = alpha - _pooling(pool.size) * float(alpha.sum())
            value -= float(alpha @ dev) / (2 * PRIOR_SD_LOG_A**2)
            grad[pool] -= dev / PRIOR_SD_LOG_A**2
        for grp in self.groups:
            if grp.model == "1PL":  # the one shared slope: the mean's prior
                alpha1 = float(x[grp.pos[0, 0]])
                value -= alpha1**2 / (2 * PRIOR_SD_LOG_A_MEAN**2)
                grad[grp.pos[0, 0]] -= alpha1 / PRIOR_SD_LOG_A_MEAN**2
            d = x[grp.pos[:, 1]]
            value -= float(np.sum(d**2)) / (2 * PRIOR_SD_INTERCEPT**2)
            grad[grp.pos[:, 1]] -= d / PRIOR_SD_INTERCEPT**2
            if grp.model == "3PL" and grp.c_fixed is None:
                gamma = x[grp.pos[:, 2]]
                c = expit(gamma)
                al, be = PRIOR_BETA_C
                value += float(np.sum(al * log_expit(gamma) + be * log_expit(-gamma)))
                grad[grp.pos[:, 2]] += al * (1 - c) - be * c
            if grp.model == "GRM" and grp.k > 1:
                # the gaps between thresholds in θ units, b_(j+1) - b_j = e^(eta - alpha): a
                # prior on eta itself (a times the gap) would pull the slope up wherever the
                # categories are narrow, and down where they are wide
                log_gap = x[grp.pos[:, 2:]] - x[grp.pos[:, :1]]
                value -= float(np.sum(log_gap**2)) / (2 * PRIOR_SD_GAP**2)
                grad[grp.pos[:, 2:]] -= log_gap / PRIOR_SD_GAP**2
                grad[grp.pos[:, 0]] += log_gap.sum(axis=1) / PRIOR_SD_GAP**2
        return value, grad

    def freeze_takers(self, counts: FloatArray) -> None:
        """Fix each item's expected respondents per node (from the E-step's ``counts``, (C, Q))
        for the bias-reducing penalty, which from then on is a fixed function of ``x``."""
        self.takers = [
            counts[self.offset[grp.items][:, None] + np.arange(grp.k + 1)[None, :]].sum(axis=1)
            for grp in self.groups
        ]

    def retake_takers(
        self, x: FloatArray, value: float, grad: FloatArray, counts: FloatArray
    ) -> tuple[float, FloatArray]:
        """:meth:`freeze_takers` at the E-step ``counts`` of ``x``, and the objective's value
        and gradient at ``x`` (``evaluate``'s, under the previous respondents) moved to the new
        penalty, without another E-step."""
        old_value, old_grad = self._bias_penalty(x)
        self.freeze_takers(counts)
        new_value, new_grad = self._bias_penalty(x)
        return value + old_value - new_value, grad + old_grad - new_grad

    def _log_det_information(self, x: FloatArray, grp: _Group, n_at: FloatArray) -> FloatArray:
        """log det of each item's own information (the 1PL's shared slope left out), (g,)."""
        own = slice(1, None) if grp.model == "1PL" else slice(None)
        info = self._group_information(x, grp, n_at)[:, own, own]
        info = info + 1e-10 * np.eye(info.shape[1])[None]
        return np.asarray(np.linalg.slogdet(info)[1])

    def _bias_penalty(self, x: FloatArray) -> tuple[float, FloatArray]:
        """Firth's bias-reducing penalty: half the log-determinant of each item's information.

        :math:`\\tfrac12 \\log\\det I_i(\\xi_i)`, the Jeffreys prior of item *i* given who
        answered it: :math:`I_i` is its expected (complete-data) information over its
        respondents' abilities (``takers``, frozen by :meth:`freeze_takers`), taken in the
        coordinates of its linear predictor :math:`a\\theta + d_j` (the canonical ones of the
        logistic model): the flat vector's log-slope and log-gaps enter through the Jacobian,
        :math:`\\log\\det I_{(a, d)} = \\log\\det I_\\xi - 2\\alpha - 2\\sum\\eta`. Maximum
        likelihood overestimates the slope of a sparsely answered item (by O(1/n), and without
        bound when its responses are separated, e.g. a GRM item whose lowest score nobody
        gave); the penalty removes that first-order bias (Firth, 1993) and keeps such
        estimates finite. The slope prior does not: it pulls every item towards the others'
        mean, and under a CAT the well-answered items are the discriminating ones (maximum
        information picks them), so it pulls a sparse item's slope up, not down. Gradient by
        central differences, item by item (each item's information depends on its own
        parameters only). The 1PL's shared slope is left out.
        """
        value, grad = 0.0, np.zeros_like(x)
        if self.takers is None:
            return value, grad
        h = 1e-5
        for grp, n_at in zip(self.groups, self.takers, strict=True):
            pos = grp.pos[:, 1:] if grp.model == "1PL" else grp.pos
            value += 0.5 * float(self._log_det_information(x, grp, n_at).sum())
            for j in range(pos.shape[1]):
                up, down = x.copy(), x.copy()
                up[pos[:, j]] += h
                down[pos[:, j]] -= h
                diff = self._log_det_information(up, grp, n_at)
                diff -= self._log_det_information(down, grp, n_at)
                grad[pos[:, j]] += 0.25 * diff / h
            if grp.model != "1PL":  # d log a / d alpha = 1
                value -= float(x[grp.pos[:, 0]].sum())
                grad[grp.pos[:, 0]] -= 1.0
            if grp.model == "3PL" and grp.c_fixed is None:  # dc / dgamma = c (1 - c)
                gamma = x[grp.pos[:, 2]]
                value -= float(np.sum(log_expit(gamma) + log_expit(-gamma)))
                grad[grp.pos[:, 2]] -= 1.0 - 2.0 * expit(gamma)
            if grp.model == "GRM" and grp.k > 1:  # d_j - d_(j+1) = e^eta
                value -= float(x[grp.pos[:, 2:]].sum())
                grad[grp.pos[:, 2:]] -= 1.0
        return value, grad

    def evaluate(self, x: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        """One E-step: negative log-posterior, its gradient, and the expected counts (C, Q)."""
        self.n_evaluations += 1
        table = self.log_table(x)
        W, ll = self.posterior(table)
        counts = np.asarray(self.ST @ W)  # (C, Q)
        prior, grad = self._prior(x)
        penalty, penalty_grad = self._bias_penalty(x)
        prior += penalty
        grad += penalty_grad
        for grp in self.groups:
            cols = self.offset[grp.items][:, None] + np.arange(grp.k + 1)[None, :]
            np.add.at(grad, grp.pos, self._group_grad(x, grp, counts[cols]))
        return -(ll + prior), -grad, counts

    def objective(self, x: FloatArray) -> tuple[float, FloatArray]:
        """Negative log-posterior of the item parameters and its gradient."""
        value, grad, _ = self.evaluate(x)
        return value, grad

    # -- standard errors ---------------------------------------------------------------------
    def person_scores(self, x: FloatArray) -> sp.csr_matrix:
        """Score vector of each person, (N, size): posterior expectation of ∇ log P.

        For a response of person *p* to item *i* with score *x* the contribution is
        :math:`\\sum_q W_{pq}\\, \\nabla \\log P_{ix}(\\theta_q)`; the table of
        :math:`\\nabla \\log P` is computed once per item, then gathered per response.
        """
        W, _ = self.posterior(self.log_table(x))
        resp = self.responses
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        n_items = self.params.n_items
        group_of = np.full(n_items, -1, dtype=np.int64)
        local_of = np.zeros(n_items, dtype=np.int64)
        for gi, grp in enumerate(self.groups):
            group_of[grp.items] = gi
            local_of[grp.items] = np.arange(grp.items.size)
        response_group = group_of[resp.item]
        for gi, grp in enumerate(self.groups):
            dp, p = self._group_dp(x, grp)
            dlogp = dp / p[:, :, None, :]  # (g, k+1, m, Q)
            mine = np.flatnonzero(response_group == gi)
            # chunks keep the (responses, m, nodes) array small on large data
            for r_idx in np.array_split(mine, max(1, -(-mine.size // PERSON_SCORE_CHUNK))):
                if r_idx.size == 0:
                    continue
                local = local_of[resp.item[r_idx]]
                person = resp.person[r_idx]
                g = np.einsum("rmq,rq->rm", dlogp[local, resp.score[r_idx]], W[person])
                rows.append(np.repeat(person, g.shape[1]))
                cols.append(grp.pos[local].ravel())
                vals.append(g.ravel())
        if not rows:
            return sp.csr_matrix((resp.n_persons, self.size))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(resp.n_persons, self.size),
        )

    def covariance(self, x: FloatArray) -> FloatArray:
        """Cross-product estimate of the covariance of the flat vector, (size, size)."""
        scores = self.person_scores(x)
        info = np.asarray((scores.T @ scores).todense())
        if self.priors:
            for grp in self.groups:
                rows, cols = grp.pos[:, :, None], grp.pos[:, None, :]
                np.add.at(info, (rows, cols), self._prior_hessian(x, grp))
        try:
            return np.asarray(np.linalg.inv(info))
        except np.linalg.LinAlgError:
            return np.asarray(np.linalg.pinv(info))


@dataclass(frozen=True, slots=True)
class _Optimum:
    x: FloatArray
    success: bool
    message: str
    iterations: int


def _maximise(
    problem: _Problem,
    x0: FloatArray,
    *,
    max_iterations: int,
    tolerance: float,
    em_steps: int = EM_STEPS,
    bias_reduction: bool = True,
    callback: Callable[[], object] | None = None,
) -> _Optimum:
    """Maximise the log-posterior of the item parameters from ``x0``.

    1. Up to ``em_steps`` EM-gradient steps (Lange, 1995):
       :math:`x \\leftarrow x + H(x)^{-1} \\nabla \\ell(x)`, with :math:`H` the block-diagonal
       complete-data information (one Newton step of EM's M-step, every item at once); each
       step costs one E-step, is halved while the objective does not decrease, and moves each
       item to the right scale from a poor start.
    2. L-BFGS-B in the coordinates :math:`y` of :math:`x = \\hat x + P y`,
       :math:`P^T H P = I` at the last EM iterate (:class:`_Preconditioner`): the items' own
       curvature is taken out, so the search only has to learn the few directions where
       information is missing (the common scale), which its memory does in a few steps.
       It stops when the objective changes by less than ``tolerance`` (relative), or when
       every preconditioned gradient component is below ``GRADIENT_TOLERANCE`` (each
       parameter is then within about that many standard errors of the optimum).

    With priors (and ``bias_reduction``), both steps add Firth's penalty
    (:meth:`_Problem._bias_penalty`): each EM-gradient step takes each item's respondents from
    its own E-step (as EM's M-step would), and step 2 holds them where the last EM step left
    them, so that it maximises one fixed function. (Taking them again at the optimum and
    searching once more moved no RMSE of the recovery benchmark by more than 0.003, seeds
    101–105; adding the penalty only at step 2 gave the same estimates in more E-steps, e.g.
    38 instead of 30 on 2M responses.)

    On the 20,000 × 300 CAT benchmark this takes about 30 E-steps where plain L-BFGS took
    about 350 (and stopped further from the optimum).
    """
    x = x0.copy()
    value, grad, counts = problem.evaluate(x)
    iterations = 0
    penalise = problem.priors and bias_reduction
    for _ in range(em_steps):
        if penalise:  # the penalty's respondents follow the E-steps, as in an M-step
            value, grad = problem.retake_takers(x, value, grad, counts)
        pre = problem.preconditioner(x, counts)
        step = pre.to_x(pre.to_y(grad))
        for _halving in range(8):
            t_value, t_grad, t_counts = problem.evaluate(x - step)
            if np.isfinite(t_value) and t_value <= value:
                break
            step = step / 2
        else:
            break  # no decrease along the EM direction: the quasi-Newton search goes on
        done = value - t_value <= tolerance * max(abs(value), 1.0)
        x, value, grad, counts = x - step, t_value, t_grad, t_counts
        iterations += 1
        if callback is not None:
            callback()
        if done:
            break
    if penalise:  # from here on held: the quasi-Newton search needs one fixed function
        value, grad = problem.retake_takers(x, value, grad, counts)
    pre = problem.preconditioner(x, counts)
    base, first = x, (value, pre.to_y(grad))

    def objective(y: FloatArray) -> tuple[float, FloatArray]:
        if not y.any():  # the starting point, already evaluated
            return first
        v, g, _ = problem.evaluate(base + pre.to_x(y))
        return v, pre.to_y(g)

    result = minimize(
        objective,
        np.zeros(problem.size),
        jac=True,
        method="L-BFGS-B",
        callback=None if callback is None else (lambda _: callback()),
        options={
            "maxiter": max_iterations,
            "ftol": tolerance,
            "gtol": GRADIENT_TOLERANCE,
            "maxcor": 20,
        },
    )
    return _Optimum(
        base + pre.to_x(np.asarray(result.x)),
        bool(result.success),
        str(result.message),
        iterations + int(result.nit),
    )


def _natural_se(
    problem: _Problem, x: FloatArray, cov: FloatArray, template: ItemParameters
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Delta-method standard errors of a, b, c and thresholds from the flat covariance."""
    n = template.n_items
    se_a, se_b, se_c = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    se_thr = np.full(template.thresholds.shape, np.nan)
    base = problem.natural(x, template)

    def flat(p: ItemParameters) -> FloatArray:
        return np.concatenate([p.a, p.b, p.c, np.nan_to_num(p.thresholds).ravel()])

    f0 = flat(base)
    jac = np.zeros((f0.size, problem.size))
    h = 1e-6
    for j in range(problem.size):
        e = x.copy()
        e[j] += h
        jac[:, j] = (flat(problem.natural(e, template)) - f0) / h
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    sd = np.sqrt(np.maximum(var, 0.0))
    fitted = np.zeros(n, dtype=bool)
    for grp in problem.groups:
        fitted[grp.items] = True
    se_a[fitted] = sd[:n][fitted]
    se_b[fitted] = sd[n : 2 * n][fitted]
    c_sd = sd[2 * n : 3 * n]
    three = np.array([m == "3PL" for m in base.models]) & fitted & (c_sd > 0)
    se_c[three] = c_sd[three]
    thr_sd = sd[3 * n :].reshape(se_thr.shape)
    grm = np.array([m == "GRM" for m in base.models]) & fitted
    se_thr[grm] = np.where(np.isnan(base.thresholds[grm]), np.nan, thr_sd[grm])
    return se_a, se_b, se_c, se_thr


def fit_scale(
    params: ItemParameters,
    responses: Responses,
    *,
    model: str | None = None,
    min_responses: int = 50,
    fixed_items: Sequence[str] = (),
    fit_guessing: bool = False,
    person_prior: tuple[FloatArray, FloatArray] | None = None,
    se: SeMethod = "crossprod",
    n_bootstrap: int = 20,
    n_quadrature: int = 41,
    priors: bool = True,
    max_iterations: int = 2000,
    tolerance: float = 1e-10,
    rng: np.random.Generator | None = None,
    progress: bool = True,
) -> FitResult:
    """Estimate item parameters of one θ scale by marginal ML on sparse responses.

    Parameters
    ----------
    params : ItemParameters
        The current table (n items): gives each item's model and maximum score, the starting
        values, and the values kept for items not re-estimated.
    responses : Responses
        R responses of N persons; every response a person gave must be there (all of them drove
        the CAT's choices), pretest items included.
    model : {"1PL", "2PL", "3PL"}, optional
        Fit every 1PL/2PL/3PL item with this model instead of the table's (rubric items stay
        GRM; "3PL" estimates the lower asymptotes).
    min_responses : int
        Items with fewer responses keep their old parameters and are reported in ``kept``.
    fixed_items : sequence of str
        Items held at their current parameters (e.g. anchors in a fixed-anchor calibration).
    fit_guessing : bool
        Estimate the 3PL lower asymptotes ``c`` (prior Beta(5, 17)); by default they stay at
        their current values (on CAT data few low-ability persons see the hard items, so ``c``
        is barely identified).
    person_prior : (ndarray (N,), ndarray (N,)), optional
        Mean and SD of each person's normal prior on this scale instead of N(0, 1): the
        engine's section prior conditioned on the earlier sections (see
        :func:`engine_priors`), which makes its item selection ignorable here.
    se : {"crossprod", "bootstrap", "none"}
        Standard errors: outer product of person scores, or a person bootstrap of
        ``n_bootstrap`` refits (progress bar), or none.
    n_quadrature : int
        Number of quadrature nodes on [-5, 5].
    priors : bool
        Weak priors on the item parameters and the bias-reducing penalty (see the module
        docstring); False is plain MML.
    max_iterations, tolerance : int, float
        Limits of the search (EM-gradient steps, then preconditioned L-BFGS-B; see
        :func:`_maximise`); ``tolerance`` is the relative change of the objective at which it
        stops.
    rng : numpy.random.Generator, optional
        Randomness of the bootstrap.
    progress : bool
        Show progress bars.

    Returns
    -------
    FitResult

    Raises
    ------
    FitError
        No responses, or no item left to estimate.
    """
    t0 = time.perf_counter()
    if responses.n_responses == 0:
        raise FitError("no responses to calibrate on")
    overridable = ("1PL", "2PL", "3PL")
    if model is not None and model not in overridable:
        raise FitError(f"model must be one of {', '.join(overridable)}, not {model!r}")
    models = tuple((model if model is not None and m in overridable else m) for m in params.models)
    fit_guessing = fit_guessing or model == "3PL"
    unknown = set(models) - set(MODELS)
    if unknown:
        raise FitError(f"unknown model(s) {sorted(unknown)}")
    n = params.n_items
    counts = responses.counts(n)
    kept: list[KeptItem] = []
    free = np.ones(n, dtype=bool)
    fixed_set = set(fixed_items)
    by_item = responses.rows_by_item(n)
    for i, item_id in enumerate(params.ids):
        scores = responses.score[by_item[i]]
        if item_id in fixed_set:
            free[i] = False
            kept.append(KeptItem(item_id, int(counts[i]), "held fixed (anchor)"))
        elif models[i] not in ESTIMATED:
            free[i] = False
            kept.append(KeptItem(item_id, int(counts[i]), f"{models[i]} is not re-estimated"))
        elif counts[i] == 0:
            free[i] = False
            kept.append(KeptItem(item_id, 0, "nobody answered it"))
        elif counts[i] < min_responses:
            free[i] = False
            kept.append(KeptItem(item_id, int(counts[i]), f"fewer than {min_responses} responses"))
        elif np.unique(scores).size < 2:
            free[i] = False
            kept.append(
                KeptItem(item_id, int(counts[i]), f"every response scored {int(scores[0])}")
            )
    if not free.any():
        raise FitError(
            f"no item has {min_responses} responses or more with at least two different scores"
        )
    nodes, weights = quadrature(n_quadrature)
    problem = _Problem(
        params,
        models,
        responses,
        free=free,
        nodes=nodes,
        weights=weights,
        priors=priors,
        fit_guessing=fit_guessing,
        person_prior=person_prior,
    )
    x0 = problem.start_vector(params.with_values(models=models))

    # the number of iterations is not known in advance: the bar counts them and shows the rate
    label = f"fit {params.skills[0]}" if len(set(params.skills)) == 1 else "fit"
    bar = tqdm(desc=f"{label} (EM + L-BFGS)", unit="it", disable=not progress, leave=False)

    with bar:
        result = _maximise(
            problem,
            x0,
            max_iterations=max_iterations,
            tolerance=tolerance,
            callback=lambda: bar.update(1),
        )
    x = result.x
    template = params.with_values(models=models)
    new = problem.natural(x, template)
    # kept items stay exactly as they were, model included
    keep_idx = np.flatnonzero(~free)
    if keep_idx.size:
        new = _restore(new, params, keep_idx)
    table = problem.log_table(x)
    W, ll = problem.posterior(table)
    eap = W @ nodes
    psd = np.sqrt(np.maximum(W @ nodes**2 - eap**2, 0.0))
    has = np.bincount(responses.person, minlength=responses.n_persons) > 0
    eap[~has], psd[~has] = np.nan, np.nan
    n_thr = params.thresholds.shape[1]
    if new.thresholds.shape[1] != n_thr:
        raise FitError("internal: threshold width changed")
    se_a = np.full(n, np.nan)
    se_b = np.full(n, np.nan)
    se_c = np.full(n, np.nan)
    se_thr = np.full(new.thresholds.shape, np.nan)
    messages: list[str] = []
    if not result.success:
        messages.append(f"optimiser stopped: {result.message}")
    if se == "crossprod":
        cov = problem.covariance(x)
        se_a, se_b, se_c, se_thr = _natural_se(problem, x, cov, template)
    elif se == "bootstrap":
        se_a, se_b, se_c, se_thr = _bootstrap(
            params=params,
            models=models,
            responses=responses,
            free=free,
            nodes=nodes,
            weights=weights,
            priors=priors,
            fit_guessing=fit_guessing,
            person_prior=person_prior,
            x_hat=x,
            template=template,
            n_bootstrap=n_bootstrap,
            rng=rng or np.random.default_rng(),
            progress=progress,
            max_iterations=max_iterations,
            tolerance=tolerance,
        )
    return FitResult(
        params=new,
        se_a=se_a,
        se_b=se_b,
        se_c=se_c,
        se_thresholds=se_thr,
        fitted=free,
        n_responses=counts,
        kept=tuple(kept),
        theta_eap=eap[:, None],
        theta_psd=psd[:, None],
        log_likelihood=ll,
        n_evaluations=problem.n_evaluations,
        converged=bool(result.success),
        time_s=time.perf_counter() - t0,
        se_method=se,
        messages=tuple(messages),
    )


def _restore(new: ItemParameters, old: ItemParameters, idx: IntArray) -> ItemParameters:
    models = list(new.models)
    for i in idx:
        models[i] = old.models[i]
    arrays = {}
    for name in ("a", "b", "c", "d", "thresholds", "provisional"):
        arr = getattr(new, name).copy()
        arr[idx] = getattr(old, name)[idx]
        arrays[name] = arr
    return new.with_values(models=tuple(models), **arrays)


def _bootstrap(
    *,
    params: ItemParameters,
    models: Sequence[str],
    responses: Responses,
    free: BoolArray,
    nodes: FloatArray,
    weights: FloatArray,
    priors: bool,
    fit_guessing: bool,
    person_prior: tuple[FloatArray, FloatArray] | None,
    x_hat: FloatArray,
    template: ItemParameters,
    n_bootstrap: int,
    rng: np.random.Generator,
    progress: bool,
    max_iterations: int,
    tolerance: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Person-bootstrap standard errors: refit on resampled persons, warm-started at x̂."""
    draws: list[ItemParameters] = []
    for _ in tqdm(range(n_bootstrap), desc="bootstrap", unit="refit", disable=not progress):
        persons = rng.integers(0, responses.n_persons, responses.n_persons)
        sample = responses.take_persons(persons)
        problem = _Problem(
            params,
            models,
            sample,
            free=free,
            nodes=nodes,
            weights=weights,
            priors=priors,
            fit_guessing=fit_guessing,
            person_prior=None
            if person_prior is None
            else (person_prior[0][persons], person_prior[1][persons]),
        )
        res = _maximise(
            problem, x_hat, max_iterations=max_iterations, tolerance=tolerance, em_steps=2
        )
        draws.append(problem.natural(res.x, template))

    def sd(get: Callable[[ItemParameters], npt.NDArray[np.float64]]) -> FloatArray:
        stack = np.stack([get(p) for p in draws])
        return (
            np.asarray(np.std(stack, axis=0, ddof=1))
            if len(draws) > 1
            else np.full(stack.shape[1:], np.nan)
        )

    se_a = np.where(free, sd(lambda p: p.a), np.nan)
    se_b = np.where(free, sd(lambda p: p.b), np.nan)
    three = np.array([m == "3PL" for m in models]) & free & fit_guessing
    se_c = np.where(three, sd(lambda p: p.c), np.nan)
    se_thr = sd(lambda p: p.thresholds)
    se_thr[~free] = np.nan
    return se_a, se_b, se_c, se_thr


@dataclass(frozen=True, slots=True)
class Abilities:
    """EAP abilities of the persons under a parameter table.

    Attributes
    ----------
    eap, psd : ndarray, (N, S)
        Posterior mean and SD on each scale (NaN where the person answered no item of it).
    scales : tuple of str, (S,)
    of_response : ndarray, (R,)
        The EAP of the responding person on the scale of the item, for each response.
    """

    eap: FloatArray
    psd: FloatArray
    scales: tuple[str, ...]
    of_response: FloatArray


def eap_scores(
    params: ItemParameters, responses: Responses, *, by_skill: bool = True, n_quadrature: int = 41
) -> Abilities:
    """EAP θ of every person on every skill scale under ``params`` (N(0, 1) prior)."""
    nodes, weights = quadrature(n_quadrature)
    skills = sorted(set(params.skills)) if by_skill else [""]
    n_persons = responses.n_persons
    eap = np.full((n_persons, len(skills)), np.nan)
    psd = np.full((n_persons, len(skills)), np.nan)
    of_response = np.full(responses.n_responses, np.nan)
    for s_i, skill in enumerate(skills):
        idx = params.skill_rows(skill) if by_skill else np.arange(params.n_items)
        sub = responses.restrict(idx, params.n_items)
        if sub.n_responses == 0:
            continue
        problem = _Problem(
            params.subset(idx),
            tuple(params.models[i] for i in idx),
            sub,
            free=np.zeros(idx.size, dtype=bool),
            nodes=nodes,
            weights=weights,
            priors=False,
        )
        W, _ = problem.posterior(problem.fixed_logp)
        mean = W @ nodes
        has = np.bincount(sub.person, minlength=n_persons) > 0
        eap[has, s_i] = mean[has]
        psd[has, s_i] = np.sqrt(np.maximum(W @ nodes**2 - mean**2, 0.0))[has]
        in_skill = np.isin(responses.item, idx)
        of_response[in_skill] = mean[responses.person[in_skill]]
    return Abilities(eap, psd, tuple(skills), of_response)


def fit(
    params: ItemParameters,
    responses: Responses,
    *,
    by_skill: bool = True,
    model: str | None = None,
    min_responses: int = 50,
    fixed_items: Sequence[str] = (),
    fit_guessing: bool = False,
    conditioning: Mapping[str, tuple[FloatArray, FloatArray]] | None = None,
    se: SeMethod = "crossprod",
    n_bootstrap: int = 20,
    n_quadrature: int = 41,
    priors: bool = True,
    max_iterations: int = 2000,
    tolerance: float = 1e-10,
    rng: np.random.Generator | None = None,
    progress: bool = True,
) -> FitResult:
    """Calibrate a bank: one :func:`fit_scale` per skill (each skill is its own θ scale).

    Parameters are those of :func:`fit_scale`; with ``by_skill=False`` every item is put on
    one common scale. Persons are the same across skills; each skill's latent distribution is
    N(0, 1) on its own, and :mod:`calibration.linking` links each skill to its old scale.
    ``conditioning`` maps a skill to each person's prior (mean, SD) on it (see
    :func:`engine_priors`); skills absent from it use N(0, 1).

    Returns
    -------
    FitResult
        Merged over skills; ``theta_eap`` has one column per skill in ``scales``.
    """
    skills = sorted(set(params.skills)) if by_skill else [""]

    def one_scale(
        p: ItemParameters, r: Responses, prior: tuple[FloatArray, FloatArray] | None
    ) -> FitResult:
        return fit_scale(
            p,
            r,
            model=model,
            min_responses=min_responses,
            fixed_items=fixed_items,
            fit_guessing=fit_guessing,
            person_prior=prior,
            se=se,
            n_bootstrap=n_bootstrap,
            n_quadrature=n_quadrature,
            priors=priors,
            max_iterations=max_iterations,
            tolerance=tolerance,
            rng=rng,
            progress=progress,
        )

    if len(skills) == 1:
        prior = None if conditioning is None else conditioning.get(skills[0])
        result = one_scale(params, responses, prior)
        return _with_scales(result, (skills[0],))
    t0 = time.perf_counter()
    parts: list[tuple[IntArray, FitResult]] = []
    scales: list[str] = []
    messages: list[str] = []
    n_persons = responses.n_persons
    for skill in skills:
        idx = params.skill_rows(skill)
        sub_responses = responses.restrict(idx, params.n_items)
        if sub_responses.n_responses == 0:
            messages.append(f"skill {skill}: no responses, every item kept")
            parts.append((idx, _all_kept(params.subset(idx), n_persons, skill)))
            scales.append(skill)
            continue
        prior = None if conditioning is None else conditioning.get(skill)
        try:
            part = one_scale(params.subset(idx), sub_responses, prior)
        except FitError as exc:
            messages.append(f"skill {skill}: {exc}; every item kept")
            part = _all_kept(params.subset(idx), n_persons, skill, sub_responses)
        parts.append((idx, part))
        scales.append(skill)
        messages.extend(f"skill {skill}: {m}" for m in part.messages)
    return _merge(
        params,
        parts=parts,
        scales=tuple(scales),
        seconds=time.perf_counter() - t0,
        se=se,
        messages=messages,
    )


def _with_scales(result: FitResult, scales: tuple[str, ...]) -> FitResult:
    from dataclasses import replace

    return replace(result, scales=scales)


def _all_kept(
    params: ItemParameters, n_persons: int, skill: str, responses: Responses | None = None
) -> FitResult:
    n = params.n_items
    counts = responses.counts(n) if responses is not None else np.zeros(n, dtype=np.int64)
    nan = np.full(n, np.nan)
    return FitResult(
        params=params,
        se_a=nan,
        se_b=nan.copy(),
        se_c=nan.copy(),
        se_thresholds=np.full(params.thresholds.shape, np.nan),
        fitted=np.zeros(n, dtype=bool),
        n_responses=counts,
        kept=tuple(
            KeptItem(i, int(c), "not enough data on its skill")
            for i, c in zip(params.ids, counts, strict=True)
        ),
        theta_eap=np.full((n_persons, 1), np.nan),
        theta_psd=np.full((n_persons, 1), np.nan),
        log_likelihood=0.0,
        n_evaluations=0,
        converged=True,
        time_s=0.0,
        se_method="none",
        scales=(skill,),
    )


def _merge(
    params: ItemParameters,
    *,
    parts: Sequence[tuple[IntArray, FitResult]],
    scales: tuple[str, ...],
    seconds: float,
    se: str,
    messages: Sequence[str],
) -> FitResult:
    n = params.n_items
    a, b, c, d = params.a.copy(), params.b.copy(), params.c.copy(), params.d.copy()
    thr = params.thresholds.copy()
    models = list(params.models)
    se_a, se_b, se_c = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    se_thr = np.full(thr.shape, np.nan)
    fitted = np.zeros(n, dtype=bool)
    counts = np.zeros(n, dtype=np.int64)
    kept: list[KeptItem] = []
    eap, psd = [], []
    for idx, part in parts:
        p = part.params
        a[idx], b[idx], c[idx], d[idx] = p.a, p.b, p.c, p.d
        w = p.thresholds.shape[1]
        thr[idx] = np.nan
        thr[np.ix_(idx, np.arange(w))] = p.thresholds
        for j, i in enumerate(idx):
            models[i] = p.models[j]
        se_a[idx], se_b[idx], se_c[idx] = part.se_a, part.se_b, part.se_c
        se_thr[np.ix_(idx, np.arange(w))] = part.se_thresholds
        fitted[idx] = part.fitted
        counts[idx] = part.n_responses
        kept.extend(part.kept)
        eap.append(part.theta_eap[:, 0])
        psd.append(part.theta_psd[:, 0])
    # a person with no response on a skill has no estimate there
    return FitResult(
        params=params.with_values(a=a, b=b, c=c, d=d, thresholds=thr, models=tuple(models)),
        se_a=se_a,
        se_b=se_b,
        se_c=se_c,
        se_thresholds=se_thr,
        fitted=fitted,
        n_responses=counts,
        kept=tuple(kept),
        theta_eap=np.column_stack(eap),
        theta_psd=np.column_stack(psd),
        log_likelihood=float(sum(part.log_likelihood for _, part in parts)),
        n_evaluations=int(sum(part.n_evaluations for _, part in parts)),
        converged=all(part.converged for _, part in parts),
        time_s=seconds,
        se_method=se,
        scales=scales,
        messages=tuple(messages),
    )


def engine_priors(
    params: ItemParameters,
    responses: Responses,
    *,
    correlation: Sequence[Sequence[float]],
    order: Sequence[str],
    test_order: Sequence[str],
    mean: float = 0.0,
    sd: float = 1.0,
    n_quadrature: int = 41,
) -> dict[str, tuple[FloatArray, FloatArray]]:
    """Each person's prior on each skill as the engine computed it during the test.

    The engine (``placement.cat.prior``) gives a section the normal prior conditioned on the
    sections before it through the skill correlation, so its item selection in a later skill
    depends on the earlier skills' responses. A per-skill fit that ignores them would treat
    that selection as if it depended on nothing outside the skill, and bias the scale (on
    simulated data the engine's CAT with borrowing made the EO and EE scales come out about
    twice too wide). Conditioning each person's prior on the same information makes the
    selection ignorable again.

    Parameters
    ----------
    params : ItemParameters
        The parameters the engine used (the current release); pretest items are left out,
        as the engine leaves them out of its estimates.
    responses : Responses
    correlation : (S, S) nested sequences
        The skill correlation in ``order``.
    test_order : sequence of str
        The order of the sections in the test (only earlier sections inform a skill).
    mean, sd : float
        The engine's marginal prior.

    Returns
    -------
    dict skill -> (mean (N,), sd (N,))
    """
    operational = np.flatnonzero(~params.pretest)
    scored = responses.restrict(operational, params.n_items)
    abilities = eap_scores(params.subset(operational), scored, n_quadrature=n_quadrature)
    column = {s: j for j, s in enumerate(abilities.scales)}
    n = responses.n_persons
    out: dict[str, tuple[FloatArray, FloatArray]] = {}
    for k, skill in enumerate(test_order):
        earlier = [s for s in test_order[:k] if s in column]
        cols = [column[s] for s in earlier]
        out[skill] = conditional_priors(
            skill,
            earlier,
            abilities.eap[:, cols].reshape(n, len(cols)),
            abilities.psd[:, cols].reshape(n, len(cols)) ** 2,
            correlation=correlation,
            order=order,
            mean=mean,
            sd=sd,
        )
    return out


def conditional_priors(
    skill: str,
    earlier: Sequence[str],
    eap: FloatArray,
    variance: FloatArray,
    *,
    correlation: Sequence[Sequence[float]],
    order: Sequence[str],
    mean: float = 0.0,
    sd: float = 1.0,
) -> tuple[FloatArray, FloatArray]:
    """The engine's :func:`placement.cat.prior.conditional_prior` for every person at once.

    The same formula, on arrays: the engine's function takes one person (a few microseconds
    of Python each, about a second for 20,000 persons and four skills), this one groups the
    persons by which earlier skills inform them and solves each group's systems together.
    ``tests/calibration/test_conditioning.py`` checks it against the engine's, person by
    person.

    Parameters
    ----------
    skill : str
    earlier : sequence of str, (E,)
        The earlier sections, in the columns of ``eap`` and ``variance``.
    eap, variance : ndarray, (N, E)
        Each person's EAP and posterior variance on each earlier section (NaN: not taken).
    correlation : (S, S) nested sequences
        The skill correlation in ``order``.
    order : sequence of str, (S,)
    mean, sd : float
        The marginal prior.

    Returns
    -------
    mean, sd : ndarray, each (N,)
    """
    n = eap.shape[0]
    mu, sigma = np.full(n, mean), np.full(n, sd)
    pos = {s: i for i, s in enumerate(order)}
    cols = [j for j, s in enumerate(earlier) if s != skill and s in pos]
    if skill not in pos or not cols:
        return mu, sigma
    var0 = sd * sd
    m, v = eap[:, cols], variance[:, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = 1.0 / v - 1.0 / var0
        usable = ~np.isnan(m) & (v > 0) & (precision > 1e-6)
        tau2 = np.where(usable, 1.0 / precision, 0.0)
        y = np.where(usable, tau2 * (m / v - mean / var0), 0.0)
    corr = np.asarray(correlation, dtype=float)
    informing = np.array([pos[earlier[j]] for j in cols])
    patterns, inverse = np.unique(usable, axis=0, return_inverse=True)
    for g, pattern in enumerate(patterns):
        rows = np.flatnonzero(inverse.ravel() == g)
        if not pattern.any() or rows.size == 0:
            continue
        used = informing[pattern]
        k = used.size
        cov_se = var0 * corr[pos[skill], used]  # (k,)
        system = (
            var0 * corr[np.ix_(used, used)][None]
            + tau2[np.ix_(rows, pattern)][:, :, None] * np.eye(k)[None]
        )
        weights = np.linalg.solve(system, np.broadcast_to(cov_se, (rows.size, k))[..., None])[
            ..., 0
        ]
        mu[rows] = mean + np.sum(weights * (y[np.ix_(rows, pattern)] - mean), axis=1)
        sigma[rows] = np.sqrt(np.maximum(var0 - weights @ cov_se, 1e-6))
    return mu, sigma
