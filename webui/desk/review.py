"""What the review page shows of a finished (or running) session, gathered in one place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from placement.sessions import operations, results, triage
from placement.sessions.errors import SessionsError
from placement.sessions.models import Response, TestSession

#: Words whose recognition probability is below this are marked for the auditeur.
LOW_CONFIDENCE = 0.5


@dataclass(slots=True)
class ResponseView:
    """One response as the review page shows it."""

    response: Response
    item: Any | None  # itembank.model.Item, None if the release is unavailable
    score: int | None  # the effective score (an auditeur's review wins)
    overridden: bool
    words: list[dict[str, Any]] = field(default_factory=list)
    answer_text: str = ""


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
        low = probability is not None and float(probability) < LOW_CONFIDENCE
        out.append({"word": str(text), "probability": probability, "low": low})
    return out


def review_context(session: TestSession) -> dict[str, Any]:
    """Responses with their items, effective scores and transcripts; the result and overrides."""
    items: Any = {}
    bank_error = None
    try:
        items = results.bank_for(session).items
    except (SessionsError, ImportError, OSError) as error:
        bank_error = getattr(error, "message", str(error))
    scores = results.response_scores(session)
    views = []
    for response in session.responses:
        item = items.get(response.item_id) if items else None
        views.append(
            ResponseView(
                response=response,
                item=item,
                score=scores.get(response.id),
                overridden=scores.get(response.id) != response.score,
                words=_words(response),
                answer_text=_answer_text(response, item),
            )
        )
    effective = operations.effective_result(session)
    return {
        "referral": triage.referral(session, items or None),
        "responses": views,
        "bank_error": bank_error,
        "effective": effective,
        "machine": effective.machine if effective else None,
        "overrides": list(session.overrides),
        "attestations": list(session.attestations),
    }
