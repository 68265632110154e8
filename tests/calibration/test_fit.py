"""Parameter recovery of the MML fit on complete and on CAT-sparse data."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.data import make_parameters, responses_from_arrays
from calibration.errors import FitError
from calibration.fit import eap_scores, fit
from calibration.synthetic import random_bank, simulate_cat, simulate_complete


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((x - y) ** 2)))


def test_recovers_2pl_on_complete_data(make_bank, complete_data):
    bank = make_bank(20)
    data = complete_data(bank, 1500)
    start = bank.with_values(a=np.ones(20), b=np.zeros(20))
    result = fit(start, data, progress=False)
    assert result.converged
    assert result.fitted.all()
    # b ~ N(0, 1.2²) puts some items near ±3, where 1500 persons estimate b to about ±0.3
    assert rmse(result.params.b, bank.b) < 0.25
    assert rmse(result.params.a, bank.a) < 0.25
    # crossprod standard errors are of the size of the actual errors
    z = (result.params.b - bank.b) / result.se_b
    assert 0.5 < float(np.std(z)) < 2.0


@pytest.mark.slow
def test_recovers_2pl_and_grm_on_sparse_cat_data(make_bank, cat_data):
    bank = make_bank(60, n_grm=6, max_score=3)
    data = cat_data(bank, 2500, test_length=15, randomesque=10)
    counts = data.counts(bank.n_items)
    assert (counts == 0).any() or (counts < 50).any()  # genuinely sparse and adaptive
    start = bank.with_values(
        a=np.ones(bank.n_items),
        b=np.zeros(bank.n_items),
        thresholds=np.where(np.isnan(bank.thresholds), np.nan, np.linspace(-1, 1, 3)),
    )
    result = fit(start, data, min_responses=50, progress=False)
    f = result.fitted
    dich = f & np.array([m == "2PL" for m in bank.models])
    assert dich.sum() >= 25
    assert rmse(result.params.b[dich], bank.b[dich]) < 0.4
    assert np.corrcoef(result.params.b[dich], bank.b[dich])[0, 1] > 0.97
    assert rmse(result.params.a[dich], bank.a[dich]) < 0.4
    # errors are as large as the standard errors say, no more
    z = (result.params.b[dich] - bank.b[dich]) / result.se_b[dich]
    assert np.mean(np.abs(z) < 1.96) > 0.85
    grm = f & ~dich
    if grm.any():
        thr = result.params.thresholds[grm, :3]
        assert rmse(thr, bank.thresholds[grm, :3]) < 0.5
        assert np.all(np.diff(thr, axis=1) > 0)


@pytest.mark.slow
def test_girths_moment_equation_is_what_fails_on_cat_data(make_bank, cat_data):
    """girth's twopl_mml sets b from the proportion correct of each item's takers; on CAT data
    that proportion is near 0.5 for every item, so its b barely follows the truth."""
    from girth import twopl_mml
    from girth.utilities import INVALID_RESPONSE

    bank = make_bank(40)
    data = cat_data(bank, 1500, test_length=12, randomesque=8)
    counts = data.counts(bank.n_items)
    used = np.flatnonzero(counts >= 50)
    p_correct = np.array([data.score[data.item == i].mean() for i in used])
    # the CAT equalises proportions correct: far less spread than in the whole population
    from calibration.model import expected_scores, quadrature

    nodes, weights = quadrature()
    p_population = expected_scores(bank.subset(used), nodes) @ weights
    assert np.std(p_correct) < 0.6 * np.std(p_population)
    matrix = np.full((used.size, data.n_persons), INVALID_RESPONSE)
    col = {int(i): k for k, i in enumerate(used)}
    for p, i, x in zip(data.person, data.item, data.score, strict=True):
        if int(i) in col:
            matrix[col[int(i)], p] = x
    girth_b = np.asarray(twopl_mml(matrix)["Difficulty"])
    ours = fit(
        bank.with_values(a=np.ones(40), b=np.zeros(40)), data, min_responses=50, progress=False
    )
    assert rmse(ours.params.b[used], bank.b[used]) < 0.5 * rmse(girth_b, bank.b[used])


def test_item_with_three_responses_is_kept_and_reported(make_bank, complete_data):
    bank = make_bank(10)
    data = complete_data(bank, 400)
    rare = make_parameters(["CE-RARE"], ["2PL"], [1.3], [0.7])
    table = bank.with_values()  # copy
    ids = (*table.ids, "CE-RARE")
    both = make_parameters(ids, [*table.models, "2PL"], [*table.a, 1.3], [*table.b, 0.7])
    extra = responses_from_arrays(
        np.concatenate([data.person, [0, 1, 2]]),
        np.concatenate([data.item, [10, 10, 10]]),
        np.concatenate([data.score, [1, 0, 1]]),
    )
    result = fit(both, extra, min_responses=30, progress=False)
    kept = {k.item_id: k for k in result.kept}
    assert set(kept) == {"CE-RARE"}
    assert kept["CE-RARE"].n_responses == 3
    assert "fewer than 30" in kept["CE-RARE"].reason
    i = result.params.index("CE-RARE")
    assert result.params.a[i] == rare.a[0]
    assert result.params.b[i] == rare.b[0]
    assert not result.fitted[i]
    assert np.isnan(result.se_b[i])


def test_item_nobody_saw_does_not_crash_the_fit(make_bank, cat_data):
    bank = make_bank(30)
    data = cat_data(bank, 600, test_length=8, randomesque=3)
    assert (data.counts(30) == 0).any()
    result = fit(bank, data, progress=False)
    unseen = [k for k in result.kept if k.n_responses == 0]
    assert unseen
    assert all(k.reason == "nobody answered it" for k in unseen)


def test_each_skill_is_its_own_scale(rng):
    co = random_bank(15, rng, prefix="CO")
    ce = random_bank(15, rng, prefix="CE")
    bank = make_parameters(
        [*co.ids, *ce.ids],
        ["2PL"] * 30,
        [*co.a, *ce.a],
        [*co.b, *ce.b],
        skills=["CO"] * 15 + ["CE"] * 15,
    )
    n = 1200
    theta_co, theta_ce = rng.normal(0, 1, n), rng.normal(0, 1, n)
    d_co = simulate_complete(co, theta_co, rng)
    d_ce = simulate_complete(ce, theta_ce, rng)
    data = responses_from_arrays(
        np.concatenate([d_co.person, d_ce.person]),
        np.concatenate([d_co.item, d_ce.item + 15]),
        np.concatenate([d_co.score, d_ce.score]),
    )
    result = fit(bank, data, progress=False)
    assert result.scales == ("CE", "CO")
    assert rmse(result.params.b, bank.b) < 0.15
    abilities = eap_scores(result.params, data)
    # the CE column follows theta_ce, not theta_co
    assert np.corrcoef(abilities.eap[:, 0], theta_ce)[0, 1] > 0.85
    assert abs(np.corrcoef(abilities.eap[:, 0], theta_co)[0, 1]) < 0.15


def test_3pl_with_held_guessing_and_1pl_common_slope(rng):
    bank = random_bank(15, rng, model="3PL")
    data = simulate_complete(bank, rng.normal(size=1500), rng)
    result = fit(bank.with_values(a=np.ones(15), b=np.zeros(15)), data, progress=False)
    assert np.array_equal(result.params.c, bank.c)  # held
    assert rmse(result.params.b, bank.b) < 0.25
    one = fit(bank, data, model="1PL", progress=False)
    assert np.ptp(one.params.a) < 1e-12  # one common slope
    assert set(one.params.models) == {"1PL"}


@pytest.mark.slow
def test_bootstrap_standard_errors_agree_with_crossprod(make_bank, complete_data):
    bank = make_bank(8)
    data = complete_data(bank, 400)
    cross = fit(bank, data, progress=False)
    boot = fit(
        bank, data, se="bootstrap", n_bootstrap=8, rng=np.random.default_rng(1), progress=False
    )
    ratio = boot.se_b / cross.se_b
    assert np.all(np.isfinite(ratio))
    assert 0.4 < float(np.median(ratio)) < 2.5


def test_no_usable_item_is_a_fit_error(make_bank):
    bank = make_bank(5)
    data = responses_from_arrays([0, 1], [0, 0], [1, 0])
    with pytest.raises(FitError, match="no item has 50 responses"):
        fit(bank, data, by_skill=False, progress=False)


def test_pretest_items_given_at_random_are_recovered(rng):
    bank = random_bank(40, rng)
    pretest = np.arange(30, 40)
    bank = bank.with_values(pretest=np.isin(np.arange(40), pretest))
    data = simulate_cat(
        bank,
        rng.normal(size=2000),
        rng,
        test_length=12,
        randomesque=5,
        pretest_items=pretest,
        n_pretest=2,
    )
    start = bank.with_values(
        a=np.where(bank.pretest, 1.0, bank.a), b=np.where(bank.pretest, 0.0, bank.b)
    )
    result = fit(start, data, progress=False)
    assert result.fitted[pretest].all()
    assert rmse(result.params.b[pretest], bank.b[pretest]) < 0.3


@pytest.mark.parametrize(
    ("model", "fit_guessing"), [("2PL", False), ("3PL", False), ("3PL", True), ("1PL", False)]
)
def test_the_m_step_information_is_the_curvature_of_the_expected_log_likelihood(
    rng, model, fit_guessing
):
    """At counts the model itself expects, minus the Jacobian of the gradient is the Fisher
    information the optimiser preconditions with (GRM items ride along in every case)."""
    from calibration.fit import _Problem
    from calibration.model import quadrature

    bank = random_bank(12, rng, n_grm=3, max_score=3)
    models = tuple(m if m == "GRM" else model for m in bank.models)
    bank = bank.with_values(models=models, c=np.where(np.array(models) == "3PL", 0.2, 0.0))
    data = simulate_cat(bank, rng.normal(size=400), rng, test_length=8, randomesque=4)
    nodes, weights = quadrature(41)
    problem = _Problem(
        bank,
        models,
        data,
        free=np.ones(bank.n_items, dtype=bool),
        nodes=nodes,
        weights=weights,
        priors=True,
        fit_guessing=fit_guessing,
    )
    x = problem.start_vector(bank) + rng.normal(scale=0.1, size=problem.size)
    for grp in problem.groups:
        n_at = rng.uniform(1, 5, size=(grp.items.size, nodes.size))
        counts = n_at[:, None, :] * np.exp(problem._group_logp(x, grp)[0])
        info = problem._group_information(x, grp, n_at)
        m = grp.pos.shape[1]
        numeric = np.zeros_like(info)
        base = problem._group_grad(x, grp, counts)
        for j in range(m):
            shifted = x.copy()
            shifted[grp.pos[:, j]] += 1e-6
            numeric[:, :, j] = -(problem._group_grad(shifted, grp, counts) - base) / 1e-6
        np.testing.assert_allclose(numeric, info, rtol=1e-4, atol=1e-5 * np.abs(info).max())


def test_the_fit_reaches_the_posterior_mode_plain_lbfgs_approaches(make_bank, cat_data):
    """The preconditioned search ends at least as high as L-BFGS on the raw parameters run to
    a tight tolerance on the same objective (the bias-reducing penalty frozen where the fit
    froze it), with a gradient near zero, in far fewer E-steps."""
    from scipy.optimize import minimize

    from calibration.fit import _maximise, _Problem
    from calibration.model import quadrature

    bank = make_bank(40, n_grm=4, max_score=3)
    data = cat_data(bank, 1500, test_length=12, randomesque=5)
    start = bank.with_values(
        a=np.ones(bank.n_items),
        b=np.zeros(bank.n_items),
        thresholds=np.where(np.isnan(bank.thresholds), np.nan, np.linspace(-1, 1, 3)),
    )
    result = fit(start, data, min_responses=30, se="none", progress=False)
    assert result.converged
    nodes, weights = quadrature(41)
    problem = _Problem(
        start,
        start.models,
        data,
        free=result.fitted,
        nodes=nodes,
        weights=weights,
        priors=True,
    )
    x0 = problem.start_vector(start)
    optimum = _maximise(problem, x0, max_iterations=2000, tolerance=1e-10)
    # the search fit() runs: same estimates, same number of E-steps
    np.testing.assert_allclose(problem.natural(optimum.x, start).a, result.params.a, atol=1e-9)
    assert problem.n_evaluations == result.n_evaluations
    assert problem.takers is not None  # the penalty is now a fixed function of x
    plain = minimize(
        problem.objective,
        x0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "ftol": 1e-13, "gtol": 1e-8, "maxcor": 20},
    )
    ours = problem.objective(optimum.x)
    assert ours[0] <= plain.fun + 1e-6 * abs(plain.fun)
    assert np.abs(ours[1]).max() < 1e-2  # gradient of a log-posterior of ~10^4
    assert result.n_evaluations < plain.nfev / 3


def test_the_slope_prior_is_a_normal_around_the_items_own_mean(rng):
    """log a_i = mu + e_i, e_i ~ N(0, s²), mu ~ N(0, t²): the prior's log-density and gradient
    are those of the log-slopes' joint normal with covariance s² I + t² 11ᵀ (and, for a GRM
    item, of its gaps between thresholds in θ units, whose log is N(0, 2²) whatever the
    slope)."""
    from scipy.stats import multivariate_normal, norm

    from calibration.fit import PRIOR_SD_GAP, PRIOR_SD_LOG_A, PRIOR_SD_LOG_A_MEAN, _Problem
    from calibration.model import quadrature

    bank = random_bank(10, rng, n_grm=3, max_score=3)
    data = simulate_cat(bank, rng.normal(size=300), rng, test_length=6, randomesque=3)
    nodes, weights = quadrature(21)
    free = np.ones(bank.n_items, dtype=bool)
    problem = _Problem(
        bank, bank.models, data, free=free, nodes=nodes, weights=weights, priors=True
    )
    x = problem.start_vector(bank) + rng.normal(scale=0.3, size=problem.size)
    value, grad = problem._prior(x)
    y = x.copy()
    for pool in problem.slope_pools:  # one pool per model: the 10 2PL, the 3 GRM items
        y[pool] += rng.normal(scale=0.5, size=pool.size)
    n = len(problem.slope_pools)
    assert n == 2
    expected = 0.0
    for pool in problem.slope_pools:
        cov = PRIOR_SD_LOG_A**2 * np.eye(pool.size) + PRIOR_SD_LOG_A_MEAN**2
        expected += multivariate_normal(np.zeros(pool.size), cov).logpdf(y[pool])
        expected -= multivariate_normal(np.zeros(pool.size), cov).logpdf(x[pool])
    grm = next(g for g in problem.groups if g.model == "GRM")

    def gaps_logpdf(v: np.ndarray) -> float:  # the thresholds in θ units that v gives
        gaps = np.diff(problem.natural(v, bank).thresholds[grm.items, : grm.k], axis=1)
        return float(norm(0, PRIOR_SD_GAP).logpdf(np.log(gaps)).sum())

    expected += gaps_logpdf(y) - gaps_logpdf(x)
    assert problem._prior(y)[0] - value == pytest.approx(expected, rel=1e-9)
    numeric = np.array(
        [(problem._prior(x + 1e-6 * e)[0] - value) / 1e-6 for e in np.eye(problem.size)]
    )
    np.testing.assert_allclose(grad, numeric, atol=1e-4)


@pytest.mark.slow
def test_sparse_slopes_shrink_towards_the_banks_mean_not_towards_one(make_bank, cat_data):
    """On a bank twice as discriminating as a = 1, the slope prior pulls each sparsely
    answered item towards the other items' slopes: the fitted slopes are not biased down."""
    bank = make_bank(80)
    bank = bank.with_values(a=2 * bank.a)
    data = cat_data(bank, 1500, test_length=12, randomesque=10)
    start = bank.with_values(a=np.ones(bank.n_items), b=np.zeros(bank.n_items))
    result = fit(start, data, min_responses=30, se="none", progress=False)
    f = result.fitted
    assert f.sum() >= 40
    sparse = f & (data.counts(bank.n_items) < 150)
    assert sparse.sum() >= 10
    log_ratio = np.log(result.params.a / bank.a)
    assert abs(float(np.mean(log_ratio[f]))) < 0.1
    assert abs(float(np.mean(log_ratio[sparse]))) < 0.15


def test_the_bias_penalty_is_half_the_log_det_of_each_items_information(make_bank, cat_data):
    """Firth's penalty: ½ log det of each item's information over its respondents, in the
    coordinates (a, d) of its linear predictor; its gradient is the penalty's."""
    from calibration.fit import _Problem
    from calibration.model import quadrature

    bank = make_bank(12, n_grm=3, max_score=3)
    data = cat_data(bank, 400, test_length=6, randomesque=3)
    nodes, weights = quadrature(21)
    free = data.counts(bank.n_items) > 0
    problem = _Problem(
        bank, bank.models, data, free=free, nodes=nodes, weights=weights, priors=True
    )
    from scipy.special import expit

    x = problem.start_vector(bank)
    table = problem.natural(x, bank)
    assert problem._bias_penalty(x) == (0.0, pytest.approx(np.zeros(problem.size)))
    problem.freeze_takers(problem.evaluate(x)[2])
    value, grad = problem._bias_penalty(x)
    assert problem.takers is not None
    expected = 0.0
    for grp, n_at in zip(problem.groups, problem.takers, strict=True):
        for i, takers in zip(grp.items, n_at, strict=True):
            # P(X >= j | θ) = σ(a θ + d_j): the information of (a, d_1..d_k) from the
            # derivatives of each score's probability
            a = table.a[i]
            if grp.model == "GRM":
                d = -a * table.thresholds[i, : grp.k]
            else:
                d = np.array([-a * table.b[i]])
            star = expit(a * nodes[None, :] + d[:, None])  # (k, Q)
            k = d.size
            dstar = np.zeros((k + 2, k + 1, nodes.size))
            dstar[1 : k + 1, 0] = star * (1 - star) * nodes
            for j in range(k):
                dstar[j + 1, j + 1] = star[j] * (1 - star[j])
            full = np.vstack([np.ones((1, nodes.size)), star, np.zeros((1, nodes.size))])
            p = full[:-1] - full[1:]
            dp = dstar[:-1] - dstar[1:]
            info = np.einsum("xmq,xnq,xq->mn", dp, dp, takers[None, :] / p)
            expected += 0.5 * np.linalg.slogdet(info)[1]
    assert value == pytest.approx(expected, rel=1e-6)
    numeric = np.array(
        [
            (problem._bias_penalty(x + 1e-6 * e)[0] - problem._bias_penalty(x - 1e-6 * e)[0]) / 2e-6
            for e in np.eye(problem.size)
        ]
    )
    np.testing.assert_allclose(grad, numeric, atol=1e-5 * max(1.0, np.abs(numeric).max()))


@pytest.mark.slow
def test_the_bias_penalty_takes_the_upward_bias_off_sparse_slopes(make_bank, cat_data):
    """Maximum likelihood (and the posterior mode) overestimates the slope of an item few
    candidates answered; Firth's penalty takes a good part of that bias off and brings the
    sparse items' slopes closer to the truth."""
    from calibration.fit import _maximise, _Problem
    from calibration.model import quadrature

    bank = make_bank(60, n_grm=20, max_score=3)
    data = cat_data(bank, 1500, test_length=12, randomesque=10)
    start = bank.with_values(
        a=np.ones(bank.n_items),
        b=np.zeros(bank.n_items),
        thresholds=np.where(np.isnan(bank.thresholds), np.nan, np.linspace(-1, 1, 3)),
    )
    nodes, weights = quadrature(41)
    counts = data.counts(bank.n_items)
    free = counts >= 30
    sparse = free & (counts < 150)
    assert sparse.sum() >= 8
    bias, rmse = {}, {}
    for reduce in (False, True):
        problem = _Problem(
            start, start.models, data, free=free, nodes=nodes, weights=weights, priors=True
        )
        x = _maximise(
            problem,
            problem.start_vector(start),
            max_iterations=2000,
            tolerance=1e-10,
            bias_reduction=reduce,
        ).x
        log_ratio = np.log(problem.natural(x, start).a / bank.a)[sparse]
        bias[reduce] = float(np.mean(log_ratio))
        rmse[reduce] = float(np.sqrt(np.mean(log_ratio**2)))
    assert bias[False] > 0.1  # the posterior mode alone: sparse slopes biased up
    assert abs(bias[True]) < bias[False] - 0.05
    assert rmse[True] < rmse[False]
