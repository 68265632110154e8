"""Invariants of the response functions and of the scale transformation (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration.data import make_parameters
from calibration.linking import transform
from calibration.model import category_probabilities, item_information, quadrature

finite = st.floats(-3, 3, allow_nan=False)
slopes = st.floats(0.2, 3.0)


@st.composite
def items(draw: st.DrawFn) -> object:
    model = draw(st.sampled_from(["2PL", "3PL", "GRM", "GPCM"]))
    a, b = draw(slopes), draw(finite)
    c = draw(st.floats(0.0, 0.35)) if model == "3PL" else 0.0
    k = draw(st.integers(1, 4))
    steps = sorted(draw(st.lists(finite, min_size=k, max_size=k, unique=True)))
    thr = [steps + [np.nan] * (4 - k)] if model in ("GRM", "GPCM") else [[np.nan] * 4]
    return make_parameters(["X-001"], [model], [a], [b], c=[c], thresholds=thr)


@settings(max_examples=60, deadline=None)
@given(items(), st.lists(st.floats(-6, 6), min_size=1, max_size=20))
def test_probabilities_are_a_distribution_and_information_is_positive(item, thetas):
    p = category_probabilities(item, thetas)[0]
    assert np.all(p >= 0)
    assert np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-9)
    assert np.all(item_information(item, thetas) >= -1e-9)
    if item.models[0] == "3PL":
        assert np.all(p[1] >= item.c[0] - 1e-12)  # never below the guessing floor


@settings(max_examples=60, deadline=None)
@given(items(), st.floats(0.5, 2.0), st.floats(-1.5, 1.5), finite)
def test_transformed_items_answer_alike_on_the_transformed_scale(item, A, B, theta):
    moved = transform(item, A, B)
    np.testing.assert_allclose(
        category_probabilities(moved, [A * theta + B]),
        category_probabilities(item, [theta]),
        atol=1e-9,
    )


def test_quadrature_is_girths_legendre_rule_times_the_normal_density():
    from girth.utilities.utils import _get_quadrature_points
    from scipy.stats import norm

    nodes, weights = quadrature(41)
    g_nodes, legendre = _get_quadrature_points(41, -5.0, 5.0)
    g_weights = legendre * norm.pdf(g_nodes)
    np.testing.assert_allclose(nodes, g_nodes, rtol=0, atol=1e-13)
    np.testing.assert_allclose(weights, g_weights / g_weights.sum(), rtol=1e-12)
