"""Levels, the global estimate, and the CIR 2016 and 2019 policies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scipy.stats import norm

from placement.errors import InvalidPolicy
from placement.irt import Estimate
from placement.levels import (
    LEVELS,
    assess,
    available_policies,
    combine,
    decide,
    level_of,
    level_probabilities,
    load_policy,
)

from .conftest import CUTS

CO_CUTS = CUTS["CO"]


def all_skills(theta: float, se: float = 0.25) -> dict[str, Estimate]:
    return {s: Estimate(theta, se) for s in ("CO", "CE", "EO", "EE")}


def test_level_of_uses_the_band_containing_theta() -> None:
    assert level_of(-2.0, CO_CUTS) == "pré-A1"
    assert level_of(-1.5, CO_CUTS) == "A1.1"  # a cut belongs to the level it opens
    assert level_of(-0.5, CO_CUTS) == "A1"
    assert level_of(0.0, CO_CUTS) == "A1"
    assert level_of(1.0, CO_CUTS) == "A2"
    assert level_of(3.0, CO_CUTS) == "B1"


def test_level_probabilities_are_normal_band_masses() -> None:
    probs = level_probabilities(-0.4, 0.3, CO_CUTS)
    assert list(probs) == list(LEVELS)
    assert sum(probs.values()) == pytest.approx(1.0)
    expected_a1 = norm.cdf((0.6 + 0.4) / 0.3) - norm.cdf((-0.5 + 0.4) / 0.3)
    assert probs["A1"] == pytest.approx(expected_a1)
    assert level_probabilities(0.0, 0.0, CO_CUTS)["A1"] == 1.0
    with pytest.raises(InvalidPolicy, match="seuil\\(s\\) manquant"):
        level_probabilities(0.0, 0.3, {"A1": 0.0})
    with pytest.raises(InvalidPolicy, match="croître"):
        level_probabilities(0.0, 0.3, {"A1.1": 0.0, "A1": -1.0, "A2": 1.0, "B1": 2.0})


def test_global_estimate_is_the_weighted_mean_of_theta_and_cuts() -> None:
    cuts = {"CO": CO_CUTS, "CE": {k: v + 1.0 for k, v in CO_CUTS.items()}}
    result = combine({"CO": Estimate(0.0, 0.3), "CE": Estimate(1.0, 0.4)}, cuts, {"CO": 1, "CE": 3})
    assert result is not None
    estimate, global_cuts = result
    assert estimate.theta == pytest.approx(0.75)
    assert estimate.se == pytest.approx((0.3**2 + (3 * 0.4) ** 2) ** 0.5 / 4)
    assert global_cuts["A1"] == pytest.approx(-0.5 + 0.75)
    assert combine({"CO": None}, cuts, {"CO": 1}) is None


@pytest.mark.parametrize(
    ("policy", "theta", "kind", "hours"),
    [
        ("cir-2016", 0.2, "dispense", 0),
        ("cir-2016", -1.0, "prescription", 50),
        ("cir-2016", -2.0, "prescription", 100),
        ("cir-2016", -3.0, "prescription", 200),
        ("cir-2019", 0.2, "dispense", 0),
        ("cir-2019", -1.0, "prescription", 100),
        ("cir-2019", -2.0, "prescription", 200),
        ("cir-2019", -3.0, "prescription", 400),
    ],
)
def test_policy_bands(policy, theta, kind, hours) -> None:
    decision = assess(all_skills(theta), CUTS, policy).decision
    assert decision.kind == kind
    assert decision.hours == hours
    assert decision.policy.startswith(policy)
    assert decision.reasons  # French reasons for the auditeur
    assert f"{hours} heures" in decision.text or kind == "dispense"


def test_one_skill_below_a1_prevents_the_dispense() -> None:
    estimates = all_skills(0.5) | {"EE": Estimate(-0.8, 0.3)}
    assessment = assess(estimates, CUTS, "cir-2016")
    assert assessment.decision.kind == "prescription"
    assert assessment.global_level is not None
    assert assessment.global_level.level == "A1"  # the global level is A1 ...
    assert assessment.decision.hours == 50  # ... so the smallest band applies
    assert any("Expression écrite" in r for r in assessment.decision.reasons)


def test_dispensed_candidates_are_offered_the_optional_trainings() -> None:
    a1 = assess(all_skills(0.0), CUTS, "cir-2016").decision
    assert [t.target for t in a1.optional_trainings] == ["A2", "B1"]
    strong = assess(all_skills(2.5), CUTS, "cir-2016").decision
    assert strong.kind == "dispense"
    assert strong.optional_trainings == ()


@pytest.mark.parametrize(("policy", "hours"), [("cir-2016", 200), ("cir-2019", 600)])
def test_non_reader_rule(policy, hours) -> None:
    estimates = {"CO": Estimate(1.0, 0.3), "EO": Estimate(1.0, 0.3), "CE": None, "EE": None}
    assessment = assess(estimates, CUTS, policy, non_reader=True)
    assert assessment.skills["CE"] is None
    assert assessment.skills["EE"] is None
    assert assessment.decision.kind == "prescription"
    assert assessment.decision.hours == hours
    assert any("non-lecteur" in r for r in assessment.decision.reasons)


def test_a_reader_with_a_skill_not_assessed_is_not_dispensed() -> None:
    estimates = all_skills(1.0) | {"EO": None}
    decision = assess(estimates, CUTS, "cir-2016").decision
    assert decision.kind == "prescription"
    assert any("non évaluée" in r for r in decision.reasons)


def test_assessment_is_json_serialisable() -> None:
    text = json.dumps(assess(all_skills(-0.7), CUTS).to_dict(), ensure_ascii=False)
    back = json.loads(text)
    assert back["decision"]["kind"] == "prescription"
    assert set(back["skills"]) == {"CO", "CE", "EO", "EE"}


def test_policies_are_data(tmp_path) -> None:
    assert {"cir-2016", "cir-2019"} <= set(available_policies())
    p16, p19 = load_policy("cir-2016"), load_policy("cir-2019")
    assert [b.hours for b in p16.bands] == [50, 100, 200]
    assert [b.hours for b in p19.bands] == [100, 200, 400]
    # a change of law is a change of file: a custom policy with other hours works as is
    text = Path(p16.source).read_text(encoding="utf-8")
    custom = tmp_path / "custom.yaml"
    custom.write_text(text.replace("hours: 50,", "hours: 80,").replace("name: cir-2016", "name: x"))
    assert assess(all_skills(-1.0), CUTS, load_policy(custom)).decision.hours == 80


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nversion: 1\n", "clé 'dispense' manquante"),
        ("- a\n- b\n", "table de clés"),
        ("name: [unclosed\n", "politique illisible : YAML invalide, ligne 2"),
    ],
)
def test_bad_policies_are_refused(tmp_path, text, message) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InvalidPolicy, match=message):
        load_policy(path)
    with pytest.raises(InvalidPolicy, match="politique inconnue 'cir-1999'"):
        load_policy("cir-1999")


def test_decide_needs_the_global_level_for_a_band() -> None:
    policy = load_policy()
    with pytest.raises(InvalidPolicy, match="global level"):
        decide(policy, {"CO": assess(all_skills(-1.0), CUTS).skills["CO"]}, False)


@pytest.mark.parametrize("name", ["cir-2016", "cir-2019"])
def test_retained_levels_give_the_policy_decision(name: str) -> None:
    from placement.levels import reassess

    policy = load_policy(name)
    bands = [b.hours for b in policy.bands]
    low = all_skills(-3.5)  # every skill far below the débutant cut: the last band
    machine = reassess(low, CUTS, {}, policy)
    assert machine.decision == assess(low, CUTS, policy).decision  # nothing retained: the same
    assert machine.decision.hours == bands[-1]
    # the global level retained at A1.1: the first band, whatever θ said
    first = reassess(low, CUTS, {"global": "A1.1"}, policy)
    assert (first.decision.kind, first.decision.hours, first.decision.rule) == (
        "prescription",
        bands[0],
        "band",
    )
    assert any("retenu par l'auditeur" in r for r in first.decision.reasons)
    # retained pré-A1 keeps the machine's θ inside the band: above the débutant cut stays so
    high = all_skills(-1.2)  # A1.1 in every skill: first band
    assert reassess(high, CUTS, {"global": "pré-A1"}, policy).decision.hours == bands[1]
    assert reassess(low, CUTS, {"global": "pré-A1"}, policy).decision.hours == bands[2]
    # every skill retained at A1: a dispense with the optional trainings still open
    dispense = reassess(low, CUTS, dict.fromkeys(("CO", "CE", "EO", "EE"), "A1"), policy)
    assert (dispense.decision.kind, dispense.decision.hours) == ("dispense", 0)
    assert dispense.decision.rule == "dispense"
    assert {t.target for t in dispense.decision.optional_trainings} == {"A2", "B1"}
    # one skill retained below: a prescription again
    one_below = reassess(all_skills(0.0), CUTS, {"EO": "A1.1"}, policy)
    assert one_below.decision.kind == "prescription"
    # a non-reader: the policy's own rule, whatever is retained
    reader_rule = reassess(all_skills(0.0), CUTS, {"global": "A2"}, policy, non_reader=True)
    assert (reader_rule.decision.hours, reader_rule.decision.rule) == (
        policy.non_reader_hours,
        "non_reader",
    )
    with pytest.raises(InvalidPolicy, match="niveau CECR"):
        reassess(low, CUTS, {"CO": "C2"}, policy)


def test_french_numbers_and_office_times() -> None:
    from datetime import UTC, datetime

    from placement import formatting

    assert formatting.number(-0.5) == "−0,50"
    assert formatting.number(0.523, 1) == "0,5"
    assert formatting.number(None) == "—"
    assert formatting.number(float("inf")) == "—"
    assert formatting.percent(0.623) == "62\xa0%"
    assert formatting.duration(3.14) == "3,1 s"
    assert formatting.duration(75) == "1 min 15 s"
    summer = datetime(2026, 7, 1, 9, 27, tzinfo=UTC)
    winter = datetime(2026, 12, 7, 23, 30, tzinfo=UTC).replace(tzinfo=None)  # as SQLite: naive
    assert formatting.clock(summer) == "11:27"
    assert formatting.date_time(winter) == "08/12/2026 à 00:30"
    assert formatting.day(winter, "America/Cayenne") == "07/12/2026"
    assert formatting.clock(None) == "—"
