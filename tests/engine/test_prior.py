"""Section priors through the skill correlation, against plain Gaussian conditioning."""

from __future__ import annotations

import numpy as np
import pytest

from placement.cat import (
    Rules,
    Section,
    Stopping,
    TestState,
    conditional_prior,
    next_step,
    step_rng,
)
from placement.cat.rules import Classification

ORDER = ("CO", "CE", "EO", "EE")
R = np.array(
    [[1.0, 0.7, 0.6, 0.55], [0.7, 1.0, 0.55, 0.7], [0.6, 0.55, 1.0, 0.6], [0.55, 0.7, 0.6, 1.0]]
)


def test_matches_gaussian_conditioning_with_noisy_observations() -> None:
    # earlier sections' posteriors under N(0, 1): (m, v); their implied observations y = θ + e
    earlier = {"CO": (0.8, 0.2), "CE": (-0.1, 0.5)}
    mu, sd = conditional_prior("EO", earlier, R.tolist(), ORDER)
    tau2 = np.array([1 / (1 / v - 1) for _, v in earlier.values()])
    y = np.array([m / v * t for (m, v), t in zip(earlier.values(), tau2, strict=True)])
    idx = [0, 1]
    cov = R[np.ix_(idx, idx)] + np.diag(tau2)
    w = np.linalg.solve(cov, R[2, idx])
    assert mu == pytest.approx(float(w @ y))
    assert sd == pytest.approx(float(np.sqrt(1 - w @ R[2, idx])))
    assert 0 < sd < 1


def test_no_correlation_or_no_information_gives_the_marginal_prior() -> None:
    assert conditional_prior("EO", {"CO": (1.0, 0.2)}, None, ORDER) == (0.0, 1.0)
    assert conditional_prior("EO", {"CO": (0.0, 1.0)}, R.tolist(), ORDER) == (0.0, 1.0)
    assert conditional_prior("XX", {"CO": (1.0, 0.2)}, R.tolist(), ORDER) == (0.0, 1.0)
    assert conditional_prior("EO", {}, R.tolist(), ORDER, mean=0.5, sd=2.0) == (0.5, 2.0)


def test_a_strong_first_section_raises_the_next_sections_start(pool) -> None:
    rules = Rules(
        sections=(Section("CO", 8, 8), Section("CE", 1, 8)),
        stopping=Stopping(se_target=None, classification=Classification(method="none")),
        skill_correlation=tuple(tuple(r) for r in R.tolist()),
    )
    co = [i for i, s in enumerate(pool.skills) if s == "CO"][:8]
    from placement.cat import Response

    right = tuple(Response(pool.ids[i], 1) for i in co)
    step = next_step(TestState(responses=right), pool, rules, step_rng(0, 8))
    assert step.skill == "CE"
    borrowed = step.estimates["CO"].theta
    assert borrowed > 1.0
    # the first CE item is chosen for a candidate above average, unlike without borrowing
    alone = next_step(
        TestState(responses=right), pool, rules.with_changes(skill_correlation=None), step_rng(0, 8)
    )
    assert pool.b[pool.index(step.item_id)] > pool.b[pool.index(alone.item_id)]
