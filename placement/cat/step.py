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
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from placement.cat.draws import Draws, StepRng
from placement.cat.joint import (
    DEFAULT_DECISION,
    N_DRAWS,
    DecisionModel,
    JointPosterior,
    joint_draws,
    summarise_draws,
)
from placement.cat.prior import conditional_prior
from placement.cat.rules import (
    Classification,
    Rules,
    Section,
    check_correlation,
    check_cut_scores,
)
from placement.cat.selection import (
    SectionItems,
    any_eligible,
    choose,
    exclude,
    information_at,
    restrict_to_stratum,
    section_scores,
)
from placement.cat.stopping import soft_stop
from placement.irt.errors import BlueprintUnsatisfiable, InvalidState
from placement.irt.estimation import (
    Estimate,
    map_estimate,
    ml_bounded,
    normal_log_prior,
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
    decision : DecisionModel or None
        The policy's decision as the engine sees it (``Policy.decision_model()``), for
        decision-targeted stopping and :func:`decision_posterior`; None: the CIR 2016 rules.
    """

    __test__ = False  # not a pytest class, despite the name

    responses: tuple[Response, ...] = ()
    elapsed_s: float = 0.0
    non_reader: bool = False
    cut_scores: Mapping[str, Mapping[str, float]] | None = None
    skill_correlation: tuple[tuple[float, ...], ...] | None = None
    seed: int | None = None
    decision: DecisionModel | None = None

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
            decision=self.decision,
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


def step_rng(seed: int, n_responses: int) -> StepRng:
    """The draws for the step taken after ``n_responses`` responses of session ``seed``.

    Independent streams per step (:class:`~placement.cat.draws.StepRng` keyed by
    ``(seed, n_responses)``) make every choice a function of the seed and the position only,
    so a replay reproduces the test.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise InvalidState(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(n_responses, int) or isinstance(n_responses, bool) or n_responses < 0:
        raise InvalidState(f"n_responses must be a non-negative integer, got {n_responses!r}")
    return StepRng(seed, n_responses)


# ---------------------------------------------------------------------- per (pool, rules) cache


@dataclass(frozen=True, slots=True, eq=False)
class _Path:
    """The sections of one path (reader or non-reader) and their candidate items."""

    sections: tuple[Section, ...]
    items: tuple[SectionItems, ...]  # per section: operational items of the skill on the path
    pretest: tuple[IntArray, ...]  # per section: pretest items of the skill on the path
    problem: str | None  # why the pool cannot meet this path's blueprint, None when it can
    shortfall: tuple[str, int, int] | None  # (skill, needed, available) of that section
    non_reader: bool
    reachable: tuple[frozenset[int], ...]  # per section k: theme codes of sections k, k+1, ...
    later_min: tuple[int, ...]  # per section k: the minimums of the sections after k
    later_seconds: tuple[float, ...]  # per section k: the expected time of those minimums
    section_index: dict[str, int]  # skill -> position on this path
    theme_caps: tuple[int, ...]  # per section: most items of one theme (max_items: no cap)
    # id -> (pool index, section on this path or -1, position in the section's items or -1,
    #        score categories, pretest, theme code)
    lookup: dict[str, tuple[int, int, int, int, bool, int]]


@dataclass(frozen=True, slots=True, eq=False)
class _Prepared:
    pool: Pool
    rules: Rules
    reader: _Path
    non_reader: _Path
    has_enemies: bool
    k1: int  # rows per item in pool.log_prob_rows (the highest score + 1)
    log_prior: FloatArray  # (G,) log density of the marginal prior on the grid, up to a constant
    basis: FloatArray  # (G, 3): 1, θ, θ² — posterior mass and first two moments in one product
    # the value-of-information check's P(the other skills pass | this one at its cut), by the
    # data it was read on (see _p_others)
    p_others: dict[tuple[Any, ...], float] = field(default_factory=dict)


_CACHE: dict[tuple[int, int], _Prepared] = {}
_CACHE_SIZE = 16


def _prepare(pool: Pool, rules: Rules) -> _Prepared:
    key = (id(pool), id(rules))
    hit = _CACHE.get(key)
    if hit is not None and hit.pool is pool and hit.rules is rules:
        return hit
    skills = np.asarray(pool.skills)
    operational_all = ~pool.pretest
    names = {t: i for i, t in enumerate(rules.themes.names)}
    theme_code = np.array([names.get(t, -1) for t in pool.themes], dtype=np.int64)

    def exposure_k(non_reader: bool) -> FloatArray | None:
        parameters = rules.exposure.sympson_hetter
        if non_reader and rules.exposure.sympson_hetter_non_reader:
            parameters = rules.exposure.sympson_hetter_non_reader
        if not parameters:
            return None
        sh_k = np.ones(len(pool))
        for item_id, k in parameters.items():
            if pool.has(item_id):
                sh_k[pool.index(item_id)] = k
        return sh_k

    def path(non_reader: bool) -> _Path:
        sh_k = exposure_k(non_reader)
        sections = rules.path_sections(non_reader)
        ops, pres = [], []
        position = np.full(len(pool), -1, dtype=np.int64)
        for s in sections:
            on_path = skills == s.skill
            if non_reader:
                on_path &= pool.non_reader
            op = np.flatnonzero(on_path & operational_all)
            ops.append(op)
            pres.append(np.flatnonzero(on_path & pool.pretest))
            position[op] = np.arange(op.size)
        problem, shortfall = None, None
        for s, op in zip(sections, ops, strict=True):
            if op.size < s.min_items:
                shortfall = (s.skill, s.min_items, int(op.size))
                problem = (
                    f"section {s.skill} : au moins {s.min_items} items demandés, la banque a "
                    f"{op.size} items opérationnels de {s.skill}"
                    + (" pour les non-lecteurs" if non_reader else "")
                )
                break
        themes = tuple(frozenset(int(t) for t in np.unique(theme_code[op]) if t >= 0) for op in ops)
        reachable = tuple(frozenset().union(*themes[k:]) for k in range(len(sections)))
        caps = tuple(math.ceil(rules.themes.max_share * s.max_items) for s in sections)
        later_min = tuple(sum(s.min_items for s in sections[k + 1 :]) for k in range(len(sections)))
        later_seconds = tuple(
            sum(s.min_items * (s.item_seconds or 0.0) for s in sections[k + 1 :])
            for k in range(len(sections))
        )
        section_of = {s.skill: k for k, s in enumerate(sections)}
        lookup = {
            item_id: (
                i,
                section_of.get(pool.skills[i], -1),
                int(position[i]),
                int(pool.n_categories[i]),
                bool(pool.pretest[i]),
                int(theme_code[i]),
            )
            for i, item_id in enumerate(pool.ids)
        }
        items = tuple(
            SectionItems.build(
                pool,
                op,
                theme_code=theme_code,
                n_themes=len(rules.themes.names),
                n_strata=rules.selection.strata,
                sh_k=sh_k,
            )
            for op in ops
        )
        return _Path(
            sections,
            items,
            tuple(pres),
            problem,
            shortfall,
            non_reader,
            reachable,
            later_min,
            later_seconds,
            section_of,
            caps,
            lookup,
        )

    grid = pool.grid
    prepared = _Prepared(
        pool,
        rules,
        path(False),
        path(True),
        any(pool.enemies),
        pool.kmax + 1,
        normal_log_prior(grid, rules.prior.mean, rules.prior.sd),
        np.stack([np.ones_like(grid), grid, grid * grid], axis=1),
    )
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = prepared
    return prepared


# ---------------------------------------------------------------------- the step


def _unsatisfiable(path: _Path) -> BlueprintUnsatisfiable:
    """The error for a path whose blueprint the pool cannot meet (``path.problem`` is set)."""
    skill, needed, available = path.shortfall or (None, None, None)
    return BlueprintUnsatisfiable(
        path.problem or "", skill=skill, needed=needed, available=available
    )


def check_blueprint(pool: Pool, rules: Rules, non_reader: bool = False) -> None:
    """Raise :class:`BlueprintUnsatisfiable` when the pool cannot meet the section minimums."""
    prep = _prepare(pool, rules)
    path = prep.non_reader if non_reader else prep.reader
    if path.problem is not None:
        raise _unsatisfiable(path)


def pretest_plan(seed: int | None, rules: Rules, path: _Path) -> list[tuple[int, int]]:
    """The candidate's pretest slots: (section position, operational items before it), sorted."""
    if seed is None or rules.pretest.items <= 0 or rules.pretest.share <= 0:
        return []
    rng = StepRng(seed, _PRETEST_STREAM)
    if rng.random() >= rules.pretest.share:
        return []
    open_sections = [
        i for i, s in enumerate(path.sections) if path.pretest[i].size and s.min_items >= 2
    ]
    if not open_sections:
        return []
    slots = []
    for _ in range(rules.pretest.items):
        i = open_sections[rng.integers(len(open_sections))]
        slots.append((i, 1 + rng.integers(path.sections[i].min_items - 1)))
    return sorted(slots)


def _invalid(responses: tuple[Response, ...], given: list[int], message: str) -> InvalidState:
    """The error for the responses read so far: an item given twice first, else ``message``."""
    seen: set[int] = set()
    for r, i in zip(responses, given, strict=False):
        if i in seen:
            return InvalidState(f"item {r.item_id!r} was given twice")
        seen.add(i)
    return InvalidState(message)


@dataclass(slots=True, eq=False)
class _Parsed:
    """The responses read against one path (see :func:`_parse`)."""

    current: int  # the section of the last operational item (0 before any)
    counts: list[int]  # per section: operational items given
    pretest_counts: list[int]  # per section: pretest items given
    rows: list[int]  # scored operational items as rows of pool.log_prob_rows, in order
    spans: list[tuple[int, int, int]]  # (section, first row, end row) of sections with scores
    given: list[int]  # every item given (pretest included), pool indices
    current_given: list[int]  # positions in the current section's items of those given
    theme_counts: list[int]  # per theme: operational items given in the whole test
    current_theme_counts: list[int]  # per theme: operational items given in ``current``


def _parse(
    responses: tuple[Response, ...], path: _Path, skills: tuple[str, ...], k1: int, n_themes: int
) -> _Parsed:
    """Check the responses against the path and count what the step needs (one pass).

    Raises :class:`InvalidState` for the faults listed in the module docstring; ``skills`` are
    the pool's, for the messages.
    """
    lookup = path.lookup
    n_sections = len(path.sections)
    counts = [0] * n_sections
    pretest_counts = [0] * n_sections
    theme_counts = [0] * (n_themes + 1)  # the last slot takes code -1: not balanced
    current_themes = [0] * (n_themes + 1)
    rows: list[int] = []
    spans: list[tuple[int, int, int]] = []
    given: list[int] = []
    current_given: list[int] = []
    current = 0
    span_section = -1
    for r in responses:
        entry = lookup.get(r.item_id)
        if entry is None:
            raise _invalid(
                responses, given, f"response to item {r.item_id!r}, which is not in the pool"
            )
        i, sec, position, n_categories, is_pretest, theme = entry
        given.append(i)
        if sec < 0:
            raise _invalid(
                responses,
                given,
                f"item {r.item_id!r} is of skill {skills[i]!r}, which is not in this test"
                + (" (non-reader path)" if path.non_reader else ""),
            )
        score = r.score
        if score is not None:
            if type(score) is not int and (
                isinstance(score, bool) or not isinstance(score, int | np.integer)
            ):
                raise _invalid(
                    responses, given, f"item {r.item_id!r}: score {score!r} is not an integer"
                )
            if not 0 <= score < n_categories:
                raise _invalid(
                    responses,
                    given,
                    f"item {r.item_id!r}: score {score} outside 0..{n_categories - 1}",
                )
        if is_pretest:
            pretest_counts[sec] += 1
            continue
        if sec != current:
            if sec < current:
                raise _invalid(
                    responses,
                    given,
                    f"item {r.item_id!r} ({path.sections[sec].skill}) comes after a later "
                    "section started",
                )
            current = sec
            current_themes = [0] * (n_themes + 1)
            current_given = []
        current_given.append(position)
        counts[sec] += 1
        theme_counts[theme] += 1
        current_themes[theme] += 1
        if score is not None:
            if sec != span_section:  # sections come in order: their rows are contiguous
                if spans:
                    spans[-1] = (*spans[-1][:2], len(rows))
                spans.append((sec, len(rows), -1))
                span_section = sec
            rows.append(i * k1 + int(score))
    if spans:
        spans[-1] = (*spans[-1][:2], len(rows))
    if len(set(given)) != len(given):
        raise _invalid(responses, given, "")
    return _Parsed(
        current,
        counts,
        pretest_counts,
        rows,
        spans,
        given,
        current_given,
        theme_counts[:n_themes],
        current_themes[:n_themes],
    )


def next_step(state: TestState, pool: Pool, rules: Rules, rng: Draws) -> Step:
    """Estimate, stop or choose the next item. Pure: no I/O, randomness only from ``rng``.

    Parameters
    ----------
    state : TestState
        The responses so far and the context (time, non-reader, cut scores, correlation).
    pool : Pool
        The calibrated items (operational and pretest).
    rules : Rules
        Blueprint, selection, exposure, stopping, prior and pretest rules.
    rng : Draws
        Use :func:`step_rng` for replayable sessions (a ``numpy.random.Generator`` also works).

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
        raise _unsatisfiable(path)
    sections = path.sections
    n_sections = len(sections)
    cut_scores = state.cut_scores if state.cut_scores is not None else rules.cut_scores
    correlation = _correlation(state, rules)
    themes = rules.themes
    n_themes = len(themes.names)

    # 1. the responses
    parsed = _parse(state.responses, path, pool.skills, prep.k1, n_themes)
    counts, current = parsed.counts, parsed.current
    n_items = sum(counts)

    # 2. estimates: every section with scored items at once, later sections when reached
    grid = pool.grid
    posteriors = _Posteriors(prep, path, parsed, correlation)
    estimates = posteriors.estimates

    section_reasons: dict[str, str] = {
        s.skill: "not_assessed" for s in rules.sections if s.skill not in path.section_index
    }

    def finish(reason: str) -> Step:
        for s in sections:
            section_reasons.setdefault(s.skill, reason)
        reported = _reported(estimates, prep, sections, parsed, posteriors.priors)
        return Step(True, None, None, reported, reason, False, section_reasons, n_items)

    # earlier sections: say which rule ended them (replayed on their final data)
    st = rules.stopping
    rule = _section_rule(rules, state.non_reader, state.decision or DEFAULT_DECISION)
    section_max = _section_maxima(sections, counts, st.classification.carry_over)
    for k in range(current):
        s = sections[k]
        if counts[k] >= section_max[k]:
            section_reasons[s.skill] = "section_max"
        elif st.max_items is not None and sum(counts[: k + 1]) + path.later_min[k] >= st.max_items:
            section_reasons[s.skill] = "test_budget"
        elif rule.method == "decision" and s.skill in estimates and counts[k] >= s.min_items:
            se_target = _se_target(s, rules)
            se_reached = se_target is not None and estimates[s.skill].se <= se_target
            # the value of information is not replayed: a section ended early by it or by SE
            section_reasons[s.skill] = (
                "se_target" if se_reached and not rule.hold_se else "decision"
            )
        elif s.skill in estimates and counts[k] >= s.min_items:
            section_reasons[s.skill] = (
                soft_stop(
                    estimates[s.skill],
                    _se_target(s, rules),
                    rule,
                    grid=grid,
                    loglik=posteriors.loglik(k),
                    cuts=_cuts(cut_scores, s.skill, rules),
                )
                or "ended"
            )
        else:
            section_reasons[s.skill] = "no_items" if counts[k] < s.min_items else "ended"

    # 3. test-level stopping
    if st.time_limit_s is not None and state.elapsed_s >= st.time_limit_s:
        return finish("time_limit")
    if st.max_items is not None and n_items >= st.max_items:
        return finish("max_items")

    # theme balance over the operational items given so far
    deficit: list[int] = []
    need_total = 0
    if themes.min_items > 0:
        reachable = path.reachable[current]
        for t in range(n_themes):
            if t in reachable and parsed.theme_counts[t] < themes.min_items:
                deficit.append(t)
                need_total += themes.min_items - parsed.theme_counts[t]

    plan = pretest_plan(state.seed, rules, path)
    method = rules.selection.method
    # the items given and their enemies, over the pool (needed with enemies or a pretest slot)
    blocked = _blocked(pool, parsed.given) if prep.has_enemies and parsed.given else None
    for k in range(current, n_sections):
        s = sections[k]
        items = path.items[k]
        later_min = path.later_min[k]
        estimate = estimates.get(s.skill) or posteriors.prior_estimate(k)
        # every item of the section scored; those that may not be given get -inf
        posterior = posteriors.posterior(k) if method == "posterior_weighted" else None
        if method == "decision":
            theta_sel = _decision_point(
                estimate, cut_scores.get(s.skill, {}), state.decision or DEFAULT_DECISION,
                s.skill, state.non_reader,
            )  # fmt: skip
            scores = section_scores(items, "max_info", theta_sel)
        else:
            scores = section_scores(items, method, estimate.theta, posterior)
        n_open: int | None = items.size  # eligible items, while counting them is free
        if blocked is not None:
            exclude(scores, blocked[items.index])
            n_open = None
        elif k == current and parsed.current_given:
            exclude(scores, parsed.current_given)
            n_open = items.size - len(parsed.current_given)
        if k == current and path.theme_caps[k] < s.max_items:  # themes.max_share > 0
            for t in range(n_themes):
                if parsed.current_theme_counts[t] >= path.theme_caps[k]:
                    exclude(scores, items.by_theme[t])
                    n_open = None
        # rules 3-6 of placement.cat.stopping, then the soft rules 7-8
        reason: str | None
        if counts[k] >= section_max[k]:
            reason = "section_max"
        elif st.max_items is not None and n_items + later_min >= st.max_items:
            reason = "test_budget"  # what is left of the test belongs to the later minimums
        elif (
            st.time_limit_s is not None
            and s.item_seconds is not None
            and counts[k] >= s.min_items
            and state.elapsed_s + s.item_seconds + path.later_seconds[k] > st.time_limit_s
        ):
            reason = "time_budget"  # what is left of the time belongs to the later minimums
        elif not (n_open > 0 if n_open is not None else any_eligible(scores)):
            reason = "no_items"
        elif counts[k] < s.min_items or n_items + later_min < st.min_items:
            reason = None
            if rule.method == "decision" and counts[k] == min(1, s.min_items - 1):
                # P(the other skills pass) is drawn once per section; drawn now, in a step
                # that has no value-of-information check, it keeps those steps short
                model = state.decision or DEFAULT_DECISION
                pivot = _dispense_pivot(path, parsed, k, cut_scores, model)
                if (
                    pivot is not None
                    and pivot[1]
                    and (model.non_reader_dispense or not state.non_reader)
                ):
                    _p_others(prep, path, pivot[2], k, pivot[0], pivot[1], correlation)
        elif need_total > later_min and _deficit_eligible(scores, items, deficit):
            reason = None  # a theme still short that the later minimums cannot make up
        elif rule.method == "decision":
            remaining = section_max[k] - counts[k]
            if st.max_items is not None:
                remaining = min(remaining, st.max_items - n_items - later_min)
            decided = _decision_settled(
                prep, path, parsed, posteriors, k, scores, items, estimate.theta, remaining,
                cut_scores, correlation, state.decision or DEFAULT_DECISION, state.non_reader,
            )  # fmt: skip
            se_target = _se_target(s, rules)
            holding = rule.hold_se and not decided
            if se_target is not None and estimate.se <= se_target and not holding:
                reason = "se_target"
            else:
                reason = "decision" if decided else None
        else:
            reason = soft_stop(
                estimate,
                _se_target(s, rules),
                rule,
                grid=grid,
                loglik=posteriors.loglik(k),
                cuts=_cuts(cut_scores, s.skill, rules),
            )
        if reason is not None:
            section_reasons[s.skill] = reason
            continue
        section_reasons[s.skill] = "in_progress"
        for later in sections[k + 1 :]:
            section_reasons.setdefault(later.skill, "not_started")
        reported = _reported(estimates, prep, sections, parsed, posteriors.priors)

        # 4a. a pretest item here?
        if plan:
            due = [pos for sec, pos in plan if sec == k]
            if parsed.pretest_counts[k] < len(due) and due[parsed.pretest_counts[k]] <= counts[k]:
                pre = path.pretest[k]
                if parsed.given:
                    if blocked is None:
                        blocked = _blocked(pool, parsed.given)
                    pre = pre[~blocked[pre]]
                if pre.size:
                    choice = int(pre[int(rng.integers(pre.size))])
                    return Step(
                        False, pool.ids[choice], s.skill, reported, "pretest", True,
                        section_reasons, n_items,
                    )  # fmt: skip

        # 4b. the operational item; deficit themes first when the remaining minimum needs them
        remaining_min = max(s.min_items - counts[k], 0) + later_min
        if (
            need_total > 0
            and need_total >= remaining_min
            and _deficit_eligible(scores, items, deficit)
        ):
            for t in (*range(n_themes), -1):
                if t not in deficit:
                    exclude(scores, items.by_theme[t])
        if method == "a_stratified":
            restrict_to_stratum(items, scores, counts[k], s.max_items, rules.selection.strata)
        choice = choose(items, scores, rules.exposure.randomesque_k, rng)
        return Step(
            False, pool.ids[choice], s.skill, reported, "select", False, section_reasons, n_items
        )
    return finish("complete")


def _section_maxima(
    sections: tuple[Section, ...], counts: list[int], carry_over: bool
) -> list[int]:
    """Each section's maximum; with ``carry_over`` raised by what earlier sections left unused."""
    maxima = [s.max_items for s in sections]
    if not carry_over:
        return maxima
    # when section k is asked about, every section before it is over
    unused = 0
    out = [maxima[0]]
    for k in range(1, len(sections)):
        unused += max(maxima[k - 1] - counts[k - 1], 0)
        out.append(maxima[k] + unused)
    return out


#: Draws of the joint posterior while testing (the final decision uses N_DRAWS).
_STEP_DRAWS = 512
#: Width (θ units) of the window around a cut within which the others' passing is read.
_PIVOT_WIDTH = 0.35


def _section_rule(rules: Rules, non_reader: bool, model: DecisionModel) -> Classification:
    """The rule a section stops by: the rules' own, except that the value of information has
    nothing to weigh on a path whose decision no answer can change (a non-reader under a
    policy that gives them no dispense): there the skills' levels, still reported to the
    auditeur, are measured to their cuts (``ci``) within the section's bounds."""
    rule = rules.stopping.classification
    if rule.method == "decision" and non_reader and not model.non_reader_dispense:
        return replace(rule, method="ci")
    return rule


def _decision_settled(  # noqa: PLR0917 - the step's context, passed once
    prep: _Prepared,
    path: _Path,
    parsed: _Parsed,
    posteriors: _Posteriors,
    k: int,
    scores: FloatArray,
    items: SectionItems,
    theta: float,
    remaining: int,
    cut_scores: Mapping[str, Mapping[str, float]],
    correlation: tuple[tuple[float, ...], ...] | None,
    model: DecisionModel,
    non_reader: bool,
) -> bool:
    """Whether the rest of section ``k`` can no longer change the decision materially.

    With :math:`A` the event that the section's skill reaches the dispense level and :math:`B`
    that every other counted skill does, the dispense decision turns on :math:`A` only where
    :math:`B` holds. The section's remaining items (up to ``remaining``, their information at
    θ̂ summed as one Gaussian observation of precision :math:`I`) lower the probability of
    misjudging :math:`A` from :math:`e_0 = \\min(p, 1 - p)` to the preposterior
    :math:`e_1 = E_y \\min(p_y, 1 - p_y)`; the value of those items for the decision is
    :math:`P(B \\mid \\theta_k \\approx c)\\,(e_0 - e_1)`, read on the joint posterior (the
    later sections at their prior given the data so far). The hours follow the global
    estimate, of which the skill is a share :math:`w_k` (the policy's weights): the items'
    value for them is read the same way at the skill's cuts of the bands (A1.1, débutant),
    times :math:`w_k`. The section is settled when the sum of both values is below
    ``classification.voi_min``.
    """
    skill = path.sections[k].skill
    cuts = cut_scores.get(skill, {})
    if remaining <= 0 or (non_reader and not model.non_reader_dispense):
        return True
    grid = prep.pool.grid
    posterior = posteriors.posterior(k)
    info = information_at(items, theta)
    info = info[scores > -np.inf]
    if info.size == 0:
        return True
    take = min(remaining, info.size)
    information = float(np.partition(info, info.size - take)[info.size - take :].sum())
    sd = 1.0 / math.sqrt(max(information, 1e-9))
    kernel = np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / sd) ** 2)  # (Y, G)
    # the hours: this skill's share of the global estimate, times what the items would gain
    # at the cuts of the bands
    weights = model.weights
    share = weights.get(skill, 0.0) / max(
        sum(weights.get(s.skill, 0.0) for s in path.sections), 1e-12
    )
    hours_value = share * sum(
        _classification_gain(posterior, grid, kernel, c) for c in _hours_cuts(cuts, model)
    )
    voi_min = rules_voi(prep)
    pivot = _dispense_pivot(path, parsed, k, cut_scores, model)
    if pivot is None:  # the dispense does not turn on this skill: only the hours are left
        return hours_value < voi_min
    cut, other_cuts, rows = pivot
    gain = _classification_gain(posterior, grid, kernel, cut)
    if gain + hours_value < voi_min:
        return True
    if not other_cuts:
        return False
    p_others = _p_others(prep, path, rows, k, cut, other_cuts, correlation)
    return p_others * gain + hours_value < voi_min


def _dispense_pivot(
    path: _Path,
    parsed: _Parsed,
    k: int,
    cut_scores: Mapping[str, Mapping[str, float]],
    model: DecisionModel,
) -> tuple[float, tuple[tuple[int, float], ...], tuple[int, ...]] | None:
    """Where the dispense turns on section ``k``'s skill: its cut, the other counted sections'
    ``(section, cut)`` and the rows of the sections before ``k`` (what :func:`_p_others`
    reads); None when the dispense does not turn on it (not counted, or a cut missing)."""
    level = model.dispense_level
    cuts = cut_scores.get(path.sections[k].skill, {})
    if path.sections[k].skill not in model.dispense_skills or level not in cuts:
        return None
    other_cuts = []
    for j, section in enumerate(path.sections):
        if j == k or section.skill not in model.dispense_skills:
            continue
        other_cut = cut_scores.get(section.skill, {}).get(level)
        if other_cut is None:  # no dispense possible
            return None
        other_cuts.append((j, float(other_cut)))
    start = next((first for sec, first, _ in parsed.spans if sec == k), len(parsed.rows))
    return float(cuts[level]), tuple(other_cuts), tuple(parsed.rows[:start])


def _classification_gain(
    posterior: FloatArray, grid: FloatArray, kernel: FloatArray, cut: float
) -> float:
    """How much an observation of θ with noise ``kernel`` (Y, G) would lower the probability of
    putting θ on the wrong side of ``cut``: :math:`\\min(p, 1 - p) - E_y \\min(p_y, 1 - p_y)`."""
    h = float(grid[1] - grid[0])
    above = np.clip((grid + h / 2 - cut) / h, 0.0, 1.0)  # share of each cell above the cut
    p_above = kernel @ (posterior * above)
    p_below = kernel @ (posterior * (1.0 - above))
    total = float(p_above.sum() + p_below.sum())
    p_now = float(posterior @ above)
    e_now = min(p_now, 1.0 - p_now)
    e_after = float(np.minimum(p_above, p_below).sum()) / total if total > 0 else e_now
    return e_now - e_after


def _hours_cuts(cuts: Mapping[str, float], model: DecisionModel) -> list[float]:
    """The skill's cuts at which a band of hours begins (its part of the global estimate's)."""
    points = [
        float(cuts[b.min_level])
        for b in model.bands
        if b.min_level is not None and b.min_level in cuts
    ]
    if "débutant" in cuts:
        points.append(float(cuts["débutant"]))
    elif model.debutant_below in cuts:
        points.append(float(cuts[model.debutant_below]) - model.debutant_offset)
    return points


#: How many values of _p_others a prepared pool remembers.
_P_OTHERS_SIZE = 4096


def _p_others(  # noqa: PLR0917 - the settled check's context
    prep: _Prepared,
    path: _Path,
    rows: tuple[int, ...],
    k: int,
    cut: float,
    other_cuts: tuple[tuple[int, float], ...],
    correlation: tuple[tuple[float, ...], ...] | None,
) -> float:
    """:math:`P(B \\mid \\theta_k \\approx c)`: every other counted skill reaches the level,
    for a section-``k`` ability near its cut ``c``, on the joint posterior of the data of the
    sections before ``k`` (``rows``; the later ones at their prior).

    Section ``k``'s own data is left out: within the window around the cut it says little
    more than that θ_k is there. What is left does not change while section ``k`` runs, so the
    value is remembered (keyed by those rows), which keeps the joint draws out of most steps.
    """
    remembered = prep.p_others
    key = (path.non_reader, rows, k, cut, other_cuts, correlation)
    hit = remembered.get(key)
    if hit is not None:
        return hit
    pool, rules = prep.pool, prep.rules
    grid = pool.grid
    logliks = np.zeros((len(path.sections), grid.size))
    if rows:
        taken = pool.log_prob_rows.take(list(rows), axis=0)
        section = [path.lookup[pool.ids[r // prep.k1]][1] for r in rows]
        for sec in set(section):
            logliks[sec] = np.add.reduce(taken[[i for i, x in enumerate(section) if x == sec]])
    skills = tuple(s.skill for s in path.sections)
    draws = joint_draws(
        logliks, grid, skills, correlation, rules.skill_order,
        mean=rules.prior.mean, sd=rules.prior.sd, n_draws=_STEP_DRAWS,
    )  # fmt: skip
    passing = np.ones(draws.thetas.shape[0], dtype=bool)
    for j, other_cut in other_cuts:
        passing &= draws.thetas[:, j] >= other_cut
    near = draws.weights * np.exp(-0.5 * ((draws.thetas[:, k] - cut) / _PIVOT_WIDTH) ** 2)
    mass = float(near.sum())
    value = float(near @ passing) / mass if mass > 0 else float(draws.weights @ passing)
    if len(remembered) >= _P_OTHERS_SIZE:
        remembered.clear()  # (not popping the oldest: another thread may be inserting)
    remembered[key] = value
    return value


def _decision_point(
    estimate: Estimate,
    cuts: Mapping[str, float],
    model: DecisionModel,
    skill: str,
    non_reader: bool,
) -> float:
    """Where to read the items' information for the decision (``selection.method: decision``).

    The cuts the decision turns on for this skill: the dispense level's (when the skill counts
    for the dispense), the levels that open a band of hours, and the débutant cut. The one
    nearest θ̂ is used while it lies within two SEs of θ̂; otherwise θ̂ itself.
    """
    if non_reader and not model.non_reader_dispense:
        return estimate.theta
    points = []
    if skill in model.dispense_skills and model.dispense_level in cuts:
        points.append(float(cuts[model.dispense_level]))
    points.extend(_hours_cuts(cuts, model))
    if not points:
        return estimate.theta
    nearest = min(points, key=lambda c: abs(c - estimate.theta))
    return nearest if abs(nearest - estimate.theta) <= 2.0 * estimate.se else estimate.theta


def rules_voi(prep: _Prepared) -> float:
    """The value of information below which a section is settled."""
    return prep.rules.stopping.classification.voi_min


def decision_posterior(
    state: TestState, pool: Pool, rules: Rules, *, n_draws: int = N_DRAWS
) -> JointPosterior:
    """The joint posterior of the assessed skills and the probabilities of the decision.

    The skills with scored operational responses are assessed (a non-reader's CE and EE are
    not); their likelihoods on the grid, the correlated normal prior of the rules (the state's
    correlation wins) and the state's decision model (:data:`DEFAULT_DECISION` without one)
    give :class:`~placement.cat.joint.JointPosterior`. Called once a test is over (by the
    server's result and by simulations), so its cost is outside the step's.

    Raises :class:`InvalidState` as :func:`next_step` does.
    """
    prep = _prepare(pool, rules)
    path = prep.non_reader if state.non_reader else prep.reader
    correlation = _correlation(state, rules)
    parsed = _parse(state.responses, path, pool.skills, prep.k1, len(rules.themes.names))
    taken = pool.log_prob_rows.take(parsed.rows, axis=0) if parsed.rows else None
    skills = tuple(path.sections[sec].skill for sec, _, _ in parsed.spans)
    logliks = np.zeros((len(skills), pool.grid.size))
    for row, (_, start, end) in enumerate(parsed.spans):
        assert taken is not None
        logliks[row] = np.add.reduce(taken[start:end], axis=0)
    cut_scores = state.cut_scores if state.cut_scores is not None else rules.cut_scores
    draws = joint_draws(
        logliks, pool.grid, skills, correlation if rules.prior.borrow else None,
        rules.skill_order, mean=rules.prior.mean, sd=rules.prior.sd, n_draws=n_draws,
    )  # fmt: skip
    return summarise_draws(
        draws, cut_scores, state.decision or DEFAULT_DECISION, non_reader=state.non_reader
    )


def _blocked(pool: Pool, given: list[int]) -> BoolArray:
    """Items that may not be given: those given already and their enemies: (n,)."""
    blocked = np.zeros(len(pool), dtype=bool)
    blocked[given] = True
    enemies = set().union(*(pool.enemies[i] for i in given))
    if enemies:
        blocked[list(enemies)] = True
    return blocked


def _deficit_eligible(scores: FloatArray, items: SectionItems, deficit: list[int]) -> bool:
    """Whether an eligible item of the section belongs to a theme still short of its minimum."""
    return any(any_eligible(scores, items.by_theme[t]) for t in deficit)


class _Posteriors:
    """The posterior of each section on the grid, its EAP and SD, computed once per step.

    Sections up to the later of the current one and the last with scored items are computed
    together: log-likelihoods by one gather of the log-probability rows and a sum over each
    section's block, then one exponential and one product with (1, θ, θ²) for the mass and the
    two moments. With borrowing, each section's data is first summarised under the
    marginal prior, then every section gets its conditional prior (:mod:`placement.cat.prior`)
    and the posterior is recomputed unless nothing was borrowed. Sections reached later in the
    step (no data yet) get their prior, lazily.
    """

    __slots__ = (
        "_borrow",
        "_correlation",
        "_grid",
        "_logliks",
        "_mass",
        "_path",
        "_prep",
        "_summaries",
        "_weights",
        "estimates",
        "priors",
    )

    def __init__(
        self,
        prep: _Prepared,
        path: _Path,
        parsed: _Parsed,
        correlation: tuple[tuple[float, ...], ...] | None,
    ) -> None:
        pool, rules = prep.pool, prep.rules
        sections = path.sections
        spans = parsed.spans
        grid = pool.grid
        n_active = max(spans[-1][0] if spans else -1, parsed.current) + 1
        if spans:
            taken = pool.log_prob_rows.take(parsed.rows, axis=0)  # (m, G)
            # ufuncs' reduce rather than ndarray.sum: the method adds a Python call per step
            if n_active == 1:
                logliks: FloatArray = np.add.reduce(taken, axis=0, keepdims=True)
            else:  # the same sum over each section's block of rows
                logliks = np.zeros((n_active, grid.size))
                for sec, start, end in spans:
                    logliks[sec] = np.add.reduce(taken[start:end], axis=0)
        else:
            logliks = np.zeros((n_active, grid.size))
        weights, mass, means, variances = _moments(logliks + prep.log_prior, prep.basis)
        prior0 = (rules.prior.mean, rules.prior.sd)
        self._prep, self._path, self._grid = prep, path, grid
        self._borrow = rules.prior.borrow and correlation is not None
        self._correlation = correlation
        self._summaries: dict[str, tuple[float, float]] = {}
        self._logliks = logliks
        self.priors = [prior0] * n_active
        if self._borrow and spans:
            # each section's data summarised under the marginal prior (placement.cat.prior)
            self._summaries = {
                sections[sec].skill: (means[sec], variances[sec]) for sec, _, _ in spans
            }
            self.priors = [self._prior_of(k) for k in range(n_active)]
            if any(p != prior0 for p in self.priors):
                mus = np.array([p[0] for p in self.priors])[:, None]
                sds = np.array([p[1] for p in self.priors])[:, None]
                log_priors = normal_log_prior(grid[None, :], mus, sds)  # one row per section
                weights, mass, means, variances = _moments(logliks + log_priors, prep.basis)
        self._weights, self._mass = weights, mass
        self.estimates = {
            sections[sec].skill: Estimate(means[sec], math.sqrt(variances[sec]))
            for sec, _, _ in spans
        }

    def _prior_of(self, k: int) -> tuple[float, float]:
        prior = self._prep.rules.prior
        if not self._borrow:
            return prior.mean, prior.sd
        section_of = self._path.section_index
        earlier = tuple((sk, v) for sk, v in self._summaries.items() if section_of[sk] < k)
        return _conditional_prior(
            self._path.sections[k].skill,
            earlier,
            self._correlation,
            self._prep.rules.skill_order,
            mean=prior.mean,
            sd=prior.sd,
        )

    def loglik(self, k: int) -> FloatArray:
        """The log-likelihood of section ``k`` on the grid (zeros without data): (G,)."""
        if k < self._logliks.shape[0]:
            out: FloatArray = self._logliks[k]
            return out
        return np.zeros(self._grid.size)

    def posterior(self, k: int) -> FloatArray:
        """The normalised posterior of section ``k`` on the grid (its prior without data): (G,)."""
        if k < self._weights.shape[0]:
            out: FloatArray = self._weights[k] / self._mass[k]
            return out
        while len(self.priors) <= k:  # a section reached in this very step
            self.priors.append(self._prior_of(len(self.priors)))
        mu, sd = self.priors[k]
        w = np.exp(normal_log_prior(self._grid, mu, sd))
        prior: FloatArray = w / w.sum()
        return prior

    def prior_estimate(self, k: int) -> Estimate:
        """θ̂ and SE of a section without scored items: the moments of its posterior (prior)."""
        posterior = self.posterior(k)
        theta = float(posterior @ self._grid)
        return Estimate(theta, math.sqrt(max(float(posterior @ (self._grid - theta) ** 2), 0.0)))


#: Below this posterior mass the unshifted exponential has lost precision (see _moments).
_TINY_MASS = 1e-250


def _moments(
    log_post: FloatArray, basis: FloatArray
) -> tuple[FloatArray, list[float], list[float], list[float]]:
    """Unnormalised posterior weights (S, G) and, per section, their mass, mean and variance.

    ``log_post`` is a sum of log-probabilities and an unnormalised log prior ``-z²/2``, so it
    is at most 0 and its exponential cannot overflow: the usual shift by the maximum is needed
    only when the whole row is so far below 0 that it underflows (a pattern improbable at
    every θ of the grid), which the mass reveals; such rows are recomputed shifted.
    """
    weights = np.exp(log_post)
    moments = (weights @ basis).tolist()  # per section: mass, first and second moments
    if min(row[0] for row in moments) < _TINY_MASS:
        weights = np.exp(log_post - np.maximum.reduce(log_post, axis=1, keepdims=True))
        moments = (weights @ basis).tolist()
    mass, means, variances = [], [], []
    for total, first, second in moments:  # a few sections: plain floats
        mean = first / total
        mass.append(total)
        means.append(mean)
        variances.append(max(second / total - mean * mean, 0.0))
    return weights, mass, means, variances


def _reported(
    eaps: dict[str, Estimate],
    prep: _Prepared,
    sections: tuple[Section, ...],
    parsed: _Parsed,
    priors: list[tuple[float, float]],
) -> dict[str, Estimate]:
    """The estimates the step reports: the EAPs, or ``rules.estimator`` on the same data."""
    rules, pool = prep.rules, prep.pool
    if rules.estimator == "eap":
        return eaps
    out = {}
    spans, rows = parsed.spans, np.asarray(parsed.rows, dtype=np.int64)
    for sec, start, end in spans:
        skill = sections[sec].skill
        idx, sc = rows[start:end] // prep.k1, rows[start:end] % prep.k1
        if rules.estimator == "map":
            mean, sd = priors[sec]
            out[skill] = map_estimate(pool, idx, sc, prior_mean=mean, prior_sd=sd)
        elif rules.estimator == "wle":
            out[skill] = wle(pool, idx, sc)
        else:
            out[skill] = ml_bounded(pool, idx, sc)
    return out


@functools.lru_cache(maxsize=4096)
def _conditional_prior(
    skill: str,
    earlier: tuple[tuple[str, tuple[float, float]], ...],
    correlation: tuple[tuple[float, ...], ...] | None,
    order: tuple[str, ...],
    *,
    mean: float,
    sd: float,
) -> tuple[float, float]:
    """:func:`conditional_prior`, remembered: the summaries of the sections that are over do not
    change, so every step of a section asks for the same prior (a few µs of Python saved)."""
    return conditional_prior(skill, dict(earlier), correlation, order, mean=mean, sd=sd)


def _correlation(state: TestState, rules: Rules) -> tuple[tuple[float, ...], ...] | None:
    """The skills' correlation: the state's (checked, :class:`InvalidState` if wrong), else the
    rules'."""
    if state.skill_correlation is None:
        return rules.skill_correlation
    try:
        _checked_correlation(state.skill_correlation, rules.skill_order)
    except ValueError as exc:
        raise InvalidState(str(exc)) from None
    return state.skill_correlation


@functools.lru_cache(maxsize=32)
def _checked_correlation(matrix: tuple[tuple[float, ...], ...], order: tuple[str, ...]) -> bool:
    check_correlation(matrix, order)
    return True


def _cuts(cut_scores: Mapping[str, Mapping[str, float]], skill: str, rules: Rules) -> list[float]:
    cuts = cut_scores.get(skill, {})
    return [float(cuts[level]) for level in rules.stopping.classification.levels if level in cuts]


def _se_target(section: Section, rules: Rules) -> float | None:
    return section.se_target if section.se_target is not None else rules.stopping.se_target
