"""Evaluation of a rubric on an answer: which elements are found, and the level they reach.

A rubric (``itembank.model.Rubric``) has elements (each found by a variant, a pattern or a form
field's check) and levels. With :math:`F` the set of found elements, the score is

.. math:: s = \\max \\{ \\ell.\\text{score} : |F| \\ge \\ell.\\text{min\\_elements},\\;
          \\ell.\\text{requires} \\subseteq F \\}

where a level also needs ``min_clauses`` clauses (finite verbs: sentences rather than isolated
words), and 0 when the answer has fewer than ``min_words`` words or is made only of ``off_topic``
phrases. :func:`evaluate` also reports near misses (elements that came close, see
:data:`placement.scoring.text.NEAR_MISS`), which make a score borderline.

With the language analysis (``analysis=True``, the default; :mod:`placement.scoring.french`), a
variant the literal matcher does not find is looked for again by meaning: each of its words
matches the answer's word with the same lemma, a near-synonym or hyponym of the lexicon, or the
same French sound key (learner spelling); elements with ``tenses`` are found from the verbs'
morphology. ``analysis=False`` is the literal matcher alone (the scorer before the analysis,
kept as the benchmark's baseline).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from itembank.model import FormField, Rubric, RubricElement, RubricLevel
from placement.scoring import french
from placement.scoring.forms import check_field
from placement.scoring.text import (
    NEAR_MISS,
    NUMBER,
    PLACEHOLDERS,
    WORD,
    Match,
    find_variant,
    is_number,
    normalise,
    word_matches,
)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an element counts as found: the variant, pattern or field, and the answer's tokens."""

    element: RubricElement
    how: str  # "variant" | "pattern" | "field" | "meaning" | "sound" | "tense"
    matched: str  # the variant or pattern that matched, or the field id
    positions: tuple[int, ...] = ()  # token positions in the normalised answer
    similarity: float = 1.0


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of a rubric on one answer."""

    score: int
    level: RubricLevel
    tokens: tuple[str, ...]
    found: Mapping[str, Evidence]
    missing: tuple[str, ...]
    near_misses: Mapping[str, float] = field(default_factory=dict)  # element id -> similarity
    zero_reason: str | None = None  # "empty", "min_words", "off_topic"
    clauses: int | None = None  # finite verbs (None: not analysed)
    tenses: frozenset[str] = frozenset()


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def level_for(rubric: Rubric, found: Collection[str], clauses: int | None = None) -> RubricLevel:
    """The highest level whose ``min_elements``, ``requires``, ``requires_any`` and
    ``min_clauses`` are met.

    ``clauses`` None (no analysis) ignores ``min_clauses``.
    """
    reached = [
        level
        for level in rubric.levels
        if len(found) >= level.min_elements
        and all(r in found for r in level.requires)
        and (not level.requires_any or any(r in found for r in level.requires_any))
        and (clauses is None or clauses >= level.min_clauses)
    ]
    if not reached:
        return min(rubric.levels, key=lambda lv: lv.score)
    return max(reached, key=lambda lv: lv.score)


def _token_at(text: str, offset: int) -> int:
    """Index of the token of the space-joined ``text`` at character ``offset``."""
    return text.count(" ", 0, offset)


def prepare(rubrics: Iterable[Rubric]) -> int:
    """Load the language model and parse every variant of ``rubrics`` once (start-up work)."""
    french.nlp()
    return french.prepare(v for r in rubrics for e in r.elements for v in e.variants)


def _meaning_match(
    analysis: french.Analysis, variant: str, used: Collection[int] = ()
) -> tuple[tuple[int, ...], str] | None:
    """Positions of ``variant`` in the answer by lemma, lexicon or sound (on words no other
    element used), and how it was found."""
    tokens, lemmas = analysis.tokens, analysis.lemmas
    expected = normalise(variant)
    if not expected or not tokens:
        return None
    expected_lemmas = french.variant_lemmas(variant)
    if len(expected_lemmas) != len(expected):
        expected_lemmas = expected
    n = len(tokens)
    # word vectors compare unfolded words: only one-word variants are looked up
    single_word = variant.strip().lower() if len(expected) == 1 else None

    def same(k: int, i: int) -> bool:
        if k in used:
            return False
        token, word = tokens[k], expected[i]
        if word_matches(token, word):
            return True
        if word in PLACEHOLDERS or token.isdigit() or word.isdigit():
            return False
        if french.same_meaning(token, lemmas[k], word, expected_lemmas[i]):
            return True
        if (
            french.VECTOR_MIN is not None
            and single_word is not None
            and k in analysis.nouns
            and len(word) >= 4
            and french.vector_similarity(analysis.vectors_key[k], single_word) >= french.VECTOR_MIN
        ):
            return True
        key = french.phonetic(word)
        return len(key) >= french.PHONETIC_MIN and french.phonetic(token) == key

    for start in range(n):
        if not same(start, 0):
            continue
        positions = [start]
        for i in range(1, len(expected)):
            last = positions[-1]
            nxt = next((k for k in range(last + 1, min(n, last + 3)) if same(k, i)), None)
            if nxt is None:
                break
            positions.append(nxt)
        else:
            return tuple(positions), "meaning"
    found = _sound_match(tokens, expected)
    if found is None or set(found) & set(used):
        return None
    return found, "sound"


def _sound_match(tokens: Sequence[str], expected: Sequence[str]) -> tuple[int, ...] | None:
    """A window of ``tokens`` that sounds like ``expected`` once joined (``je mapel`` /
    ``je m appelle``, ``jé 3 enfan`` / ``j ai {number} enfants``)."""
    if WORD in expected:
        return None
    numbers = [i for i, w in enumerate(expected) if w == NUMBER]
    m = len(expected)
    for size in range(max(1, m - 2), m + 2):
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            given = [t for t in window if is_number(t)]
            if len(given) != len(numbers):
                continue
            filled = iter(given)
            target = [next(filled) if w == NUMBER else w for w in expected]
            key = french.phonetic("".join(target))
            if len(key) >= french.PHONETIC_MIN + 2 and french.phonetic("".join(window)) == key:
                return tuple(range(start, start + size))
    return None


def _find_by_analysis(
    element: RubricElement, analysis: french.Analysis, used: Collection[int]
) -> Evidence | None:
    """The element found by tense, lemma, lexicon or sound, on words no other element used."""
    tenses = sorted(set(element.tenses) & analysis.tenses)
    if tenses:
        return Evidence(element, "tense", ", ".join(tenses))
    for variant in element.variants:
        found_by = _meaning_match(analysis, variant, used)
        if found_by is not None:
            positions, how = found_by
            return Evidence(element, how, variant, positions, 0.9)
    return None


def _find_element(
    element: RubricElement,
    tokens: Sequence[str],
    fields: Mapping[str, str] | None,
    form: Mapping[str, FormField],
) -> tuple[Evidence | None, float]:
    if element.field is not None:
        value = (fields or {}).get(element.field, "")
        spec = form.get(element.field)
        check = spec.check if spec is not None else "nonempty"
        ok = check_field(check, value)
        return (Evidence(element, "field", element.field) if ok else None), 0.0
    best = 0.0
    for variant in element.variants:
        match, similarity = find_variant(tokens, variant)
        if match is not None:
            return _evidence(element, match), 1.0
        best = max(best, similarity)
    joined = " ".join(tokens)
    for pattern in element.patterns:
        found = _compiled(pattern).search(joined)
        if found is not None:
            start, end = (
                _token_at(joined, found.start()),
                _token_at(joined, max(found.end() - 1, 0)),
            )
            return Evidence(element, "pattern", pattern, tuple(range(start, end + 1))), 1.0
    return None, best


def _evidence(element: RubricElement, match: Match) -> Evidence:
    return Evidence(element, "variant", match.variant, match.positions, match.similarity)


def _strip_off_topic(tokens: Sequence[str], phrases: Sequence[str]) -> tuple[list[str], bool]:
    """``tokens`` without every occurrence of the off-topic phrases, and whether any was there."""
    remaining, removed = list(tokens), False
    for phrase in sorted((normalise(p) for p in phrases), key=len, reverse=True):
        if not phrase:
            continue
        i = 0
        while i + len(phrase) <= len(remaining):
            if tuple(remaining[i : i + len(phrase)]) == phrase:
                del remaining[i : i + len(phrase)]
                removed = True
            else:
                i += 1
    return remaining, removed


def evaluate(
    rubric: Rubric,
    text: str,
    *,
    fields: Mapping[str, str] | None = None,
    form: Sequence[FormField] = (),
    analysis: bool = True,
    near_miss: float = NEAR_MISS,
) -> Evaluation:
    """Score ``text`` (and, for forms, the ``fields`` checked against ``form``) with ``rubric``.

    ``analysis`` False: the literal matcher alone (no lemmas, lexicon, sound, tenses, clauses).
    """
    if analysis and not fields:
        text = french.respell(text)
    tokens = normalise(text)
    parsed: french.Analysis | None = None
    if fields:
        # a form's free-text elements (variants, patterns) look at every field's value
        tokens = tokens + normalise(" ".join(str(v) for v in fields.values()))
    elif analysis:
        parsed = french.analyse(text)
    form_by_id = {f.id: f for f in form}
    found: dict[str, Evidence] = {}
    near: dict[str, float] = {}
    for element in rubric.elements:
        evidence, similarity = _find_element(element, tokens, fields, form_by_id)
        if evidence is not None:
            found[element.id] = evidence
        elif similarity >= near_miss:
            near[element.id] = similarity
    if parsed is not None:
        # one word is evidence for one element: "pommes" is not also "des fruits"
        used = {p for evidence in found.values() for p in evidence.positions}
        for element in rubric.elements:
            if element.id in found:
                continue
            by_meaning = _find_by_analysis(element, parsed, used)
            if by_meaning is not None:
                found[element.id] = by_meaning
                used |= set(by_meaning.positions)
                near.pop(element.id, None)
    missing = tuple(e.id for e in rubric.elements if e.id not in found)
    zero = min(rubric.levels, key=lambda lv: lv.score)

    zero_reason = None
    if not tokens and not fields:
        zero_reason = "empty"
    elif not fields and rubric.min_words is not None and len(tokens) < rubric.min_words:
        zero_reason = "min_words"
    elif rubric.off_topic and not fields:
        remaining, removed = _strip_off_topic(tokens, rubric.off_topic)
        if removed and not remaining:
            zero_reason = "off_topic"
    clauses = parsed.clauses if parsed is not None else None
    tenses = parsed.tenses if parsed is not None else frozenset()
    if zero_reason is not None:
        all_missing = tuple(e.id for e in rubric.elements)
        return Evaluation(
            zero.score, zero, tokens, {}, all_missing, near, zero_reason, clauses, tenses
        )
    level = level_for(rubric, found, clauses)
    return Evaluation(level.score, level, tokens, found, missing, near, None, clauses, tenses)


def raising_elements(
    rubric: Rubric, evaluation: Evaluation, candidates: Collection[str]
) -> tuple[str, ...]:
    """Missing elements among ``candidates`` that would raise the score if they were found."""
    if evaluation.zero_reason in {"min_words", "off_topic"} and evaluation.tokens:
        return ()
    found = set(evaluation.found)
    return tuple(
        e
        for e in evaluation.missing
        if e in candidates
        and level_for(rubric, found | {e}, evaluation.clauses).score > evaluation.score
    )


def borderline(rubric: Rubric, evaluation: Evaluation) -> tuple[str, ...]:
    """Near-miss elements that would raise the score: the score is on a level boundary."""
    raising = set(raising_elements(rubric, evaluation, evaluation.near_misses))
    if raising:
        return tuple(sorted(raising))
    # several near misses together may also cross the boundary
    together = level_for(
        rubric, set(evaluation.found) | set(evaluation.near_misses), evaluation.clauses
    )
    return tuple(sorted(evaluation.near_misses)) if together.score > evaluation.score else ()
