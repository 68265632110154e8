"""The stateless step: replay, blueprint, enemies, non-reader path, pending scores, pretest."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from placement.cat import (
    Pretest,
    Response,
    Rules,
    Section,
    Stopping,
    TestState,
    next_step,
    pretest_plan,
    step_rng,
)
from placement.errors import BlueprintUnsatisfiable, InvalidState
from placement.irt import Pool, eap

from .conftest import THEMES, administer, make_pool


def test_replay_from_the_seed_gives_the_same_test(pool, rules) -> None:
    first, state = administer(pool, rules, seed=42, theta=0.3)
    again, replayed = administer(pool, rules, seed=42, theta=0.3)
    assert [s.item_id for s in first] == [s.item_id for s in again]
    assert state == replayed
    # and each intermediate step is a pure function of the stored responses
    for n in range(len(state.responses)):
        partial = TestState(responses=state.responses[:n], seed=42, elapsed_s=40.0 * n)
        assert (
            next_step(partial, pool, rules, step_rng(42, n)).item_id == state.responses[n].item_id
        )
    other, _ = administer(pool, rules, seed=43, theta=0.3)
    assert [s.item_id for s in first] != [s.item_id for s in other]


def test_a_whole_test_follows_the_blueprint(pool, rules) -> None:
    for seed, theta in [(1, -2.0), (2, 0.0), (3, 2.0)]:
        steps, state = administer(pool, rules, seed=seed, theta=theta)
        ids = [r.item_id for r in state.responses]
        assert len(ids) == len(set(ids)), "an item was given twice"
        skills = [pool.skills[pool.index(i)] for i in ids]
        # sections in order, each within its bounds
        order = [s for s, _ in __import__("itertools").groupby(skills)]
        assert order == ["CO", "CE", "EO", "EE"]
        counts = Counter(skills)
        for section in rules.sections:
            assert section.min_items <= counts[section.skill] <= section.max_items
        assert len(ids) <= rules.stopping.max_items
        themes = Counter(pool.themes[pool.index(i)] for i in ids)
        assert all(themes[t] >= rules.themes.min_items for t in THEMES)
        final = steps[-1]
        assert final.done
        assert final.reason in ("complete", "max_items")
        assert set(final.estimates) == {"CO", "CE", "EO", "EE"}
        assert all(r != "in_progress" for r in final.section_reasons.values())


def test_enemies_never_meet() -> None:
    base = make_pool({"CE": 30}, seed=4, polytomous=False)
    # every item's best rival becomes its enemy: the step must skip them
    ids = list(base.ids)
    enemies = [[ids[(i + 1) % 30]] for i in range(30)]
    pool = Pool.create(ids, a=base.a, b=base.b, skills="CE", themes=base.themes, enemies=enemies)
    rules = Rules(sections=(Section("CE", 10, 10),))
    _, state = administer(pool, rules, seed=5, theta=0.0)
    given = {pool.index(r.item_id) for r in state.responses}
    assert len(given) == 10
    for i in given:
        assert not (pool.enemies[i] & given)


def test_non_reader_path_uses_only_non_reader_items_of_co_and_eo(pool, rules) -> None:
    steps, state = administer(pool, rules, seed=8, theta=0.0, non_reader=True)
    for r in state.responses:
        i = pool.index(r.item_id)
        assert pool.skills[i] in ("CO", "EO")
        assert pool.non_reader[i]
    final = steps[-1]
    assert set(final.estimates) == {"CO", "EO"}
    assert final.section_reasons["CE"] == "not_assessed"
    assert final.section_reasons["EE"] == "not_assessed"


def test_non_readers_take_their_own_section_lengths() -> None:
    pool = make_pool({"CO": 40, "CE": 20, "EO": 20}, seed=6, non_reader_share=1.0)
    rules = Rules(
        sections=(Section("CO", 2, 3), Section("CE", 2, 3), Section("EO", 1, 2)),
        non_reader_sections=(Section("EO", 4, 4), Section("CO", 10, 10)),
    )
    for seed, theta in [(1, -1.5), (2, 1.0)]:
        _, state = administer(pool, rules, seed=seed, theta=theta, non_reader=True)
        skills = [pool.skills[pool.index(r.item_id)] for r in state.responses]
        assert skills == ["CO"] * 10 + ["EO"] * 4
        _, state = administer(pool, rules, seed=seed, theta=theta)
        counts = Counter(pool.skills[pool.index(r.item_id)] for r in state.responses)
        assert counts["CO"] <= 3  # the readers' sections are untouched
        assert counts["EO"] <= 2


def test_a_non_reader_bank_too_small_for_the_own_lengths_is_refused() -> None:
    pool = make_pool({"CO": 40, "EO": 20}, seed=6, non_reader_share=0.2)
    rules = Rules(
        sections=(Section("CO", 2, 3), Section("EO", 1, 2)),
        non_reader_sections=(Section("CO", 30, 30),),
    )
    next_step(TestState(), pool, rules, step_rng(0, 0))  # the readers' path is fine
    with pytest.raises(BlueprintUnsatisfiable, match="section CO : au moins 30 items demandés"):
        next_step(TestState(non_reader=True), pool, rules, step_rng(0, 0))


def test_pending_scores_count_as_given_but_not_in_the_estimate(pool, rules) -> None:
    steps, state = administer(pool, rules, seed=9, theta=0.5, pending_skills=("EO",))
    eo = [r for r in state.responses if r.item_id.startswith("EO")]
    assert eo
    assert all(r.score is None for r in eo)
    assert "EO" not in steps[-1].estimates
    # once the scores arrive, EO is estimated and the rest is unchanged
    scored = TestState(
        responses=tuple(
            Response(r.item_id, 1 if r.score is None else r.score) for r in state.responses
        ),
        elapsed_s=state.elapsed_s,
        seed=9,
    )
    final = next_step(scored, pool, rules, step_rng(9, len(scored.responses)))
    assert final.done
    assert "EO" in final.estimates
    assert final.estimates["CO"] == steps[-1].estimates["CO"]


def test_pretest_items_are_seeded_but_never_estimated() -> None:
    pool = make_pool({"CO": 40, "CE": 40, "EO": 12, "EE": 12}, seed=6, pretest=5)
    rules = Rules(
        sections=(
            Section("CO", 6, 8),
            Section("CE", 6, 8),
            Section("EO", 2, 3),
            Section("EE", 2, 3),
        ),
        pretest=Pretest(share=1.0, items=3),
        cut_scores={"CO": {"A1": -0.5}},
    )
    steps, state = administer(pool, rules, seed=12, theta=0.0)
    pre = [s for s in steps if s.pretest]
    assert len(pre) == 3
    assert all(pool.pretest[pool.index(s.item_id)] for s in pre)
    plan = pretest_plan(
        12,
        rules,
        __import__("placement.cat.step", fromlist=["_prepare"])._prepare(pool, rules).reader,
    )
    assert len(plan) == 3
    # the estimate ignores the pretest responses entirely
    final = steps[-1]
    without = TestState(
        responses=tuple(r for r in state.responses if not pool.pretest[pool.index(r.item_id)]),
        elapsed_s=state.elapsed_s,
        seed=None,
    )
    same = next_step(without, pool, rules, step_rng(12, 0))
    assert same.done
    assert same.estimates == final.estimates
    assert final.n_items == len(without.responses)


def test_no_pretest_without_a_seed_or_a_share(pool) -> None:
    rules = Rules(sections=(Section("CO", 4, 6),), pretest=Pretest(share=0.0, items=3))
    steps, _ = administer(make_pool({"CO": 30}, pretest=3), rules, seed=1, theta=0.0)
    assert not any(s.pretest for s in steps)


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ((Response("nope", 1),), "not in the pool"),
        ((Response("CO-000", 1), Response("CO-000", 0)), "twice"),
        ((Response("CO-001", 2),), "outside 0..1"),
        ((Response("CO-001", -1),), "outside"),
        ((Response("CO-001", True),), "not an integer"),  # type: ignore[arg-type]
        ((Response("CE-001", 1), Response("CO-001", 1)), "after a later section"),
    ],
)
def test_bad_states_are_refused(pool, rules, responses, message) -> None:
    with pytest.raises(InvalidState, match=message):
        next_step(TestState(responses=responses), pool, rules, step_rng(0, len(responses)))


def test_bad_state_values_are_refused(pool, rules) -> None:
    with pytest.raises(InvalidState, match="elapsed_s"):
        TestState(elapsed_s=-1.0)
    with pytest.raises(InvalidState, match="finite"):
        TestState(elapsed_s=float("nan"))
    with pytest.raises(InvalidState, match="seed"):
        step_rng(-1, 0)
    with pytest.raises(InvalidState, match="cut_scores de CO : les seuils doivent croître"):
        TestState(cut_scores={"CO": {"A1": 0.5, "A2": 0.0}})
    non_reader_ce = TestState(responses=(Response("CE-001", 1),), non_reader=True)
    with pytest.raises(InvalidState, match="non-reader"):
        next_step(non_reader_ce, pool, rules, step_rng(0, 1))
    not_a_correlation = (
        (1.0, 0.9, 0.9, 0.9),
        (0.9, 1.0, -0.9, 0.9),
        (0.9, -0.9, 1.0, 0.9),
        (0.9, 0.9, 0.9, 1.0),
    )
    with pytest.raises(InvalidState, match=r"définie positive|symétrique"):
        next_step(TestState(skill_correlation=not_a_correlation), pool, rules, step_rng(0, 0))


def test_a_blueprint_the_pool_cannot_meet_is_refused(rules) -> None:
    small = make_pool({"CO": 5, "CE": 60, "EO": 20, "EE": 20})
    with pytest.raises(BlueprintUnsatisfiable, match="section CO : au moins 8 items demandés"):
        next_step(TestState(), small, rules, step_rng(0, 0))
    no_readers = make_pool(non_reader_share=0.0)
    next_step(TestState(), no_readers, rules, step_rng(0, 0))  # readers are fine
    with pytest.raises(BlueprintUnsatisfiable, match="pour les non-lecteurs"):
        next_step(TestState(non_reader=True), no_readers, rules, step_rng(0, 0))


def test_selection_methods_choose_sensible_items(pool) -> None:
    for method in ("max_info", "posterior_weighted", "a_stratified"):
        rules = Rules(
            sections=(Section("CE", 8, 8),),
            selection=__import__("placement.cat", fromlist=["Selection"]).Selection(method=method),
        )
        _, state = administer(pool, rules, seed=3, theta=1.0)
        assert len(state.responses) == 8
    # a-stratified starts with low-a items and ends with high-a ones
    rules = Rules(
        sections=(Section("CE", 8, 8),),
        selection=__import__("placement.cat", fromlist=["Selection"]).Selection(
            method="a_stratified", strata=4
        ),
    )
    _, state = administer(pool, rules, seed=3, theta=0.0)
    a = [pool.a[pool.index(r.item_id)] for r in state.responses]
    assert np.mean(a[:2]) < np.mean(a[-2:])
    # max info picks the most informative item first (no randomesque, no prior shift)
    first = next_step(TestState(), pool, Rules(sections=(Section("CE", 1, 5),)), step_rng(0, 0))
    ce = [i for i, s in enumerate(pool.skills) if s == "CE"]
    best = max(ce, key=lambda i: pool.information_table[i, 30])
    assert first.item_id == pool.ids[best]


def test_a_pattern_improbable_everywhere_still_gets_a_finite_estimate() -> None:
    # 35 easy items failed and 35 hard ones passed, with steep slopes: the likelihood is below
    # e^-800 at every grid point, where an unshifted exponential underflows to 0
    n = 35
    pool = Pool.create(
        [f"e{k}" for k in range(n)] + [f"h{k}" for k in range(n)],
        a=4.0,
        b=[-3.0] * n + [3.0] * n,
    )
    rules = Rules(sections=(Section("CE", 1, 80),), stopping=Stopping(se_target=None))
    responses = tuple(Response(f"e{k}", 0) for k in range(n)) + tuple(
        Response(f"h{k}", 1) for k in range(n)
    )
    step = next_step(TestState(responses=responses), pool, rules, step_rng(0, 2 * n))
    direct = eap(pool, list(range(2 * n)), [0] * n + [1] * n)
    assert math.isfinite(step.estimates["CE"].theta)
    assert step.estimates["CE"].theta == pytest.approx(direct.theta, abs=1e-9)
    assert step.estimates["CE"].se == pytest.approx(direct.se, abs=1e-9)
