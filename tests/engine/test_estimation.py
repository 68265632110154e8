"""Estimators against direct numerical integration and optimisation, and extreme patterns."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from placement.errors import InvalidPattern
from placement.irt import (
    Pool,
    eap,
    item_information,
    log_likelihood,
    map_estimate,
    ml_bounded,
    probabilities,
    sample_responses,
    wle,
)


def _likelihood(pool: Pool, items: np.ndarray, scores: np.ndarray, theta: float) -> float:
    p = probabilities(pool, [theta])[items, 0, scores]
    return float(np.prod(p))


@pytest.fixture(scope="module")
def pattern(pool):
    rng = np.random.default_rng(11)
    items = rng.choice(len(pool), size=15, replace=False)
    return items, sample_responses(pool, items, 0.4, rng)


def test_eap_matches_numerical_integration(pool, pattern) -> None:
    items, scores = pattern
    mu, sd = 0.3, 1.2

    def weight(t: float) -> float:
        return _likelihood(pool, items, scores, t) * np.exp(-0.5 * ((t - mu) / sd) ** 2)

    z = integrate.quad(weight, -10, 10, limit=200)[0]
    mean = integrate.quad(lambda t: t * weight(t), -10, 10, limit=200)[0] / z
    var = integrate.quad(lambda t: (t - mean) ** 2 * weight(t), -10, 10, limit=200)[0] / z
    fine = eap(pool, items, scores, prior_mean=mu, prior_sd=sd, grid=np.linspace(-8, 8, 1601))
    assert fine.theta == pytest.approx(mean, abs=1e-6)
    assert fine.se == pytest.approx(np.sqrt(var), abs=1e-6)
    # the 61-point table grid used by the CAT step stays close
    coarse = eap(pool, items, scores, prior_mean=mu, prior_sd=sd)
    assert coarse.theta == pytest.approx(mean, abs=0.01)
    assert coarse.se == pytest.approx(np.sqrt(var), abs=0.01)


def test_map_and_ml_match_a_dense_search(pool, pattern) -> None:
    items, scores = pattern
    dense = np.linspace(-4, 4, 20001)
    loglik = log_likelihood(pool, items, scores, grid=dense)
    ml = ml_bounded(pool, items, scores)
    assert ml.theta == pytest.approx(dense[np.argmax(loglik)], abs=1e-3)
    info = item_information(pool.subset(items), [ml.theta])[:, 0].sum()
    assert ml.se == pytest.approx(1 / np.sqrt(info), rel=1e-6)
    map_ = map_estimate(pool, items, scores, prior_mean=-0.2, prior_sd=0.8)
    log_post = loglik - 0.5 * ((dense + 0.2) / 0.8) ** 2
    assert map_.theta == pytest.approx(dense[np.argmax(log_post)], abs=1e-3)
    # the prior pulls the MAP towards its mean
    assert abs(map_.theta + 0.2) < abs(ml.theta + 0.2)


def test_wle_maximises_likelihood_times_root_information_for_2pl(pool) -> None:
    # for 2PL items Warm's WLE is the mode of L(θ)·sqrt(I(θ)) (Jeffreys prior)
    items = np.array([i for i, m in enumerate(pool.models) if m == "2PL"][:12])
    scores = sample_responses(pool, items, -0.7, np.random.default_rng(5))
    dense = np.linspace(-4, 4, 20001)
    info = item_information(pool.subset(items), dense).sum(axis=0)
    objective = log_likelihood(pool, items, scores, grid=dense) + 0.5 * np.log(info)
    assert wle(pool, items, scores).theta == pytest.approx(dense[np.argmax(objective)], abs=2e-3)


@pytest.mark.parametrize("estimator", [eap, map_estimate, wle, ml_bounded])
def test_extreme_and_empty_patterns_give_finite_answers(pool, estimator) -> None:
    items = np.arange(10)
    top = pool.n_categories[items] - 1
    for scores in (top, np.zeros(10, dtype=int)):
        est = estimator(pool, items, scores)
        assert np.isfinite(est.theta)
        assert np.isfinite(est.se)
        assert est.se > 0
        assert -4 <= est.theta <= 4
    empty = estimator(pool, [], [])
    assert np.isfinite(empty.theta)
    assert np.isfinite(empty.se)
    high = estimator(pool, items, top).theta
    low = estimator(pool, items, np.zeros(10, dtype=int)).theta
    assert high > low


def test_eap_of_an_empty_pattern_is_the_prior(pool) -> None:
    est = eap(pool, [], [], prior_mean=0.5, prior_sd=0.7, grid=np.linspace(-6, 6, 2001))
    assert est.theta == pytest.approx(0.5, abs=1e-6)
    assert est.se == pytest.approx(0.7, abs=1e-4)


def test_more_items_shrink_the_standard_error(pool) -> None:
    rng = np.random.default_rng(3)
    items = rng.choice([i for i, s in enumerate(pool.skills) if s == "CE"], 30, replace=False)
    scores = sample_responses(pool, items, 0.0, rng)
    assert eap(pool, items, scores).se < eap(pool, items[:5], scores[:5]).se


@pytest.mark.parametrize(
    ("items", "scores", "message"),
    [
        ([0, 1], [1], "2 items but 1 scores"),
        ([0], [2], "outside 0..1"),
        ([0], [-1], "outside"),
        ([0, 0], [1, 1], "twice"),
        ([10**6], [0], "outside the pool"),
        ([0], [0.5], "whole numbers"),
    ],
)
def test_bad_patterns_are_refused(pool, items, scores, message) -> None:
    with pytest.raises(InvalidPattern, match=message):
        eap(pool, items, scores)


def test_bad_prior_and_bounds_are_refused(pool) -> None:
    with pytest.raises(InvalidPattern, match="standard deviation"):
        eap(pool, [0], [1], prior_sd=0.0)
    with pytest.raises(InvalidPattern, match="bounds"):
        ml_bounded(pool, [0], [1], bounds=(2.0, -2.0))
