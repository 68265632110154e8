"""Scores of answers: choices by key, gap fills by accepted answers, productions by rubric.

Speech is scored from a transcript, and a transcript is never trusted blindly: the score is
given automatically only when the words that decide it were heard with confidence and nothing
suggests that the recogniser missed an element that would raise it; every other answer gets the
machine's provisional score with ``needs_review=True`` for the auditeur, who hears the answer.

The rules for speech, in order (each one that applies adds a French reason):

1. a failed transcription (runaway loop, model error), an empty one, or speech the model hears
   as another language: review — unless the transcript itself is evidence of the language:
   French words heard with confidence (:func:`heard_as_french`: the doubt is lifted; forced
   French decoding translates foreign speech, so French words alone are not), or surely foreign
   words heard with confidence (:func:`heard_as_foreign`: level 0, "pas en français", as a typed
   answer in another language is scored);
2. the level must hold on confident words alone: with :math:`F_c` the found elements whose
   matched words all have probability ≥ :data:`DECIDING_WORD_MIN`, review unless
   ``level(F_c) == score``;
3. below the maximum, the score may be an underestimate: review when the transcript reached its
   token budget (``truncated``: the end may be lost), when a missing element that would raise it
   came near (fuzzy similarity ≥ ``NEAR_MISS``), when another hypothesis of the beam (n-best)
   contains it, when phrase scores say the audio supports it (its hypothesis is within
   :data:`SUPPORTED_LLR` nats of the transcript), or whenever the transcript's mean word
   probability is under :data:`AUTO_MIN_CONFIDENCE`. An element both in the n-best and supported
   by the phrase scores is **credited** (the provisional score rises; still reviewed).

No score is lowered by the transcription: what the scorer cannot hear sends the answer to the
auditeur with the machine's provisional score, it is not counted as absent. Phrase scores never
auto-score a low score (letting them *rule out* missing elements was measured on the espeak-ng
set and rejected: 37.5 % exact agreement among the answers it auto-scored).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audio.transcribe import Transcript
from itembank.model import Item, Rubric
from placement.formatting import percent
from placement.scoring.errors import BadAnswer, NotScorable
from placement.scoring.french import TENSE_LABELS, french_word_share
from placement.scoring.rubric import (
    Evaluation,
    Evidence,
    borderline,
    evaluate,
    level_for,
    raising_elements,
)
from placement.scoring.text import (
    NEAR_MISS,
    PLACEHOLDERS,
    _joined_similarity,
    allowed_edits,
    language_flags,
    normalise,
    normalised_text,
    surely_foreign,
)

#: A typed answer's missing element that came this near makes the score borderline (reviewed).
#: Higher than speech's ``NEAR_MISS`` (0.72): with lemmas, the lexicon and sound keys, a typed
#: near miss under it is nearly always another word. Measured on the dev part of
#: ``benchmarks/answers``: 0.72 → 0.78 sends 15.0 % → 10.7 % of answers to review, and 6 of the
#: 18 disagreements still go there instead of 9.
TYPED_NEAR_MISS = 0.78
#: A typed answer with at least this many foreign function words and no French one is scored 0
#: ("pas en français") without review; fewer, and the auditeur confirms.
SURELY_FOREIGN = 3
#: A word that decides a speech score must have at least this probability.
DECIDING_WORD_MIN = 0.5
#: Below this mean word probability a transcript may have missed elements.
AUTO_MIN_CONFIDENCE = 0.7
#: A hypothesis with a missing element within this many nats of the transcript: supported.
SUPPORTED_LLR = -3.0
#: Speech the model's language identification doubts (``not_french``) is decided by its
#: transcript (French forced) only when the transcript has at least this mean word probability:
#: French when it also has :data:`FRENCH_SHARE_MIN` French words, another language when it is
#: surely foreign (as a typed answer: :data:`SURELY_FOREIGN`). Whisper forced to French
#: *translates* foreign speech into French, so French words alone prove nothing; translated or
#: garbled speech is heard without confidence. Chosen on the dev part of
#: ``benchmarks/language_id.py`` (espeak-ng voices: 167 French clips, 57 in English, Spanish,
#: Portuguese, Arabic, Persian, Russian, Turkish, Ukrainian): no foreign clip whose transcript is
#: ≥ 70 % French words has a confidence above 0.547, hence 0.6; the one French clip whose
#: transcript reads as foreign has 0.27, the 8 foreign ones 0.57 to 0.86.
LANGUAGE_CONFIDENCE_MIN = 0.6
FRENCH_SHARE_MIN = 0.7


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A score, why, and whether the auditeur must review it."""

    score: int
    max_score: int
    needs_review: bool
    reasons: tuple[str, ...]  # French, for the auditeur
    found: tuple[str, ...] = ()  # rubric element ids
    missing: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # machine-readable: "not_french", "borderline", "low_confidence"...
    scorer: str = ""  # "key", "accepted", "rubric", "form", "speech"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "needs_review": self.needs_review,
            "reasons": list(self.reasons),
            "found": list(self.found),
            "missing": list(self.missing),
            "flags": list(self.flags),
            "scorer": self.scorer,
        }


def _rubric(item: Item) -> Rubric:
    if item.rubric is None:
        raise NotScorable(f"{item.id} has no rubric")
    return item.rubric


def _labels(rubric: Rubric) -> dict[str, str]:
    return {e.id: e.label for e in rubric.elements}


_ZERO_REASONS = {
    "empty": "Pas de réponse.",
    "min_words": "Réponse trop courte (moins de {n} mots).",
    "off_topic": "Réponse hors sujet (« je ne sais pas » ou équivalent).",
    "not_french": "Réponse écrite dans une autre langue que le français : niveau 0 de la grille.",
}


_HOW = {
    "meaning": " (même sens)",
    "sound": " (orthographe approchée)",
}


def _rubric_reasons(rubric: Rubric, evaluation: Evaluation) -> list[str]:
    labels = _labels(rubric)
    reasons = []
    if evaluation.zero_reason is not None:
        reasons.append(_ZERO_REASONS[evaluation.zero_reason].format(n=rubric.min_words))
    for element_id, evidence in evaluation.found.items():
        if evidence.how == "tense":
            used = ", ".join(TENSE_LABELS.get(t, t) for t in evidence.matched.split(", "))
            reasons.append(f"Trouvé : {labels[element_id]} ({used}).")
            continue
        shown = " ".join(evaluation.tokens[p] for p in evidence.positions) or evidence.matched
        reasons.append(f"Trouvé : {labels[element_id]} (« {shown} »){_HOW.get(evidence.how, '')}.")
    if evaluation.zero_reason is None:
        reasons.extend(f"Manquant : {labels[e]}." for e in evaluation.missing)
        if evaluation.clauses is not None:
            unlimited = level_for(rubric, evaluation.found)
            if unlimited.score > evaluation.score:
                reasons.append(
                    "Mots isolés : le niveau "
                    f"{unlimited.score} demande des phrases (verbes conjugués : "
                    f"{evaluation.clauses}, il en faut {unlimited.min_clauses})."
                )
    reasons.append(f"Niveau {evaluation.score}/{rubric.max_score} : {evaluation.level.descriptor}")
    return reasons


def _borderline_reasons(rubric: Rubric, elements: Sequence[str]) -> list[str]:
    labels = _labels(rubric)
    return [f"À vérifier : presque trouvé, ferait monter la note : {labels[e]}." for e in elements]


def _result(
    rubric: Rubric,
    evaluation: Evaluation,
    *,
    needs_review: bool,
    reasons: Sequence[str],
    flags: Sequence[str],
    scorer: str,
) -> ScoreResult:
    return ScoreResult(
        score=evaluation.score,
        max_score=rubric.max_score,
        needs_review=needs_review,
        reasons=tuple(reasons),
        found=tuple(evaluation.found),
        missing=evaluation.missing,
        flags=tuple(dict.fromkeys(flags)),
        scorer=scorer,
    )


# -- typed answers -----------------------------------------------------------------------------


def _score_choice(item: Item, answer: Mapping[str, Any]) -> ScoreResult:
    if item.key is None:
        raise NotScorable(f"{item.id} has no key")
    choice = answer.get("choice")
    if not isinstance(choice, str):
        raise BadAnswer(f"{item.id} needs {{'choice': id}}, got {dict(answer)!r}")
    known = {c.id for c in item.choices}
    if known and choice not in known:
        raise BadAnswer(f"{item.id} has no choice {choice!r}")
    right = choice == item.key
    reason = "Bonne réponse." if right else f"Mauvaise réponse ({choice}, attendu {item.key})."
    return ScoreResult(int(right), 1, False, (reason,), scorer="key")


def _text(item: Item, answer: Mapping[str, Any]) -> str:
    text = answer.get("text")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadAnswer(f"{item.id} needs {{'text': str}}, got {dict(answer)!r}")
    return text


def _score_gap(item: Item, answer: Mapping[str, Any]) -> ScoreResult:
    if not item.accepted:
        raise NotScorable(f"{item.id} has no accepted answers")
    given_text = normalised_text(_text(item, answer))
    expected_texts = [normalised_text(accepted) for accepted in item.accepted]
    for accepted, expected in zip(item.accepted, expected_texts, strict=True):
        if given_text == expected:
            return ScoreResult(
                1, 1, False, (f"Réponse acceptée (« {accepted} »).",), scorer="accepted"
            )
    from rapidfuzz.distance import Levenshtein

    for accepted, expected in zip(item.accepted, expected_texts, strict=True):
        tolerance = (
            item.typo_tolerance
            if item.typo_tolerance is not None
            else (1 if allowed_edits(expected.replace(" ", "")) > 0 and len(expected) >= 6 else 0)
        )
        if tolerance > 0 and Levenshtein.distance(given_text, expected) <= tolerance:
            return ScoreResult(
                1,
                1,
                False,
                (f"Réponse acceptée avec une faute de frappe (« {accepted} »).",),
                flags=("typo",),
                scorer="accepted",
            )
    shown = given_text or "vide"
    return ScoreResult(0, 1, False, (f"Réponse non acceptée (« {shown} »).",), scorer="accepted")


def _score_form(item: Item, answer: Mapping[str, Any]) -> ScoreResult:
    rubric = _rubric(item)
    fields = answer.get("fields")
    if not isinstance(fields, Mapping):
        raise BadAnswer(f"{item.id} needs {{'fields': {{...}}}}, got {dict(answer)!r}")
    values = {str(k): "" if v is None else str(v) for k, v in fields.items()}
    evaluation = evaluate(rubric, "", fields=values, form=item.form)
    flags = list(language_flags(" ".join(values.values())))
    reasons = _rubric_reasons(rubric, evaluation)
    if flags:
        reasons.append("À vérifier : réponse écrite dans une autre langue que le français.")
    return _result(
        rubric, evaluation, needs_review=bool(flags), reasons=reasons, flags=flags, scorer="form"
    )


def score_text(item: Item, text: str, *, analysis: bool = True) -> ScoreResult:
    """Score a typed production (or a model answer) with the item's rubric.

    ``analysis`` False scores with the literal matcher alone (the benchmark's baseline).
    """
    rubric = _rubric(item)
    evaluation = evaluate(
        rubric, text, analysis=analysis, near_miss=TYPED_NEAR_MISS if analysis else NEAR_MISS
    )
    flags = list(language_flags(text))
    if analysis and "not_french" in flags:
        # the rubric's level 0 is "pas en français": the auditeur confirms (needs_review)
        evaluation = _not_french(rubric, evaluation)
    reasons = _rubric_reasons(rubric, evaluation)
    near = borderline(rubric, evaluation)
    if near and evaluation.zero_reason != "not_french":
        flags.append("borderline")
        reasons += _borderline_reasons(rubric, near)
    sure = analysis and "not_french" in flags and surely_foreign(text, SURELY_FOREIGN)
    if "not_french" in flags and not sure:
        reasons.append("À vérifier : réponse écrite dans une autre langue que le français.")
    needs_review = bool(set(flags) - ({"not_french"} if sure else set()))
    return _result(
        rubric, evaluation, needs_review=needs_review, reasons=reasons, flags=flags, scorer="rubric"
    )


def score_answer(item: Item, answer: Mapping[str, Any], *, analysis: bool = True) -> ScoreResult:
    """Score a stored typed answer: ``{"choice": id}``, ``{"text": str}`` or ``{"fields": {...}}``.

    Raises NotScorable when the item has nothing to score with, BadAnswer when the answer's
    shape does not fit the item's type. Spoken answers go through :func:`score_transcript`
    (a ``{"text": ...}`` answer to a speaking item is scored as if it were a sure transcript).
    """
    mode = item.response_mode
    if mode == "choice":
        return _score_choice(item, answer)
    if mode == "text":
        return _score_gap(item, answer)
    if mode == "form":
        return _score_form(item, answer)
    return score_text(item, _text(item, answer), analysis=analysis)


# -- speech --------------------------------------------------------------------------------


def _word_tokens(transcript: Transcript) -> list[tuple[tuple[str, ...], float]]:
    return [(normalise(w.word), w.probability) for w in transcript.words]


def _token_probabilities(transcript: Transcript, tokens: Sequence[str]) -> list[float | None]:
    """The probability of the transcript word each normalised token came from (None: unknown).

    Tokens are those of the whole text; words are walked in order and matched token by token
    (numbers said over several words become one token and stay unknown, which counts as
    doubtful).
    """
    per_word = _word_tokens(transcript)
    probabilities: list[float | None] = []
    w = 0
    for token in tokens:
        k = w
        while k < len(per_word) and token not in per_word[k][0]:
            k += 1
        if k < len(per_word):
            probabilities.append(per_word[k][1])
            w = k
        else:
            probabilities.append(None)
    return probabilities


def element_hypotheses(
    item: Item, transcript: Transcript, evaluation: Evaluation | None = None
) -> dict[str, str]:
    """For each missing variant-based element: the transcript rewritten to contain it.

    The element's closest variant replaces the window of the transcript that resembles it most
    (placeholders keep the transcript's word), or is appended when the transcript is shorter.
    Scoring these texts against the audio (:meth:`audio.transcribe.Transcriber.phrase_logprobs`)
    tells whether the audio supports the element that the free transcript missed.
    ``evaluation`` is the transcript's, when the caller has it already.
    """
    rubric = _rubric(item)
    if evaluation is None:
        evaluation = evaluate(rubric, transcript.text)
    raw = transcript.text.split()
    flat: list[tuple[str, int]] = [(t, i) for i, word in enumerate(raw) for t in normalise(word)]
    tokens = [t for t, _ in flat]
    hypotheses: dict[str, str] = {}
    for element in rubric.elements:
        if element.id in evaluation.found or not element.variants:
            continue
        best: tuple[float, str, tuple[int, ...]] = (-1.0, element.variants[0], ())
        for variant in element.variants:
            expected = normalise(variant)
            if not expected:
                continue
            similarity, where = _joined_similarity(tokens, expected) if tokens else (0.0, ())
            if similarity > best[0]:
                best = (similarity, variant, where)
        _, variant, where = best
        if where:
            first, last = flat[where[0]][1], flat[where[-1]][1]
            filled, j = [], 0  # j: index of the variant's normalised token at this word
            for word in variant.split():
                if word in PLACEHOLDERS:
                    filled.append(raw[flat[where[j]][1]] if j < len(where) else "")
                else:
                    filled.append(word)
                j += len(normalise(word))
            filled = [w for w in filled if w]
            if filled and raw[first][:1].isupper():
                filled[0] = filled[0][:1].upper() + filled[0][1:]
            tail = raw[last][len(raw[last].rstrip(".,;:!?…")) :]
            if filled and tail and not filled[-1].endswith(tail):
                filled[-1] += tail
            new = [*raw[:first], *filled, *raw[last + 1 :]]
        elif any(w in PLACEHOLDERS for w in normalise(variant)):
            continue  # nothing in the transcript to fill the placeholder with: no hypothesis
        else:
            new = [*raw, *variant.split()]
        text = " ".join(w for w in new if w)
        hypotheses[element.id] = text[:1].upper() + text[1:]
    return hypotheses


def phrase_hypotheses(item: Item, transcript: Transcript) -> list[str]:
    """The phrases to score against the audio: the transcript, then :func:`element_hypotheses`."""
    return list(dict.fromkeys([transcript.text, *element_hypotheses(item, transcript).values()]))


def _audio_support(
    item: Item,
    transcript: Transcript,
    evaluation: Evaluation,
    raising: Sequence[str],
    phrase_scores: Mapping[str, float] | None,
) -> list[str]:
    """Missing elements that the audio supports about as well as the free transcript.

    The log-likelihood ratio of an element is the phrase score of its hypothesis minus that of
    the transcript. Elements without a hypothesis (patterns only, or a placeholder with nothing
    to fill it) are never supported.
    """
    base = (phrase_scores or {}).get(transcript.text)
    if phrase_scores is None or base is None or not raising:
        return []
    hypotheses = element_hypotheses(item, transcript, evaluation)
    return [
        e
        for e in raising
        if e in hypotheses
        and hypotheses[e] in phrase_scores
        and phrase_scores[hypotheses[e]] - base >= SUPPORTED_LLR
    ]


def _nbest_elements(
    rubric: Rubric, transcript: Transcript, evaluation: Evaluation, *, analysis: bool
) -> dict[str, str]:
    """Missing elements that one of the beam's other hypotheses contains: element id -> text."""
    heard: dict[str, str] = {}
    for alternative in transcript.alternatives:
        other = evaluate(rubric, alternative, analysis=analysis)
        for element_id in other.found:
            if element_id in evaluation.missing:
                heard.setdefault(element_id, alternative)
    return heard


def _credit(
    rubric: Rubric, evaluation: Evaluation, credited: Sequence[str], heard: Mapping[str, str]
) -> Evaluation:
    """``evaluation`` with ``credited`` elements found (on the audio's evidence)."""
    elements = {e.id: e for e in rubric.elements}
    found = dict(evaluation.found)
    for element_id in credited:
        found[element_id] = Evidence(elements[element_id], "audio", heard[element_id])
    level = level_for(rubric, found, evaluation.clauses)
    missing = tuple(e for e in evaluation.missing if e not in found)
    return dataclasses.replace(
        evaluation, score=level.score, level=level, found=found, missing=missing
    )


def heard_as_french(transcript: Transcript) -> bool:
    """True when the transcript itself is evidence of French speech: French words heard with
    confidence (:data:`LANGUAGE_CONFIDENCE_MIN`, :data:`FRENCH_SHARE_MIN`), nothing written in
    another language. What outweighs the language identification's doubt (``not_french``)."""
    return (
        transcript.confidence >= LANGUAGE_CONFIDENCE_MIN
        and french_word_share(transcript.text) >= FRENCH_SHARE_MIN
        and not language_flags(transcript.text)
    )


def heard_as_foreign(transcript: Transcript) -> bool:
    """True when the transcript itself is evidence of another language: even forced to French,
    the model wrote surely foreign words (the typed answers' rule) with confidence."""
    return transcript.confidence >= LANGUAGE_CONFIDENCE_MIN and surely_foreign(
        transcript.text, SURELY_FOREIGN
    )


def _not_french(rubric: Rubric, evaluation: Evaluation) -> Evaluation:
    """``evaluation`` at the rubric's level 0, "pas en français" (nothing found counts)."""
    zero = min(rubric.levels, key=lambda lv: lv.score)
    return dataclasses.replace(
        evaluation,
        score=zero.score,
        level=zero,
        found={},
        missing=tuple(e.id for e in rubric.elements),
        zero_reason="not_french",
    )


def score_transcript(
    item: Item,
    transcript: Transcript,
    phrase_scores: Mapping[str, float] | None = None,
    *,
    analysis: bool = True,
) -> ScoreResult:
    """Score a spoken answer from its transcript (and optional phrase log-likelihoods).

    ``phrase_scores`` maps the texts of :func:`phrase_hypotheses` to the log-likelihood the
    speech model gives them on the recording. See the module docstring for when the result
    needs review.
    """
    rubric = _rubric(item)
    labels = _labels(rubric)
    if transcript.failed or "loop" in transcript.flags:
        evaluation = evaluate(rubric, "", analysis=analysis)
        return _result(
            rubric,
            evaluation,
            needs_review=True,
            reasons=["La transcription a échoué : à écouter et noter par l'auditeur."],
            flags=["transcription_failed", *transcript.flags],
            scorer="speech",
        )
    evaluation = evaluate(rubric, transcript.text, analysis=analysis)
    if analysis and "not_french" in transcript.flags and heard_as_foreign(transcript):
        # the language identification and the words agree: level 0 without review, as a typed
        # answer surely in another language
        evaluation = _not_french(rubric, evaluation)
        reason = (
            "Réponse entendue dans une autre langue que le français (mots étrangers reconnus "
            f"avec une confiance de {percent(transcript.confidence)}) : niveau 0 de la grille."
        )
        return _result(
            rubric,
            evaluation,
            needs_review=False,
            reasons=[reason],
            flags=["not_french"],
            scorer="speech",
        )
    reasons = _rubric_reasons(rubric, evaluation)
    flags: list[str] = []
    if not transcript.text.strip():
        flags.append("empty_transcript")
        reasons.append("À vérifier : rien n'a été reconnu dans l'enregistrement.")
    # 2. the level must hold on confident words alone
    probabilities = _token_probabilities(transcript, evaluation.tokens)
    doubtful: dict[str, list[str]] = {}
    for element_id, evidence in evaluation.found.items():
        weak = [
            evaluation.tokens[p]
            for p in evidence.positions
            if (probabilities[p] if p < len(probabilities) else None) is None
            or (probabilities[p] or 0.0) < DECIDING_WORD_MIN
        ]
        if weak:
            doubtful[element_id] = weak
    confident = set(evaluation.found) - set(doubtful)
    holds = level_for(rubric, confident, evaluation.clauses).score == evaluation.score
    if "not_french" in transcript.flags:
        if analysis and heard_as_french(transcript):
            # the language identification doubted, but the model heard French words with a
            # confidence that translated or foreign speech never reached (LANGUAGE_CONFIDENCE_MIN)
            reasons.append(
                "Langue identifiée avec doute par le modèle, mais les mots reconnus sont français "
                f"et sûrs (confiance {percent(transcript.confidence)})."
            )
        else:
            flags.append("not_french")
            reasons.append("À vérifier : la réponse semble être dans une autre langue.")
    if not holds:
        flags.append("low_confidence")
        for element_id, words in doubtful.items():
            reasons.append(
                f"À vérifier : mots peu sûrs pour « {labels[element_id]} » : {', '.join(words)}."
            )

    # 3. could the score be higher than what was recognised?
    uncertain = transcript.confidence < AUTO_MIN_CONFIDENCE
    if evaluation.zero_reason in {"min_words", "off_topic"}:
        if uncertain:
            flags.append("uncertain_transcript")
            reasons.append(
                "À vérifier : transcription incertaine "
                f"(confiance {percent(transcript.confidence)}), la réponse a pu être plus longue."
            )
    elif evaluation.score < rubric.max_score:
        raising = raising_elements(rubric, evaluation, evaluation.missing)
        supported = _audio_support(item, transcript, evaluation, raising, phrase_scores)
        in_nbest = _nbest_elements(rubric, transcript, evaluation, analysis=analysis)
        near = borderline(rubric, evaluation)
        if "truncated" in transcript.flags:
            flags.append("truncated")
            reasons.append(
                "À vérifier : la transcription a atteint sa limite, la fin de la réponse a pu "
                "être perdue."
            )
        if near:
            flags.append("borderline")
            reasons += _borderline_reasons(rubric, near)
        # heard in another hypothesis of the beam AND supported by the audio: credited
        credited = [e for e in evaluation.missing if e in in_nbest and e in supported]
        if credited:
            evaluation = _credit(rubric, evaluation, credited, in_nbest)
            flags.append("credited_from_audio")
            reasons += [
                f"À vérifier : compté d'après l'audio : « {labels[e]} » (entendu dans une autre "
                "hypothèse du modèle, et l'audio le confirme)."
                for e in credited
            ]
            reasons.append(
                f"Niveau {evaluation.score}/{rubric.max_score} avec ces éléments : "
                f"{evaluation.level.descriptor}"
            )
        others = [e for e in dict.fromkeys([*supported, *in_nbest]) if e not in credited]
        others = [e for e in others if e in raising_elements(rubric, evaluation, others)]
        if others:
            flags.append("audio_supports_missing")
            reasons += [
                f"À vérifier : l'audio semble contenir « {labels[e]} », absent de la transcription."
                for e in others
            ]
        # several missed elements together may raise the score even where one alone would not
        if uncertain:
            flags.append("uncertain_transcript")
            reasons.append(
                "À vérifier : transcription incertaine "
                f"(confiance {percent(transcript.confidence)}), "
                "des éléments ont pu être mal reconnus."
            )
    needs_review = bool(flags)
    return _result(
        rubric, evaluation, needs_review=needs_review, reasons=reasons, flags=flags, scorer="speech"
    )


# -- bank checks ---------------------------------------------------------------------------


def check_model_answers(item: Item) -> list[str]:
    """Problems of an item's rubric: model answers it does not score as written, bad references.

    Empty when the rubric is consistent and scores every model answer as its author says.
    """
    problems: list[str] = []
    rubric = item.rubric
    if rubric is None:
        return problems
    ids = [e.id for e in rubric.elements]
    scores = sorted(level.score for level in rubric.levels)
    if scores != list(range(rubric.max_score + 1)):
        problems.append(f"{item.id}: levels {scores} are not 0..{rubric.max_score}")
    for level in rubric.levels:
        problems += [
            f"{item.id}: level {level.score} requires unknown element {r!r}"
            for r in (*level.requires, *level.requires_any)
            if r not in ids
        ]
    fields = {f.id for f in item.form}
    for element in rubric.elements:
        for pattern in element.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{item.id}: element {element.id}: bad pattern {pattern!r}: {exc}")
        if element.field is not None and element.field not in fields:
            problems.append(
                f"{item.id}: element {element.id} names unknown field {element.field!r}"
            )
        if not (element.variants or element.patterns or element.field):
            problems.append(f"{item.id}: element {element.id} has no variant, pattern or field")
    if item.response_mode == "form":
        return problems  # model answers of forms are texts, not field values
    for model_answer in rubric.model_answers:
        try:
            got = score_text(item, model_answer.text).score
        except re.error as exc:
            problems.append(f"{item.id}: cannot score {model_answer.text!r}: {exc}")
            continue
        if got != model_answer.score:
            problems.append(
                f"{item.id}: model answer {model_answer.text!r} scores {got}, "
                f"not {model_answer.score}"
            )
    return problems
