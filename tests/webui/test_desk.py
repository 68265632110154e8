"""The auditeur's desk: start a test, follow it, review it, override, issue the attestation."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from placement.sessions.models import (
    Attestation,
    AuditEvent,
    Override,
    Response,
    Result,
    SessionState,
    TestSession,
    Transcript,
    User,
)
from tests.webui.conftest import CSRF, set_csrf
from tests.webui.flows import add_recording, new_session, play_test
from webui.extensions import db


def _count(app: Flask, model: type, **where: object) -> int:
    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return int(db.session.scalar(query) or 0)


def test_start_a_test_shows_the_code_and_a_qr_code(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    _, client = auditeur
    response = client.post(
        "/desk/sessions",
        data={
            "csrf_token": CSRF,
            "dossier_number": "75-2026-00042",
            "last_name": "Nguyen",
            "first_name": "Linh",
            "birth_date": "01/02/1985",
        },
    )
    assert response.status_code == 302
    page = client.get(response.location)
    assert page.status_code == 200
    with app.app_context():
        session = db.session.scalars(select(TestSession)).one()
        code = session.code
        assert session.state == SessionState.WAITING
        assert session.candidate.birth_date is not None
        assert re.fullmatch(r"[ACDEFHJKMNPRTUVWXY3479]{3}-[ACDEFHJKMNPRTUVWXY3479]{3}", code)
        assert len(session.token) >= 40
    assert '<p class="code"' in page.text
    assert code in page.text
    assert "<svg" in page.text
    assert "<script" not in page.text.split("<svg", 1)[1].split("</svg>")[0]
    assert f"/t/c/{code}" in page.text
    # the same dossier again: the candidate is reused, but a running test is not doubled: the
    # auditeur lands on the running one (its code), with the reason, rather than on an error
    again = client.post(
        "/desk/sessions", data={"csrf_token": CSRF, "dossier_number": "75-2026-00042"}
    )
    assert again.status_code == 303
    assert again.location.endswith(urlparse(response.location).path)
    shown = client.get(again.location)
    assert "déjà en cours" in shown.text
    assert code in shown.text
    as_json = client.post(
        "/desk/sessions",
        data={"csrf_token": CSRF, "dossier_number": "75-2026-00042"},
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 409
    assert "déjà en cours" in as_json.get_json()["error"]["message"]
    # the day's list and its JSON poll
    listing = client.get("/desk/")
    assert "75-2026-00042" in listing.text
    assert "en attente" in listing.text
    live = client.get("/desk/api/sessions", headers={"Accept": "application/json"}).get_json()
    assert [s["state"] for s in live["sessions"]] == ["waiting"]


def test_bad_candidate_input_is_a_french_400_and_creates_nothing(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    _, client = auditeur
    for data, message in (
        ({"dossier_number": "??", "last_name": "A", "first_name": "B"}, "numéro de dossier"),
        ({"dossier_number": "75-1", "last_name": "", "first_name": "B"}, "nom est obligatoire"),
        (
            {
                "dossier_number": "75-1",
                "last_name": "A",
                "first_name": "B",
                "birth_date": "31/02/1990",
            },
            "JJ/MM/AAAA",
        ),
        (
            {
                "dossier_number": "75-1",
                "last_name": "A",
                "first_name": "B",
                "birth_date": "01/01/2999",
            },
            "plausible",
        ),
    ):
        response = client.post("/desk/sessions", data={"csrf_token": CSRF, **data})
        assert response.status_code == 400, data
        assert message in response.text
    assert _count(app, TestSession) == 0


def test_review_page_shows_items_keys_answers_scores_and_the_plot(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00100")
    play_test(app, session_id, speech_wav, "right")
    page = client.get(f"/desk/sessions/{session_id}")
    assert page.status_code == 200
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.state in ("done", "to_review")
        from placement.sessions.results import bank_for

        bank = bank_for(session)
        for response in session.responses:
            item = bank.item(response.item_id)
            assert response.item_id in page.text
            if item.key:
                assert "(clé)" in page.text
        result = session.results[-1]
    assert "Résultat" in page.text
    assert result.global_level in page.text
    assert "dispense" in page.text
    svg = client.get(f"/desk/sessions/{session_id}/plot.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert svg.text.count("<path") > 4
    assert "CO" in svg.text
    # the view is in the audit trail
    assert _count(app, AuditEvent, action="session.view", session_id=session_id) == 1


def test_override_without_reason_is_refused_and_loses_nothing(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00101")
    play_test(app, session_id, speech_wav, "right")
    results_before = _count(app, Result, session_id=session_id)
    with app.app_context():
        response_id = db.session.scalars(
            select(Response.id).where(Response.session_id == session_id).order_by(Response.seq)
        ).first()
    for data in (
        {"target": "response", "response_id": response_id, "score": 0, "reason": ""},
        {"target": "response", "response_id": response_id, "score": 0, "reason": "trop court"[:9]},
        {"target": "level", "skill": "CO", "level": "A1", "reason": "   "},
        {"target": "decision", "kind": "prescription", "hours": 100, "reason": "non"},
    ):
        refused = client.post(
            f"/desk/sessions/{session_id}/overrides", data={"csrf_token": CSRF, **data}
        )
        assert refused.status_code == 400
        assert "raison écrite" in refused.text
    json_refused = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "target": "level", "skill": "CO", "level": "A1"},
        headers={"Accept": "application/json"},
    )
    assert json_refused.status_code == 400
    assert "raison" in json_refused.get_json()["error"]["message"]
    assert _count(app, Override) == 0
    assert _count(app, Result, session_id=session_id) == results_before


def test_response_override_recomputes_beside_the_machine_result(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00102")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        first = session.results[-1]
        first_id, first_theta = first.id, first.estimates["CO"]["theta"]
        co = [r for r in session.responses if r.skill == "CO"]
        targets = [(r.id, r.score) for r in co]
    for response_id, _ in targets:
        done = client.post(
            f"/desk/sessions/{session_id}/overrides",
            data={
                "csrf_token": CSRF,
                "target": "response",
                "response_id": response_id,
                "score": 0,
                "reason": "Réponse donnée par l'interprète, pas par le candidat.",
            },
        )
        assert done.status_code == 302
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.results[0].id == first_id  # the machine's first result is untouched
        newest = session.results[-1]
        assert newest.id != first_id
        assert newest.estimates["CO"]["theta"] < first_theta
        # the machine's scores stay on the responses
        assert [(r.id, r.score) for r in session.responses if r.skill == "CO"] == targets
        overrides = session.overrides
        assert len(overrides) == len(targets)
        assert all(o.from_value and o.from_value["score"] == 1 for o in overrides)
        assert _count(app, AuditEvent, action="override.create") == len(targets)
    page = client.get(f"/desk/sessions/{session_id}").text
    assert "corrigée ; machine : 1" in page
    assert "Réponse donnée par l&#39;interprète" in page


def test_decision_override_then_attestation_pdf_and_public_check(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00103", last_name="Benali", first_name="Yasmine")
    play_test(app, session_id, speech_wav, "right")
    # first the machine's decision: a dispense
    issued = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert issued.status_code == 302
    with app.app_context():
        first = db.session.scalars(select(Attestation)).one()
        first_id, first_code = first.id, first.verification_code
        assert first.kind == "dispense"
        assert first.hours == 0
    pdf = client.get(f"/desk/attestations/{first_id}.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in (
        "Attestation de dispense",
        "BENALI",
        "Yasmine",
        "75-2026-00103",
        "12/03/1990",
        first_code,
        "Auditeur Test",
        "Niveaux constatés",
        "Formation vers le niveau",
    ):
        assert expected.lower() in text.lower(), expected
    with app.app_context():
        assert (
            hashlib.sha256(pdf.data).hexdigest() == db.session.get(Attestation, first_id).pdf_sha256
        )
    # the auditeur overrides the decision: a prescription of 100 hours
    override = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "decision",
            "kind": "prescription",
            "hours": "100",
            "reason": "Le candidat n'a pas compris les consignes orales de l'entretien.",
        },
    )
    assert override.status_code == 302
    page = client.get(f"/desk/sessions/{session_id}").text
    decision = page.split('id="decision-retenue"', 1)[1].split("</p>", 1)[0]
    assert "prescription de 100 h" in decision
    assert "décision de l'auditeur" in decision
    assert "la politique donne : dispense" in decision  # the policy's stays visible
    client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    with app.app_context():
        second = db.session.scalars(select(Attestation).order_by(Attestation.id.desc())).first()
        assert second is not None
        assert second.kind == "prescription"
        assert second.hours == 100
        second_id, second_code = second.id, second.verification_code
        assert db.session.get(Attestation, first_id).revoked_at is not None
    text = "\n".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(client.get(f"/desk/attestations/{second_id}.pdf").data)).pages
    )
    assert "Prescription de formation linguistique" in text
    assert "100 heures" in text
    assert "Décision de l'auditeur" in text
    assert "Motif : Le candidat n'a pas compris" in " ".join(text.split())
    # the public check needs no login
    public = app.test_client()
    ok = public.get(f"/verifier/{second_code}")
    assert ok.status_code == 200
    assert "Document authentique" in ok.text
    assert "Prescription de 100 heures" in ok.text
    assert "Benali" not in ok.text  # only the initial and the end of the dossier number
    old = public.get(f"/verifier/{first_code.lower().replace('-', '')}", follow_redirects=True)
    assert "remplacé" in old.text
    typed = public.get(
        "/verifier/", query_string={"code": second_code.lower()}, follow_redirects=True
    )
    assert "Document authentique" in typed.text
    unknown = public.get("/verifier/ATT-AAAA-AAAA-AAAA")
    assert unknown.status_code == 404
    assert "Code inconnu" in unknown.text
    assert _count(app, AuditEvent, action="attestation.download") == 2


def test_attestation_before_the_end_is_a_409(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00104")
    refused = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert refused.status_code == 409
    assert _count(app, Attestation) == 0


def test_abandon_then_resume_with_a_new_code_keeps_the_answers(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    from placement.sessions import testflow
    from placement.sessions.errors import Conflict, NotFound

    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00105")
    play_test(app, session_id, speech_wav, "right", stop_after=2)
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        old_code, old_token, pending = session.code, session.token, session.pending_item_id
    assert (
        client.post(f"/desk/sessions/{session_id}/abandon", data={"csrf_token": CSRF}).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(TestSession, session_id).state == SessionState.ABANDONED
        with pytest.raises(NotFound):
            testflow.session_by_token(db.session, old_token)
        with pytest.raises((Conflict, NotFound)):
            testflow.open_by_code(db.session, old_code)
    assert (
        client.post(f"/desk/sessions/{session_id}/resume", data={"csrf_token": CSRF}).status_code
        == 302
    )
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.code != old_code
        assert session.state == SessionState.WAITING
        reopened = testflow.open_by_code(db.session, session.code)
        view = testflow.current_item(db.session, reopened)
        assert view is not None
        assert view.item_id == pending  # it goes on at the same item
        assert len(reopened.responses) == 2
        db.session.commit()
    assert _count(app, AuditEvent, action="session.resume") == 1


def test_recording_is_streamed_and_each_listening_audited(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00106")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        response = db.session.scalars(
            select(Response).where(Response.session_id == session_id, Response.skill == "EO")
        ).first()
        assert response is not None
        # what the tablet's upload leaves behind: the original bytes and the transcript
        response.answer = {"recording": True}
        add_recording(response, speech_wav, duration_s=3.1)
        db.session.add(
            Transcript(
                response_id=response.id,
                status="done",
                text="bonjour je m'appelle amina",
                confidence=0.62,
                detail={
                    "words": [
                        {"word": " bonjour", "start": 0.0, "end": 0.4, "probability": 0.95},
                        {"word": " je", "start": 0.4, "end": 0.5, "probability": 0.9},
                        {"word": " m'appelle", "start": 0.5, "end": 0.9, "probability": 0.88},
                        {"word": " amina", "start": 0.9, "end": 1.3, "probability": 0.21},
                    ]
                },
            )
        )
        db.session.commit()
        response_id = response.id
    page = client.get(f"/desk/sessions/{session_id}").text
    assert f'src="/desk/recordings/{response_id}"' in page
    assert 'class="low-confidence"' in page
    assert "amina" in page
    audio = client.get(f"/desk/recordings/{response_id}")
    assert audio.status_code == 200
    assert audio.data == speech_wav
    assert audio.mimetype == "audio/wav"
    part = client.get(f"/desk/recordings/{response_id}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206
    assert part.data == speech_wav[:100]
    assert part.headers["Content-Range"] == f"bytes 0-99/{len(speech_wav)}"
    assert _count(app, AuditEvent, action="recording.listen") == 2
    assert client.get("/desk/recordings/999999").status_code == 404


def test_day_export_csv(app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes) -> None:
    import csv

    user, client = auditeur
    finished = new_session(app, user, "75-2026-00107", last_name="Koné")
    play_test(app, finished, speech_wav, "wrong")
    new_session(app, user, "75-2026-00108")
    response = client.get("/desk/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["numero_dossier"] for r in rows] == ["75-2026-00107", "75-2026-00108"]
    done, waiting = rows
    assert done["nom"] == "Koné"
    assert done["decision"] == "prescription"
    assert int(done["heures"]) > 0
    assert waiting["etat"] == "en attente"
    assert waiting["code_etat"] == "waiting"  # the code beside its French label
    assert done["non_lecteur"] == "non"
    assert waiting["decision"] == ""
    assert _count(app, AuditEvent, action="export.day") == 1
    bad = client.get("/desk/export.csv?jour=hier")
    assert bad.status_code == 400
    assert "AAAA-MM-JJ" in bad.text


def test_level_and_non_reader_overrides(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00109")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        machine = session.results[-1]
        machine_co = machine.levels["CO"]["level"]
    level = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "level",
            "skill": "CO",
            "level": "A1.1",
            "reason": "Compréhension orale hésitante pendant l'entretien individuel.",
        },
    )
    assert level.status_code == 302
    bad_level = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "level",
            "skill": "XX",
            "level": "A1",
            "reason": "Une raison assez longue pour passer.",
        },
    )
    assert bad_level.status_code == 400
    with app.app_context():
        from placement.sessions.operations import effective_result

        session = db.session.get(TestSession, session_id)
        assert session is not None
        effective = effective_result(session)
        assert effective is not None
        assert effective.levels["CO"] == "A1.1"
        assert effective.machine.levels["CO"]["level"] == machine_co  # the machine's is kept
        assert "level:CO" in effective.overridden
        assert len(session.results) == 1  # a level override adds no computation
    page = client.get(f"/desk/sessions/{session_id}").text
    assert '<span class="overridden">A1.1 (corrigé)</span>' in page
    # this test went the reader's way; marked non-lecteur afterwards, it is recomputed on the
    # answers of the non-reader path alone, and reading and writing become "not assessed"
    marked = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "non_reader",
            "non_reader": "1",
            "reason": "Ne sait ni lire ni écrire : constaté pendant l'entretien.",
        },
    )
    assert marked.status_code == 302
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert [o.target for o in session.overrides] == ["level:CO", "non_reader"]
        assert len(session.results) == 2  # the machine's first result is kept
        newest = session.results[-1]
        assert newest.levels["CE"] is None
        assert newest.levels["EE"] is None
        assert newest.estimates["CO"] is not None
        assert newest.decision["kind"] == "prescription"


def test_non_reader_override_recomputes_with_the_policy_rule(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00111", non_reader=True)
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert {r.skill for r in session.responses} <= {"CO", "EO"}
        first = session.results[-1]
        assert first.decision["kind"] == "prescription"  # the policy's rule for non-readers
        first_id = first.id
    unmarked = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "non_reader",
            "non_reader": "0",
            "reason": "Lit couramment : l'indication du dossier était erronée.",
        },
    )
    assert unmarked.status_code == 302
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.results[0].id == first_id
        newest = session.results[-1]
        assert newest.id != first_id
        assert newest.levels["CE"] is None  # not assessed, not failed
        assert newest.decision != session.results[0].decision
        assert session.overrides[-1].from_value == {"non_reader": True}


def test_desk_list_view_is_audited_without_the_poll(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    user, client = auditeur
    new_session(app, user, "75-2026-00110")
    client.get("/desk/")
    client.get("/desk/api/sessions", headers={"Accept": "application/json"})
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "session.list")
        ).all()
    assert len(events) == 1
    assert events[0].detail is not None
    assert len(events[0].detail["candidate_ids"]) == 1


def test_reviewing_the_last_flagged_response_settles_the_session(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-2026-00112")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        # what a doubtful transcript leaves: the spoken answer flagged for the auditeur
        flagged = next(r for r in session.responses if r.skill == "EO")
        flagged.needs_review = True
        session.state = SessionState.TO_REVIEW
        db.session.commit()
        flagged_id, max_score = flagged.id, flagged.max_score
    page = client.get(f"/desk/sessions/{session_id}").text
    todo = page.split('id="a-faire"', 1)[1].split('id="resultat"', 1)[0]
    assert "À faire : 1 point(s)" in todo  # the work to do comes before the result
    assert f'id="reponse-{flagged_id}" data-todo' in todo
    done = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "response",
            "response_id": flagged_id,
            "score": max_score,
            "reason": "Réponse complète à l'écoute : nom et adresse donnés.",
        },
    )
    assert done.status_code == 302
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.state == SessionState.DONE
    status = client.get(f"/desk/api/sessions/{session_id}", headers={"Accept": "application/json"})
    assert status.get_json()["state"] == "done"


def test_proxy_fix_takes_the_client_address_from_the_proxy(
    db_url: str, tmp_path: Path, make_user: Callable[..., tuple[User, str]]
) -> None:
    from webui import create_app

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "clé",
            "AUTO_UPGRADE": False,
            "PROXY_FIX": 1,
            "INSTANCE_PATH": str(tmp_path / "proxy"),
        }
    )
    client = app.test_client()
    set_csrf(client)
    client.post(
        "/login",
        data={"username": "personne", "password": "faux", "csrf_token": CSRF},
        headers={"X-Forwarded-For": "203.0.113.77"},
    )
    with app.app_context():
        from placement.sessions.models import LoginAttempt

        assert db.session.scalars(select(LoginAttempt.ip)).all() == ["203.0.113.77"]
    with app.app_context():
        db.engine.dispose()


def test_the_day_list_costs_the_same_queries_for_any_number_of_sessions(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    from sqlalchemy import event

    user, client = auditeur

    def queries() -> int:
        count = 0

        def seen(*_args: object, **_kwargs: object) -> None:
            nonlocal count
            count += 1

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            response = client.get("/desk/api/sessions", headers={"Accept": "application/json"})
            assert response.status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return count

    for n in range(2):
        new_session(app, user, f"75-2026-0070{n}")
    few = queries()
    for n in range(2, 7):
        new_session(app, user, f"75-2026-0070{n}")
    assert queries() == few


def test_the_auditeur_chooses_the_candidates_language_from_the_list(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    _, client = auditeur
    form = client.get("/desk/").text
    assert '<select id="language" name="language">' in form
    assert '<option value="ar">Arabe · العربية</option>' in form
    assert '<option value="ps">Pachto · پښتو (écrit seulement)</option>' in form
    base = {"csrf_token": CSRF, "last_name": "Haidari", "first_name": "Zahra"}
    refused = client.post(
        "/desk/sessions", data={**base, "dossier_number": "75-2026-00071", "language": "xx"}
    )
    assert refused.status_code == 400
    assert "pas dans la liste" in refused.text
    assert _count(app, TestSession) == 0
    made = client.post(
        "/desk/sessions", data={**base, "dossier_number": "75-2026-00071", "language": "fa"}
    )
    assert made.status_code == 302
    french = client.post(
        "/desk/sessions", data={**base, "dossier_number": "75-2026-00072", "language": ""}
    )
    assert french.status_code == 302
    with app.app_context():
        by_dossier = {
            s.candidate.dossier_number: s for s in db.session.scalars(select(TestSession))
        }
        assert by_dossier["75-2026-00071"].language == "fa"
        assert by_dossier["75-2026-00071"].candidate.help_language == "fa"
        assert by_dossier["75-2026-00072"].language is None
