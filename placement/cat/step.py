"""The stateless step: estimate, decide whether to stop, else choose the next item.

The server keeps no engine object between requests: it rebuilds a :class:`TestState` from the
stored responses and calls :func:`next_step` with ``step_rng(seed, len(responses))``. Given the
same responses, pool, rules and seed the step makes the same choice, so any session can be
replayed item by item for the auditeur.

How a step works

1. Responses are checked against the pool (unknown item, an item twice, a score outside
   0..k, an item of a skill outside the test, sections out of order → :class:`InvalidState`).
   A ``None`` score is a pending oral score: the item counts as given but not in θ̂. Pretest
   items count in neither.
2. Each section that has at least one scored item gets an EAP on the pool's grid, with a
   prior informed by the sections before it (:mod:`placement.cat.prior`); with
   ``rules.estimator`` other than ``eap``, the reported estimate uses that estimator with the
   same prior (MAP) or none (WLE, ML), while selection and stopping keep the EAP posterior.
3. The stopping rules run in the order documented in :mod:`placement.cat.stopping`.
4. If the test goes on, a pretest item is given when the candidate's pretest plan puts one
   here; otherwise the best eligible operational item of the current section is chosen
   (:mod:`placement.cat.selection`), honouring enemies, the non-reader path and the theme
   balance.

The current section is the section of the last operational item given (the first section
before any); the sections before it are over.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from placement.cat.prior import conditional_prior
from placement.cat.rules import Rules, Section, check_correlation, check_cut_scores
from placement.cat.selection import choose, score_candidates
from placement.cat.stopping import soft_stop
from placement.irt.errors import BlueprintUnsatisfiable, InvalidState
from placement.irt.estimation import (
    Estimate,
    map_estimate,
    ml_bounded,
    wle,
)
from placement.irt.models import BoolArray, FloatArray, IntArray, Pool

#: The entropy word that separates a candidate's pretest plan from the per-step streams.
_PRETEST_STREAM = 0x5052455445535400


@dataclass(frozen=True, slots=True)
class Response:
    """One stored response: the item and its score (None while an oral score is pending)."""

    item_id: str
    score: int | None


@dataclass(frozen=True, slots=True)
class TestState:
    """Everything the engine needs to take the next step; rebuilt by the server each time.

    Attributes
    ----------
    responses : tuple of Response
        In the order the items were given (pretest items included).
    elapsed_s : float
        Seconds since the test started (for the time limit).
    non_reader : bool
        The candidate takes the non-reader path (only ``rules.non_reader_skills``, only
        non-reader items; the other skills are not assessed).
    cut_scores : mapping skill -> {level: θ} or None
        The release's cut scores; None falls back to ``rules.cut_scores``.
    skill_correlation : (S, S) nested tuples or None
        The release's correlation in ``rules.skill_order``; None falls back to the rules.
    seed : int or None
        The session's seed; it draws the pretest plan (None: no pretest items).
    """

    __test__ = False  # not a pytest class, despite the name

    responses: tuple[Response, ...] = ()
    elapsed_s: float = 0.0
    non_reader: bool = False
    cut_scores: Mapping[str, Mapping[str, float]] | None = None
    skill_correlation: tuple[tuple[float, ...], ...] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "responses", tuple(self.responses))
        if not isinstance(self.elapsed_s, int | float) or not math.isfinite(self.elapsed_s):
            raise InvalidState(f"elapsed_s must be a finite number, got {self.elapsed_s!r}")
        if self.elapsed_s < 0:
            raise InvalidState(f"elapsed_s must be >= 0, got {self.elapsed_s}")
        for r in self.responses:
            if not isinstance(r, Response):
                raise InvalidState(f"responses must be Response objects, got {r!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise InvalidState(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.cut_scores is not None:
            try:
                check_cut_scores(self.cut_scores)
            except ValueError as exc:
                raise InvalidState(str(exc)) from None

    def with_response(
        self, item_id: str, score: int | None, elapsed_s: float | None = None
    ) -> TestState:
        """A new state with one more response (and, optionally, the new elapsed time)."""
        return TestState(
            responses=(*self.responses, Response(item_id, score)),
            elapsed_s=self.elapsed_s if elapsed_s is None else elapsed_s,
            non_reader=self.non_reader,
            cut_scores=self.cut_scores,
            skill_correlation=self.skill_correlation,
            seed=self.seed,
        )


@dataclass(frozen=True, slots=True)
class Step:
    """What the engine decided.

    Attributes
    ----------
    done : bool
        The test is over (``item_id`` is None).
    item_id, skill : str or None
        The item to give next and its skill.
    estimates : dict skill -> Estimate
        θ̂ and SE of every section with at least one scored item.
    reason : str
        ``"select"`` or ``"pretest"`` while going on; ``"complete"``, ``"time_limit"`` or
        ``"max_items"`` when done.
    pretest : bool
        The item is a pretest item (its response never enters θ̂).
    section_reasons : dict skill -> str
        Why each finished section ended (``section_max``, ``test_budget``, ``no_items``,
        ``se_target``, ``classification``, ``time_limit``, ``max_items``; ``ended`` when the
        rule that ended an earlier section can no longer be told apart), ``"in_progress"``
        for the current one, ``"not_assessed"`` for skills outside the candidate's path.
    n_items : int
        Operational items given so far (pretest items excluded).
    """

    done: bool
    item_id: str | None
    skill: str | None
    estimates: dict[str, Estimate]
    reason: str
    pretest: bool = False
    section_reasons: dict[str, str] = field(default_factory=dict)
    n_items: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "done": self.done,
            "item_id": self.item_id,
            "skill": self.skill,
            "estimates": {k: v.to_dict() for k, v in self.estimates.items()},
            "reason": self.reason,
            "pretest": self.pretest,
            "section_reasons": dict(self.section_reasons),
            "n_items": self.n_items,
        }


def step_rng(seed: int, n_responses: int) -> np.random.Generator:
    """The generator for the step taken after ``n_responses`` responses of session ``seed``.

    Independent streams per step (``SeedSequence([seed, n_responses])``) make every choice a
    function of the seed and the position only, so a replay reproduces the test.
    """
    if not isinstance(seed, int) or seed < 0:
        raise InvalidState(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(n_responses, int) or n_responses < 0:
        raise InvalidState(f"n_responses must be a non-negative integer, got {n_responses!r}")
    return np.random.default_rng(np.random.SeedSequence([seed, n_responses]))


# ---------------------------------------------------------------------- per (pool, rules) cache


@dataclass(frozen=True, slots=True)
class _Path:
    """The sections of one path (reader or non-reader) and their candidate items."""

    sections: tuple[Section, ...]
    operational: tuple[IntArray, ...]  # per section: operational items of the skill on the path
    pretest: tuple[IntArray, ...]  # per section: pretest items of the skill on the path
    stratum: IntArray  # (n,) the a-stratum of each operational item in its section, -1 else
    problem: str | None  # why the pool cannot meet this path's blueprint, None when it can
    section_themes: tuple[frozenset[int], ...]  # per section: theme codes its items cover


@dataclass(frozen=True, slots=True)
class _Prepared:
    pool: Pool
    rules: Rules
    reader: _Path
    non_reader: _Path
    theme_code: IntArray  # (n,) index in rules.themes.names, -1 when not balanced
    sh_k: FloatArray | None  # (n,)
    lookup: dict[str, tuple[int, str, int, bool]]  # id -> (index, skill, categories, pretest)
    theme_list: list[int]  # theme_code as a Python list, for small loops


_CACHE: dict[tuple[int, int], _Prepared] = {}
_CACHE_SIZE = 16


def _prepare(pool: Pool, rules: Rules) -> _Prepared:
    key = (id(pool), id(rules))
    hit = _CACHE.get(key)
    if hit is not None and hit.pool is pool and hit.rules is rules:
        return hit
    skills = np.asarray(pool.skills)
    operational_all = ~pool.pretest

    def path(non_reader: bool) -> _Path:
        sections = tuple(
            s for s in rules.sections if not non_reader or s.skill in rules.non_reader_skills
        )
        ops, pres = [], []
        stratum = np.full(len(pool), -1, dtype=np.int64)
        for s in sections:
            on_path = skills == s.skill
            if non_reader:
                on_path &= pool.non_reader
            op = np.flatnonzero(on_path & operational_all)
            ops.append(op)
            pres.append(np.flatnonzero(on_path & pool.pretest))
            n_strata = min(rules.selection.strata, max(op.size, 1))
            rank = np.empty(op.size, dtype=np.int64)
            rank[np.argsort(pool.a[op], kind="stable")] = np.arange(op.size)
            stratum[op] = (rank * n_strata) // max(op.size, 1)
        problem = None
        for s, op in zip(sections, ops, strict=True):
            if op.size < s.min_items:
                problem = (
                    f"section {s.skill} needs at least {s.min_items} items but the pool has "
                    f"{op.size} operational {s.skill} items"
                    + (" for non-readers" if non_reader else "")
                )
                break
        themes = tuple(frozenset(int(t) for t in np.unique(theme_code[op]) if t >= 0) for op in ops)
        return _Path(sections, tuple(ops), tuple(pres), stratum, problem, themes)

    names = {t: i for i, t in enumerate(rules.themes.names)}
    theme_code = np.array([names.get(t, -1) for t in pool.themes], dtype=np.int64)
    sh_k = None
    if rules.exposure.sympson_hetter:
        sh_k = np.ones(len(pool))
        for item_id, k in rules.exposure.sympson_hetter.items():
            if pool.has(item_id):
                sh_k[pool.index(item_id)] = k
    lookup = {
        item_id: (i, pool.skills[i], int(pool.n_categories[i]), bool(pool.pretest[i]))
        for i, item_id in enumerate(pool.ids)
    }
    prepared = _Prepared(
        pool, rules, path(False), path(True), theme_code, sh_k, lookup, theme_code.tolist()
    )
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = prepared
    return prepared


# ---------------------------------------------------------------------- the step


def check_blueprint(pool: Pool, rules: Rules, non_reader: bool = False) -> None:
    """Raise :class:`BlueprintUnsatisfiable` when the pool cannot meet the section minimums."""
    prep = _prepare(pool, rules)
    path = prep.non_reader if non_reader else prep.reader
    if path.problem is not None:
        raise BlueprintUnsatisfiable(path.problem)


def pretest_plan(seed: int | None, rules: Rules, path: _Path) -> list[tuple[int, int]]:
    """The candidate's pretest slots: (section position, operational items before it), sorted."""
    if seed is None or rules.pretest.items <= 0 or rules.pretest.share <= 0:
        return []
    rng = np.random.default_rng(np.random.SeedSequence([seed, _PRETEST_STREAM]))
    if rng.random() >= rules.pretest.share:
        return []
    open_sections = [
        i for i, s in enumerate(path.sections) if path.pretest[i].size and s.min_items >= 2
    ]
    if not open_sections:
        return []
    slots = []
    for _ in range(rules.pretest.items):
        i = open_sections[int(rng.integers(len(open_sections)))]
        slots.append((i, int(rng.integers(1, path.sections[i].min_items))))
    return sorted(slots)


def next_step(state: TestState, pool: Pool, rules: Rules, rng: np.random.Generator) -> Step:
    """Estimate, stop or choose the next item. Pure: no I/O, randomness only from ``rng``.

    Parameters
    ----------
    state : TestState
        The responses so far and the context (time, non-reader, cut scores, correlation).
    pool : Pool
        The calibrated items (operational and pretest).
    rules : Rules
        Blueprint, selection, exposure, stopping, prior and pretest rules.
    rng : numpy.random.Generator
        Use :func:`step_rng` for replayable sessions.

    Returns
    -------
    Step

    Raises
    ------
    InvalidState
        The responses do not fit the pool or the blueprint (see the module docstring).
    """
    prep = _prepare(pool, rules)
    path = prep.non_reader if state.non_reader else prep.reader
    if path.problem is not None:
        raise BlueprintUnsatisfiable(path.problem)
    sections = path.sections
    section_of = {s.skill: i for i, s in enumerate(sections)}
    cut_scores = state.cut_scores if state.cut_scores is not None else rules.cut_scores
    correlation = (
        state.skill_correlation if state.skill_correlation is not None else rules.skill_correlation
    )
    if state.skill_correlation is not None:
        try:
            _checked_correlation(state.skill_correlation, rules.skill_order)
        except ValueError as exc:
            raise InvalidState(str(exc)) from None

    # 1. parse the responses
    n = len(pool)
    lookup = prep.lookup
    seen: set[int] = set()
    counts = [0] * len(sections)
    pretest_counts = [0] * len(sections)
    scored_idx: list[list[int]] = [[] for _ in sections]
    scored_val: list[list[int]] = [[] for _ in sections]
    given_by_section: list[list[int]] = [[] for _ in sections]
    current = 0
    for r in state.responses:
        entry = lookup.get(r.item_id)
        if entry is None:
            raise InvalidState(f"response to item {r.item_id!r}, which is not in the pool")
        i, skill, n_categories, is_pretest = entry
        if i in seen:
            raise InvalidState(f"item {r.item_id!r} was given twice")
        seen.add(i)
        sec = section_of.get(skill)
        if sec is None:
            raise InvalidState(
                f"item {r.item_id!r} is of skill {skill!r}, which is not in this test"
                + (" (non-reader path)" if state.non_reader else "")
            )
        score = r.score
        if score is not None:
            if type(score) is not int and (
                isinstance(score, bool) or not isinstance(score, int | np.integer)
            ):
                raise InvalidState(f"item {r.item_id!r}: score {score!r} is not an integer")
            if not 0 <= score < n_categories:
                raise InvalidState(
                    f"item {r.item_id!r}: score {score} outside 0..{n_categories - 1}"
                )
        if is_pretest:
            pretest_counts[sec] += 1
            continue
        if sec < current:
            raise InvalidState(f"item {r.item_id!r} ({skill}) comes after a later section started")
        current = sec
        counts[sec] += 1
        given_by_section[sec].append(i)
        if score is not None:
            scored_idx[sec].append(i)
            scored_val[sec].append(int(score))
    blocked = np.zeros(n, dtype=bool)
    if seen:
        blocked[list(seen.union(*(pool.enemies[i] for i in seen)))] = True
    n_items = sum(counts)

    # 2. estimates: all sections with data at once, later sections only when reached
    grid = pool.grid
    mean0, sd0 = rules.prior.mean, rules.prior.sd
    borrow = rules.prior.borrow and correlation is not None
    n_active = max(max((k for k in range(len(sections)) if scored_idx[k]), default=-1), current) + 1
    loglik_table = _section_logliks(pool, scored_idx, scored_val, n_active)
    logliks = list(loglik_table)
    summaries: dict[str, tuple[float, float]] = {}
    marginal = None
    if borrow:
        # each section's data summarised under the marginal prior (see placement.cat.prior)
        marginal = _posterior_moments(
            grid, loglik_table, np.full(n_active, mean0), np.full(n_active, sd0)
        )
        m0, v0 = marginal[1:]
        summaries = {
            sections[k].skill: (float(m0[k]), float(v0[k]))
            for k in range(n_active)
            if scored_idx[k]
        }
    priors: list[tuple[float, float]] = []

    def prior_of(k: int) -> tuple[float, float]:
        if not borrow:
            return mean0, sd0
        earlier = {sk: v for sk, v in summaries.items() if section_of[sk] < k}
        return conditional_prior(
            sections[k].skill, earlier, correlation, rules.skill_order, mean=mean0, sd=sd0
        )

    priors = [prior_of(k) for k in range(n_active)]
    mus = np.array([p[0] for p in priors])
    sds = np.array([p[1] for p in priors])
    if marginal is not None and np.all(mus == mean0) and np.all(sds == sd0):
        post_w, thetas, variances = marginal  # nothing borrowed yet: the same posterior
    else:
        post_w, thetas, variances = _posterior_moments(grid, loglik_table, mus, sds)
    posteriors = list(post_w)
    estimates: dict[str, Estimate] = {
        sections[k].skill: Estimate(float(thetas[k]), math.sqrt(max(float(variances[k]), 0.0)))
        for k in range(n_active)
        if scored_idx[k]
    }

    def posterior_of(k: int) -> FloatArray:
        while len(posteriors) <= k:  # a section reached in this very step: no data yet
            j = len(posteriors)
            mu, sd = prior_of(j)
            priors.append((mu, sd))
            z = (grid - mu) / sd
            w = np.exp(-0.5 * z * z)
            posteriors.append(w / w.sum())
            logliks.append(np.zeros(grid.size))
        return posteriors[k]

    section_reasons: dict[str, str] = {
        s.skill: "not_assessed" for s in rules.sections if s.skill not in section_of
    }

    def finish(reason: str) -> Step:
        for s in sections:
            section_reasons.setdefault(s.skill, reason)
        return Step(True, None, None, _reported(estimates), reason, False, section_reasons, n_items)

    def _reported(eaps: dict[str, Estimate]) -> dict[str, Estimate]:
        if rules.estimator == "eap":
            return eaps
        out = {}
        for k, s in enumerate(sections):
            if s.skill not in eaps:
                continue
            idx, sc = np.asarray(scored_idx[k]), np.asarray(scored_val[k])
            if rules.estimator == "map":
                out[s.skill] = map_estimate(
                    pool, idx, sc, prior_mean=priors[k][0], prior_sd=priors[k][1]
                )
            elif rules.estimator == "wle":
                out[s.skill] = wle(pool, idx, sc)
            else:
                out[s.skill] = ml_bounded(pool, idx, sc)
        return out

    # earlier sections: say which rule ended them (replayed on their final data)
    for k in range(current):
        s = sections[k]
        if counts[k] >= s.max_items:
            section_reasons[s.skill] = "section_max"
        elif (
            rules.stopping.max_items is not None
            and sum(counts[: k + 1]) + sum(x.min_items for x in sections[k + 1 :])
            >= rules.stopping.max_items
        ):
            section_reasons[s.skill] = "test_budget"
        elif s.skill in estimates and counts[k] >= s.min_items:
            section_reasons[s.skill] = (
                soft_stop(
                    estimates[s.skill],
                    _se_target(s, rules),
                    rules.stopping.classification,
                    grid=grid,
                    loglik=logliks[k],
                    cuts=_cuts(cut_scores, s.skill, rules),
                )
                or "ended"
            )
        else:
            section_reasons[s.skill] = "no_items" if counts[k] < s.min_items else "ended"

    # 3. test-level stopping
    st = rules.stopping
    if st.time_limit_s is not None and state.elapsed_s >= st.time_limit_s:
        return finish("time_limit")
    if st.max_items is not None and n_items >= st.max_items:
        return finish("max_items")

    # theme balance over the operational items given so far (small: plain Python)
    n_themes = len(rules.themes.names)
    theme_list = prep.theme_list
    theme_counts = [0] * n_themes
    for items in given_by_section:
        for i in items:
            if theme_list[i] >= 0:
                theme_counts[theme_list[i]] += 1
    reachable: set[int] = set().union(*path.section_themes[current:])
    need = [
        max(rules.themes.min_items - theme_counts[t], 0) if t in reachable else 0
        for t in range(n_themes)
    ]
    deficit = [t for t in range(n_themes) if need[t] > 0]
    need_total = sum(need)

    plan = pretest_plan(state.seed, rules, path)
    for k in range(current, len(sections)):
        s = sections[k]
        later_min = sum(
            max(sections[j].min_items - counts[j], 0) for j in range(k + 1, len(sections))
        )
        candidates = path.operational[k][~blocked[path.operational[k]]]
        cap = math.ceil(rules.themes.max_share * s.max_items)
        if cap < s.max_items and candidates.size:
            in_section = [0] * n_themes
            for i in given_by_section[k]:
                if theme_list[i] >= 0:
                    in_section[theme_list[i]] += 1
            full = [t for t in range(n_themes) if in_section[t] >= cap]
            if full:
                candidates = candidates[~_theme_mask(full, n_themes)[prep.theme_code[candidates]]]
        posterior = posterior_of(k)
        estimate = estimates.get(s.skill) or Estimate(*_prior_estimate(grid, posterior))
        # rules 3-6 of placement.cat.stopping, then the soft rules 7-8
        reason: str | None
        if counts[k] >= s.max_items:
            reason = "section_max"
        elif st.max_items is not None and n_items + later_min >= st.max_items:
            reason = "test_budget"  # what is left of the test belongs to the later minimums
        elif candidates.size == 0:
            reason = "no_items"
        elif (
            counts[k] < s.min_items
            or n_items + later_min < st.min_items
            or (
                need_total > later_min
                and bool(_theme_mask(deficit, n_themes)[prep.theme_code[candidates]].any())
            )
        ):
            reason = None
        else:
            reason = soft_stop(
                estimate,
                _se_target(s, rules),
                rules.stopping.classification,
                grid=grid,
                loglik=logliks[k],
                cuts=_cuts(cut_scores, s.skill, rules),
            )
        if reason is not None:
            section_reasons[s.skill] = reason
            continue
        section_reasons[s.skill] = "in_progress"
        for later in sections[k + 1 :]:
            section_reasons.setdefault(later.skill, "not_started")

        # 4a. a pretest item here?
        due = [pos for sec, pos in plan if sec == k]
        if pretest_counts[k] < len(due) and due[pretest_counts[k]] <= counts[k]:
            pre = path.pretest[k][~blocked[path.pretest[k]]]
            if pre.size:
                choice = int(pre[int(rng.integers(pre.size))])
                return Step(
                    False, pool.ids[choice], s.skill, _reported(estimates), "pretest",
                    True, section_reasons, n_items,
                )  # fmt: skip

        # 4b. the operational item; deficit themes first when the remaining minimum needs them
        remaining_min = max(s.min_items - counts[k], 0) + later_min
        if need_total > 0 and need_total >= remaining_min:
            wanted = _theme_mask(deficit, n_themes)[prep.theme_code[candidates]]
            if wanted.any():
                candidates = candidates[wanted]
        if rules.selection.method == "a_stratified":
            candidates = _stratum(path, counts[k], s, candidates, rules.selection.strata)
        scores = score_candidates(
            pool, candidates, rules.selection.method, estimate.theta, posterior
        )
        choice = choose(candidates, scores, rules.exposure.randomesque_k, prep.sh_k, rng)
        return Step(
            False, pool.ids[choice], s.skill, _reported(estimates), "select", False,
            section_reasons, n_items,
        )  # fmt: skip
    return finish("complete")


def _section_logliks(
    pool: Pool, scored_idx: list[list[int]], scored_val: list[list[int]], n_active: int
) -> FloatArray:
    """Log-likelihood on the grid of each of the first ``n_active`` sections: (S, G).

    One gather from the (n * (kmax + 1), G) row table, then a sum per section's slice.
    """
    out = np.zeros((n_active, pool.grid.size))
    k1 = pool.kmax + 1
    rows_of = [
        i * k1 + v
        for k in range(n_active)
        for i, v in zip(scored_idx[k], scored_val[k], strict=True)
    ]
    if not rows_of:
        return out
    rows = pool.log_prob_rows[rows_of]  # (m, G)
    at = 0
    for k in range(n_active):
        m = len(scored_idx[k])
        if m:
            out[k] = rows[at : at + m].sum(axis=0)
            at += m
    return out


def _posterior_moments(
    grid: FloatArray, logliks: FloatArray, mus: FloatArray, sds: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Posterior weights (S, G), means (S,) and variances (S,) under priors N(mu_k, sd_k^2)."""
    z = (grid[None, :] - mus[:, None]) / sds[:, None]
    log_post = logliks - 0.5 * z * z
    w = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    means = w @ grid
    variances = w @ (grid * grid) - means * means
    return w, means, np.maximum(variances, 0.0)


@functools.lru_cache(maxsize=32)
def _checked_correlation(matrix: tuple[tuple[float, ...], ...], order: tuple[str, ...]) -> bool:
    check_correlation(matrix, order)
    return True


def _prior_estimate(grid: FloatArray, posterior: FloatArray) -> tuple[float, float]:
    theta = float(posterior @ grid)
    return theta, math.sqrt(max(float(posterior @ (grid - theta) ** 2), 0.0))


def _cuts(cut_scores: Mapping[str, Mapping[str, float]], skill: str, rules: Rules) -> list[float]:
    cuts = cut_scores.get(skill, {})
    return [float(cuts[level]) for level in rules.stopping.classification.levels if level in cuts]


def _theme_mask(codes: list[int], n_themes: int) -> BoolArray:
    """A lookup by theme code (the last slot, code -1, is "not balanced": never set)."""
    mask = np.zeros(n_themes + 1, dtype=bool)
    mask[codes] = True
    return mask


def _se_target(section: Section, rules: Rules) -> float | None:
    return section.se_target if section.se_target is not None else rules.stopping.se_target


def _stratum(
    path: _Path, position: int, section: Section, candidates: IntArray, n_strata: int
) -> IntArray:
    codes = path.stratum[candidates]
    available = np.unique(codes)
    wanted = min((position * n_strata) // max(section.max_items, 1), n_strata - 1)
    nearest = available[np.argmin(np.abs(available - wanted))]
    out: IntArray = candidates[codes == nearest]
    return out
