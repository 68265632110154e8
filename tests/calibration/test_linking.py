"""Linking recovers a known change of the θ scale."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.data import make_parameters
from calibration.errors import LinkingError
from calibration.fit import fit
from calibration.linking import apply_links, link, link_skills, transform
from calibration.synthetic import random_bank, simulate_cat


@pytest.mark.parametrize("method", ["stocking-lord", "mean-sigma"])
def test_exact_transformation_is_recovered(rng, method):
    bank = random_bank(30, rng, n_grm=4)
    old = transform(bank, 1.3, -0.4)
    lk = link(bank, old, method=method)
    assert pytest.approx(1.3, abs=1e-3) == lk.A
    assert pytest.approx(-0.4, abs=1e-3) == lk.B
    back = transform(bank, lk.A, lk.B)
    np.testing.assert_allclose(back.b, old.b, atol=2e-3)
    np.testing.assert_allclose(back.a, old.a, rtol=2e-3)


@pytest.mark.slow
def test_known_shift_and_scale_recovered_from_data(rng):
    """The current scale is the bank's; this population is N(0.5, 1.25²) on it. The fit puts
    the population at N(0, 1), so linking must find A = 1.25, B = 0.5, by either method.
    Mean–sigma's A is the ratio of the b's spreads, which the few items at the ends of the
    scale (fewest responses, least precise b) move most: on this design its A erred by −0.053
    to +0.005 over four seeds, with or without the fit's bias-reducing penalty (Stocking–Lord's,
    weighting every item by its curve: −0.010 to +0.018), hence its wider bound."""
    old = random_bank(60, rng)
    thetas = rng.normal(0.5, 1.25, 4000)
    data = simulate_cat(old, thetas, rng, test_length=20, randomesque=10)
    result = fit(old, data, min_responses=100, progress=False)
    for method in ("stocking-lord", "mean-sigma"):
        links = link_skills(result.params, old, fitted=result.fitted, method=method)
        lk = links["CE"]
        assert abs(lk.A - 1.25) < (0.05 if method == "stocking-lord" else 0.075), (method, lk.A)
        assert abs(lk.B - 0.5) < 0.05, (method, lk.B)
        linked = apply_links(result.params, links, result.fitted)
        f = result.fitted
        assert float(np.sqrt(np.mean((linked.b[f] - old.b[f]) ** 2))) < 0.3


def test_drifted_anchor_is_dropped(rng):
    bank = random_bank(20, rng)
    old = transform(bank, 1.1, 0.2)
    b = old.b.copy()
    b[3] += 1.5  # item 3 changed meaning: it is no longer an anchor
    lk = link(bank, old.with_values(b=b), method="stocking-lord")
    assert lk.dropped == (bank.ids[3],)
    assert pytest.approx(1.1, abs=1e-3) == lk.A
    assert pytest.approx(0.2, abs=1e-3) == lk.B


def test_too_few_anchors_is_refused(rng):
    bank = random_bank(5, rng)
    fitted = np.array([True, True, False, False, False])
    with pytest.raises(LinkingError, match="au moins 3") as excinfo:
        link(bank, bank, fitted=fitted)
    # which anchors there were, and the ways out
    assert "2 ancre(s) utilisable(s) : CE-0001, CE-0002" in str(excinfo.value)
    assert "--anchors" in str(excinfo.value)
    assert "--min-responses" in str(excinfo.value)


def test_anchors_without_spread_are_refused(rng):
    bank = random_bank(4, rng).with_values(b=np.zeros(4))
    with pytest.raises(LinkingError, match="même difficulté"):
        link(bank, bank, method="mean-sigma")


def _two_skills(rng):
    """Ten CE and ten CO 2PL items, each skill its own scale."""
    ce, co = random_bank(10, rng, prefix="CE"), random_bank(10, rng, prefix="CO")
    return make_parameters(
        [*ce.ids, *co.ids],
        ["2PL"] * 20,
        np.concatenate([ce.a, co.a]),
        np.concatenate([ce.b, co.b]),
        skills=("CE",) * 10 + ("CO",) * 10,
    )


def test_anchors_named_for_one_skill_leave_the_others_to_the_default(rng):
    new = _two_skills(rng)
    old = transform(new, 1.2, 0.3)
    chosen = list(new.ids[:4])  # CE anchors only
    links = link_skills(new, old, anchors=chosen, method="mean-sigma")
    assert links["CE"].anchors == tuple(chosen)
    assert len(links["CO"].anchors) == 10  # every CO item, as without --anchors
    assert pytest.approx(1.2, abs=1e-6) == links["CO"].A


def test_an_anchor_in_neither_table_is_refused_not_ignored(rng):
    new = _two_skills(rng)
    with pytest.raises(LinkingError, match="CE-9999"):
        link_skills(new, new, anchors=[*new.ids[:4], "CE-9999"])


def test_a_1pl_fit_links_to_the_2pl_rows_it_is_published_as(rng):
    """`calibration fit --model 1PL` writes 1PL rows; a release holds them as 2PL rows (its
    table has no 1PL), so the 2PL items of the current table are its anchors."""
    old = random_bank(12, rng)
    new = transform(old, 0.8, 0.1).with_values(models=("1PL",) * 12)
    lk = link(new, old, method="mean-sigma")
    assert len(lk.anchors) == 12
    assert pytest.approx(1 / 0.8, abs=1e-6) == lk.A


def test_items_refitted_in_another_model_are_named_when_they_leave_too_few_anchors(rng):
    old = random_bank(6, rng, model="3PL")
    new = old.with_values(models=("2PL",) * 6)
    with pytest.raises(LinkingError, match=r"6 item\(s\) réestimé\(s\) dans un autre modèle"):
        link(new, old)
