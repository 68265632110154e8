"""Administration: accounts, retention purge, a candidate's export and erasure; psychometrics."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placement.responses import read_responses
from placement.sessions import retention
from placement.sessions.errors import Conflict, InvalidInput
from placement.sessions.models import (
    Attestation,
    AuditEvent,
    Candidate,
    Response,
    TestSession,
    User,
    utcnow,
)
from tests.webui.conftest import CSRF, login, set_csrf
from tests.webui.flows import add_recording, new_session, play_test
from webui.extensions import db


def _count(app: Flask, model: type, **where: object) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(db.session.scalar(query) or 0)


def _finished_with_recording(
    app: Flask, user: User, dossier: str, wav: bytes, **candidate: str
) -> int:
    """A finished test whose spoken answer has its recording and an attestation issued."""
    from placement.sessions import attestations

    session_id = new_session(app, user, dossier, **candidate)
    play_test(app, session_id, wav, "right")
    with app.app_context():
        response = db.session.scalars(
            select(Response).where(Response.session_id == session_id, Response.skill == "EO")
        ).first()
        assert response is not None
        response.answer = {"recording": True}
        add_recording(response, wav)
        auditeur = db.session.get(User, user.id)
        assert auditeur is not None
        attestations.issue_attestation(
            db.session, session_id, auditeur, verify_base_url="http://localhost/verifier"
        )
        db.session.commit()
    return session_id


def test_admin_creates_resets_and_deactivates_accounts(
    app: Flask, client_as: Callable[[str], FlaskClient]
) -> None:
    admin = client_as("admin")
    created = admin.post(
        "/admin/users",
        data={
            "csrf_token": CSRF,
            "username": "c.leroy",
            "display_name": "C. Leroy",
            "role": "auditeur",
        },
    )
    assert created.status_code == 200
    password = re.search(r'id="new-password">([^<]+)<', created.text)
    assert password is not None
    newcomer = app.test_client()
    first = login(newcomer, "c.leroy", password.group(1))
    assert first.location.endswith("/mot-de-passe")  # a handed-over password is replaced first
    changed = newcomer.post(
        "/mot-de-passe",
        data={
            "csrf_token": CSRF,
            "current_password": password.group(1),
            "new_password": "le mien, choisi",
            "new_password_confirm": "le mien, choisi",
        },
    )
    assert changed.status_code == 302
    set_csrf(newcomer)
    assert newcomer.get("/desk/").status_code == 200
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "c.leroy"))
    reset = admin.post(f"/admin/users/{user_id}/password", data={"csrf_token": CSRF})
    new_password = re.search(r'id="new-password">([^<]+)<', reset.text)
    assert new_password is not None
    assert new_password.group(1) != password.group(1)
    assert newcomer.get("/desk/").status_code == 302  # the reset ended the old session
    off = admin.post(f"/admin/users/{user_id}/active", data={"csrf_token": CSRF, "active": "0"})
    assert off.status_code == 302
    assert login(newcomer, "c.leroy", new_password.group(1)).status_code == 401
    duplicate = admin.post(
        "/admin/users",
        data={"csrf_token": CSRF, "username": "c.leroy", "display_name": "X", "role": "admin"},
    )
    assert duplicate.status_code == 409
    actions = set()
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"user.create", "user.password_reset", "user.deactivate"} <= actions


def test_export_then_erase_a_candidate(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    client_as: Callable[[str], FlaskClient],
    speech_wav: bytes,
) -> None:
    auditeur, _ = make_user("auditeur")
    session_id = _finished_with_recording(
        app, auditeur, "75-2026-00200", speech_wav, last_name="Haddad", first_name="Omar"
    )
    with app.app_context():
        candidate_id = db.session.scalar(
            select(TestSession.candidate_id).where(TestSession.id == session_id)
        )
        tested = db.session.get(TestSession, session_id)
        assert tested is not None
        tested.language = "ar"  # the tablet spoke Arabic: part of the candidate's data
        db.session.commit()
        responses_before = db.session.scalar(
            select(func.count(Response.id)).where(Response.session_id == session_id)
        )
    admin = client_as("admin")
    page = admin.get(f"/admin/candidats/{candidate_id}")
    assert page.status_code == 200
    assert "Haddad" in page.text
    export = admin.get(f"/admin/candidats/{candidate_id}/export.zip")
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    names = archive.namelist()
    data = json.loads(archive.read("donnees.json"))
    assert data["candidate"]["last_name"] == "Haddad"
    assert data["sessions"][0]["language"] == "ar"
    assert len(data["sessions"][0]["responses"]) == responses_before
    assert any(n.startswith("enregistrements/") and n.endswith(".wav") for n in names)
    assert any(n.startswith("attestations/") and n.endswith(".pdf") for n in names)
    assert archive.read(next(n for n in names if n.endswith(".wav"))) == speech_wav
    assert any(e["action"] == "candidate.view" for e in data["audit"])
    # erasure needs the dossier number typed again
    refused = admin.post(
        f"/admin/candidats/{candidate_id}/effacer", data={"csrf_token": CSRF, "confirm": "non"}
    )
    assert refused.status_code == 400
    erased = admin.post(
        f"/admin/candidats/{candidate_id}/effacer",
        data={"csrf_token": CSRF, "confirm": "75-2026-00200"},
    )
    assert erased.status_code == 302
    with app.app_context():
        candidate = db.session.get(Candidate, candidate_id)
        assert candidate is not None
        assert candidate.erased_at is not None
        assert "Haddad" not in (candidate.last_name, candidate.first_name)
        assert candidate.birth_date is None
        assert candidate.dossier_number == f"EFFACE-{candidate_id}"
        erased_session = db.session.get(TestSession, session_id)
        assert erased_session is not None
        assert erased_session.language is None
        responses = db.session.scalars(
            select(Response).where(Response.session_id == session_id)
        ).all()
        assert len(responses) == responses_before  # the pseudonymous responses stay
        assert all(r.score is not None for r in responses)
        assert all(r.recording is None or r.recording.data is None for r in responses)
        assert all(
            r.answer is None or r.answer.get("erased") or r.answer.get("recording")
            for r in responses
        )
        attestation = db.session.scalars(select(Attestation)).one()
        assert attestation.pdf is None
        assert "candidate" not in attestation.content
        assert (
            db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.action == "candidate.erase")
            )
            == 1
        )
    # nothing of the name is left to any page, and the desk refuses to work on it
    assert "Haddad" not in admin.get(f"/admin/candidats/{candidate_id}").text
    assert "Haddad" not in admin.get(f"/desk/sessions/{session_id}").text
    again = admin.post(
        f"/admin/candidats/{candidate_id}/effacer",
        data={"csrf_token": CSRF, "confirm": f"EFFACE-{candidate_id}"},
    )
    assert again.status_code == 409


def test_retention_purge_erases_only_old_candidates(
    app: Flask, make_user: Callable[..., tuple[User, str]], speech_wav: bytes
) -> None:
    auditeur, _ = make_user("auditeur")
    old_session = _finished_with_recording(app, auditeur, "75-2025-00001", speech_wav)
    new_session_id = _finished_with_recording(app, auditeur, "75-2026-00002", speech_wav)
    with app.app_context():
        old = db.session.get(TestSession, old_session)
        assert old is not None
        long_ago = utcnow() - timedelta(days=400)
        old.created_at = long_ago
        old.candidate.created_at = long_ago
        db.session.commit()
        with pytest.raises(InvalidInput):
            retention.purge(db.session, 0)
        done = retention.purge(db.session, 365)
        db.session.commit()
        assert done.candidates == 1
        assert done.recordings == 1
        old = db.session.get(TestSession, old_session)
        recent = db.session.get(TestSession, new_session_id)
        assert old is not None
        assert recent is not None
        assert old.candidate.erased_at is not None
        assert recent.candidate.erased_at is None
        assert recent.candidate.last_name == "Diallo"
        assert all(r.recording is None or r.recording.data is not None for r in recent.responses)
        with pytest.raises(Conflict):
            retention.erase_candidate(db.session, old.candidate_id, retention.audit.SYSTEM)
        # a second purge finds nothing more
        assert retention.purge(db.session, 365).candidates == 0


def test_purge_from_the_admin_page(app: Flask, client_as: Callable[[str], FlaskClient]) -> None:
    admin = client_as("admin")
    page = admin.get("/admin/")
    assert "30 jours" in page.text  # the configured retention period
    done = admin.post("/admin/purge", data={"csrf_token": CSRF}, follow_redirects=True)
    assert done.status_code == 200
    assert "Purge effectuée" in done.text
    assert _count(app, AuditEvent, action="retention.purge") == 1


def test_psychometrician_export_has_no_names(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    client_as: Callable[[str], FlaskClient],
    speech_wav: bytes,
    tmp_path: Path,
) -> None:
    auditeur, _ = make_user("auditeur")
    first = new_session(app, auditeur, "75-2026-00300", last_name="Zerbib", first_name="Léa")
    play_test(app, first, speech_wav, "right")
    second = new_session(app, auditeur, "75-2026-00301", last_name="Okafor", first_name="Chidi")
    play_test(app, second, speech_wav, "wrong")
    psy = client_as("psychometricien")
    index = psy.get("/psy/")
    assert index.status_code == 200
    assert "2026.1.0" in index.text  # the published release of the test bank
    assert "First release: every item is new." in index.text  # its changelog
    response = psy.get("/psy/responses.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for secret in ("Zerbib", "Léa", "Okafor", "Chidi", "75-2026-0030"):
        assert secret not in body
    rows = list(csv.DictReader(io.StringIO(body)))
    with app.app_context():
        n_responses = db.session.scalar(select(func.count(Response.id)))
    assert len(rows) == n_responses
    candidates = {r["candidate"] for r in rows}
    assert len(candidates) == 2
    assert all(re.fullmatch(r"[0-9a-f]{16}", c) for c in candidates)
    assert {r["score"] for r in rows} >= {"0", "1"}
    # the one responses format: calibration reads the download as it is (person = session)
    download = tmp_path / "responses.csv"
    download.write_text(body, encoding="utf-8")
    read_back = read_responses(download)
    assert len(read_back) + read_back.pending == n_responses
    assert len(set(read_back.person_ids)) == 2
    assert read_back.renamed == {}
    # stable pseudonyms: the same export twice gives the same ids
    again = list(csv.DictReader(io.StringIO(psy.get("/psy/responses.csv").get_data(as_text=True))))
    assert {r["candidate"] for r in again} == candidates
    assert _count(app, AuditEvent, action="export.responses") == 2
    # psychometricians do not see the desk (names)
    assert psy.get("/desk/").status_code == 403
    assert psy.get(f"/desk/sessions/{first}").status_code == 403
