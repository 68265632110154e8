"""Evaluation of a rubric on an answer: which elements are found, and the level they reach.

A rubric (``itembank.model.Rubric``) has elements (each found by a variant, a pattern or a form
field's check) and levels. With :math:`F` the set of found elements, the score is

.. math:: s = \\max \\{ \\ell.\\text{score} : |F| \\ge \\ell.\\text{min\\_elements},\\;
          \\ell.\\text{requires} \\subseteq F \\}

and 0 when the answer has fewer than ``min_words`` words or is made only of ``off_topic``
phrases. :func:`evaluate` also reports near misses (elements that came close, see
:data:`placement.scoring.text.NEAR_MISS`), which make a score borderline.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from itembank.model import FormField, Rubric, RubricElement, RubricLevel
from placement.scoring.forms import check_field
from placement.scoring.text import NEAR_MISS, Match, find_variant, normalise


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an element counts as found: the variant, pattern or field, and the answer's tokens."""

    element: RubricElement
    how: str  # "variant" | "pattern" | "field"
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


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def level_for(rubric: Rubric, found: Collection[str]) -> RubricLevel:
    """The highest level whose ``min_elements`` and ``requires`` the found element ids meet."""
    reached = [
        level
        for level in rubric.levels
        if len(found) >= level.min_elements and all(r in found for r in level.requires)
    ]
    if not reached:
        return min(rubric.levels, key=lambda lv: lv.score)
    return max(reached, key=lambda lv: lv.score)


def _token_at(text: str, offset: int) -> int:
    """Index of the token of the space-joined ``text`` at character ``offset``."""
    return text.count(" ", 0, offset)


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
) -> Evaluation:
    """Score ``text`` (and, for forms, the ``fields`` checked against ``form``) with ``rubric``."""
    tokens = normalise(text)
    if fields:
        # a form's free-text elements (variants, patterns) look at every field's value
        tokens = tokens + normalise(" ".join(str(v) for v in fields.values()))
    form_by_id = {f.id: f for f in form}
    found: dict[str, Evidence] = {}
    near: dict[str, float] = {}
    for element in rubric.elements:
        evidence, similarity = _find_element(element, tokens, fields, form_by_id)
        if evidence is not None:
            found[element.id] = evidence
        elif similarity >= NEAR_MISS:
            near[element.id] = similarity
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
    if zero_reason is not None:
        return Evaluation(
            zero.score, zero, tokens, {}, tuple(e.id for e in rubric.elements), near, zero_reason
        )
    level = level_for(rubric, found)
    return Evaluation(level.score, level, tokens, found, missing, near)


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
        if e in candidates and level_for(rubric, found | {e}).score > evaluation.score
    )


def borderline(rubric: Rubric, evaluation: Evaluation) -> tuple[str, ...]:
    """Near-miss elements that would raise the score: the score is on a level boundary."""
    raising = set(raising_elements(rubric, evaluation, evaluation.near_misses))
    if raising:
        return tuple(sorted(raising))
    # several near misses together may also cross the boundary
    together = level_for(rubric, set(evaluation.found) | set(evaluation.near_misses))
    return tuple(sorted(evaluation.near_misses)) if together.score > evaluation.score else ()
