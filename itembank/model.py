"""The item bank's data model: frozen dataclasses mirroring ``itembank/FORMAT.md``.

These types are the contract between the bank (which loads and validates them), the engine and
the scorer (which read them) and the web app (which shows :meth:`Item.public_view` to the tablet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Skill = Literal["CO", "CE", "EO", "EE"]
Theme = Literal["vie pratique", "vie publique", "vie professionnelle"]
TargetLevel = Literal["A1.1", "A1", "A2", "B1"]
Status = Literal["draft", "pilot", "operational", "retired"]

SKILLS: tuple[Skill, ...] = ("CO", "CE", "EO", "EE")
THEMES: tuple[Theme, ...] = ("vie pratique", "vie publique", "vie professionnelle")
TARGET_LEVELS: tuple[TargetLevel, ...] = ("A1.1", "A1", "A2", "B1")
STATUSES: tuple[Status, ...] = ("draft", "pilot", "operational", "retired")

CHOICE_TYPES = frozenset(
    {"listen_choose_picture", "listen_choose_sentence", "read_choose", "true_false_not_said"}
)
TEXT_TYPES = frozenset({"gap_fill"})
FORM_TYPES = frozenset({"form_fill"})
WRITING_TYPES = frozenset({"write_message"})
SPEAKING_TYPES = frozenset(
    {
        "speak_introduce",
        "speak_describe_picture",
        "speak_role_play",
        "speak_past_event",
        "speak_opinion",
    }
)
ITEM_TYPES = CHOICE_TYPES | TEXT_TYPES | FORM_TYPES | WRITING_TYPES | SPEAKING_TYPES
FIELD_CHECKS = frozenset({"nonempty", "date", "phone", "postal_code", "email", "number"})

#: How the tablet collects the answer, by item type.
ResponseMode = Literal["choice", "text", "form", "long_text", "speech"]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of an item: when, who, what."""

    date: str
    author: str
    change: str


@dataclass(frozen=True, slots=True)
class Instruction:
    """The instruction, written and spoken (``audio`` is a bank-relative path)."""

    text: str
    audio: str


@dataclass(frozen=True, slots=True)
class Stem:
    """What the item presents: a text to read, a picture, a recording and its transcript."""

    text: str | None = None
    image: str | None = None
    audio: str | None = None
    transcript: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One choice of a choice item; at least one of ``text`` and ``image``."""

    id: str
    text: str | None = None
    image: str | None = None
    audio: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class FormField:
    """One field of a form-filling item and the check its answer must pass."""

    id: str
    label: str
    check: str = "nonempty"


@dataclass(frozen=True, slots=True)
class RubricElement:
    """An expected content element: found by a variant, a pattern, or a form field's check."""

    id: str
    label: str
    variants: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    field: str | None = None
    #: found when the answer uses one of these verb tenses (read from the verbs' morphology)
    tenses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RubricLevel:
    """A score level: reached with ``min_elements`` found, every ``requires`` element found and
    at least ``min_clauses`` clauses (finite verbs: sentences, not isolated words)."""

    score: int
    descriptor: str
    min_elements: int = 0
    requires: tuple[str, ...] = ()
    min_clauses: int = 0
    #: at least one of these elements (the content, not only greetings and formulas)
    requires_any: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """An answer and the score its rubric must give it."""

    text: str
    score: int


@dataclass(frozen=True, slots=True)
class Rubric:
    """How a production (spoken, written or form) is scored, 0..max_score. Server-side only."""

    max_score: int
    elements: tuple[RubricElement, ...]
    levels: tuple[RubricLevel, ...]
    min_words: int | None = None
    off_topic: tuple[str, ...] = ()
    model_answers: tuple[ModelAnswer, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    """One item of the bank, as written in its YAML source (see FORMAT.md)."""

    id: str
    skill: Skill
    type: str
    theme: Theme
    target_level: TargetLevel
    status: Status
    instruction: Instruction
    topic: str | None = None
    non_reader: bool = False
    author: str = ""
    history: tuple[HistoryEntry, ...] = ()
    enemies: tuple[str, ...] = ()
    stem: Stem | None = None
    choices: tuple[Choice, ...] = ()
    key: str | None = None
    accepted: tuple[str, ...] = ()
    typo_tolerance: int | None = None
    form: tuple[FormField, ...] = ()
    rubric: Rubric | None = None
    time_limit_s: int | None = None
    parameters: dict[str, Any] | None = None
    source: Path | None = field(default=None, compare=False)

    @property
    def response_mode(self) -> ResponseMode:
        """How the tablet collects the answer."""
        if self.type in CHOICE_TYPES:
            return "choice"
        if self.type in TEXT_TYPES:
            return "text"
        if self.type in FORM_TYPES:
            return "form"
        if self.type in WRITING_TYPES:
            return "long_text"
        return "speech"

    @property
    def max_score(self) -> int:
        """The highest score: 1 for right/wrong items, the rubric's maximum otherwise."""
        return self.rubric.max_score if self.rubric is not None else 1

    def public_view(self) -> dict[str, Any]:
        """What the candidate's tablet may see: no key, accepted answers, rubric or parameters."""
        stem = None
        if self.stem is not None:
            # the transcript of a listening text would give the answer away to a reader
            stem = {"text": self.stem.text, "image": self.stem.image, "audio": self.stem.audio}
        return {
            "id": self.id,
            "skill": self.skill,
            "type": self.type,
            "response_mode": self.response_mode,
            "instruction": {"text": self.instruction.text, "audio": self.instruction.audio},
            "stem": stem,
            "choices": [
                {"id": c.id, "text": c.text, "image": c.image, "audio": c.audio}
                for c in self.choices
            ],
            "form": [{"id": f.id, "label": f.label} for f in self.form],
            "time_limit_s": self.time_limit_s,
        }
