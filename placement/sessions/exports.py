"""Exports: the day's results for the OFII information system, the responses for calibration
(pseudonymous), and everything kept about one candidate (their right of access).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from placement import csvsafe, formatting
from placement.responses import OPTIONAL, columns_for, responses_text
from placement.sessions import audit, labels, triage
from placement.sessions.audit import Actor
from placement.sessions.models import (
    Attestation,
    Candidate,
    Recording,
    Response,
    TestSession,
    User,
)
from placement.sessions.operations import (
    SKILLS,
    effective_result,
    get_candidate,
    sessions_of_day,
)

#: Columns of the day's export, in order (documented in webui/README.md). Names and values are
#: French; ``code_etat`` keeps the state's code beside its French label for the OFII system.
DAY_COLUMNS = (
    "date",
    "numero_dossier",
    "nom",
    "prenom",
    "date_naissance",
    "session",
    "etat",
    "code_etat",
    "reponses_a_verifier",
    "non_lecteur",
    "niveau_CO",
    "niveau_CE",
    "niveau_EO",
    "niveau_EE",
    "niveau_global",
    "decision",
    "heures",
    "decision_auditeur",
    "formations_facultatives",
    "corrige_par_auditeur",
    "code_attestation",
    "auditeur",
    "banque",
    "politique",
    "decision_renvoyee",
    "decision_a_prendre",
    "p_decision",
)

#: Columns of the responses download: the one responses format (placement.responses), with
#: the session's pseudonym as person_id; every optional column but ``group`` (the desk has no
#: DIF group to give).
RESPONSE_EXTRA = tuple(c for c in OPTIONAL if c != "group")
RESPONSE_COLUMNS = columns_for(RESPONSE_EXTRA)


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    # every cell escaped: a name typed as "=HYPERLINK(...)" stays text in a spreadsheet
    writer = csvsafe.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def day_row(session: TestSession, day: date) -> dict[str, Any]:
    """One session as a row of the day's export: French values, levels and decision retained."""
    from placement.sessions.results import responses_to_check

    candidate = session.candidate
    effective = effective_result(session)
    current = [a for a in session.attestations if a.revoked_at is None]
    levels = effective.levels if effective else {}
    referred = triage.referral(session, effective=effective)
    p_decision = triage.decision_probability(effective.machine.decision) if effective else None
    return {
        "date": day.isoformat(),
        "numero_dossier": candidate.dossier_number,
        "nom": candidate.last_name,
        "prenom": candidate.first_name,
        "date_naissance": candidate.birth_date.isoformat() if candidate.birth_date else "",
        "session": session.id,
        "etat": labels.state_label(session.state),
        "code_etat": session.state,
        "reponses_a_verifier": len(responses_to_check(session, loaded=True)),
        "non_lecteur": labels.yes_no(session.non_reader),
        **{f"niveau_{s}": levels.get(s) or "" for s in SKILLS},
        "niveau_global": levels.get("global") or "",
        "decision": effective.kind if effective else "",
        "heures": effective.hours if effective else "",
        "decision_auditeur": labels.yes_no(effective and effective.auditeur_decision)
        if effective
        else "",
        "formations_facultatives": " | ".join(
            labels.training_names(effective.decision.get("optional_trainings"))
        )
        if effective
        else "",
        "corrige_par_auditeur": labels.yes_no(effective and effective.overridden),
        "code_attestation": current[-1].verification_code if current else "",
        "auditeur": session.created_by.username if session.created_by else "",
        "banque": session.release_version,
        "politique": session.policy,
        # the engine referred its decision to the auditeur; still waiting for theirs
        "decision_renvoyee": labels.yes_no(referred is not None) if effective else "",
        "decision_a_prendre": labels.yes_no(referred is not None and not referred.decided)
        if effective
        else "",
        "p_decision": formatting.number(p_decision) if p_decision is not None else "",
    }


def day_results_csv(
    db: Session,
    day: date,
    actor: Actor | User,
    tz: str = "Europe/Paris",
    *,
    viewer: User | None = None,
) -> str:
    """The day's sessions with their effective levels and decisions (CSV, UTF-8, comma); with
    ``viewer``, those of the viewer's office only."""
    sessions = sessions_of_day(db, day, tz, viewer=viewer)
    rows = [day_row(session, day) for session in sessions]
    audit.record(
        db,
        actor,
        "export.day",
        detail={"day": day.isoformat(), "candidate_ids": [s.candidate_id for s in sessions]},
    )
    db.flush()
    return _csv(rows, DAY_COLUMNS)


def pseudonym(secret: str, kind: str, identifier: int) -> str:
    """A stable pseudonymous id (HMAC-SHA256 with the instance's secret): no way back to a name."""
    digest = hmac.new(secret.encode(), f"{kind}:{identifier}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def scored_responses(
    db: Session, release: str | None = None, *, with_candidate: bool = False
) -> Iterator[tuple[TestSession, Response, int | None]]:
    """Every response with its effective score (an auditeur's correction over the machine's
    score; None while it waits for one), session by session: what calibration learns from,
    for the psychometrician page's download and ``calibration export`` alike."""
    from placement.sessions.results import response_scores

    loads = [selectinload(TestSession.responses), selectinload(TestSession.overrides)]
    if with_candidate:
        loads.append(selectinload(TestSession.candidate))
    query = select(TestSession).options(*loads).order_by(TestSession.id)
    if release:
        query = query.where(TestSession.release_version == release)
    for session in db.scalars(query):
        scores = response_scores(session)
        for response in session.responses:
            yield session, response, scores.get(response.id)


def responses_csv(db: Session, secret: str, actor: Actor | User, release: str | None = None) -> str:
    """Every response with its effective score, for calibration: pseudonymous, no names.

    The one responses format (:mod:`placement.responses`, whose writer writes None as an empty
    cell and booleans as 0/1): ``person_id`` is the test session's pseudonym; a response still
    waiting for its score has an empty ``score`` (the readers skip and count it).
    """
    rows = [
        {
            "person_id": pseudonym(secret, "session", session.id),
            "candidate": pseudonym(secret, "candidate", session.candidate_id),
            "release": session.release_version,
            "policy": session.policy,
            "day": session.created_at.date().isoformat(),
            "seq": response.seq,
            "item_id": response.item_id,
            "skill": response.skill,
            "pretest": response.pretest,
            "score": score,
            "machine_score": response.score,
            "max_score": response.max_score,
            "scorer": response.scorer,
            "needs_review": response.needs_review,
            "duration_s": (None if response.duration_s is None else round(response.duration_s, 2)),
            "non_reader": session.non_reader,
            "session_state": session.state,
        }
        for session, response, score in scored_responses(db, release)
    ]
    audit.record(db, actor, "export.responses", detail={"release": release, "responses": len(rows)})
    db.flush()
    return responses_text(rows, RESPONSE_EXTRA)


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def candidate_data(db: Session, candidate: Candidate) -> dict[str, Any]:
    """Everything kept about a candidate, as plain JSON-ready data."""
    sessions = []
    for session in candidate.sessions:
        responses = []
        for r in session.responses:
            transcript = r.transcript
            responses.append(
                {
                    "seq": r.seq,
                    "item_id": r.item_id,
                    "skill": r.skill,
                    "answer": r.answer,
                    "score": r.score,
                    "max_score": r.max_score,
                    "scorer": r.scorer,
                    "needs_review": r.needs_review,
                    "score_detail": r.score_detail,
                    "presented_at": _iso(r.presented_at),
                    "answered_at": _iso(r.answered_at),
                    "recording": {
                        "sha256": r.recording.sha256,
                        "mime_type": r.recording.mime_type,
                        "duration_s": r.recording.duration_s,
                        "erased_at": _iso(r.recording.erased_at),
                        "file": f"enregistrements/{r.id}.{r.recording.container}"
                        if r.recording.erased_at is None
                        else None,
                    }
                    if r.recording
                    else None,
                    "transcript": {
                        "status": transcript.status,
                        "text": transcript.text,
                        "confidence": transcript.confidence,
                    }
                    if transcript
                    else None,
                }
            )
        sessions.append(
            {
                "id": session.id,
                "created_at": _iso(session.created_at),
                "finished_at": _iso(session.finished_at),
                "state": session.state,
                "release": session.release_version,
                "policy": session.policy,
                "non_reader": session.non_reader,
                "language": session.language,
                "responses": responses,
                "results": [
                    {
                        "computed_at": _iso(res.computed_at),
                        "status": res.status,
                        "estimates": res.estimates,
                        "levels": res.levels,
                        "global_level": res.global_level,
                        "decision": res.decision,
                    }
                    for res in session.results
                ],
                "overrides": [
                    {
                        "created_at": _iso(o.created_at),
                        "by": o.user.display_name,
                        "target": o.target,
                        "from": o.from_value,
                        "to": o.to_value,
                        "reason": o.reason,
                    }
                    for o in session.overrides
                ],
                "attestations": [
                    {
                        "verification_code": a.verification_code,
                        "kind": a.kind,
                        "hours": a.hours,
                        "issued_at": _iso(a.issued_at),
                        "revoked_at": _iso(a.revoked_at),
                        "pdf_sha256": a.pdf_sha256,
                        "file": f"attestations/{a.verification_code}.pdf" if a.pdf else None,
                    }
                    for a in session.attestations
                ],
            }
        )
    events = audit.events_for_candidate(db, candidate.id)
    return {
        "candidate": {
            "dossier_number": candidate.dossier_number,
            "last_name": candidate.last_name,
            "first_name": candidate.first_name,
            "birth_date": _iso(candidate.birth_date),
            "help_language": candidate.help_language,
            "non_reader": candidate.non_reader,
            "created_at": _iso(candidate.created_at),
            "erased_at": _iso(candidate.erased_at),
        },
        "sessions": sessions,
        "audit": [
            {"at": _iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in events
        ],
    }


def candidate_export_zip(db: Session, candidate_id: int, actor: Actor | User) -> bytes:
    """A ZIP with ``donnees.json``, the recordings and the attestations' PDFs (audited)."""
    candidate = get_candidate(db, candidate_id)
    audit.record(db, actor, "candidate.export", candidate_id=candidate.id)
    db.flush()
    data = candidate_data(db, candidate)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "donnees.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)
        )
        for session in candidate.sessions:
            for r in session.responses:
                recording: Recording | None = r.recording
                if recording is not None and recording.data is not None:
                    archive.writestr(
                        f"enregistrements/{r.id}.{recording.container}", recording.data
                    )
            for a in session.attestations:
                attestation: Attestation = a
                if attestation.pdf is not None:
                    archive.writestr(
                        f"attestations/{attestation.verification_code}.pdf", attestation.pdf
                    )
    return buffer.getvalue()


def response_count(db: Session) -> int:
    """How many responses the database holds (for the psychometrician's page)."""
    from sqlalchemy import func

    return int(db.scalar(select(func.count(Response.id))) or 0)
