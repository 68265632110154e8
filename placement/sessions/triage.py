"""Referred decisions: what the auditeur sees first, and what must happen before the attestation.

A result's decision carries a ``triage`` block (:func:`placement.levels.with_probabilities`):
the probability of a dispense, of the hours decided, and whether the rules' referral band sent
the decision to the auditeur instead of proposing it. For a referred decision the desk shows,
before anything else, the pivotal skill ("EO autour de A1 : 0,58") and two or three interview
questions from the bank for that skill, each with what to listen for; the auditeur then records
the decision with a reason (:func:`placement.sessions.operations.override_decision`), and only
then can the attestation be printed (:func:`require_decided`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from placement import formatting
from placement.sessions.errors import Conflict
from placement.sessions.models import TestSession
from placement.sessions.operations import EffectiveResult, effective_result

__all__ = [
    "InterviewQuestion",
    "Referral",
    "interview_questions",
    "referral",
    "require_decided",
]

#: How many interview questions the desk proposes for the pivotal skill.
N_QUESTIONS = 3

_LEVEL_ORDER = ("pré-A1", "A1.1", "A1", "A2", "B1")


@dataclass(frozen=True, slots=True)
class InterviewQuestion:
    """A question the auditeur can ask, from one bank item, and what to listen for."""

    item_id: str
    question: str
    listen_for: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Referral:
    """A decision referred to the auditeur: why, and how to settle it."""

    p_dispense: float
    p_hours: float
    kind: str
    hours: int
    skill: str | None
    level: str | None
    p_level: float | None
    decided: bool  # the auditeur has recorded a decision since
    questions: tuple[InterviewQuestion, ...] = field(default=())

    @property
    def pivotal_text(self) -> str:
        """``EO autour de A1 : 0,58`` (the probability that the skill reaches the level)."""
        if self.skill is None or self.level is None or self.p_level is None:
            return ""
        return f"{self.skill} autour de {self.level} : {formatting.number(self.p_level)}"


def _triage_of(decision: dict[str, Any]) -> dict[str, Any]:
    triage = decision.get("triage")
    return triage if isinstance(triage, dict) else {}


def interview_questions(
    items: Any, skill: str, level: str, given: set[str], n: int = N_QUESTIONS
) -> tuple[InterviewQuestion, ...]:
    """Up to ``n`` operational items of ``skill`` aimed nearest ``level``, not given in the test.

    The question is the item's instruction and stem (with the listening text, for the auditeur
    to read aloud); what to listen for is its rubric (each level's descriptor, from the
    highest) or, for a choice item, the expected answer.
    """
    target = _LEVEL_ORDER.index(level) if level in _LEVEL_ORDER else 2
    candidates = [
        item
        for item in items.values()
        if item.skill == skill and item.id not in given and item.status == "operational"
    ]
    candidates.sort(key=lambda it: (abs(_LEVEL_ORDER.index(it.target_level) - target), it.id))
    out = []
    for item in candidates[:n]:
        parts = [item.instruction.text]
        if item.stem is not None and item.stem.text:
            parts.append(item.stem.text)
        if item.stem is not None and item.stem.transcript:  # a listening text, read aloud
            parts.append(f"(Texte à lire : « {item.stem.transcript} »)")
        listen: list[str] = []
        if item.rubric is not None:
            listen.extend(
                f"{lv.score} : {lv.descriptor}"
                for lv in sorted(item.rubric.levels, key=lambda lv: -lv.score)
            )
        elif item.key is not None:
            listen.extend(
                f"Réponse attendue : {c.text or c.label or c.id}"
                for c in item.choices
                if c.id == item.key
            )
        elif item.accepted:
            listen.append("Réponses acceptées : " + ", ".join(item.accepted))
        out.append(InterviewQuestion(item.id, " ".join(p for p in parts if p), tuple(listen)))
    return tuple(out)


def referral(
    session: TestSession, items: Any | None = None, effective: EffectiveResult | None = None
) -> Referral | None:
    """The session's referral, or None when its current decision was not referred.

    ``effective`` is the session's effective result when the caller already has it.
    """
    effective = effective or effective_result(session)
    if effective is None:
        return None
    machine = dict(effective.machine.decision or {})
    triage = _triage_of(machine)
    if not triage.get("referred"):
        return None
    pivotal = triage.get("pivotal") or {}
    skill, level = pivotal.get("skill"), pivotal.get("level")
    questions: tuple[InterviewQuestion, ...] = ()
    if items and skill and level:
        given = {r.item_id for r in session.responses}
        questions = interview_questions(items, str(skill), str(level), given)
    return Referral(
        p_dispense=float(triage.get("p_dispense") or 0.0),
        p_hours=float(triage.get("p_hours") or 0.0),
        kind=str(machine.get("kind", "")),
        hours=int(machine.get("hours") or 0),
        skill=str(skill) if skill else None,
        level=str(level) if level else None,
        p_level=float(pivotal["p"]) if pivotal.get("p") is not None else None,
        decided="decision" in effective.overridden,
        questions=questions,
    )


def require_decided(session: TestSession) -> None:
    """Raise :class:`Conflict` while a referred decision awaits the auditeur's own."""
    found = referral(session)
    if found is not None and not found.decided:
        raise Conflict(
            "Décision à confirmer : le résultat du test est incertain. Après l'entretien, "
            "enregistrez votre décision et sa raison avant d'émettre l'attestation."
        )
