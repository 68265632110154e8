"""What the review page shows of a finished (or running) session, gathered in one place.

The page opens on what is left to do (:func:`review_context`'s ``todo``: one entry per thing
the auditeur must settle, each rendered by ``desk/_todo_<kind>.html``; today ``response``, an
answer to check), then the result, then the charts and every answer, collapsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from placement.sessions import attestations, operations, results, triage
from placement.sessions.errors import SessionsError
from placement.sessions.labels import decision_label
from placement.sessions.models import Override, Response, TestSession

#: Words whose recognition probability is below this are marked for the auditeur.
LOW_CONFIDENCE = 0.5

#: The reason a one-tap confirmation of the machine's score is stored with.
CONFIRM_REASON = "Note de la machine confirmée à l'écoute de l'enregistrement."

#: Reasons auditeurs give most often for changing a score (code -> French text).
COMMON_REASONS = {
    "ecoute": "L'enregistrement dit plus que la transcription : éléments entendus à l'écoute.",
    "absents": "Éléments attendus absents à l'écoute de l'enregistrement.",
    "sens": "Le sens est compris malgré les fautes : la grille est satisfaite.",
    "hors_sujet": "Réponse hors sujet ou inaudible.",
}

#: French names of the scorers stored on responses.
SCORER_LABELS = {
    "key": "clé",
    "accepted": "réponses acceptées",
    "rubric": "grille",
    "form": "formulaire",
    "speech": "grille sur la transcription",
    "asr": "reconnaissance vocale et grille",
    "auto": "automatique",
}

#: French names of a transcript's states.
TRANSCRIPT_STATUS = {
    "queued": "en attente",
    "running": "en cours",
    "done": "terminée",
    "failed": "impossible",
}

#: The skills' names within a sentence (« niveau : expression orale »).
SKILL_NAMES = {skill: name.lower() for skill, name in attestations.SKILL_NAMES.items()}


@dataclass(slots=True)
class ResponseView:
    """One response as the review page shows it."""

    response: Response
    item: Any | None  # itembank.model.Item, None if the release is unavailable
    score: int | None  # the effective score (an auditeur's review wins)
    overridden: bool
    words: list[dict[str, Any]] = field(default_factory=list)
    answer_text: str = ""
    number: int = 0
    to_check: bool = False
    found: list[str] = field(default_factory=list)  # rubric elements found (labels)
    missing: list[str] = field(default_factory=list)  # rubric elements missing (labels)
    scorer_label: str = ""
    transcript_status: str = ""
    duration_s: float | None = None  # the recording's real duration


def _answer_text(response: Response, item: Any | None) -> str:
    answer = response.answer or {}
    if "choice" in answer:
        choice_id = answer["choice"]
        if item is not None:
            for choice in item.choices:
                if choice.id == choice_id:
                    return f"{choice_id} — {choice.text or choice.label or 'image'}"
        return str(choice_id)
    if "text" in answer:
        return str(answer["text"])
    if "fields" in answer and isinstance(answer["fields"], dict):
        return " ; ".join(f"{k} : {v}" for k, v in answer["fields"].items())
    if answer.get("recording"):
        return "(réponse orale)"
    return "(pas de réponse)"


def _words(response: Response) -> list[dict[str, Any]]:
    """The transcript's words, each stripped (the template puts one space between them)."""
    transcript = response.transcript
    if transcript is None or not transcript.detail:
        return []
    words = transcript.detail.get("words") or []
    out = []
    for word in words:
        if isinstance(word, dict):
            text, probability = word.get("word", ""), word.get("probability")
        else:  # (word, start, end, probability)
            text, probability = word[0], word[-1]
        text = str(text).strip()
        if not text:
            continue
        low = probability is not None and float(probability) < LOW_CONFIDENCE
        out.append({"word": text, "probability": probability, "low": low})
    return out


def _elements(response: Response, item: Any | None) -> tuple[list[str], list[str]]:
    """Rubric elements found and missing (labels) from the scorer's detail."""
    detail = response.score_detail or {}
    labels: dict[str, str] = {}
    if item is not None and getattr(item, "rubric", None) is not None:
        labels = {e.id: e.label for e in item.rubric.elements}
    found = [labels.get(str(e), str(e)) for e in detail.get("found") or []]
    missing = [labels.get(str(e), str(e)) for e in detail.get("missing") or []]
    return found, missing


def response_views(session: TestSession, items: Mapping[str, Any]) -> list[ResponseView]:
    """Every response with its item, effective score, transcript and rubric elements."""
    scores = results.response_scores(session)
    to_check = {r.id for r in results.responses_to_check(session)}
    views = []
    for number, response in enumerate(sorted(session.responses, key=lambda r: r.seq), start=1):
        item = items.get(response.item_id) if items else None
        found, missing = _elements(response, item)
        recording = response.recording
        views.append(
            ResponseView(
                response=response,
                item=item,
                score=scores.get(response.id),
                overridden=scores.get(response.id) != response.score,
                words=_words(response),
                answer_text=_answer_text(response, item),
                number=number,
                to_check=response.id in to_check,
                found=found,
                missing=missing,
                scorer_label=SCORER_LABELS.get(response.scorer or "", response.scorer or "—"),
                transcript_status=TRANSCRIPT_STATUS.get(
                    response.transcript.status, response.transcript.status
                )
                if response.transcript is not None
                else "",
                duration_s=recording.duration_s if recording is not None else None,
            )
        )
    return views


def _value_label(target: str, value: Mapping[str, Any] | None) -> str:
    if not value:
        return "—"
    if target == "response":
        score = value.get("score")
        text = "—" if score is None else str(score)
        return f"{text} (confirmée)" if value.get("confirmed") else text
    if target.startswith("level:"):
        return str(value.get("level") or "—")
    if target == "decision":
        return decision_label(value)
    if target == "non_reader":
        return "non-lecteur" if value.get("non_reader") else "lecteur"
    return ", ".join(f"{k} : {v}" for k, v in value.items())


def override_rows(session: TestSession, views: list[ResponseView]) -> list[dict[str, Any]]:
    """The corrections in French: what, before, after, who, when, why."""
    numbers = {v.response.id: v for v in views}
    rows = []
    override: Override
    for override in session.overrides:
        target = override.target
        if target == "response":
            view = numbers.get(override.response_id or 0)
            what = (
                f"note de la réponse {view.number} ({view.response.item_id})"
                if view
                else "note d'une réponse"
            )
        elif target.startswith("level:"):
            skill = target.split(":", 1)[1]
            what = f"niveau : {SKILL_NAMES.get(skill, skill)}"
        elif target == "decision":
            what = "décision"
        elif target == "non_reader":
            what = "non-lecteur / non-scripteur"
        else:
            what = target
        rows.append(
            {
                "override": override,
                "what": what,
                "before": _value_label(target, override.from_value),
                "after": _value_label(target, override.to_value),
            }
        )
    return rows


def review_context(session: TestSession) -> dict[str, Any]:
    """Responses with their items, effective scores and transcripts; the result and overrides.

    ``todo`` lists what the auditeur must still settle, first thing on the page: dicts with a
    ``kind`` (the partial ``desk/_todo_<kind>.html`` that renders it) and what it needs.
    """
    items: Any = {}
    bank_error = None
    try:
        items = results.bank_for(session).items
    except (SessionsError, ImportError, OSError) as error:
        bank_error = getattr(error, "message", str(error))
    views = response_views(session, items)
    effective = operations.effective_result(session)
    todo: list[dict[str, Any]] = [{"kind": "response", "view": v} for v in views if v.to_check]
    # a decision referred to the auditeur comes first, until the auditeur records one
    referral = triage.referral(session, items or None, effective)
    if referral is not None and not referral.decided:
        todo.insert(0, {"kind": "referral", "referral": referral})
    return {
        "referral": referral,
        "responses": views,
        "todo": todo,
        "to_check": [v for v in views if v.to_check],
        "bank_error": bank_error,
        "effective": effective,
        "machine": effective.machine if effective else None,
        "overrides": list(session.overrides),
        "override_rows": override_rows(session, views),
        "attestations": list(session.attestations),
        "common_reasons": COMMON_REASONS,
        "confirm_reason": CONFIRM_REASON,
        "decision_label": decision_label,
        "skill_names": SKILL_NAMES,
    }
