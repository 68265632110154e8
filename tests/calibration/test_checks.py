"""Checks: drift, misfit, exposure, unseen items, DIF."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.checks import Thresholds, benjamini_hochberg, mantel_haenszel, run_checks
from calibration.data import Responses
from calibration.fit import eap_scores, fit
from calibration.linking import apply_links, link_skills
from calibration.synthetic import draw_scores, random_bank, simulate_cat


@pytest.mark.slow
def test_drifted_item_is_flagged_and_stable_ones_are_not(rng):
    current = random_bank(50, rng)
    truth = current.with_values(b=np.where(np.arange(50) == 7, current.b + 1.2, current.b))
    thetas = rng.normal(size=4000)
    data = simulate_cat(current, thetas, rng, test_length=15, randomesque=10, generating=truth)
    assert data.counts(50)[7] >= 200  # the drifted item was seen enough to tell
    result = fit(current, data, min_responses=100, progress=False)
    links = link_skills(result.params, current, fitted=result.fitted)
    linked = apply_links(result.params, links, result.fitted)
    report = run_checks(
        linked, current, data, fitted=result.fitted, thresholds=Thresholds(max_exposure=1.0)
    )
    drifted = [r.item_id for r in report.flagged("drift")]
    assert current.ids[7] in drifted
    assert len(drifted) <= 3  # noise alone flags (almost) nothing
    row = next(r for r in report.items if r.item_id == current.ids[7])
    assert row.delta_b == pytest.approx(1.2, abs=0.35)
    assert row.drift_z_b > 1.96  # the responses contradict the old location
    assert not report.passed
    assert any("en dérive" in f for f in report.failures)


def test_exposure_and_unseen_items_are_reported(rng):
    bank = random_bank(30, rng)
    data = simulate_cat(bank, rng.normal(size=800), rng, test_length=10, randomesque=2)
    report = run_checks(bank, None, data, thresholds=Thresholds(max_exposure=0.3))
    counts = data.counts(30)
    over = {bank.ids[i] for i in np.flatnonzero(counts / 800 > 0.3)}
    unseen = {bank.ids[i] for i in np.flatnonzero(counts == 0)}
    assert over
    assert {r.item_id for r in report.flagged("exposure")} == over
    assert {r.item_id for r in report.flagged("unseen")} == unseen
    assert any("exposé(s) au-dessus de 0.3" in f for f in report.failures)
    assert (not unseen) or report.warnings


def test_misfitting_item_is_flagged(rng):
    bank = random_bank(20, rng)
    thetas = rng.normal(size=1500)
    person = np.repeat(np.arange(1500), 20)
    item = np.tile(np.arange(20), 1500)
    score = draw_scores(bank, item, thetas[person], rng)
    # item 4 answered at random: its responses carry no information on θ
    score[item == 4] = rng.integers(0, 2, 1500)
    data = Responses(tuple(map(str, range(1500))), person, item, score)
    report = run_checks(bank, None, data, thresholds=Thresholds(max_exposure=1.0))
    misfit = [r.item_id for r in report.flagged("misfit")]
    assert misfit == [bank.ids[4]]


def test_dif_against_one_group_is_flagged(rng):
    bank = random_bank(20, rng).with_values(b=np.linspace(-1.5, 1.5, 20))
    n = 3000
    groups = np.where(np.arange(n) < n // 2, "ref", "focal")
    thetas = rng.normal(size=n)
    person = np.repeat(np.arange(n), 20)
    item = np.tile(np.arange(20), n)
    focal_bank = bank.with_values(b=np.where(np.arange(20) == 9, bank.b + 1.0, bank.b))
    score = draw_scores(bank, item, thetas[person], rng)
    in_focal = groups[person] == "focal"
    score[in_focal] = draw_scores(focal_bank, item[in_focal], thetas[person[in_focal]], rng)
    data = Responses(tuple(map(str, range(n))), person, item, score, groups=tuple(groups))
    report = run_checks(bank, None, data, thresholds=Thresholds(max_exposure=1.0))
    assert [r.item_id for r in report.flagged("dif")] == [bank.ids[9]]
    theta = eap_scores(bank, data).of_response
    delta, p, se = mantel_haenszel(
        data, 9, focal=groups == "focal", reference=groups == "ref", theta=theta
    )
    assert delta < -1.5  # harder for the focal group: negative ETS delta
    assert p < 1e-6
    assert se > 0


def test_the_engine_simulation_runs_the_non_reader_path_from_the_csv_alone(tmp_path, rng):
    from calibration.data import write_parameters
    from calibration.simulation import compare_with_engine

    co = random_bank(40, rng, prefix="CO")
    themes = ("vie pratique", "vie publique", "vie professionnelle")
    co = co.with_values(
        skills=("CO",) * 40,
        themes=tuple(themes[i % 3] for i in range(40)),
        non_reader=np.arange(40) % 4 != 0,  # 30 items need no reading
    )
    path = write_parameters(co, tmp_path / "co.csv")
    sim = compare_with_engine(path, path, n_candidates=60, seed=3, progress=False)
    assert sim["skills"] == ["CO"]
    paths = sim["non_reader"]
    assert set(paths) == {"current", "new"}
    assert paths["new"]["mean_items"] >= 8  # the CO section's minimum, on 30 items
    assert paths["new"]["rmse"]["CO"] is not None
    # without the column the same bank has no non-reader path: said, not failed
    bare = write_parameters(co.with_values(non_reader=np.zeros(40, dtype=bool)), tmp_path / "b.csv")
    sim = compare_with_engine(bare, bare, n_candidates=30, seed=3, progress=False)
    assert sim["non_reader"]["skipped"] == (
        "section CO : au moins 8 items marqués non_reader, la banque en a 0"
    )


def test_benjamini_hochberg_rejects_the_step_up_set():
    # m = 5 tested (NaN is not a test): sorted 0.001, 0.012, 0.02, 0.3, 0.9 against
    # k q / m = 0.01, 0.02, 0.03, 0.04, 0.05 -> the largest k below is 3
    p = np.array([0.3, 0.012, np.nan, 0.001, 0.9, 0.02])
    assert benjamini_hochberg(p, 0.05).tolist() == [False, True, False, True, False, True]
    assert not benjamini_hochberg(np.array([0.02, 0.04]), 0.01).any()
    assert not benjamini_hochberg(np.full(3, np.nan), 0.05).any()


def test_shrunk_sparse_estimate_is_not_drift_but_moved_responses_are(rng):
    """A sparse, weakly discriminating item whose estimate moved where its data hardly constrain
    it (slope pulled up, b with it: what the fit's slope prior does) is not drift; the same
    estimate is drift when the item's responses did move."""
    bank = random_bank(20, rng, n_grm=4)
    k = 3
    bank = bank.with_values(
        a=np.where(np.arange(24) == k, 0.7, bank.a), b=np.where(np.arange(24) == k, 0.0, bank.b)
    )
    n = 1500
    thetas = rng.normal(size=n)
    person = np.repeat(np.arange(n), 24)
    item = np.tile(np.arange(24), n)
    keep = (item != k) | (person < 250)  # item k seen by 250 persons of 1,500
    person, item = person[keep], item[keep]
    shrunk = bank.with_values(
        a=np.where(np.arange(24) == k, 1.3, bank.a), b=np.where(np.arange(24) == k, 0.7, bank.b)
    )
    drifted = bank.with_values(b=np.where(np.arange(24) == k, 1.0, bank.b))
    ids = tuple(map(str, range(n)))
    th = Thresholds(max_exposure=1.0)

    stable = Responses(ids, person, item, draw_scores(bank, item, thetas[person], rng))
    report = run_checks(shrunk, bank, stable, thresholds=th)
    row = report.items[k]
    assert row.delta_b == pytest.approx(0.7)
    assert row.delta_log_a > np.log(1.5)
    assert report.flagged("drift") == []
    z = np.array([r.drift_z_b for r in report.items])
    assert abs(np.mean(z)) < 0.6  # a z under the null
    assert 0.5 < np.std(z) < 1.6

    moved = Responses(ids, person, item, draw_scores(drifted, item, thetas[person], rng))
    report = run_checks(shrunk, bank, moved, thresholds=th)
    assert [r.item_id for r in report.flagged("drift")] == [bank.ids[k]]
    assert report.items[k].drift_z_b > 3
