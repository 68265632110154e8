"""Scoring of spoken answers from transcripts: when to trust them, when to ask the auditeur."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from audio.intake import check_recording
from audio.transcribe import Transcript, get_transcriber
from itembank.model import Item, Rubric, RubricElement, RubricLevel
from placement.scoring import (
    AUTO_MIN_CONFIDENCE,
    element_hypotheses,
    heard_as_foreign,
    heard_as_french,
    phrase_hypotheses,
    score_recording,
    score_transcript,
)
from placement.scoring.scorer import LANGUAGE_CONFIDENCE_MIN
from tests.speech import speak

MakeTranscript = Callable[..., Transcript]
SURE = 0.95


def sure(text: str) -> list[tuple[str, float]]:
    return [(w, SURE) for w in text.split()]


def test_a_confident_transcript_with_number_words_is_scored_automatically(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    transcript = make_transcript(
        sure("Bonjour, je m'appelle Amina, j'ai trente-deux ans, je viens du Maroc.")
    )
    result = score_transcript(introduce, transcript)
    assert (result.score, result.needs_review) == (3, False)
    assert result.scorer == "speech"


def test_fillers_and_small_misrecognitions(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    transcript = make_transcript(
        sure("Euh bonjour, euh, je m'apelle Karim, euh j'ai quarante ans, je suis né à Bamako.")
    )
    result = score_transcript(introduce, transcript)
    assert set(result.found) == {"salutation", "nom", "age", "pays"}
    assert (result.score, result.needs_review) == (3, False)


def test_a_doubtful_deciding_word_sends_the_answer_to_review(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    words = sure("Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc.")
    words[5] = ("trente", 0.2)  # the age rests on a word the model barely heard
    result = score_transcript(introduce, make_transcript(words))
    assert result.score == 3
    assert result.needs_review
    assert "low_confidence" in result.flags
    assert any("mots peu sûrs" in r and "30" in r for r in result.reasons)


def test_a_doubtful_word_with_slack_does_not_matter(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    # two elements are enough for 2; losing the doubtful "bonjour" still leaves two
    words = [("Bonjour,", 0.3), *sure("j'ai trente ans, je viens du Maroc. C'est tout.")]
    result = score_transcript(introduce, make_transcript(words))
    assert result.score == 2
    assert "low_confidence" not in result.flags


def test_failed_transcription_reaches_the_review_queue(introduce: Item) -> None:
    failed = Transcript.failure("model_error", duration_s=4.0, model_name="whisper-base")
    result = score_transcript(introduce, failed)
    assert result.needs_review
    assert result.score == 0
    assert "transcription_failed" in result.flags
    assert result.reasons == ("La transcription a échoué : à écouter et noter par l'auditeur.",)


def test_a_loop_is_a_failed_transcription(introduce: Item, make_transcript: MakeTranscript) -> None:
    loop = make_transcript(sure("Bonjour je t'en t'en t'en t'en t'en"), flags=("loop", "failed"))
    assert score_transcript(introduce, loop).needs_review


def test_another_language_heard_with_confidence_is_level_0(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    text = "Hello, my name is John and I am from London."
    english = make_transcript(sure(text), flags=("not_french",), language_p=0.01)
    assert heard_as_foreign(english)
    result = score_transcript(introduce, english)
    assert (result.score, result.needs_review) == (0, False)
    assert "not_french" in result.flags
    # heard without confidence: the auditeur listens
    unsure = make_transcript([(w, 0.4) for w in text.split()], flags=("not_french",))
    assert not heard_as_foreign(unsure)
    assert score_transcript(introduce, unsure).needs_review
    assert "not_french" in score_transcript(introduce, unsure).flags
    # the language identification must agree: French speech is never scored 0 on its words
    heard_french = score_transcript(introduce, make_transcript(sure(text)))
    assert "not_french" not in heard_french.flags


def test_a_foreign_word_among_french_ones_is_not_another_language(
    make_transcript: MakeTranscript,
) -> None:
    mixed = sure("Bonjour, my name is John, je viens de Londres.")
    assert not heard_as_foreign(make_transcript(mixed, flags=("not_french",)))
    assert not heard_as_foreign(make_transcript(sure("Je prends le bus."), flags=("not_french",)))


def test_an_uncertain_transcript_below_the_maximum_goes_to_review(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    words = [*sure("Bonjour,"), ("je", 0.4), ("manger", 0.3), ("le", 0.4), ("médio", 0.2)]
    result = score_transcript(introduce, make_transcript(words))
    assert result.score == 1
    assert result.needs_review
    assert "uncertain_transcript" in result.flags


def test_phrase_scores_can_send_to_review_but_never_auto_score(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    # a confident transcript that misses the name: automatic 1 without audio evidence
    transcript = make_transcript(sure("Bonjour, voilà mes papiers pour la préfecture."))
    hypotheses = element_hypotheses(introduce, transcript)
    # salutation is found; "j'ai {number} ans" has no number to put in, so no hypothesis
    assert set(hypotheses) == {"nom", "pays"}
    assert phrase_hypotheses(introduce, transcript)[0] == transcript.text
    unlikely = {transcript.text: -10.0, **dict.fromkeys(hypotheses.values(), -25.0)}
    assert score_transcript(introduce, transcript, unlikely).needs_review is False
    # the audio fits "je m'appelle ..." about as well as the transcript: review
    likely = {**unlikely, hypotheses["nom"]: -11.0}
    result = score_transcript(introduce, transcript, likely)
    assert result.score == 1
    assert result.needs_review
    assert "audio_supports_missing" in result.flags
    assert any("dit son nom" in r for r in result.reasons)
    # a poor transcript stays in review however unlikely the audio makes the missing elements
    poor = make_transcript([*sure("Bonjour,"), ("je", 0.4), ("manger", 0.3), ("le", 0.4)])
    ruled_out = {
        poor.text: -10.0,
        **dict.fromkeys(element_hypotheses(introduce, poor).values(), -40.0),
    }
    assert score_transcript(introduce, poor, ruled_out).needs_review


def test_hypotheses_put_the_variant_where_the_transcript_resembles_it(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    transcript = make_transcript(sure("Bonjour, je ma pelle Amina."))
    hypotheses = element_hypotheses(introduce, transcript)
    assert hypotheses["nom"] == "Bonjour, je m'appelle Amina."
    # the replaced words keep their capital and their punctuation
    assert element_hypotheses(introduce, make_transcript(sure("Je vi de Tunis.")))["pays"] == (
        "Je viens de Tunis."
    )
    assert element_hypotheses(introduce, make_transcript(sure("Oui, je, vi de.")))["pays"] == (
        "Oui, je viens de."
    )


@pytest.mark.slow
def test_a_real_recording_is_auto_scored_only_on_what_the_rules_allow(
    introduce: Item, tmp_path: Path
) -> None:
    wav = speak(
        "Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc.",
        tmp_path / "amina.wav",
        voice="fr-fr+f2",
        speed=130,
    )
    recording = check_recording(wav.read_bytes())
    scored = score_recording(introduce, recording, get_transcriber())
    transcript, result = scored.transcript, scored.result
    assert transcript.model_name == "whisper-base"
    assert 0 <= result.score <= result.max_score
    if scored.phrase_scores:
        assert transcript.text in scored.phrase_scores
    assert scored.to_dict()["result"] == result.to_dict()
    # whatever the model heard: an automatic score below the maximum needs a confident,
    # whole transcript; a failed, cut or foreign-sounding one below it is always reviewed
    if not result.needs_review and result.score < result.max_score:
        assert transcript.confidence >= AUTO_MIN_CONFIDENCE
        assert not {"truncated", "failed", "not_french"} & set(transcript.flags)
    if {"failed", "truncated"} & set(transcript.flags) and result.score < result.max_score:
        assert result.needs_review


def test_an_uncertain_transcript_goes_to_review_even_when_one_element_would_not_raise_it(
    make_item: Callable[..., Item], make_transcript: MakeTranscript
) -> None:
    # level 2 needs three elements: the recogniser may have missed two of them at once
    rubric = Rubric(
        max_score=2,
        elements=(
            RubricElement("salutation", "salue", variants=("bonjour",)),
            RubricElement("symptome", "dit qu'il tousse", variants=("je tousse",)),
            RubricElement("demande", "demande", variants=("vous avez",)),
        ),
        levels=(
            RubricLevel(0, "Rien."),
            RubricLevel(1, "Un élément.", min_elements=1),
            RubricLevel(2, "Tout.", min_elements=3, requires=("symptome",)),
        ),
    )
    item = make_item(rubric=rubric)
    heard = [("Bonjour,", 0.94), ("je", 0.5), ("te", 0.14), ("souhaite", 0.58), ("une", 0.3)]
    result = score_transcript(item, make_transcript(heard))
    assert result.score == 1
    assert result.needs_review
    assert "uncertain_transcript" in result.flags
    confident = make_transcript(sure("Bonjour, je vous souhaite une bonne journée."))
    assert score_transcript(item, confident).needs_review is False


def test_a_truncated_transcript_below_the_maximum_goes_to_review(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    cut = make_transcript(sure("Bonjour, je m'appelle Amina, j'ai"), flags=("truncated",))
    result = score_transcript(introduce, cut)
    assert result.needs_review
    assert "truncated" in result.flags
    assert any("la fin de la réponse" in r for r in result.reasons)
    # at the maximum nothing was lost that could raise it
    whole = make_transcript(
        sure("Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc."),
        flags=("truncated",),
    )
    assert score_transcript(introduce, whole).needs_review is False


def test_an_element_in_the_n_best_and_supported_by_the_audio_is_credited(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    heard = make_transcript(sure("Bonjour, je ma pelle Amina."))
    heard = dataclasses.replace(heard, alternatives=("Bonjour, je m'appelle Amina.",))
    hypotheses = element_hypotheses(introduce, heard)
    scores = {heard.text: -10.0, **dict.fromkeys(hypotheses.values(), -30.0)}
    # in the n-best but not supported by the audio: reviewed, not credited
    doubtful = score_transcript(introduce, heard, scores)
    assert doubtful.score == 1
    assert doubtful.needs_review
    assert "audio_supports_missing" in doubtful.flags
    # in the n-best and supported: credited (the provisional score rises), still reviewed
    scores[hypotheses["nom"]] = -10.5
    credited = score_transcript(introduce, heard, scores)
    assert credited.score == 2
    assert "nom" in credited.found
    assert credited.needs_review
    assert "credited_from_audio" in credited.flags
    # the transcription never lowers the score of what the text itself reaches
    assert credited.score >= score_transcript(introduce, heard).score


def test_confident_french_words_outweigh_a_doubtful_language_id(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    french = sure("Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc.")
    doubted = make_transcript(french, flags=("not_french",), language_p=0.1)
    assert heard_as_french(doubted)
    result = score_transcript(introduce, doubted)
    assert (result.score, result.needs_review) == (3, False)
    # below the top too: the language is no longer in doubt, the other rules decide
    lower = make_transcript(sure("Bonjour, je m'appelle Amina."), flags=("not_french",))
    assert "not_french" not in score_transcript(introduce, lower).flags


def test_french_words_heard_without_confidence_do_not_outweigh_it(
    introduce: Item, make_transcript: MakeTranscript
) -> None:
    # forced French decoding translates foreign speech: fluent French, heard without confidence
    text = "Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc."
    # every word above DECIDING_WORD_MIN: the top level holds on its words, as it did before
    translated = [(w, 0.55) for w in text.split()]
    doubted = make_transcript(translated, flags=("not_french",), language_p=0.05)
    assert doubted.confidence < LANGUAGE_CONFIDENCE_MIN
    assert not heard_as_french(doubted)
    result = score_transcript(introduce, doubted)
    assert result.needs_review
    assert "not_french" in result.flags
    # the same words with a confident language identification: the doubt was the language's
    assert "not_french" not in score_transcript(introduce, make_transcript(translated)).flags


def test_heard_as_french_needs_french_words_and_confidence(
    make_transcript: MakeTranscript,
) -> None:
    assert heard_as_french(make_transcript(sure("Je prends le bus pour aller au travail.")))
    assert not heard_as_french(make_transcript(sure("My name is John and I live here.")))
    assert not heard_as_french(make_transcript(sure("Me llamo Carlos y soy de Colombia.")))
    low = [(w, LANGUAGE_CONFIDENCE_MIN - 0.01) for w in ["Je", "prends", "le", "bus"]]
    assert not heard_as_french(make_transcript(low))
    at = [(w, LANGUAGE_CONFIDENCE_MIN) for w in ["Je", "prends", "le", "bus"]]
    assert heard_as_french(make_transcript(at))
    assert not heard_as_french(make_transcript([]))
