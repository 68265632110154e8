"""Scoring of typed answers and the matching rules of itembank/FORMAT.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from itembank.model import Item, ModelAnswer, Rubric, RubricElement, RubricLevel
from itembank.sources import item_files, item_from_data, load_yaml
from placement.scoring import (
    BadAnswer,
    NotScorable,
    check_model_answers,
    score_answer,
)
from placement.scoring.forms import check_date, check_phone
from placement.scoring.text import language_flags, normalise

BANK = Path(__file__).resolve().parents[2] / "itembank" / "bank"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("J'ai trente-deux ans.", ("j", "ai", "32", "ans")),
        ("Euh… ben, j’habite à Créteil, hein", ("j", "habite", "a", "creteil")),
        ("Mon numéro : zéro six, douze", ("mon", "numero", "06", "12")),
        ("Rendez-vous à huit heures", ("rendez", "vous", "a", "8", "heures")),
        ("L'ŒUF", ("l", "oeuf")),
        ("j'ai {number} ans", ("j", "ai", "{number}", "ans")),
        ("Je m'appelle… hmm, mmh, j'ai eu", ("je", "m", "appelle", "j", "ai", "eu")),
    ],
)
def test_normalisation(text: str, tokens: tuple[str, ...]) -> None:
    assert normalise(text) == tokens


def test_format_example_scores_as_its_model_answers(introduce: Item) -> None:
    assert check_model_answers(introduce) == []
    full = score_answer(
        introduce, {"text": "Bonjour, je m'appelle Amina, j'ai 30 ans, je viens du Maroc."}
    )
    assert (full.score, full.needs_review) == (3, False)
    assert set(full.found) == {"salutation", "nom", "age", "pays"}
    assert any("dit son âge" in r and "30" in r for r in full.reasons)


def test_number_words_fillers_and_elisions(introduce: Item) -> None:
    result = score_answer(
        introduce, {"text": "euh… moi c'est Karim, euh, j'ai vingt-deux ans, je suis du Mali"}
    )
    assert set(result.found) == {"nom", "age", "pays"}
    assert result.score == 2  # level 3 needs four elements
    assert "salutation" in result.missing
    assert any(r.startswith("Manquant : salue") for r in result.reasons)


def test_small_misspellings_are_forgiven_but_not_other_words(
    make_item: Callable[..., Item],
) -> None:
    rubric = Rubric(
        max_score=1,
        elements=(
            RubricElement("rdv", "demande un rendez-vous", variants=("un rendez-vous",)),
            RubricElement("medecin", "le médecin", variants=("médecin",)),
        ),
        levels=(RubricLevel(0, "Rien."), RubricLevel(1, "Les deux.", min_elements=2)),
    )
    item = make_item(type="write_message", rubric=rubric)
    assert score_answer(item, {"text": "Je veux un rendevous avec le medcin"}).score == 1
    assert score_answer(item, {"text": "je veux un rendezvous chez le médecin"}).score == 1
    # a different short word is not a misspelling ("puis" is not "suis")
    assert score_answer(item, {"text": "je veux un rendez-vous chez le maçon"}).score == 0


def test_off_topic_and_min_words(introduce: Item) -> None:
    off = score_answer(introduce, {"text": "Euh… je ne sais pas."})
    assert off.score == 0
    assert off.reasons[0].startswith("Réponse hors sujet")
    assert introduce.rubric is not None
    two_words = replace(introduce, rubric=replace(introduce.rubric, min_words=2))
    short = score_answer(two_words, {"text": "Bonjour"})
    assert short.score == 0
    assert short.reasons[0] == "Réponse trop courte (moins de 2 mots)."
    assert score_answer(two_words, {"text": "Bonjour madame"}).score == 1


def test_requires_caps_the_level(introduce: Item) -> None:
    # four elements' worth of content but no name: level 3 requires "nom"
    result = score_answer(
        introduce, {"text": "Bonjour, j'ai 30 ans, je viens du Sénégal, je suis née à Dakar"}
    )
    assert set(result.found) == {"salutation", "age", "pays"}
    assert result.score == 2


def test_another_language_scores_the_rubrics_zero(introduce: Item) -> None:
    # level 0 is "pas en français": plainly another language is scored 0 without review
    english = score_answer(introduce, {"text": "Hello, my name is John and I am from Ghana"})
    assert (english.score, english.needs_review) == (0, False)
    assert "not_french" in english.flags
    arabic = score_answer(introduce, {"text": "مرحبا اسمي أمينة"})
    assert (arabic.score, arabic.needs_review) == (0, False)
    # some French among the foreign words: the auditeur confirms
    mixed = score_answer(introduce, {"text": "Hello, thank you, you know, je suis John"})
    assert mixed.needs_review
    assert "not_french" in mixed.flags
    # the scorer before the language analysis kept the rubric's score and asked for a review
    legacy = score_answer(
        introduce, {"text": "Hello, my name is John and I am from Ghana"}, analysis=False
    )
    assert legacy.needs_review
    assert language_flags("Bonjour, je m'appelle Amina et je viens du Maroc") == ()


def test_near_miss_on_a_level_boundary_goes_to_review(introduce: Item) -> None:
    # "je m'apelle" is one edit away; "je ma pelle Amina" is a near miss only
    result = score_answer(introduce, {"text": "Bonjour, je ma pel Amina"})
    assert result.score == 1
    assert result.needs_review
    assert "borderline" in result.flags


def test_choice(choice_item: Item) -> None:
    assert score_answer(choice_item, {"choice": "b"}).score == 1
    wrong = score_answer(choice_item, {"choice": "a"})
    assert (wrong.score, wrong.max_score, wrong.needs_review) == (0, 1, False)
    with pytest.raises(BadAnswer):
        score_answer(choice_item, {"choice": "z"})
    with pytest.raises(BadAnswer):
        score_answer(choice_item, {"text": "b"})


def test_gap_fill_with_typo_tolerance(make_item: Callable[..., Item]) -> None:
    item = make_item(type="gap_fill", skill="CE", accepted=("vendredi",))
    assert score_answer(item, {"text": " Vendredi. "}).score == 1
    typo = score_answer(item, {"text": "vendedi"})
    assert typo.score == 1
    assert "typo" in typo.flags
    assert score_answer(item, {"text": "samedi"}).score == 0
    strict = make_item(type="gap_fill", skill="CE", accepted=("vendredi",), typo_tolerance=0)
    assert score_answer(strict, {"text": "vendedi"}).score == 0
    with pytest.raises(NotScorable):
        score_answer(make_item(type="gap_fill", skill="CE"), {"text": "x"})


def test_form_fields_are_checked(form_item: Item) -> None:
    good = {
        "nom": "Diallo",
        "date_naissance": "12 mars 1990",
        "telephone": "06 12 34 56 78",
        "code_postal": "94000",
    }
    assert score_answer(form_item, {"fields": good}).score == 2
    half = {**good, "telephone": "12", "code_postal": "940"}
    result = score_answer(form_item, {"fields": half})
    assert result.score == 1
    assert set(result.missing) == {"telephone", "code_postal"}
    assert score_answer(form_item, {"fields": {}}).score == 0
    with pytest.raises(BadAnswer):
        score_answer(form_item, {"text": "Diallo"})


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("31/12/1999", True),
        ("1-2-85", True),
        ("31/02/2000", False),
        ("demain", False),
        ("1er janvier 2001", True),
    ],
)
def test_dates(value: str, ok: bool) -> None:
    assert check_date(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0612345678", True), ("+33 6 12 34 56 78", True), ("06 12 34", False), ("1234567890", False)],
)
def test_phones(value: str, ok: bool) -> None:
    assert check_phone(value) is ok


def test_check_model_answers_reports_a_wrong_rubric(introduce: Item) -> None:
    assert introduce.rubric is not None
    wrong = replace(introduce.rubric, model_answers=(ModelAnswer("Bonjour.", 2),))
    problems = check_model_answers(replace(introduce, rubric=wrong))
    assert problems == ["EO-900: model answer 'Bonjour.' scores 1, not 2"]
    bad_level = replace(
        introduce.rubric,
        levels=(*introduce.rubric.levels[:3], RubricLevel(3, "x", requires=("nope",))),
    )
    assert any(
        "unknown element 'nope'" in p
        for p in check_model_answers(replace(introduce, rubric=bad_level))
    )


def test_every_bundled_production_item_scores_its_model_answers() -> None:
    items = [
        item_from_data(load_yaml(path.read_text(encoding="utf-8")), path)
        for path in item_files(BANK)
    ]
    productions = [i for i in items if i.rubric is not None]
    assert productions, "the bundled bank has EO/EE items with rubrics"
    problems = [p for item in productions for p in check_model_answers(item)]
    assert problems == []
