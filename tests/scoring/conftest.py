"""Fixtures of the scoring tests: factories of items and transcripts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from audio.transcribe import Transcript, Word
from itembank.model import (
    Choice,
    FormField,
    Instruction,
    Item,
    ModelAnswer,
    Rubric,
    RubricElement,
    RubricLevel,
)

INSTRUCTION = Instruction("Présentez-vous.", "media/instructions/presentez-vous.ogg")

#: The rubric of itembank/FORMAT.md's example, with ``min_words: 1``: the example says 2, which
#: contradicts its own model answer "Bonjour." (1 word, score 1).
INTRODUCE = Rubric(
    max_score=3,
    elements=(
        RubricElement("salutation", "salue", variants=("bonjour", "bonsoir", "salut")),
        RubricElement(
            "nom",
            "dit son nom",
            variants=("je m'appelle {word}", "mon nom est {word}", "moi c'est {word}"),
        ),
        RubricElement("age", "dit son âge", variants=("j'ai {number} ans",)),
        RubricElement(
            "pays",
            "dit d'où il ou elle vient",
            variants=("je viens de", "je suis de", "je suis né", "je suis née"),
            patterns=(r"\bdu (maroc|mali|senegal)\b",),
        ),
    ),
    levels=(
        RubricLevel(0, "Pas de réponse, hors sujet ou pas en français."),
        RubricLevel(1, "Un élément attendu, mots isolés.", min_elements=1),
        RubricLevel(2, "Deux ou trois éléments.", min_elements=2),
        RubricLevel(3, "Présentation complète.", min_elements=4, requires=("nom",)),
    ),
    min_words=1,
    off_topic=("je ne sais pas", "je comprends pas"),
    model_answers=(
        ModelAnswer("Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc.", 3),
        ModelAnswer("Bonjour.", 1),
        ModelAnswer("", 0),
    ),
)


@pytest.fixture
def make_item() -> Callable[..., Item]:
    """A factory of items: ``make_item(type="speak_introduce", rubric=INTRODUCE, ...)``."""

    def make(**overrides: Any) -> Item:
        item_type = overrides.pop("type", "speak_introduce")
        skill = "EO" if item_type.startswith("speak") else overrides.pop("skill", "EE")
        values: dict[str, Any] = {
            "id": f"{skill}-900",
            "skill": skill,
            "type": item_type,
            "theme": "vie pratique",
            "target_level": "A1",
            "status": "operational",
            "instruction": INSTRUCTION,
        }
        if item_type.startswith("speak"):
            values["rubric"] = INTRODUCE
        values.update(overrides)
        return Item(**values)

    return make


@pytest.fixture
def introduce(make_item: Callable[..., Item]) -> Item:
    """A speaking item with the FORMAT.md introduction rubric."""
    return make_item()


@pytest.fixture
def choice_item(make_item: Callable[..., Item]) -> Item:
    """A reading item with three choices, key ``b``."""
    return make_item(
        type="read_choose",
        skill="CE",
        choices=(Choice("a", text="Lundi"), Choice("b", text="Mardi"), Choice("c", text="Jeudi")),
        key="b",
    )


@pytest.fixture
def form_item(make_item: Callable[..., Item]) -> Item:
    """A form with name, birth date, phone and postal code; 2 points."""
    fields = (
        FormField("nom", "Nom"),
        FormField("date_naissance", "Date de naissance", "date"),
        FormField("telephone", "Téléphone", "phone"),
        FormField("code_postal", "Code postal", "postal_code"),
    )
    rubric = Rubric(
        max_score=2,
        elements=tuple(RubricElement(f.id, f.label, field=f.id) for f in fields),
        levels=(
            RubricLevel(0, "Rien d'utilisable."),
            RubricLevel(1, "Deux champs justes.", min_elements=2),
            RubricLevel(2, "Tout est juste.", min_elements=4),
        ),
    )
    return make_item(type="form_fill", form=fields, rubric=rubric)


@pytest.fixture
def make_transcript() -> Callable[..., Transcript]:
    """A transcript from ``(word, probability)`` pairs, as the recogniser would give it."""

    def make(
        words: Sequence[tuple[str, float]], flags: Sequence[str] = (), language_p: float = 0.95
    ) -> Transcript:
        items = tuple(Word(w, 0.4 * i, 0.4 * i + 0.35, p) for i, (w, p) in enumerate(words))
        return Transcript(
            text=" ".join(w for w, _ in words),
            language="fr",
            language_probability=language_p,
            duration_s=0.4 * len(words) + 0.5,
            confidence=sum(p for _, p in words) / len(words) if words else 0.0,
            words=items,
            flags=tuple(flags),
            model_name="test",
            model_version="0",
        )

    return make
