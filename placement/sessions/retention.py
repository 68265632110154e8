"""Retention and erasure of personal data (RGPD).

What erasure removes: the candidate's name, birth date, help language and dossier number (the
dossier becomes ``EFFACE-<id>``), every recording's bytes, transcripts' text and words, typed
answers, and the attestations' PDFs and personal fields. What it keeps: the pseudonymous
responses (item, score, timing) the calibration needs, the computed results and overrides (no
names), and the audit trail (ids and actors only).

The retention purge erases, in the same way, every candidate whose newest session (or whose
registration, without a session) is older than ``retention_days``, and deletes old login
attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from placement.sessions import audit
from placement.sessions.audit import Actor
from placement.sessions.errors import Conflict, InvalidInput
from placement.sessions.models import Candidate, Role, TestSession, User, utcnow
from placement.sessions.operations import get_candidate, has_running_test, require_role
from placement.sessions.users import purge_login_attempts

ERASED = "effacé"


@dataclass(frozen=True, slots=True)
class Erasure:
    """What an erasure removed."""

    candidates: int = 0
    recordings: int = 0
    transcripts: int = 0
    answers: int = 0
    attestations: int = 0
    login_attempts: int = 0

    def __add__(self, other: Erasure) -> Erasure:
        return Erasure(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))


def _erase(db: Session, candidate: Candidate, now: datetime) -> Erasure:
    recordings = transcripts = answers = attestations = 0
    for session in candidate.sessions:
        session.language = None  # the candidate's language says something of their origin
        for response in session.responses:
            if response.recording is not None and response.recording.erased_at is None:
                response.recording.data = None
                response.recording.erased_at = now
                recordings += 1
            if response.transcript is not None and response.transcript.text is not None:
                response.transcript.text = None
                response.transcript.detail = None
                transcripts += 1
            if response.answer is not None and not response.answer.get("recording"):
                response.answer = {"erased": True}
                answers += 1
            if response.score_detail is not None:
                # found/missing elements quote the answer: keep only the score's flags
                response.score_detail = {
                    "erased": True,
                    "flags": response.score_detail.get("flags"),
                }
        for attestation in session.attestations:
            if attestation.pdf is not None:
                attestation.pdf = None
                attestation.content = {
                    "erased": True,
                    "kind": attestation.kind,
                    "hours": attestation.hours,
                }
                attestation.revoked_at = attestation.revoked_at or now
                attestations += 1
    candidate.last_name = ERASED
    candidate.first_name = ERASED
    candidate.birth_date = None
    candidate.help_language = None
    candidate.dossier_number = f"EFFACE-{candidate.id}"
    candidate.erased_at = now
    return Erasure(1, recordings, transcripts, answers, attestations)


def erase_candidate(
    db: Session, candidate_id: int, user: User | Actor, *, now: datetime | None = None
) -> Erasure:
    """Erase one candidate's personal data on an administrator's request (audited)."""
    require_role(user, Role.ADMIN)
    candidate = get_candidate(db, candidate_id)
    if candidate.erased_at is not None:
        raise Conflict("Les données de ce candidat ont déjà été effacées.")
    if has_running_test(candidate):
        raise Conflict("Un test est en cours pour ce candidat : abandonnez-le avant d'effacer.")
    result = _erase(db, candidate, now or utcnow())
    audit.record(
        db,
        user,
        "candidate.erase",
        candidate_id=candidate.id,
        detail={"reason": "demande", **{k: getattr(result, k) for k in ("recordings", "answers")}},
    )
    db.flush()
    return result


def purge(
    db: Session,
    retention_days: int,
    actor: User | Actor = audit.SYSTEM,
    *,
    now: datetime | None = None,
) -> Erasure:
    """Erase candidates with no activity for ``retention_days`` days; delete old login attempts."""
    if retention_days < 1:
        raise InvalidInput("La durée de conservation doit être d'au moins un jour.")
    now = now or utcnow()
    cutoff = now - timedelta(days=retention_days)
    newest = (
        select(TestSession.candidate_id, func.max(TestSession.created_at).label("last"))
        .group_by(TestSession.candidate_id)
        .subquery()
    )
    candidates = db.scalars(
        select(Candidate)
        .outerjoin(newest, newest.c.candidate_id == Candidate.id)
        .where(
            Candidate.erased_at.is_(None),
            Candidate.created_at < cutoff,
            (newest.c.last.is_(None)) | (newest.c.last < cutoff),
        )
        .order_by(Candidate.id)
    ).all()
    total = Erasure()
    for candidate in candidates:
        erased = _erase(db, candidate, now)
        audit.record(
            db,
            actor,
            "candidate.erase",
            candidate_id=candidate.id,
            detail={"reason": "conservation", "retention_days": retention_days},
        )
        total = total + erased
    attempts = purge_login_attempts(db, min(cutoff, now - timedelta(days=30)))
    total = total + Erasure(login_attempts=attempts)
    audit.record(
        db,
        actor,
        "retention.purge",
        detail={
            "retention_days": retention_days,
            "candidates": total.candidates,
            "recordings": total.recordings,
            "login_attempts": attempts,
        },
    )
    db.flush()
    return total
