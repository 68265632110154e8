"""The joint posterior of the skills, the decision's probabilities, triage and VOI stopping."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placement.cat import (
    DEFAULT_DECISION,
    Response,
    TestState,
    Triage,
    decision_posterior,
    joint_posterior,
    next_step,
    outcomes,
    step_rng,
)
from placement.cat.step import _classification_gain, _hours_cuts, _section_maxima
from placement.irt import Estimate
from placement.levels import (
    LevelEstimate,
    assess,
    decide,
    level_estimate,
    load_policy,
    with_probabilities,
)
from placement.rules import default_rules
from placement.simulation import calibration, simulate

from .conftest import CUTS, administer, make_pool

GRID = np.linspace(-4, 4, 61)
ORDER = ("CO", "CE", "EO", "EE")
R = ((1, 0.7, 0.6, 0.55), (0.7, 1, 0.55, 0.7), (0.6, 0.55, 1, 0.6), (0.55, 0.7, 0.6, 1))


def _loglik(rng: np.random.Generator, theta: float, n: int) -> np.ndarray:
    b = rng.normal(theta, 0.6, n)
    x = rng.random(n) < 1 / (1 + np.exp(-1.4 * (theta - b)))
    p = 1 / (1 + np.exp(-1.4 * (GRID[None, :] - b[:, None])))
    return np.where(x[:, None], np.log(p), np.log1p(-p)).sum(axis=0)


def _brute_force(logliks: np.ndarray, skills: tuple[str, ...]) -> tuple[float, np.ndarray]:
    """P(every skill >= its A1 cut) and the means, on the full product grid."""
    idx = [ORDER.index(s) for s in skills]
    precision = np.linalg.inv(np.array([[R[a][b] for b in idx] for a in idx]))
    mesh = np.stack(np.meshgrid(*[GRID] * len(skills), indexing="ij"), -1).reshape(-1, len(skills))
    log_post = -0.5 * np.einsum("mi,ij,mj->m", mesh, precision, mesh)
    for k in range(len(skills)):
        log_post += logliks[k][np.searchsorted(GRID, mesh[:, k] - 1e-9)]
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    cuts = np.array([CUTS[s]["A1"] for s in skills])
    return float(w @ np.all(mesh >= cuts, axis=1)), w @ mesh


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_joint_posterior_matches_the_product_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    skills = ("CO", "CE", "EO")
    truth = rng.normal(-0.4, 0.5, 3)
    logliks = np.array([_loglik(rng, t, n) for t, n in zip(truth, (8, 8, 4), strict=True)])
    exact_p, exact_means = _brute_force(logliks, skills)
    # dispense over the three skills only: a decision model that counts them
    model = replace(DEFAULT_DECISION, dispense_skills=skills, weights=dict.fromkeys(skills, 1.0))
    joint = joint_posterior(logliks, GRID, skills, R, ORDER, CUTS, model=model)
    assert joint.p_dispense == pytest.approx(exact_p, abs=0.03)
    for k, s in enumerate(skills):
        assert joint.theta[s] == pytest.approx(exact_means[k], abs=0.05)
    assert joint.ess > 200
    assert sum(joint.p_hours.values()) + joint.p_dispense == pytest.approx(1.0)


def test_one_skill_is_the_grid_posterior_exactly() -> None:
    rng = np.random.default_rng(5)
    loglik = _loglik(rng, 0.2, 10)[None, :]
    model = replace(DEFAULT_DECISION, dispense_skills=("CO",), weights={"CO": 1.0})
    joint = joint_posterior(loglik, GRID, ("CO",), R, ORDER, CUTS, model=model)
    post = np.exp(loglik[0] - 0.5 * GRID**2 - (loglik[0] - 0.5 * GRID**2).max())
    post /= post.sum()
    assert joint.theta["CO"] == pytest.approx(float(post @ GRID), abs=1e-9)
    assert joint.p_dispense == pytest.approx(float(post @ (CUTS["CO"]["A1"] <= GRID)), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    thetas=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
    policy_name=st.sampled_from(["cir-2016", "cir-2019"]),
    non_reader=st.booleans(),
)
def test_outcomes_agree_with_the_policy(
    thetas: list[float], policy_name: str, non_reader: bool
) -> None:
    policy = load_policy(policy_name)
    skills = ("CO", "EO") if non_reader else ORDER
    estimates = {s: Estimate(t, 0.0) for s, t in zip(ORDER, thetas, strict=True) if s in skills}
    expected = assess(estimates, CUTS, policy, non_reader=non_reader).decision
    row = np.array([[estimates[s].theta for s in skills]])
    dispense, hours = outcomes(policy.decision_model(), row, skills, CUTS, non_reader)
    assert bool(dispense[0]) == (expected.kind == "dispense")
    assert int(hours[0]) == expected.hours


def _state(pool, responses, **kw) -> TestState:
    return TestState(
        tuple(Response(i, s) for i, s in responses), cut_scores=CUTS, skill_correlation=R, **kw
    )


def test_decision_posterior_of_a_whole_test() -> None:
    pool = make_pool(seed=3)
    rules = default_rules()
    state = _state(pool, [])
    rng = np.random.default_rng(0)
    while True:
        step = next_step(state, pool, rules, step_rng(11, len(state.responses)))
        if step.done:
            break
        state = state.with_response(step.item_id, int(rng.integers(0, 2)))
    joint = decision_posterior(state, pool, rules)
    assert set(joint.skills) == set(ORDER)
    assert 0.0 <= joint.p_dispense <= 1.0
    assert joint.pivotal is not None
    assert joint.pivotal[0] in ORDER
    # the joint borrows across every skill: its means differ from the sections' EAPs
    assert any(abs(joint.theta[s] - step.estimates[s].theta) > 1e-3 for s in ORDER)


def test_a_non_reader_is_never_dispensed_under_2016() -> None:
    pool = make_pool(seed=4)
    rules = default_rules()
    co = [i for i, s in zip(pool.ids, pool.skills, strict=True) if s == "CO"]
    nr = [i for i in co if pool.non_reader[pool.index(i)]][:8]
    state = _state(pool, [(i, 1) for i in nr], non_reader=True)
    joint = decision_posterior(state, pool, rules)
    assert joint.skills == ("CO",)
    assert joint.p_dispense == 0.0
    assert joint.hours == 200
    assert joint.p_decision == pytest.approx(1.0)
    assert joint.pivotal is None


def test_triage_band() -> None:
    triage = Triage((0.15, 0.85))
    assert triage.referred(0.5, True, 0.5)
    assert not triage.referred(0.9, True, 0.9)
    assert not triage.referred(0.1, False, 0.6)
    assert Triage((0.15, 0.85), hours_below=0.8).referred(0.1, False, 0.6)


def test_the_more_probable_decision_replaces_the_levels_one() -> None:
    policy = load_policy("cir-2016")
    levels: dict[str, LevelEstimate | None] = {
        s: level_estimate(Estimate(-0.4, 0.3), CUTS[s]) for s in ORDER
    }
    base = decide(policy, levels, False)
    assert base.kind == "dispense"  # every θ̂ just above the A1 cut
    rng = np.random.default_rng(9)
    logliks = np.array([_loglik(rng, -0.45, 6) for _ in ORDER])
    joint = joint_posterior(logliks, GRID, ORDER, R, ORDER, CUTS)
    assert joint.p_dispense < 0.5  # four coin flips near the cut: unlikely to pass them all
    decision = with_probabilities(base, joint, policy, levels, Triage())
    assert decision.kind == "prescription"
    assert decision.hours == joint.hours
    assert decision.triage is not None
    assert decision.triage["p_dispense"] == round(joint.p_dispense, 4)
    assert any("Probabilité" in r for r in decision.reasons)


def test_calibration_error() -> None:
    p = [0.05] * 100 + [0.95] * 100
    y = [False] * 95 + [True] * 5 + [True] * 95 + [False] * 5
    result = calibration(p, y)
    assert result["ece"] == pytest.approx(0.0, abs=1e-9)
    assert calibration([0.9] * 10, [False] * 10)["ece"] == pytest.approx(0.9)


def test_items_are_worth_most_for_a_candidate_at_the_cut() -> None:
    grid = np.linspace(-4, 4, 61)

    def normal(mean: float, sd: float) -> np.ndarray:
        w = np.exp(-0.5 * ((grid - mean) / sd) ** 2)
        return w / w.sum()

    def kernel(sd: float) -> np.ndarray:
        return np.exp(-0.5 * ((grid[:, None] - grid[None, :]) / sd) ** 2)

    at_cut = _classification_gain(normal(-0.5, 0.5), grid, kernel(0.5), -0.5)
    far = _classification_gain(normal(2.0, 0.5), grid, kernel(0.5), -0.5)
    assert 0.1 < at_cut < 0.5  # from 0.5 wrong half the time, to much less
    assert abs(far) < 1e-3  # already on one side: nothing to gain
    # more information (a narrower kernel) is worth more
    assert _classification_gain(normal(-0.5, 0.5), grid, kernel(0.2), -0.5) > at_cut


def test_the_hours_cuts_of_a_skill() -> None:
    cuts = {"A1.1": -1.5, "A1": -0.5, "A2": 0.6}
    # CIR 2016: 50 h from A1.1; 100 h above the débutant cut, one unit below A1.1
    assert _hours_cuts(cuts, DEFAULT_DECISION) == [-1.5, -2.5]
    assert _hours_cuts({**cuts, "débutant": -2.0}, DEFAULT_DECISION) == [-1.5, -2.0]


def test_carry_over_raises_later_maxima() -> None:
    sections = default_rules().sections
    assert _section_maxima(sections, [8, 0, 0, 0], False) == [12, 12, 6, 4]
    assert _section_maxima(sections, [8, 9, 5, 0], True) == [12, 16, 13, 12]


@pytest.mark.slow
def test_decision_stopping_runs_and_is_reported() -> None:
    pool = make_pool({"CO": 60, "CE": 60, "EO": 20, "EE": 20}, seed=8)
    base = default_rules()
    cl = replace(base.stopping.classification, method="decision", voi_min=0.02)
    rules = base.with_changes(stopping=replace(base.stopping, classification=cl))
    result = simulate(pool, rules, 30, 2, progress=False, cut_scores=CUTS, skill_correlation=R)
    reasons = result.summary["section_stop_reasons"]
    assert any("decision" in r for r in reasons.values())
    for row in result.rows:
        assert 0.0 <= row["p_dispense"] <= 1.0
        assert isinstance(row["referred"], bool)
    summary = result.summary
    assert 0.0 <= summary["referred_share"] <= 1.0
    assert summary["dispense_calibration"]["n"] == 30


def test_the_time_budget_keeps_time_for_the_later_minimums() -> None:
    pool = make_pool(seed=6)
    base = default_rules()  # 35 minutes; CO 45 s, CE 50 s, EO 90 s, EE 120 s per item
    # sections that run long (the CI rule, random answers), so that the time limit binds
    cl = replace(base.stopping.classification, method="ci", carry_over=False)
    rules = base.with_changes(stopping=replace(base.stopping, classification=cl))
    state = _state(pool, [])
    rng = np.random.default_rng(1)
    clock = {s.skill: s.item_seconds or 60.0 for s in rules.sections}
    # a slow candidate: every item takes a fifth longer than expected
    while True:
        step = next_step(state, pool, rules, step_rng(21, len(state.responses)))
        if step.done:
            break
        elapsed = state.elapsed_s + 1.2 * clock[step.skill]
        state = state.with_response(step.item_id, int(rng.integers(0, 2)), elapsed)
    counts = {s.skill: 0 for s in rules.sections}
    for r in state.responses:
        counts[pool.skills[pool.index(r.item_id)]] += 1
    assert step.reason == "complete"  # not cut off by the time limit
    assert all(counts[s.skill] >= s.min_items for s in rules.sections)
    assert "time_budget" in step.section_reasons.values()


def test_a_non_reader_whose_decision_cannot_change_is_measured_not_cut_short() -> None:
    """Under 2016 a non-reader's decision is 200 h whatever they answer: the value of
    information would end each section at its minimum, though the levels are still reported.
    Their sections run as under the CI rule instead, item for item."""
    pool = make_pool(seed=5)
    base = default_rules()
    by_rule = {}
    for method in ("decision", "ci"):
        cl = replace(base.stopping.classification, method=method)
        rules = base.with_changes(stopping=replace(base.stopping, classification=cl))
        steps, state = administer(
            pool, rules, 7, 0.4, non_reader=True, cut_scores=CUTS, skill_correlation=R
        )
        by_rule[method] = ([r.item_id for r in state.responses], steps[-1].section_reasons)
    assert by_rule["decision"] == by_rule["ci"]
    items, _ = by_rule["decision"]
    minimum = sum(s.min_items for s in base.path_sections(non_reader=True))
    assert len(items) > minimum  # a candidate near no cut still has the level measured


def test_the_calibration_error_comes_with_its_floor_on_the_sample() -> None:
    """The floor is the ECE a perfectly calibrated predictor shows on as many outcomes: it
    falls with the sample's size, is nil for certain predictions, and a miscalibrated
    predictor stands far above it."""
    rng = np.random.default_rng(3)
    small, large = rng.random(200), rng.random(5000)
    floor_small = calibration(small, rng.random(200) < small)["ece_floor"]
    floor_large = calibration(large, rng.random(5000) < large)["ece_floor"]
    assert 0.0 < floor_large < floor_small < 0.1
    result = calibration(large, rng.random(5000) < large)
    assert result["ece_floor"] <= result["ece_floor_p95"]
    assert result["ece"] < result["ece_floor_p95"] + 0.02  # calibrated: at the floor's level
    certain = calibration([0.0] * 50 + [1.0] * 50, [False] * 50 + [True] * 50)
    assert certain["ece_floor"] == certain["ece_floor_p95"] == 0.0
    skewed = calibration(large, rng.random(5000) < large**2)  # says p, happens p²
    assert skewed["ece"] > 5 * skewed["ece_floor_p95"]
