"""IRT models: invariants over random parameters (Hypothesis) and validation of bad pools."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from placement.errors import InvalidPool
from placement.irt import Pool, item_information, probabilities

finite = st.floats(-3.5, 3.5, allow_nan=False)
slopes = st.floats(0.2, 3.0)
thetas = st.lists(st.floats(-6, 6, allow_nan=False), min_size=2, max_size=12)


@st.composite
def dichotomous(draw: st.DrawFn) -> Pool:
    model = draw(st.sampled_from(["1PL", "2PL", "3PL", "4PL"]))
    c = draw(st.floats(0.0, 0.4)) if model in ("3PL", "4PL") else 0.0
    d = draw(st.floats(c + 0.3, 1.0)) if model == "4PL" else 1.0
    a = 1.0 if model == "1PL" else draw(slopes)
    return Pool.create(["x"], a=[a], b=[draw(finite)], c=[c], d=[d], models=[model])


@st.composite
def polytomous(draw: st.DrawFn) -> Pool:
    model = draw(st.sampled_from(["GRM", "GPCM"]))
    k = draw(st.integers(1, 4))
    steps = draw(st.lists(finite, min_size=k, max_size=k, unique=True))
    if model == "GRM":
        steps = sorted(steps)
        if np.any(np.diff(steps) <= 1e-6):
            steps = [s + 0.01 * i for i, s in enumerate(steps)]
    return Pool.create(["p"], a=[draw(slopes)], models=[model], thresholds=[steps])


@settings(max_examples=60, deadline=None)
@given(dichotomous(), thetas)
def test_dichotomous_probability_lies_within_c_and_d_and_rises_with_theta(pool, ts) -> None:
    grid = np.sort(np.asarray(ts))
    p1 = probabilities(pool, grid)[0, :, 1]
    assert np.all(p1 >= pool.c[0] - 1e-12)
    assert np.all(p1 <= pool.d[0] + 1e-12)
    assert np.all(np.diff(p1) >= -1e-12)
    np.testing.assert_allclose(probabilities(pool, grid)[0].sum(axis=1), 1.0, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.one_of(dichotomous(), polytomous()), thetas)
def test_categories_sum_to_one_and_information_is_non_negative(pool, ts) -> None:
    p = probabilities(pool, ts)
    assert np.all(p >= -1e-15)
    np.testing.assert_allclose(p.sum(axis=2), 1.0, atol=1e-12)
    assert np.all(item_information(pool, ts) >= 0)


@settings(max_examples=40, deadline=None)
@given(st.one_of(dichotomous(), polytomous()), st.floats(-3, 3))
def test_information_equals_variance_of_the_score_function(pool, theta) -> None:
    # I(θ) = Var(∂ log P(X|θ)/∂θ): checked against a numerical derivative of log P
    h = 1e-5
    p = probabilities(pool, [theta])[0, 0]
    dlogp = (
        np.log(np.maximum(probabilities(pool, [theta + h])[0, 0], 1e-300))
        - np.log(np.maximum(probabilities(pool, [theta - h])[0, 0], 1e-300))
    ) / (2 * h)
    expected = float(np.sum(np.where(p > 1e-12, p * dlogp**2, 0.0)))
    np.testing.assert_allclose(
        item_information(pool, [theta])[0, 0], expected, rtol=1e-4, atol=1e-8
    )


def test_grm_matches_hand_computation() -> None:
    pool = Pool.create(["g"], a=[1.5], models=["GRM"], thresholds=[[-1.0, 0.5]])
    star = 1 / (1 + np.exp(-1.5 * (0.0 - np.array([-1.0, 0.5]))))
    expected = [1 - star[0], star[0] - star[1], star[1]]
    np.testing.assert_allclose(probabilities(pool, [0.0])[0, 0], expected)


def test_gpcm_matches_hand_computation() -> None:
    pool = Pool.create(["g"], a=[0.9], models=["GPCM"], thresholds=[[-0.5, 0.7, 1.2]])
    z = np.cumsum([0.0, *(0.9 * (0.3 - np.array([-0.5, 0.7, 1.2])))])
    expected = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(probabilities(pool, [0.3])[0, 0], expected)


def test_tables_match_direct_computation(pool) -> None:
    np.testing.assert_allclose(
        np.exp(pool.log_prob_table)[:, :, :],
        np.where(
            np.arange(pool.kmax + 1)[None, None, :] < pool.n_categories[:, None, None],
            np.maximum(probabilities(pool, pool.grid), 1e-12),
            np.exp(-1e6),
        ),
        rtol=1e-10,
    )
    np.testing.assert_allclose(pool.information_table, item_information(pool, pool.grid))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["5PL"]}, "modèle '5PL' inconnu"),
        ({"a": [-0.5]}, "la discrimination doit être > 0"),
        ({"a": [0.0]}, "la discrimination doit être > 0"),
        ({"b": [float("nan")]}, "n'est pas un nombre fini"),
        ({"models": ["3PL"], "c": [1.0]}, "hors de"),
        ({"models": ["3PL"], "c": [-0.1]}, "hors de"),
        ({"models": ["2PL"], "c": [0.2]}, "c = 0 et d = 1"),
        ({"models": ["4PL"], "c": [0.3], "d": [0.2]}, "doit être dans"),
        ({"models": ["GRM"], "thresholds": [[0.5, -0.5]]}, "doivent croître"),
    ],
)
def test_bad_parameters_are_refused_with_the_item_named(kwargs, message) -> None:
    args = {"a": [1.0], "b": [0.0], "models": ["2PL"]} | kwargs
    with pytest.raises(InvalidPool, match=message) as info:
        Pool.create(["bad-item"], **args)
    assert "bad-item" in str(info.value)


def test_empty_pool_and_duplicate_ids_are_refused() -> None:
    with pytest.raises(InvalidPool, match="vide"):
        Pool.create([], a=[])
    with pytest.raises(InvalidPool, match="apparaît deux fois"):
        Pool.create(["x", "x"], a=[1.0, 1.0], b=[0.0, 1.0])


def test_enemies_are_symmetric_and_unknown_enemies_ignored() -> None:
    pool = Pool.create(["a", "b", "c"], a=1.0, b=[0, 1, 2], enemies=[["b", "retired"], [], []])
    assert pool.enemies == (frozenset({1}), frozenset({0}), frozenset())
    assert pool.index("c") == 2
    with pytest.raises(KeyError, match="not in the pool"):
        pool.index("zz")
