"""French words for the codes stored in the database: one place for the pages and the exports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from placement.sessions.models import SessionState

#: A session's state as people read it.
STATE_LABELS = {
    SessionState.WAITING: "en attente",
    SessionState.IN_PROGRESS: "en cours",
    SessionState.TRANSCRIBING: "transcription",
    SessionState.TO_REVIEW: "à vérifier",
    SessionState.DONE: "terminé",
    SessionState.ABANDONED: "abandonné",
}


def state_label(state: str) -> str:
    """``to_review`` → ``à vérifier`` (an unknown code is shown as is)."""
    try:
        return STATE_LABELS[SessionState(state)]
    except ValueError:
        return str(state)


def yes_no(value: object) -> str:
    """``oui`` or ``non``."""
    return "oui" if value else "non"


def decision_label(decision: Mapping[str, Any] | None) -> str:
    """``dispense`` or ``prescription de 100 h`` (``—`` without a decision)."""
    if not decision or not decision.get("kind"):
        return "—"
    if decision.get("kind") == "dispense":
        return "dispense"
    return f"prescription de {int(decision.get('hours') or 0)} h"


def referral_label(pivotal: str = "") -> str:
    """The day list's marker of a referred decision still to take: ``décision à prendre —
    incertaine, EO autour de A1 : 0,58`` (without the pivotal skill when there is none)."""
    return f"décision à prendre — incertaine, {pivotal}" if pivotal else "décision à prendre"


def training_names(trainings: Any) -> list[str]:
    """The names of a decision's optional trainings (stored as dicts or as plain names)."""
    names = []
    for training in trainings or []:
        if isinstance(training, Mapping):
            names.append(str(training.get("name") or training.get("target") or ""))
        else:
            names.append(str(training))
    return [n for n in names if n]


#: The audit trail's actions as an administrator reads them (the code stays in the database).
AUDIT_ACTIONS = {
    "attestation.download": "document téléchargé",
    "attestation.issue": "document émis",
    "candidate.create": "candidat créé",
    "candidate.erase": "données du candidat effacées",
    "candidate.export": "données du candidat exportées",
    "candidate.non_reader": "non-lecteur indiqué",
    "candidate.view": "candidat consulté",
    "export.day": "export du jour",
    "export.responses": "export des réponses (psychométrie)",
    "item.present": "question présentée",
    "mic_check.ok": "test du micro réussi",
    "mic_check.refused": "test du micro refusé",
    "override.create": "correction de l'auditeur",
    "practice.answer": "exemple répondu",
    "recording.listen": "enregistrement écouté",
    "response.recording": "réponse orale enregistrée",
    "response.submit": "réponse envoyée",
    "result.compute": "résultat calculé",
    "retention.purge": "purge de conservation",
    "session.abandon": "test abandonné",
    "session.create": "test créé",
    "session.finish": "test terminé",
    "session.list": "liste du jour consultée",
    "session.open": "test ouvert sur la tablette",
    "session.resume": "test repris (nouveau code)",
    "session.stage": "étape de la tablette",
    "session.view": "session consultée",
    "transcript.done": "transcription terminée",
    "transcript.failed": "transcription impossible",
    "user.activate": "compte réactivé",
    "user.create": "compte créé",
    "user.deactivate": "compte désactivé",
    "user.locked": "compte verrouillé",
    "user.login": "connexion",
    "user.logout": "déconnexion",
    "user.password_reset": "mot de passe réinitialisé",
}


def audit_action(action: str) -> str:
    """``session.view`` → ``session consultée`` (an unknown code is shown as is)."""
    return AUDIT_ACTIONS.get(action, action)
