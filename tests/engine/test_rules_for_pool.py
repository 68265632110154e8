"""Rules made for any bank: one section per skill the pool has."""

from __future__ import annotations

import pytest

from placement.cat import check_blueprint
from placement.errors import BlueprintUnsatisfiable, InvalidRules
from placement.irt import Pool
from placement.rules import blueprint_gaps, default_rules, rules_for_pool

from .conftest import make_pool


def test_a_cir_bank_gets_the_cir_rules(pool: Pool) -> None:
    cir = default_rules()
    rules, notes = rules_for_pool(pool)
    assert rules.sections == cir.sections
    # the non-readers' own sections, within the items marked for them (a few EO here)
    assert [s.skill for s in rules.non_reader_sections] == ["CO", "EO"]
    for own, theirs in zip(rules.non_reader_sections, cir.non_reader_sections, strict=True):
        marked = sum(
            bool(ok) and skill == own.skill
            for skill, ok in zip(pool.skills, pool.non_reader, strict=True)
        )
        assert own.max_items == min(theirs.max_items, marked)
    assert rules.stopping == cir.stopping
    assert set(rules.themes.names) == set(cir.themes.names)
    assert all("non-lecteurs" in n for n in notes)
    assert blueprint_gaps(pool, cir) == []


def test_sections_follow_the_skills_present_and_shorten_to_the_pool() -> None:
    pool = make_pool({"EE": 3, "CE": 30}, seed=3)
    relabelled = Pool.create(
        [*pool.ids, "X-1", "X-2"],
        a=[*pool.a, 1.0, 1.2],
        b=[*pool.b, 0.0, 0.5],
        models=[*pool.models, "2PL", "2PL"],
        skills=[*pool.skills, "LECTURE", "LECTURE"],
        themes=[*pool.themes, "", ""],
        thresholds=[list(t[t == t]) for t in pool.thresholds] + [[], []],
    )
    rules, notes = rules_for_pool(relabelled)
    assert [(s.skill, s.min_items, s.max_items) for s in rules.sections] == [
        ("CE", 8, 12),  # the CIR order and lengths
        ("EE", 2, 3),  # CIR 2-4, the pool has 3
        ("LECTURE", 2, 2),  # a skill of its own: 8-12 by default, the pool has 2
    ]
    assert any(n.startswith("section EE : 3 item(s)") for n in notes)
    assert any("cut_scores: {LECTURE:" in n for n in notes)
    check_blueprint(relabelled, rules)  # the engine accepts them


def test_items_per_section_make_a_fixed_length_test() -> None:
    pool = make_pool({"CE": 30}, seed=4)
    rules, _ = rules_for_pool(pool, items=20)
    (section,) = rules.sections
    assert (section.min_items, section.max_items) == (20, 20)
    assert rules.stopping.se_target is None
    assert rules.stopping.time_limit_s is None
    assert rules.stopping.classification.method == "none"
    with pytest.raises(InvalidRules, match="--items"):
        rules_for_pool(pool, items=0)


def test_the_non_readers_own_sections_shorten_to_their_items() -> None:
    pool = make_pool({"CO": 40, "CE": 30, "EO": 30}, seed=6, non_reader_share=0.25)
    marked = {s: int(sum(pool.non_reader[i] for i, k in enumerate(pool.skills) if k == s))
              for s in ("CO", "EO")}  # fmt: skip
    cir = default_rules()
    rules, notes = rules_for_pool(pool)
    own = {s.skill: s for s in cir.non_reader_sections}
    for section in rules.non_reader_sections:
        assert section.max_items == min(own[section.skill].max_items, marked[section.skill])
    short = [s for s in ("CO", "EO") if own[s].max_items > marked[s]]
    assert short, "the pool should be too small for one override at least"
    assert all(any(n.startswith(f"section {s} des non-lecteurs") for n in notes) for s in short)
    # a fixed length test has none: every section gives its N items on both paths
    fixed, _ = rules_for_pool(pool, items=5)
    assert fixed.non_reader_sections == ()
    assert [s.max_items for s in fixed.path_sections(non_reader=True)] == [5, 5]
    # a bank without EO keeps the CO override only
    listening, _ = rules_for_pool(make_pool({"CO": 60}, seed=7, non_reader_share=1.0))
    assert [s.skill for s in listening.non_reader_sections] == ["CO"]


def test_a_pool_of_pretest_items_only_is_refused() -> None:
    pool = make_pool({"CE": 0}, seed=5, pretest=4)
    with pytest.raises(BlueprintUnsatisfiable, match="aucun item opérationnel"):
        rules_for_pool(pool)


def test_a_skill_of_pretest_items_only_is_said_to_get_no_section() -> None:
    pool = make_pool({"CE": 30, "EE": 0}, seed=5, pretest=3)
    rules, notes = rules_for_pool(pool)
    assert [s.skill for s in rules.sections] == ["CE"]
    assert (
        "compétence EE : aucun item opérationnel (3 en prétest) : pas de section, elle n'est pas "
        "simulée" in notes
    )


def test_a_skill_written_in_lower_case_is_pointed_at_the_cir_skill() -> None:
    pool = make_pool({"CE": 30}, seed=6)
    lower = Pool.create(
        list(pool.ids),
        a=list(pool.a),
        b=list(pool.b),
        models=list(pool.models),
        skills=["ce"] * len(pool),
        themes=list(pool.themes),
    )
    _, notes = rules_for_pool(lower)
    assert any("« ce » est-il « CE » ?" in n for n in notes), notes


def test_a_bank_that_fills_the_blueprint_keeps_the_rules_version() -> None:
    """A release's exposure control is fitted for a rules version: a bank the rules fit as they
    are keeps that version (so the fit still applies); one they were adapted to says how."""
    base = default_rules()
    full = make_pool({"CO": 80, "CE": 60, "EO": 30, "EE": 20}, seed=2, non_reader_share=1.0)
    rules, _notes = rules_for_pool(full, base)
    assert rules.sections == base.sections
    assert rules.version == base.version
    small = make_pool({"CO": 5}, seed=2)
    adapted, _notes = rules_for_pool(small, base)
    assert adapted.version.startswith(base.version)
    assert adapted.version != base.version
