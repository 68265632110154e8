"""Each stopping rule, and the precedence documented in placement.cat.stopping."""

from __future__ import annotations

import math

import numpy as np
import pytest

from placement.cat import (
    Classification,
    Rules,
    Section,
    Stopping,
    TestState,
    Themes,
    next_step,
    step_rng,
)
from placement.irt import Pool, eap, probabilities

from .conftest import administer, make_pool

CUT = {"CE": {"A1.1": -1.5, "A1": -0.5, "A2": 0.6, "B1": 1.6}}
OFF = Classification(method="none")


@pytest.fixture(scope="module")
def ce_pool() -> Pool:
    return make_pool({"CE": 80}, seed=21, polytomous=False)


def one_section(section_min: int = 0, section_max: int = 20, **stopping: object) -> Rules:
    options: dict[str, object] = {"se_target": None, "classification": OFF} | stopping
    return Rules(
        sections=(Section("CE", section_min, section_max),),
        stopping=Stopping(**options),  # type: ignore[arg-type]
        cut_scores=CUT,
        themes=Themes(min_items=0),
    )


def test_time_limit_ends_the_test_even_below_the_minimum(ce_pool) -> None:
    rules = one_section(5, 10, time_limit_s=100.0)
    steps, state = administer(ce_pool, rules, seed=1, theta=0.0, seconds_per_item=30.0)
    assert steps[-1].reason == "time_limit"
    assert len(state.responses) == 4  # 4 × 30 s reaches 100 s
    assert steps[-1].section_reasons["CE"] == "time_limit"


def test_test_maximum_beats_the_section_minimum(ce_pool) -> None:
    rules = one_section(8, 10, max_items=3)
    steps, state = administer(ce_pool, rules, seed=1, theta=0.0)
    assert steps[-1].reason == "max_items"
    assert len(state.responses) == 3


def test_section_maximum(ce_pool) -> None:
    steps, state = administer(ce_pool, one_section(2, 7), seed=2, theta=0.4)
    assert len(state.responses) == 7
    assert steps[-1].section_reasons["CE"] == "section_max"


def test_no_items_left() -> None:
    small = make_pool({"CE": 6}, seed=3, polytomous=False)
    steps, state = administer(small, one_section(2, 10), seed=3, theta=0.0)
    assert len(state.responses) == 6
    assert steps[-1].section_reasons["CE"] == "no_items"


def test_minimum_items_come_before_the_se_rule(ce_pool) -> None:
    # an SE target the prior already meets would stop at once, but not below the minimum
    steps, state = administer(ce_pool, one_section(4, 10, se_target=5.0), seed=4, theta=0.0)
    assert len(state.responses) == 4
    assert steps[-1].section_reasons["CE"] == "se_target"


def test_se_target_stops_at_the_first_step_below_it(ce_pool) -> None:
    steps, state = administer(ce_pool, one_section(1, 40, se_target=0.35), seed=5, theta=0.2)
    final = steps[-1]
    assert final.section_reasons["CE"] == "se_target"
    assert final.estimates["CE"].se <= 0.35
    assert all(s.estimates["CE"].se > 0.35 for s in steps[1:-1])
    assert len(state.responses) < 40


def test_confidence_interval_rule_around_the_a1_cut(ce_pool) -> None:
    ci = Classification(method="ci", levels=("A1",), z=1.96)
    for theta in (-2.0, 1.5):
        steps, _ = administer(ce_pool, one_section(1, 40, classification=ci), seed=6, theta=theta)
        final = steps[-1]
        assert final.section_reasons["CE"] == "classification"
        est = final.estimates["CE"]
        assert not est.theta - 1.96 * est.se <= -0.5 <= est.theta + 1.96 * est.se
        for s in steps[1:-1]:  # before, the interval still held the cut
            e = s.estimates["CE"]
            assert e.theta - 1.96 * e.se <= -0.5 <= e.theta + 1.96 * e.se


def test_sprt_rule_around_the_a1_cut(ce_pool) -> None:
    sprt = Classification(method="sprt", levels=("A1",), delta=0.4, alpha=0.05, beta=0.05)
    steps, state = administer(ce_pool, one_section(1, 40, classification=sprt), seed=7, theta=1.2)
    assert steps[-1].section_reasons["CE"] == "classification"
    items = np.array([ce_pool.index(r.item_id) for r in state.responses])
    scores = np.array([r.score for r in state.responses])
    p = probabilities(ce_pool.subset(items), [-0.9, -0.1])[np.arange(items.size), :, scores]
    llr = float(np.log(p[:, 1]).sum() - np.log(p[:, 0]).sum())
    # decided "above the cut" (the log-likelihood ratio is read on the 61-point grid)
    assert llr >= math.log(0.95 / 0.05) - 0.05


def test_the_test_minimum_keeps_a_section_going(ce_pool) -> None:
    rules = one_section(1, 10, se_target=5.0, min_items=6)
    _, state = administer(ce_pool, rules, seed=8, theta=0.0)
    assert len(state.responses) == 6


def test_a_missing_theme_keeps_the_section_going(ce_pool) -> None:
    # the SE target is met at once, but the last section must still cover the three themes
    rules = Rules(
        sections=(Section("CE", 1, 10),),
        stopping=Stopping(se_target=5.0, classification=OFF),
        themes=Themes(min_items=1),
    )
    _, state = administer(ce_pool, rules, seed=11, theta=0.0)
    themes = {ce_pool.themes[ce_pool.index(r.item_id)] for r in state.responses}
    assert len(themes) == 3
    assert len(state.responses) == 3


def test_test_budget_leaves_room_for_the_later_minimums() -> None:
    pool = make_pool({"CO": 30, "CE": 30}, seed=9, polytomous=False)
    rules = Rules(
        sections=(Section("CO", 2, 10), Section("CE", 4, 10)),
        stopping=Stopping(se_target=None, classification=OFF, max_items=9),
    )
    steps, state = administer(pool, rules, seed=9, theta=0.0)
    skills = [r.item_id[:2] for r in state.responses]
    assert skills.count("CO") == 5
    assert skills.count("CE") == 4
    assert steps[-1].section_reasons["CO"] == "test_budget"


def test_estimates_in_a_step_are_the_eap_of_the_responses(ce_pool) -> None:
    steps, state = administer(ce_pool, one_section(5, 5), seed=10, theta=0.0)
    items = [ce_pool.index(r.item_id) for r in state.responses]
    scores = [r.score for r in state.responses]
    direct = eap(ce_pool, items, scores)
    assert steps[-1].estimates["CE"].theta == pytest.approx(direct.theta, abs=1e-9)
    assert steps[-1].estimates["CE"].se == pytest.approx(direct.se, abs=1e-9)


def test_state_cut_scores_override_the_rules(ce_pool) -> None:
    ci = Classification(method="ci", levels=("A1",), z=1.96)
    rules = one_section(1, 30, classification=ci)
    far = {"CE": {"A1.1": -5.5, "A1": -5.0, "A2": 5.0, "B1": 5.5}}
    # with the cut far away, the first estimate already decides it
    state = TestState(cut_scores=far)
    first = next_step(state, ce_pool, rules, step_rng(0, 0))
    state = state.with_response(first.item_id, 1)
    assert next_step(state, ce_pool, rules, step_rng(0, 1)).done
    assert not next_step(TestState(responses=state.responses), ce_pool, rules, step_rng(0, 1)).done


def test_hold_se_waits_for_the_classification_near_the_cut(ce_pool) -> None:
    # answers alternate right and wrong, so θ̂ stays near the cut (placed at 0 here): the SE
    # rule alone stops with an undecided interval; held, the section runs on
    cut = {"CE": {"A1.1": -1.0, "A1": 0.0, "A2": 1.0, "B1": 2.0}}

    def run(hold: bool) -> list:
        rule = Classification(method="ci", levels=("A1",), z=1.96, hold_se=hold)
        rules = one_section(1, 25, se_target=0.45, classification=rule)
        state, steps = TestState(cut_scores=cut), []
        while True:
            step = next_step(state, ce_pool, rules, step_rng(0, len(state.responses)))
            steps.append(step)
            if step.done:
                return steps
            state = state.with_response(step.item_id, len(state.responses) % 2)

    def holds_cut(step) -> bool:
        est = step.estimates["CE"]
        return est.theta - 1.96 * est.se <= 0.0 <= est.theta + 1.96 * est.se

    plain, held = run(False), run(True)
    assert plain[-1].section_reasons["CE"] == "se_target"
    assert holds_cut(plain[-1])  # precise enough, but undecided
    assert held[-1].n_items > plain[-1].n_items
    assert held[-1].section_reasons["CE"] == "section_max" or not holds_cut(held[-1])
    assert all(holds_cut(step) for step in held[1:-1])


@pytest.mark.parametrize("estimator", ["map", "wle", "ml"])
def test_the_reported_estimator_is_the_one_the_rules_name(ce_pool, estimator) -> None:
    from placement.irt import map_estimate, ml_bounded, wle

    rules = one_section(6, 6).with_changes(estimator=estimator)
    steps, state = administer(ce_pool, rules, seed=13, theta=0.8)
    items = [ce_pool.index(r.item_id) for r in state.responses]
    scores = [r.score for r in state.responses]
    expected = {
        "map": map_estimate(ce_pool, items, scores),
        "wle": wle(ce_pool, items, scores),
        "ml": ml_bounded(ce_pool, items, scores),
    }[estimator]
    assert steps[-1].estimates["CE"].theta == pytest.approx(expected.theta, abs=1e-6)
    assert steps[-1].estimates["CE"].se == pytest.approx(expected.se, abs=1e-6)
    # selection kept using the EAP: the items are those of the default estimator
    _, eap_state = administer(ce_pool, one_section(6, 6), seed=13, theta=0.8)
    assert [r.item_id for r in eap_state.responses] == [r.item_id for r in state.responses]
