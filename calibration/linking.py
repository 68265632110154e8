"""Linking a new calibration to the current scale through anchor items.

A fit fixes its scale by the N(0, 1) latent distribution of the persons it saw; the current
release's scale was fixed by an earlier population. Both are related by an affine map of θ,

.. math:: \\theta_{old} = A\\,\\theta_{new} + B, \\qquad
          b^* = A b + B, \\quad b^*_j = A b_j + B, \\quad a^* = a / A, \\quad c^* = c,

estimated on the anchor items (items in both tables, calibrated in both):

* **mean–sigma**: :math:`A = \\sigma(b_{old}) / \\sigma(b_{new})`,
  :math:`B = \\bar b_{old} - A \\bar b_{new}` over every anchor location (GRM thresholds count
  one by one);
* **Stocking–Lord**: :math:`(A, B)` minimising
  :math:`\\sum_q w_q \\big(T_{old}(\\theta_q) - T^*_{new}(\\theta_q; A, B)\\big)^2`, the squared
  distance between the anchors' test characteristic curves on a grid with N(0, 1) weights,
  started from mean–sigma.

Anchors whose transformed location moves more than ``purify`` from the old one are dropped
once and the constants re-estimated (a drifted anchor must not drag the whole scale).

At the first calibration of a bank every old parameter is provisional (set from the items'
target levels and the cut scores, see ``itembank``): there are no calibrated anchors, and the
link then uses the provisional values of all re-estimated items (``Linking.provisional``), so
that the new scale lines up, on average, with the one the cut scores were written on. The
report says so: the cut scores deserve a standard-setting review after such a release.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
from scipy.optimize import minimize
from scipy.stats import norm

from calibration.data import BoolArray, FloatArray, ItemParameters
from calibration.errors import LinkingError
from calibration.model import expected_scores

Method = Literal["stocking-lord", "mean-sigma"]
MIN_ANCHORS = 3
#: A 1PL row is a 2PL row with the slope every item shares, and a release holds it as such
#: (``calibration.publish``): the two match as anchors.
_SAME_MODEL = {"1PL": "2PL"}


def _same_model(a: str, b: str) -> bool:
    return _SAME_MODEL.get(a, a) == _SAME_MODEL.get(b, b)


_SE = TypeVar("_SE", float, FloatArray)


@dataclass(frozen=True, slots=True)
class Linking:
    """Constants of :math:`\\theta_{old} = A\\theta_{new} + B` and how they were found."""

    method: str
    A: float
    B: float
    anchors: tuple[str, ...]
    dropped: tuple[str, ...]
    mean_sigma: tuple[float, float]
    criterion: float
    provisional: bool = False


def transform(
    params: ItemParameters, A: float, B: float, items: BoolArray | None = None
) -> ItemParameters:
    """Put ``params`` (or the ``items`` rows of it) on the scale :math:`A\\theta + B`."""
    mask = np.ones(params.n_items, dtype=bool) if items is None else np.asarray(items, dtype=bool)
    a, b, thr = params.a.copy(), params.b.copy(), params.thresholds.copy()
    a[mask] = a[mask] / A
    b[mask] = A * b[mask] + B
    thr[mask] = A * thr[mask] + B
    return params.with_values(a=a, b=b, thresholds=thr)


def transform_se(
    A: float, a: _SE, b: _SE, *, thresholds: Sequence[float] = ()
) -> tuple[_SE, _SE, list[float]]:
    """Standard errors of ``a``, ``b`` (and GRM ``thresholds``) on the scale :math:`A\\theta + B`.

    ``a``'s divides by A, every location's multiplies by A; B shifts locations, not their spread.
    """
    return a / A, b * A, [t * A for t in thresholds]


def _locations(params: ItemParameters, idx: np.ndarray) -> FloatArray:
    out: list[float] = []
    for i in idx:
        if params.models[i] == "GRM":
            thr = params.thresholds[i]
            out.extend(thr[~np.isnan(thr)].tolist())
        else:
            out.append(float(params.b[i]))
    return np.asarray(out)


def _mean_sigma(
    new: ItemParameters, old: ItemParameters, i_new: np.ndarray, i_old: np.ndarray
) -> tuple[float, float]:
    b_new, b_old = _locations(new, i_new), _locations(old, i_old)
    if b_new.size != b_old.size:
        raise LinkingError("des ancres n'ont pas le même nombre de seuils dans les deux tables")
    sd_new = float(np.std(b_new))
    if sd_new < 1e-6:
        raise LinkingError("les ancres ont toutes la même difficulté : l'échelle est indéterminée")
    A = float(np.std(b_old)) / sd_new
    return A, float(np.mean(b_old) - A * np.mean(b_new))


def _stocking_lord(
    new: ItemParameters,
    old: ItemParameters,
    i_new: np.ndarray,
    i_old: np.ndarray,
    start: tuple[float, float],
) -> tuple[float, float, float]:
    grid = np.linspace(-4, 4, 41)
    w = norm.pdf(grid)
    w /= w.sum()
    sub_new, sub_old = new.subset(i_new), old.subset(i_old)
    t_old = expected_scores(sub_old, grid).sum(axis=0)

    def loss(x: np.ndarray) -> float:
        A, B = float(np.exp(x[0])), float(x[1])
        # T*_new(θ) = Σ E[X | θ; transformed params] = Σ E[X | (θ - B) / A; new params]
        t_new = expected_scores(sub_new, (grid - B) / A).sum(axis=0)
        return float(np.sum(w * (t_old - t_new) ** 2))

    res = minimize(
        loss,
        np.array([np.log(start[0]), start[1]]),
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4000},
    )
    return float(np.exp(res.x[0])), float(res.x[1]), float(res.fun)


def link(
    new: ItemParameters,
    old: ItemParameters,
    *,
    anchors: Sequence[str] | None = None,
    fitted: BoolArray | None = None,
    method: Method = "stocking-lord",
    purify: float | None = 0.5,
) -> Linking:
    """Estimate the linking constants of ``new`` (freshly fitted) onto ``old``'s scale.

    Parameters
    ----------
    new, old : ItemParameters
        The new estimates and the current release.
    anchors : sequence of str, optional
        Anchor ids; by default every item in both tables that was re-estimated (``fitted``),
        with non-provisional, non-pretest old parameters and the same model (a 1PL row counts
        as the 2PL row it is published as).
    fitted : ndarray of bool, (new.n_items,), optional
        Which rows of ``new`` were re-estimated (kept rows are already on the old scale).
    method : {"stocking-lord", "mean-sigma"}
    purify : float or None
        Drop anchors whose transformed location differs from the old by more than this, once.

    Raises
    ------
    LinkingError
        Fewer than three usable anchors, or anchors without spread.
    """
    if method not in ("stocking-lord", "mean-sigma"):
        raise LinkingError(f"méthode de liaison inconnue : {method!r}")
    fitted_mask = np.ones(new.n_items, dtype=bool) if fitted is None else np.asarray(fitted)
    provisional = False
    other_model: list[tuple[str, str]] = []
    if anchors is None:
        refitted = [
            (item_id, old.models[old.index(item_id)], new.models[i])
            for i, item_id in enumerate(new.ids)
            if fitted_mask[i] and item_id in old
        ]
        shared = [item_id for item_id, was, now in refitted if _same_model(was, now)]
        other_model = [(was, now) for _, was, now in refitted if not _same_model(was, now)]
        candidates = [
            i for i in shared if not old.provisional[old.index(i)] and not old.pretest[old.index(i)]
        ]
        if len(candidates) < MIN_ANCHORS and all(old.provisional[old.index(i)] for i in shared):
            candidates, provisional, purify = shared, True, None
    else:
        missing = [i for i in anchors if i not in old or i not in new]
        if missing:
            raise LinkingError(
                f"ancre(s) absente(s) de l'une des deux tables : {', '.join(missing[:10])}"
            )
        candidates = list(anchors)
    if len(candidates) < MIN_ANCHORS:
        named = f" : {', '.join(candidates)}" if candidates else ""
        changed = ""
        if anchors is None and other_model:
            pairs = ", ".join(f"{was} → {now}" for was, now in dict.fromkeys(other_model))
            changed = (
                f" ({len(other_model)} item(s) réestimé(s) dans un autre modèle que l'actuel, "
                f"{pairs}, ne servent pas d'ancres)"
            )
        raise LinkingError(
            f"{len(candidates)} ancre(s) utilisable(s){named}{changed} ; la liaison en demande "
            f"au moins {MIN_ANCHORS} : nommez-en avec --anchors, ou réestimez davantage d'items "
            "(--min-responses plus bas, davantage de réponses)"
        )
    i_new = new.indices(candidates)
    i_old = old.indices(candidates)
    A, B = _mean_sigma(new, old, i_new, i_old)
    dropped: list[str] = []
    if purify is not None:
        moved = np.abs((A * new.b[i_new] + B) - old.b[i_old]) > purify
        if moved.any() and (~moved).sum() >= MIN_ANCHORS:
            dropped = [candidates[k] for k in np.flatnonzero(moved)]
            i_new, i_old = i_new[~moved], i_old[~moved]
            A, B = _mean_sigma(new, old, i_new, i_old)
    ms = (A, B)
    criterion = float("nan")
    if method == "stocking-lord":
        A, B, criterion = _stocking_lord(new, old, i_new, i_old, ms)
    kept = tuple(c for c in candidates if c not in dropped)
    return Linking(method, A, B, kept, tuple(dropped), ms, criterion, provisional)


def link_skills(
    new: ItemParameters,
    old: ItemParameters,
    *,
    fitted: BoolArray | None = None,
    method: Method = "stocking-lord",
    purify: float | None = 0.5,
    anchors: Sequence[str] | None = None,
) -> dict[str, Linking]:
    """One :func:`link` per skill that has re-estimated items (each skill is its own scale).

    ``anchors`` are the anchors of the skills they belong to; a skill none of them belongs to
    is linked through its default anchors, as without the list.

    Raises
    ------
    LinkingError
        An anchor in neither table; for the first skill that cannot be linked, naming it.
    """
    fitted_mask = np.ones(new.n_items, dtype=bool) if fitted is None else np.asarray(fitted)
    if anchors is not None:
        unknown = [a for a in anchors if a not in new or a not in old]
        if unknown:
            raise LinkingError(
                f"ancre(s) absente(s) de l'une des deux tables : {', '.join(unknown[:10])}"
            )
    links: dict[str, Linking] = {}
    for skill in sorted(set(new.skills)):
        idx = new.skill_rows(skill)
        if not fitted_mask[idx].any():
            continue
        old_idx = old.skill_rows(skill)
        skill_anchors = None
        if anchors is not None:
            in_skill = {new.ids[i] for i in idx}
            skill_anchors = [a for a in anchors if a in in_skill] or None
        try:
            links[skill] = link(
                new.subset(idx),
                old.subset(old_idx),
                anchors=skill_anchors,
                fitted=fitted_mask[idx],
                method=method,
                purify=purify,
            )
        except LinkingError as exc:
            raise LinkingError(f"compétence {skill or '(sans)'} : {exc}") from None
    return links


def apply_links(
    params: ItemParameters, links: dict[str, Linking], fitted: BoolArray | None = None
) -> ItemParameters:
    """Put the re-estimated rows (``fitted``) of every linked skill on the old scale."""
    fitted_mask = np.ones(params.n_items, dtype=bool) if fitted is None else np.asarray(fitted)
    out = params
    for skill, lk in links.items():
        rows = fitted_mask & params.skill_mask(skill)
        out = transform(out, lk.A, lk.B, rows)
    return out
