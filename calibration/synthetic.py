"""CAT-like sparse response data for recovery studies, tests and benchmarks.

A small, self-contained adaptive test on the *true* parameters: EAP on a grid after each
response, next item by maximum Fisher information at θ̂ among the items not yet given,
randomesque (uniform among the ``randomesque`` best). Optionally each person also gets
``n_pretest`` pretest items drawn at random (seeding: their missingness is completely at
random). The engine's own simulation (``placement.simulation``) does not return the
responses, so calibration data are generated here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from calibration.data import FloatArray, IntArray, ItemParameters, Responses, group_rows
from calibration.model import category_probabilities, item_information


def draw_scores(
    params: ItemParameters, items: IntArray, thetas: FloatArray, rng: np.random.Generator
) -> IntArray:
    """Draw one score per (item, θ) pair from the model, (R,)."""
    uniq, inv = np.unique(items, return_inverse=True)
    sub = params.subset(uniq)
    out = np.zeros(items.size, dtype=np.int64)
    for j, rows in enumerate(group_rows(inv, uniq.size)):
        p = category_probabilities(sub.subset([j]), thetas[rows])[0]  # (K+1, r)
        cum = np.cumsum(p, axis=0)
        u = rng.random(rows.size)
        out[rows] = np.minimum(np.sum(u[None, :] > cum, axis=0), p.shape[0] - 1)
    return out


def simulate_cat(
    params: ItemParameters,
    thetas: npt.ArrayLike,
    rng: np.random.Generator,
    *,
    test_length: int = 20,
    randomesque: int = 5,
    pretest_items: IntArray | None = None,
    n_pretest: int = 0,
    generating: ItemParameters | None = None,
    progress: bool = False,
) -> Responses:
    """Simulate an adaptive test for every θ and return the long responses.

    Parameters
    ----------
    params : ItemParameters
        True parameters of the operational bank (n items).
    thetas : array_like, (N,)
        True abilities.
    rng : numpy.random.Generator
    test_length : int
        Operational items per person.
    randomesque : int
        Exposure control: choose uniformly among this many most informative items.
    pretest_items : ndarray of int, optional
        Indices of pretest items (never chosen adaptively).
    n_pretest : int
        Pretest items given to each person at random.
    generating : ItemParameters, optional
        Parameters that generate the scores (same items, same order) when they differ from
        the ones the CAT selects and estimates with (``params``): e.g. the CAT runs on the
        current release while the new calibration plays the truth.

    Returns
    -------
    Responses
        ``N * (test_length + n_pretest)`` responses.
    """
    th = np.asarray(thetas, dtype=float)
    truth = params if generating is None else generating
    n_persons = th.size
    grid = np.linspace(-4, 4, 81)
    log_prior = -0.5 * grid**2
    probs = category_probabilities(params, grid)  # (n, K+1, G)
    log_probs = np.log(np.maximum(probs, 1e-300))
    info = item_information(params, grid)  # (n, G)
    operational = np.ones(params.n_items, dtype=bool)
    if pretest_items is not None:
        operational[pretest_items] = False
    info[~operational] = -np.inf
    log_post = np.tile(log_prior, (n_persons, 1))
    used = np.zeros((n_persons, params.n_items), dtype=bool)
    persons: list[IntArray] = []
    items: list[IntArray] = []
    scores: list[IntArray] = []
    rows = np.arange(n_persons)
    k = max(1, min(randomesque, int(operational.sum())))
    for _ in tqdm(range(test_length), desc="simulate CAT", disable=not progress, leave=False):
        post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        eap = (post @ grid) / post.sum(axis=1)
        g = np.clip(np.rint((eap - grid[0]) / (grid[1] - grid[0])).astype(int), 0, grid.size - 1)
        gain = info[:, g].T.copy()  # (N, n)
        gain[used] = -np.inf
        best = np.argpartition(-gain, k - 1, axis=1)[:, :k]
        pick = best[rows, rng.integers(0, k, n_persons)]
        score = draw_scores(truth, pick, th, rng)
        used[rows, pick] = True
        log_post += log_probs[pick, score, :]
        persons.append(rows.copy())
        items.append(pick)
        scores.append(score)
    if pretest_items is not None and n_pretest > 0:
        pool = np.asarray(pretest_items)
        for _ in range(n_pretest):
            pick = pool[rng.integers(0, pool.size, n_persons)]
            # a second draw of the same pretest item is replaced by another one
            for _ in range(10):
                again = used[rows, pick]
                if not again.any():
                    break
                pick[again] = pool[rng.integers(0, pool.size, int(again.sum()))]
            keep = ~used[rows, pick]
            used[rows[keep], pick[keep]] = True
            persons.append(rows[keep])
            items.append(pick[keep])
            scores.append(draw_scores(truth, pick[keep], th[keep], rng))
    person = np.concatenate(persons)
    order = np.argsort(person, kind="stable")
    return Responses(
        person_ids=tuple(f"p{i:06d}" for i in range(n_persons)),
        person=person[order],
        item=np.concatenate(items)[order],
        score=np.concatenate(scores)[order],
    )


def simulate_complete(
    params: ItemParameters, thetas: npt.ArrayLike, rng: np.random.Generator
) -> Responses:
    """Every person answers every item (a linear test), (N * n) responses."""
    th = np.asarray(thetas, dtype=float)
    person = np.repeat(np.arange(th.size), params.n_items)
    item = np.tile(np.arange(params.n_items), th.size)
    return Responses(
        person_ids=tuple(f"p{i:06d}" for i in range(th.size)),
        person=person,
        item=item,
        score=draw_scores(params, item, th[person], rng),
    )


def random_bank(
    n_items: int,
    rng: np.random.Generator,
    *,
    n_grm: int = 0,
    max_score: int = 3,
    model: str = "2PL",
    prefix: str = "CE",
) -> ItemParameters:
    """A plausible bank: log a ~ N(0.1, 0.3²), b ~ N(0, 1.2²)  (3PL: c ~ U(0.1, 0.25)),
    plus ``n_grm`` GRM items with ``max_score`` ordered thresholds."""
    from calibration.data import make_parameters

    n = n_items + n_grm
    a = np.exp(rng.normal(0.1, 0.3, n))
    b = rng.normal(0.0, 1.2, n)
    thr = np.full((n, max(1, max_score)), np.nan)
    if n_grm:
        centre = rng.normal(0.0, 1.0, n_grm)
        spread = np.sort(rng.uniform(-1.5, 1.5, (n_grm, max_score)), axis=1)
        spread += np.arange(max_score)[None, :] * 0.25  # strictly increasing
        thr[n_items:] = centre[:, None] + spread - spread.mean(axis=1, keepdims=True)
    models = [model] * n_items + ["GRM"] * n_grm
    c = np.where(np.array(models) == "3PL", rng.uniform(0.1, 0.25, n), 0.0)
    ids = [f"{prefix}-{i + 1:04d}" for i in range(n)]
    return make_parameters(ids, models, a, b, c=c, thresholds=thr)
