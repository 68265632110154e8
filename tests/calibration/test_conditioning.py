"""Calibration on data from the engine's own CAT, whose section priors borrow from earlier ones."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.checks import Thresholds, run_checks
from calibration.data import Responses, make_parameters, write_parameters
from calibration.fit import engine_priors, fit
from calibration.linking import apply_links, link_skills
from calibration.synthetic import random_bank

THEMES = ("vie pratique", "vie publique", "vie professionnelle")
CORRELATION = (
    (1.0, 0.8, 0.6, 0.55),
    (0.8, 1.0, 0.55, 0.7),
    (0.6, 0.55, 1.0, 0.6),
    (0.55, 0.7, 0.6, 1.0),
)


@pytest.mark.slow
def test_conditioning_on_earlier_sections_keeps_the_later_scale(tmp_path):
    """The engine chooses CE items with a prior drawn from the candidate's CO section; fitting
    CE alone with N(0, 1) for everyone treats that selection as ignorable when it is not, and
    the CE scale comes out too wide. With the engine's prior per person the link to the
    (true) current scale is the identity again."""
    from placement.bank import pool_from_csv
    from placement.cat import Section
    from placement.rules import default_rules
    from placement.simulation import simulate

    rng = np.random.default_rng(1)
    co, ce = random_bank(50, rng, prefix="CO"), random_bank(50, rng, prefix="CE")
    bank = make_parameters(
        [*co.ids, *ce.ids], ["2PL"] * 100, [*co.a, *ce.a], [*co.b, *ce.b],
        skills=["CO"] * 50 + ["CE"] * 50, themes=[THEMES[i % 3] for i in range(100)],
    )  # fmt: skip
    pool = pool_from_csv(write_parameters(bank, tmp_path / "bank.csv"))
    rules = default_rules().with_changes(
        sections=(Section("CO", 8, 8), Section("CE", 8, 8)), skill_correlation=CORRELATION
    )
    assert rules.prior.borrow
    run = simulate(pool, rules, 800, 5, progress=False)
    data = Responses(
        tuple(map(str, range(800))),
        np.array([r[0] for r in run.responses]),
        bank.indices([r[1] for r in run.responses]),
        np.array([r[2] for r in run.responses]),
    )
    priors = engine_priors(
        bank, data, correlation=CORRELATION, order=rules.skill_order, test_order=rules.skills
    )
    co_mean, co_sd = priors["CO"]
    assert np.all(co_mean == 0.0)  # the first section borrows from nothing
    assert np.all(co_sd == 1.0)
    assert np.std(priors["CE"][0]) > 0.3  # the second one from CO

    plain = fit(bank, data, min_responses=40, se="none", progress=False)
    conditioned = fit(bank, data, min_responses=40, conditioning=priors, se="none", progress=False)
    a_plain = link_skills(plain.params, bank, fitted=plain.fitted)["CE"].A
    a_cond = link_skills(conditioned.params, bank, fitted=conditioned.fitted)["CE"].A
    assert abs(a_cond - 1.0) < 0.08
    assert abs(a_cond - 1.0) < abs(a_plain - 1.0)

    # nothing drifted: with the same per-person priors the drift tests see a null
    links = link_skills(conditioned.params, bank, fitted=conditioned.fitted)
    linked = apply_links(conditioned.params, links, conditioned.fitted)
    report = run_checks(
        linked, bank, data, fitted=conditioned.fitted, thresholds=Thresholds(max_exposure=1.0),
        person_priors=priors,
    )  # fmt: skip
    assert report.flagged("drift") == []
    z_ce = np.array([r.drift_z_b for r in report.items if r.item_id.startswith("CE")])
    assert abs(np.nanmean(z_ce)) < 0.5
    assert 0.5 < np.nanstd(z_ce) < 1.6


def test_conditional_priors_are_the_engines_person_by_person():
    """The vectorised priors equal ``placement.cat.prior.conditional_prior`` for every person,
    whichever earlier sections inform them (some not taken, some too vague to count)."""
    from calibration.fit import conditional_priors
    from placement.cat.prior import conditional_prior

    rng = np.random.default_rng(7)
    order = ("CO", "CE", "EO", "EE")
    earlier = ("CO", "CE", "EO")
    n = 400
    eap = rng.normal(size=(n, 3))
    variance = rng.uniform(0.05, 1.2, size=(n, 3))  # above 1: no information, skipped
    eap[rng.random((n, 3)) < 0.2] = np.nan  # sections not taken
    for mean, sd in ((0.0, 1.0), (0.3, 1.2)):
        mu, sigma = conditional_priors(
            "EE", earlier, eap, variance, correlation=CORRELATION, order=order, mean=mean, sd=sd
        )
        for p in range(n):
            summary = {
                s: (float(eap[p, j]), float(variance[p, j]))
                for j, s in enumerate(earlier)
                if not np.isnan(eap[p, j])
            }
            want = conditional_prior("EE", summary, CORRELATION, order, mean=mean, sd=sd)
            assert (mu[p], sigma[p]) == pytest.approx(want, rel=1e-10, abs=1e-12)
