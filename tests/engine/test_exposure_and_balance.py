"""Exposure control and content balance, measured in small simulations."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from placement.cat import Exposure, Rules, Section, Stopping, TestState, Themes, next_step, step_rng
from placement.irt import Pool
from placement.simulation import simulate, sympson_hetter_parameters

from .conftest import make_pool

FIXED = Stopping(
    se_target=None,
    classification=__import__("placement.cat", fromlist=["x"]).Classification(method="none"),
)


@pytest.fixture(scope="module")
def ce_pool():
    return make_pool({"CE": 60}, seed=31, polytomous=False)


def _rules(k: int = 1, sh: dict[str, float] | None = None) -> Rules:
    return Rules(
        sections=(Section("CE", 6, 6),),
        stopping=FIXED,
        exposure=Exposure(randomesque_k=k, sympson_hetter=sh or {}),
        themes=Themes(min_items=0),
    )


def test_randomesque_spreads_the_first_item(ce_pool) -> None:
    plain = simulate(ce_pool, _rules(1), 60, seed=1, progress=False)
    spread = simulate(ce_pool, _rules(5), 60, seed=1, progress=False)
    assert plain.summary["max_exposure"] == 1.0  # max info always opens with the same item

    def first_items(result) -> Counter[str]:
        seen: dict[int, str] = {}
        for e, item_id, _ in result.responses:
            seen.setdefault(e, item_id)
        return Counter(seen.values())

    assert len(first_items(plain)) == 1
    # drawn uniformly among the 5 best: each opens about 1/5 of the tests
    opening = first_items(spread)
    assert len(opening) == 5
    assert max(opening.values()) / 60 < 0.4
    assert spread.summary["max_exposure"] < plain.summary["max_exposure"]
    assert spread.summary["unused_fraction"] < plain.summary["unused_fraction"]


@pytest.mark.slow
def test_sympson_hetter_brings_exposure_near_its_target(ce_pool) -> None:
    target = 0.3
    parameters = sympson_hetter_parameters(
        ce_pool, _rules(1), target=target, n_examinees=150, iterations=6, seed=2, progress=False
    )
    assert parameters, "some items needed a parameter below 1"
    assert all(0 < k < 1 for k in parameters.values())
    before = simulate(ce_pool, _rules(1), 300, seed=9, progress=False).summary["max_exposure"]
    after = simulate(ce_pool, _rules(1, parameters), 300, seed=9, progress=False).summary[
        "max_exposure"
    ]
    assert before == 1.0
    assert after <= target + 0.1


def test_themes_are_balanced_within_their_bounds() -> None:
    pool = make_pool({"CO": 60, "CE": 60}, seed=32, polytomous=False)
    rules = Rules(
        sections=(Section("CO", 3, 6), Section("CE", 3, 6)),
        themes=Themes(min_items=2, max_share=0.5),
        stopping=Stopping(se_target=0.8, classification=FIXED.classification),
    )
    result = simulate(pool, rules, 40, seed=3, progress=False)
    by_examinee: dict[int, list[str]] = {}
    for e, item_id, _ in result.responses:
        by_examinee.setdefault(e, []).append(item_id)
    for items in by_examinee.values():
        themes = Counter(pool.themes[pool.index(i)] for i in items)
        assert all(themes[t] >= 2 for t in ("vie pratique", "vie publique", "vie professionnelle"))
        for skill in ("CO", "CE"):
            per_section = Counter(pool.themes[pool.index(i)] for i in items if i.startswith(skill))
            assert max(per_section.values()) <= 3  # ceil(0.5 × 6)


def test_simulation_summary_has_the_documented_keys(ce_pool) -> None:
    result = simulate(ce_pool, _rules(3), 20, seed=4, progress=False)
    s = result.summary
    for key in (
        "mean_items", "rmse", "bias", "classification_accuracy", "max_exposure",
        "unused_fraction", "step_ms_p50", "step_ms_p99",
    ):  # fmt: skip
        assert key in s
    assert s["mean_items"] == 6
    assert set(s["rmse"]) == {"CE", "overall"}
    assert np.isfinite(s["rmse"]["overall"])
    assert s["classification_accuracy"]["dispense"] is None  # no cut scores in these rules
    assert len(result.responses) == 20 * 6
    # the same seed gives the same simulation
    again = simulate(ce_pool, _rules(3), 20, seed=4, progress=False)
    assert again.responses == result.responses


def test_equal_scores_rank_by_position_on_every_run() -> None:
    # three copies of the same item: max information must open with the first copy, always
    twins = Pool.create(["x", "y", "z", "far"], a=[1.5, 1.5, 1.5, 1.5], b=[0.0, 0.0, 0.0, 3.0])
    rules = Rules(sections=(Section("CE", 2, 2),), stopping=FIXED, themes=Themes(min_items=0))
    for seed in range(5):
        assert next_step(TestState(), twins, rules, step_rng(seed, 0)).item_id == "x"
    # randomesque among 3 draws among the three copies only, never the far item
    three = rules.with_changes(exposure=Exposure(randomesque_k=3))
    picks = Counter(
        next_step(TestState(), twins, three, step_rng(seed, 0)).item_id for seed in range(300)
    )
    assert set(picks) == {"x", "y", "z"}
    assert min(picks.values()) > 60


def test_sympson_hetter_walks_down_the_ranking() -> None:
    pool = Pool.create([f"i{k}" for k in range(6)], a=[2.0] * 6, b=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    base = Rules(sections=(Section("CE", 1, 1),), stopping=FIXED, themes=Themes(min_items=0))

    def opening(sh: dict[str, float], k: int = 1) -> Counter[str | None]:
        rules = base.with_changes(exposure=Exposure(randomesque_k=k, sympson_hetter=sh))
        return Counter(
            next_step(TestState(), pool, rules, step_rng(seed, 0)).item_id for seed in range(400)
        )

    # the best item is (almost) never accepted: the second best opens every test
    assert opening({"i0": 1e-9}) == Counter({"i1": 400})
    # accepted half the time: the best item about half, the second about a quarter
    half = opening({"i0": 0.5, "i1": 0.5, "i2": 0.5, "i3": 0.5, "i4": 0.5, "i5": 0.5})
    assert 160 < half["i0"] < 240
    assert 60 < half["i1"] < 140
    # nothing is (almost) ever accepted: the best item, as Sympson and Hetter's fallback
    assert opening(dict.fromkeys(pool.ids, 1e-9), k=2) == Counter({"i0": 400})
