"""Checks of a new calibration before it is published.

* **Item fit** — infit and outfit mean squares of each item with θ at each person's EAP:
  :math:`z_{pi} = (x_{pi} - E_{pi}) / \\sqrt{V_{pi}}`, outfit :math:`= \\overline{z^2}`,
  infit :math:`= \\sum (x - E)^2 / \\sum V`. Expected value 1; an item is flagged outside
  ``fit_range`` (default 0.5–1.5, Linacre's "productive for measurement") with at least
  ``min_responses_fit`` responses. Underfit (above the range: noise, a wrong key, an item that
  does not measure the skill) fails the checks; overfit (below) is a warning only — with θ at
  the EAP, shrunk toward the mean on short tests, very discriminating items look too
  predictable, which does not degrade measurement.
* **Drift** — the linked new location (and discrimination) against the current release; an item
  is flagged when :math:`|b_{new} - b_{old}|` exceeds ``drift_b`` or
  :math:`|\\log(a_{new}/a_{old})|` exceeds ``drift_log_a`` — **and the responses themselves
  contradict the old value**, in the direction of the change (:func:`drift_scores`, rejected by
  :func:`benjamini_hochberg` at false discovery rate ``drift_fdr`` over every compared item's
  location and slope: with 1.96 per item, one stable item in twenty would pass). The second
  condition is a score (Lagrange multiplier) test of :math:`H_0`: the item still has its old
  parameters, computed from the marginal likelihood alone, without the fit's item priors: the
  hierarchical slope prior pulls a sparsely answered item's slope towards the bank's, its b
  moves with it, and its posterior SD (prior included) does not count that pull; a test of
  the old curve against the data does not see it, since the prior only moves the parameters
  along directions the data hardly constrain. Provisional old values (never calibrated) are
  not compared: that is the item's first calibration.
* **Exposure** — responses per person; flagged above ``max_exposure`` (0.25 by default, the
  literature's usual ceiling); items nobody saw are reported.
* **DIF** — Mantel–Haenszel for right/wrong items between the reference group (the largest) and
  each other group of the ``group`` column, persons matched on EAP θ strata (a CAT has no
  common total score); ETS delta :math:`\\Delta = -2.35 \\ln \\hat\\alpha_{MH}`, category C
  (:math:`|\\Delta| \\ge 1.5`, MH chi-square significant and :math:`|\\Delta|` significantly
  above 1 at 5 %, with the Robins–Breslow–Greenland variance) flagged. Rubric items are not
  tested for DIF here (too few responses per stratum in practice).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp
from scipy.stats import chi2

from calibration.data import BoolArray, FloatArray, IntArray, ItemParameters, Responses
from calibration.fit import eap_scores
from calibration.model import TINY, category_probabilities, quadrature

#: Steps of the normal update of each scale's latent distribution before the drift tests.
POPULATION_STEPS = 5


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where each check draws its line."""

    fit_range: tuple[float, float] = (0.5, 1.5)
    drift_b: float = 0.5
    drift_log_a: float = float(np.log(1.5))
    max_exposure: float = 0.25
    min_responses_fit: int = 100
    drift_fdr: float = 0.05
    dif_delta: float = 1.5
    dif_min_per_group: int = 50


@dataclass(frozen=True, slots=True)
class ItemCheck:
    """Every statistic of one item, with its flags."""

    item_id: str
    model: str
    n_responses: int
    exposure: float
    infit: float
    outfit: float
    a_old: float
    b_old: float
    a_new: float
    b_new: float
    delta_b: float
    delta_log_a: float
    dif_delta: float
    dif_p: float
    dif_group: str
    flags: tuple[str, ...]
    #: score-test z of the old location and log-slope against the new responses (see
    #: :func:`drift_scores`); NaN where there is nothing to compare
    drift_z_b: float = float("nan")
    drift_z_log_a: float = float("nan")


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The checks of a calibration: one row per item, and what fails."""

    items: tuple[ItemCheck, ...]
    thresholds: Thresholds
    n_persons: int
    failures: tuple[str, ...]
    warnings: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.failures

    def flagged(self, flag: str) -> list[ItemCheck]:
        """Items carrying ``flag``: ``misfit``, ``overfit``, ``drift``, ``exposure``, ``unseen``
        or ``dif``."""
        return [row for row in self.items if flag in row.flags]


def item_fit(
    params: ItemParameters, responses: Responses, theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Infit and outfit mean squares of each item, (n,) each (NaN without responses).

    Parameters
    ----------
    params : ItemParameters
    responses : Responses
    theta : ndarray, (R,)
        Ability (EAP) of the responding person on the item's scale, for each response.
    """
    n = params.n_items
    infit, outfit = np.full(n, np.nan), np.full(n, np.nan)
    by_item = responses.rows_by_item(n)
    for i in np.unique(responses.item):
        rows = by_item[i]
        p = category_probabilities(params.subset([i]), theta[rows])[0]  # (K+1, r)
        scores = np.arange(p.shape[0], dtype=float)[:, None]
        e = np.sum(p * scores, axis=0)
        v = np.maximum(np.sum(p * (scores - e) ** 2, axis=0), 1e-9)
        sq = (responses.score[rows] - e) ** 2
        outfit[i] = float(np.mean(sq / v))
        infit[i] = float(np.sum(sq) / np.sum(v))
    return infit, outfit


def benjamini_hochberg(p_values: FloatArray, q: float) -> BoolArray:
    """Which hypotheses the Benjamini–Hochberg step-up procedure rejects at false discovery
    rate ``q``: the k smallest p-values, k the largest rank with :math:`p_{(k)} \\le k q / m`
    (m the number of non-NaN p-values; NaN is never rejected)."""
    p = np.asarray(p_values, dtype=float)
    out = np.zeros(p.shape, dtype=bool)
    tested = np.flatnonzero(~np.isnan(p))
    if tested.size == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    below = np.flatnonzero(p[order] <= q * np.arange(1, order.size + 1) / order.size)
    if below.size:
        out[order[: below[-1] + 1]] = True
    return out


def _moved(params: ItemParameters, location: float, log_slope: float) -> ItemParameters:
    """``params`` with every location (b and GRM thresholds) shifted and slopes scaled."""
    return params.with_values(
        a=params.a * np.exp(log_slope),
        b=params.b + location,
        thresholds=params.thresholds + location,
    )


def drift_scores(
    new: ItemParameters,
    old: ItemParameters,
    responses: Responses,
    items: IntArray,
    *,
    person_priors: Mapping[str, tuple[FloatArray, FloatArray]] | None = None,
    n_quadrature: int = 61,
) -> tuple[FloatArray, FloatArray]:
    """Score tests of each item's old location and old slope against the new responses.

    For item *i* with old (linked) parameters :math:`\\psi_0`, the marginal log-likelihood of
    the responses with every other item at its new value and *i* at :math:`\\psi_0` has the
    score :math:`u = \\sum_p u_p`, :math:`u_p = \\sum_q W_{pq}\\,
    \\partial_\\psi \\log P_{i x_p}(\\theta_q; \\psi_0)` (Fisher's identity), :math:`W_{pq}` the
    posterior of person *p* on node *q* under that table, and
    :math:`z = u / \\sqrt{\\sum_p u_p^2}` (cross-product variance, as the fit's standard errors).
    :math:`\\psi` is a common shift of the item's locations (b, GRM thresholds) or its
    log-slope. No item prior enters: the test asks whether the data contradict the old curve,
    not how far a shrunk estimate moved. The persons' latent distribution on each scale is a
    normal whose mean and SD are re-estimated from the posteriors (``POPULATION_STEPS``
    times): the new candidates are not N(0, 1) on the old scale. Where ``person_priors`` gives
    a skill, each person's own prior is used instead (the engine's section prior conditioned
    on the earlier sections, :func:`calibration.fit.engine_priors`, on the current scale):
    the engine's selection in that skill depended on it.

    Parameters
    ----------
    new : ItemParameters
        The new table, on the old scale (after linking).
    old : ItemParameters
        The current release's table; items are matched by id.
    responses : Responses
        Indexed on ``new``.
    items : ndarray of int
        Rows of ``new`` to test (each must be in ``old``).
    person_priors : dict skill -> (ndarray (N,), ndarray (N,)), optional
        Mean and SD of each person's normal prior on a skill's (old) scale.

    Returns
    -------
    z_location, z_log_slope : ndarray, (new.n_items,)
        Signed z (positive: the data want a higher location / a steeper slope than the old
        one); NaN for rows not tested or without responses.
    """
    n = new.n_items
    z_loc, z_slope = np.full(n, np.nan), np.full(n, np.nan)
    items = np.asarray(items, dtype=np.int64)
    if items.size == 0 or responses.n_responses == 0:
        return z_loc, z_slope
    nodes, weights = quadrature(n_quadrature, bound=6.0)
    log_rule = np.log(weights) + 0.5 * nodes**2  # Gauss–Legendre weights, without N(0, 1)
    log_p = np.log(np.maximum(category_probabilities(new, nodes), TINY))  # (n, K+1, Q)
    by_item = responses.rows_by_item(n)
    h = 1e-4
    for skill in sorted({new.skills[i] for i in items}):
        in_skill = new.skill_mask(skill)[responses.item]
        rows = np.flatnonzero(in_skill)
        if rows.size == 0:
            continue
        person = responses.person[rows]
        gather = sp.csr_matrix(
            (np.ones(rows.size), (person, np.arange(rows.size))),
            shape=(responses.n_persons, rows.size),
        )
        loglik = np.asarray(gather @ log_p[responses.item[rows], responses.score[rows]])
        has = np.bincount(person, minlength=responses.n_persons) > 0
        loglik = loglik[has]
        if person_priors is not None and skill in person_priors:
            p_mean, p_sd = person_priors[skill]
            m, sd = p_mean[has][:, None], p_sd[has][:, None]
            log_w = loglik + log_rule - 0.5 * ((nodes - m) / sd) ** 2
        else:
            mean, spread = 0.0, 1.0
            for _ in range(POPULATION_STEPS):
                log_w = loglik + log_rule - 0.5 * ((nodes - mean) / spread) ** 2
                W = np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))
                mean = float(np.mean(W @ nodes))
                spread = float(np.sqrt(max(np.mean(W @ nodes**2) - mean**2, 1e-6)))
            log_w = loglik + log_rule - 0.5 * ((nodes - mean) / spread) ** 2
        W = np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))
        slot = np.cumsum(has) - 1  # person index -> row of W
        for i in items[[new.skills[i] == skill for i in items]]:
            taken = by_item[i]
            if taken.size == 0:
                continue
            x = responses.score[taken]
            previous = old.subset([old.index(new.ids[i])])
            p_old = np.maximum(category_probabilities(previous, nodes)[0], TINY)  # (K+1, Q)
            # each taker's posterior with item i at its old values instead of its new ones
            w = W[slot[responses.person[taken]]] * p_old[x] / np.exp(log_p[i, x])
            w /= w.sum(axis=1, keepdims=True)
            for out, step in ((z_loc, (h, 0.0)), (z_slope, (0.0, h))):
                up = category_probabilities(_moved(previous, *step), nodes)[0]
                down = category_probabilities(_moved(previous, -step[0], -step[1]), nodes)[0]
                d_log = (np.log(np.maximum(up, TINY)) - np.log(np.maximum(down, TINY))) / (2 * h)
                u = np.sum(w * d_log[x], axis=1)
                spread = float(np.sqrt(np.sum(u**2)))
                out[i] = float(np.sum(u)) / spread if spread > 0 else np.nan
    return z_loc, z_slope


def mantel_haenszel(
    responses: Responses,
    item: int,
    *,
    focal: BoolArray,
    reference: BoolArray,
    theta: FloatArray,
    n_strata: int = 10,
    rows: IntArray | None = None,
) -> tuple[float, float, float]:
    """Mantel–Haenszel DIF of a right/wrong item.

    Parameters
    ----------
    focal, reference : ndarray of bool, (N,)
        Group membership of each person.
    theta : ndarray, (R,)
        Matching variable for each response (the person's EAP θ on the item's scale), cut into
        ``n_strata`` quantile strata of the item's takers.
    rows : ndarray of int, optional
        The item's response rows in ascending order (``Responses.rows_by_item(n)[item]``), when
        the caller has them; found by a scan of the responses otherwise.

    Returns
    -------
    delta, p_value, se_delta : float
        ETS delta :math:`-2.35 \\ln \\hat\\alpha_{MH}`, the p-value of the MH chi-square (with
        continuity correction) and the standard error of delta (Robins–Breslow–Greenland);
        NaN when undefined.
    """
    if rows is None:
        rows = np.flatnonzero(responses.item == item)
    persons = responses.person[rows]
    x = responses.score[rows]
    match = theta[rows]
    in_f, in_r = focal[persons], reference[persons]
    keep = in_f | in_r
    persons, x, in_f, match = persons[keep], x[keep], in_f[keep], match[keep]
    if persons.size == 0:
        return float("nan"), float("nan"), float("nan")
    edges = np.quantile(match, np.linspace(0, 1, n_strata + 1)[1:-1])
    stratum = np.searchsorted(edges, match)
    num = den = a_sum = e_sum = v_sum = 0.0
    pr = ps_qr = qs = 0.0  # Robins–Breslow–Greenland variance terms
    for s in np.unique(stratum):
        m = stratum == s
        ref_right = float(np.sum((~in_f[m]) & (x[m] == 1)))
        ref_wrong = float(np.sum((~in_f[m]) & (x[m] == 0)))
        foc_right = float(np.sum(in_f[m] & (x[m] == 1)))
        foc_wrong = float(np.sum(in_f[m] & (x[m] == 0)))
        t = ref_right + ref_wrong + foc_right + foc_wrong
        n_ref, n_foc = ref_right + ref_wrong, foc_right + foc_wrong
        m1, m0 = ref_right + foc_right, ref_wrong + foc_wrong
        if t < 2 or n_ref == 0 or n_foc == 0:
            continue
        r_k, s_k = ref_right * foc_wrong / t, ref_wrong * foc_right / t
        p_k, q_k = (ref_right + foc_wrong) / t, (ref_wrong + foc_right) / t
        num += r_k
        den += s_k
        pr += p_k * r_k
        ps_qr += p_k * s_k + q_k * r_k
        qs += q_k * s_k
        a_sum += ref_right
        e_sum += n_ref * m1 / t
        v_sum += n_ref * n_foc * m1 * m0 / (t * t * (t - 1))
    if num == 0 or den == 0 or v_sum == 0:
        return float("nan"), float("nan"), float("nan")
    alpha = num / den
    var_log = pr / (2 * num**2) + ps_qr / (2 * num * den) + qs / (2 * den**2)
    delta = float(-2.35 * np.log(alpha))
    se_delta = float(2.35 * np.sqrt(var_log))
    stat = (abs(a_sum - e_sum) - 0.5) ** 2 / v_sum
    return delta, float(chi2.sf(stat, 1)), se_delta


def run_checks(
    new: ItemParameters,
    old: ItemParameters | None,
    responses: Responses,
    *,
    fitted: BoolArray | None = None,
    thresholds: Thresholds | None = None,
    retired: set[str] | None = None,
    person_priors: Mapping[str, tuple[FloatArray, FloatArray]] | None = None,
) -> CheckReport:
    """Run every check on a new (linked) table against the current one.

    Parameters
    ----------
    new : ItemParameters
        The new table, on the old scale (after linking).
    old : ItemParameters or None
        The current release's table (None: no drift check).
    responses : Responses
        The calibration data, indexed on ``new``.
    fitted : ndarray of bool, (n,), optional
        Rows of ``new`` that were re-estimated (drift is checked on these only).
    thresholds : Thresholds, optional
    retired : set of str, optional
        Items not expected to be seen (no "unseen" report for them).
    person_priors : dict skill -> (ndarray (N,), ndarray (N,)), optional
        Each person's prior on a skill for the drift tests (see :func:`drift_scores`).
    """
    th = thresholds or Thresholds()
    n = new.n_items
    fitted_mask = np.ones(n, dtype=bool) if fitted is None else np.asarray(fitted, dtype=bool)
    counts: IntArray = responses.counts(n)
    exposure = counts / max(responses.n_persons, 1)
    theta = eap_scores(new, responses).of_response
    infit, outfit = item_fit(new, responses, theta)
    notes: list[str] = []
    # DIF
    dif_delta, dif_p = np.full(n, np.nan), np.full(n, np.nan)
    dif_group = [""] * n
    dif_c = np.zeros(n, dtype=bool)
    if responses.groups is not None:
        groups = np.array(responses.groups)
        names, sizes = np.unique(groups, return_counts=True)
        if names.size >= 2:
            ref_name = str(names[np.argmax(sizes)])
            reference = groups == ref_name
            by_item = responses.rows_by_item(n)
            for g_name in names:
                if g_name == ref_name:
                    continue
                focal = groups == g_name
                for i in range(n):
                    if new.models[i] == "GRM" or counts[i] == 0:
                        continue
                    takers = responses.person[by_item[i]]
                    if (
                        focal[takers].sum() < th.dif_min_per_group
                        or reference[takers].sum() < th.dif_min_per_group
                    ):
                        continue
                    delta, p, se_delta = mantel_haenszel(
                        responses,
                        i,
                        focal=focal,
                        reference=reference,
                        theta=theta,
                        rows=by_item[i],
                    )
                    if np.isnan(dif_delta[i]) or abs(delta) > abs(dif_delta[i]):
                        dif_delta[i], dif_p[i], dif_group[i] = delta, p, f"{g_name} vs {ref_name}"
                        dif_c[i] = (
                            p < 0.05
                            and abs(delta) >= th.dif_delta
                            and (abs(delta) - 1.0) / se_delta > 1.645
                        )
            notes.append(f"DIF : Mantel–Haenszel, groupe de référence {ref_name!r}")
        else:
            notes.append("DIF : un seul groupe dans les données, non testé")
    else:
        notes.append("DIF : les réponses n'ont pas de colonne group, non testé")
    # drift: which rows have a calibrated old value to compare with
    compared = np.zeros(n, dtype=bool)
    if old is not None:
        for i, item_id in enumerate(new.ids):
            j = old.position(item_id)
            compared[i] = j is not None and bool(fitted_mask[i]) and not old.provisional[j]
    z_b_all, z_a_all = (
        drift_scores(new, old, responses, np.flatnonzero(compared), person_priors=person_priors)
        if old is not None
        else (np.full(n, np.nan), np.full(n, np.nan))
    )
    # one family of tests per calibration (every compared item's location and slope): at most
    # ``drift_fdr`` of the rejected old values are expected to be wrong rejections
    rejected = benjamini_hochberg(chi2.sf(np.concatenate([z_b_all, z_a_all]) ** 2, 1), th.drift_fdr)
    contradicts_b, contradicts_a = rejected[:n], rejected[n:]
    rows: list[ItemCheck] = []
    drifted, misfit, overfit, overexposed, unseen, dif = [], [], [], [], [], []
    for i, item_id in enumerate(new.ids):
        flags: list[str] = []
        j = None if old is None else old.position(item_id)
        a_old = b_old = delta_b = delta_log_a = float("nan")
        if j is not None and old is not None:
            a_old, b_old = float(old.a[j]), float(old.b[j])
            if compared[i]:
                delta_b = float(new.b[i] - b_old)
                delta_log_a = float(np.log(new.a[i] / a_old))
                # the data must contradict the old value, in the direction the estimate moved
                if (
                    abs(delta_b) > th.drift_b
                    and contradicts_b[i]
                    and np.sign(delta_b) == np.sign(z_b_all[i])
                ) or (
                    abs(delta_log_a) > th.drift_log_a
                    and contradicts_a[i]
                    and np.sign(delta_log_a) == np.sign(z_a_all[i])
                ):
                    flags.append("drift")
                    drifted.append(item_id)
        if counts[i] >= th.min_responses_fit:
            if max(infit[i], outfit[i]) > th.fit_range[1]:
                flags.append("misfit")
                misfit.append(item_id)
            elif min(infit[i], outfit[i]) < th.fit_range[0]:
                flags.append("overfit")
                overfit.append(item_id)
        if exposure[i] > th.max_exposure and not new.pretest[i]:
            flags.append("exposure")
            overexposed.append(item_id)
        if counts[i] == 0 and item_id not in (retired or set()):
            flags.append("unseen")
            unseen.append(item_id)
        if dif_c[i]:
            flags.append("dif")
            dif.append(item_id)
        rows.append(
            ItemCheck(
                item_id=item_id,
                model=new.models[i],
                n_responses=int(counts[i]),
                exposure=float(exposure[i]),
                infit=float(infit[i]),
                outfit=float(outfit[i]),
                a_old=a_old,
                b_old=b_old,
                a_new=float(new.a[i]),
                b_new=float(new.b[i]),
                delta_b=delta_b,
                delta_log_a=delta_log_a,
                drift_z_b=float(z_b_all[i]),
                drift_z_log_a=float(z_a_all[i]),
                dif_delta=float(dif_delta[i]),
                dif_p=float(dif_p[i]),
                dif_group=dif_group[i],
                flags=tuple(flags),
            )
        )

    def named(label: str, ids: list[str]) -> str:
        shown = ", ".join(ids[:8]) + (f" (+{len(ids) - 8})" if len(ids) > 8 else "")
        return f"{len(ids)} item(s) {label} : {shown}"

    failures = []
    if drifted:
        failures.append(
            named(
                f"en dérive (|Δb| > {th.drift_b:g} ou rapport des a hors bornes, et réponses "
                "incompatibles avec l'ancienne valeur : test du score, taux de fausses "
                f"découvertes {th.drift_fdr:.0%})",
                drifted,
            )
        )
    if misfit:
        failures.append(
            named(f"mal ajusté(s) (infit ou outfit au-dessus de {th.fit_range[1]:g})", misfit)
        )
    if overexposed:
        failures.append(named(f"exposé(s) au-dessus de {th.max_exposure:g}", overexposed))
    if dif:
        failures.append(named("avec un fort DIF (catégorie C de l'ETS)", dif))
    warnings = [named("jamais vu(s)", unseen)] if unseen else []
    if overfit:
        warnings.append(
            named(
                f"surajusté(s) (infit ou outfit au-dessous de {th.fit_range[0]:g} ; sans gravité)",
                overfit,
            )
        )
    return CheckReport(
        items=tuple(rows),
        thresholds=th,
        n_persons=responses.n_persons,
        failures=tuple(failures),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )
