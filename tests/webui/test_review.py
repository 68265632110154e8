"""The auditeur's review: the work to do first, in French, nothing issued unchecked.

Each test here is one thing an auditeur met on the desk (transcripts without spaces, UTC times,
a PDF issued with answers still to check, raw JSON in the corrections, θ written two ways, a
bare error page, a missing favicon...), played through the real routes on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placement.sessions.models import (
    Attestation,
    Override,
    SessionState,
    TestSession,
    Transcript,
    User,
)
from tests.webui.conftest import CSRF
from tests.webui.flows import add_recording, new_session, play_test
from webui.desk.review import COMMON_REASONS, CONFIRM_REASON
from webui.extensions import db


def visible_text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags removed, spaces collapsed."""
    fragment = re.sub(r"<(script|style)\b.*?</\1>", " ", fragment, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def section(page: str, start: str, end: str) -> str:
    """The part of ``page`` between two markers (both must be there)."""
    assert start in page, start
    after = page.split(start, 1)[1]
    assert end in after, end
    return after.split(end, 1)[0]


def flag_spoken_answers(app: Flask, session_id: int, wav: bytes, count: int = 2) -> list[int]:
    """What doubtful transcripts leave: ``count`` answers with a recording, a transcript whose
    words are stored stripped (as audio.transcribe joins them) and the scorer's flag."""
    ids = []
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        responses = sorted(session.responses, key=lambda r: (r.skill != "EO", r.seq))[:count]
        for response in responses:
            response.answer = {"recording": True}
            response.needs_review = True
            response.score = min(1, response.max_score)
            response.scorer = "asr"
            response.score_detail = {"found": [], "missing": [], "reasons": ["Manquant : nom."]}
            add_recording(response, wav, duration_s=3.14)
            db.session.add(
                Transcript(
                    response_id=response.id,
                    status="done",
                    text="Bonjour, je m'appelle Amina",
                    confidence=0.62,
                    detail={
                        "words": [
                            {"word": "Bonjour,", "start": 0.0, "end": 0.4, "probability": 0.95},
                            {"word": "je", "start": 0.4, "end": 0.5, "probability": 0.9},
                            {"word": "m'appelle", "start": 0.5, "end": 0.9, "probability": 0.88},
                            {"word": "Amina", "start": 0.9, "end": 1.3, "probability": 0.21},
                        ]
                    },
                )
            )
            ids.append(response.id)
        session.state = SessionState.TO_REVIEW
        db.session.commit()
    return ids


def test_a_transcript_is_printed_with_spaces_and_its_doubtful_words_marked(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-001")
    play_test(app, session_id, speech_wav, "right")
    (response_id,) = flag_spoken_answers(app, session_id, speech_wav, count=1)
    page = client.get(f"/desk/sessions/{session_id}").text
    entry = section(page, f'id="reponse-{response_id}" data-todo', "</article>")
    transcript = section(entry, '<span class="transcript">', "</p>")
    assert visible_text(transcript) == "Bonjour, je m'appelle Amina"
    assert 'class="low-confidence" title="mot peu sûr (21\xa0%)">Amina</span>' in transcript
    assert "(terminée, confiance 62 %)" in visible_text(entry)  # no "done"
    assert "durée : 3,1 s" in visible_text(entry)  # the recording's real duration
    assert f'src="/desk/recordings/{response_id}"' in entry


def test_times_are_written_in_the_office_time_zone(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    waiting = new_session(app, user, "75-REV-002")
    with app.app_context():
        session = db.session.get(TestSession, waiting)
        assert session is not None
        # 9:27 UTC on a summer day is 11:27 in Paris (UTC+2)
        session.created_at = datetime(2026, 7, 1, 9, 27, tzinfo=UTC)
        session.code_expires_at = datetime(2026, 7, 1, 13, 27, tzinfo=UTC)
        db.session.commit()
    listing = client.get("/desk/?jour=2026-07-01").text
    assert "11:27" in visible_text(section(listing, 'id="sessions"', "</table>"))
    page = client.get(f"/desk/sessions/{waiting}").text
    assert "Valable jusqu'à 15:27" in visible_text(page)
    assert "UTC" not in visible_text(page)
    finished = new_session(app, user, "75-REV-003")
    play_test(app, finished, speech_wav, "right")
    issued = client.post(f"/desk/sessions/{finished}/attestation", data={"csrf_token": CSRF})
    assert issued.status_code == 302
    with app.app_context():
        attestation = db.session.scalars(select(Attestation)).one()
        attestation.issued_at = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # winter: UTC+1
        db.session.commit()
    page = client.get(f"/desk/sessions/{finished}").text
    assert "émise le 08/12/2026 à 00:30" in visible_text(page)


def test_nothing_is_issued_while_answers_are_to_check_unless_confirmed_with_a_reason(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-004")
    play_test(app, session_id, speech_wav, "right")
    flagged = flag_spoken_answers(app, session_id, speech_wav, count=2)
    page = client.get(f"/desk/sessions/{session_id}").text
    assert "2 réponse(s) encore à vérifier" in visible_text(page)
    refused = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert refused.status_code == 409
    assert "2 réponse(s) sont encore à vérifier" in html.unescape(refused.text)
    short = client.post(
        f"/desk/sessions/{session_id}/attestation",
        data={"csrf_token": CSRF, "confirm": "1", "confirm_reason": "ok"},
    )
    assert short.status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Attestation)).first() is None
        assert db.session.scalars(select(Override)).first() is None
    reason = "Enregistrements écoutés : les notes de la machine sont justes."
    issued = client.post(
        f"/desk/sessions/{session_id}/attestation",
        data={"csrf_token": CSRF, "confirm": "1", "confirm_reason": reason},
    )
    assert issued.status_code == 302
    with app.app_context():
        overrides = db.session.scalars(select(Override)).all()
        assert sorted(o.response_id or 0 for o in overrides) == sorted(flagged)
        assert {o.reason for o in overrides} == {reason}
        assert all(o.to_value["score"] == o.from_value["score"] for o in overrides)  # type: ignore[index]
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.state == SessionState.DONE
        assert len(session.attestations) == 1
    page = client.get(f"/desk/sessions/{session_id}").text
    assert "À faire : rien à vérifier" in page


def test_one_tap_confirms_or_changes_a_score_with_a_common_reason(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-005")
    play_test(app, session_id, speech_wav, "right")
    first, second = flag_spoken_answers(app, session_id, speech_wav, count=2)
    page = client.get(f"/desk/sessions/{session_id}").text
    todo = section(page, 'id="a-faire"', 'id="resultat"')
    assert 'name="confirm" value="1"' in todo
    assert visible_text(todo).count("Confirmer 1 /") == 2
    confirmed = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "target": "response", "response_id": first, "confirm": "1"},
    )
    assert confirmed.status_code == 302
    assert confirmed.location.endswith("#a-faire")  # back to the next thing to do
    changed = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "response",
            "response_id": second,
            "score": "0",
            "reason_code": "hors_sujet",
        },
    )
    assert changed.status_code == 302
    with app.app_context():
        by_response = {o.response_id: o for o in db.session.scalars(select(Override))}
        assert by_response[first].reason == CONFIRM_REASON
        # kept as a confirmation, like the "confirm all" button stores one
        assert by_response[first].to_value == {"score": 1, "confirmed": True}
        assert by_response[second].reason == COMMON_REASONS["hors_sujet"]
        assert by_response[second].to_value == {"score": 0}
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.state == SessionState.DONE
    # the corrections read in French, without JSON or internal names
    page = client.get(f"/desk/sessions/{session_id}").text
    corrections = visible_text(section(page, 'id="corrections"', "</details>"))
    assert "note de la réponse" in corrections
    assert "(confirmée)" in corrections
    for raw in ("{", '"score"', "response", "level:"):
        assert raw not in corrections, raw
    unknown = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "target": "response", "response_id": "999999", "confirm": "1"},
    )
    assert unknown.status_code == 404


def test_the_review_opens_on_the_work_to_do_then_the_result_then_the_rest_collapsed(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-006")
    play_test(app, session_id, speech_wav, "right")
    flag_spoken_answers(app, session_id, speech_wav, count=1)
    page = client.get(f"/desk/sessions/{session_id}").text
    order = [
        page.index(marker)
        for marker in (
            'id="a-faire"',
            'id="resultat"',
            'id="corriger"',
            'id="graphique"',
            'id="reponses"',
        )
    ]
    assert order == sorted(order)
    for collapsed in ("corriger", "graphique", "reponses"):
        assert re.search(rf'<details class="card" id="{collapsed}">', page), collapsed
    # every figure in one French format: a comma, never a point
    result = visible_text(section(page, 'id="resultat"', 'id="corriger"'))
    assert "±" in result
    assert not re.search(r"\d\.\d", result.replace("A1.1", "")), result
    # θ in the policy's reasons too
    reasons = visible_text(section(page, "Pourquoi (politique", "</details>"))
    assert re.search(r"θ = −?\d+,\d\d", reasons)


def test_a_refused_correction_leads_back_to_the_session(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-007")
    play_test(app, session_id, speech_wav, "right")
    refused = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "target": "level", "skill": "CO", "level": "A1", "reason": ""},
        headers={"Referer": f"http://localhost/desk/sessions/{session_id}"},
    )
    assert refused.status_code == 400
    assert "Demande refusée" in refused.text
    assert "raison écrite" in refused.text
    assert f'href="/desk/sessions/{session_id}"' in refused.text
    assert "Revenir à la page précédente" in refused.text


def test_the_day_export_is_french_and_says_what_is_left_to_check(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-008")
    play_test(app, session_id, speech_wav, "right")
    flag_spoken_answers(app, session_id, speech_wav, count=2)
    listing = client.get("/desk/").text
    assert "1 session(s) de ce jour ont encore des réponses à vérifier" in visible_text(listing)
    rows = list(csv.DictReader(io.StringIO(client.get("/desk/export.csv").text)))
    (row,) = rows
    assert row["etat"] == "à vérifier"
    assert row["code_etat"] == "to_review"
    assert row["reponses_a_verifier"] == "2"
    assert row["corrige_par_auditeur"] == "non"
    assert row["decision_auditeur"] == "non"
    english = {"to_review", "done", "waiting", "True", "False", "None", "asr", "auto"}
    assert not english & {v for k, v in row.items() if k != "code_etat"}
    assert "{" not in row["formations_facultatives"]


def test_the_app_serves_its_icon_and_every_page_links_it(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    _, client = auditeur
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    anonymous = app.test_client()
    for who, path in (
        (client, "/desk/"),
        (anonymous, "/login"),
        (anonymous, "/t/"),
        (anonymous, "/verifier/"),
        (anonymous, "/nulle-part"),
    ):
        page = who.get(path, follow_redirects=True).text
        match = re.search(r'<link rel="icon" href="([^"]+)"', page)
        assert match, path
        with anonymous.get(match.group(1)) as linked:
            assert linked.status_code == 200, path


def test_the_listening_item_names_its_two_buttons_and_the_countdown_is_labelled(
    app: Flask,
) -> None:
    from collections import defaultdict

    from flask import render_template

    from webui.candidate.views import labels_for

    said: defaultdict[str, dict[str, str]] = defaultdict(lambda: {"text": "…", "audio": "/s"})
    with app.test_request_context():
        item = {
            "id": "CO-T",
            "response_mode": "choice",
            "time_limit_s": 45,
            "instruction": {"text": "Écoutez l'annonce.", "audio_url": "/a.mp3"},
            "stem": {"audio_url": "/b.mp3", "image_url": None, "text": None},
            "choices": [{"id": "a", "text": "oui", "image_url": None, "audio_url": None}],
        }
        page = render_template(
            "candidate/item.html",
            screen={
                "item": item,
                "practice": False,
                "stage": "test",
                "number": 1,
                "progress": {"percent": 10},
            },
            said=said,
            labels=labels_for(None),  # French only, as the view passes them
        )
    labels = [
        visible_text(b)
        for b in re.findall(r"<button[^>]*class=\"speak[^>]*>.*?</button>", page, flags=re.S)
    ]
    assert "Écouter la consigne" in labels
    assert "Écouter le document" in labels
    assert "Écouter" not in labels  # no two buttons with one name
    timer = section(page, 'class="timer-row"', "</div>")
    assert 'for="temps-restant"' in timer
    assert "Temps restant : 45 s" in visible_text(timer)


def test_the_audit_journal_reads_in_french(
    app: Flask,
    auditeur: tuple[User, FlaskClient],
    client_as: Callable[[str], FlaskClient],
    speech_wav: bytes,
) -> None:
    from placement.sessions.labels import AUDIT_ACTIONS
    from placement.sessions.models import AuditEvent

    user, client = auditeur
    session_id = new_session(app, user, "75-REV-009")
    play_test(app, session_id, speech_wav, "right")
    flag_spoken_answers(app, session_id, speech_wav, count=1)
    client.get(f"/desk/sessions/{session_id}")
    client.get("/desk/export.csv")
    admin = client_as("admin")
    journal = admin.get("/admin/journal").text
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"session.view", "export.day", "result.compute"} <= actions
    assert actions <= set(AUDIT_ACTIONS), actions - set(AUDIT_ACTIONS)
    table = visible_text(section(journal, "<table>", "</table>"))
    assert "session consultée" in table
    assert "UTC" not in table


def test_the_review_page_has_no_internal_or_english_words(
    app: Flask, auditeur: tuple[User, FlaskClient], speech_wav: bytes
) -> None:
    user, client = auditeur
    session_id = new_session(app, user, "75-REV-010")
    play_test(app, session_id, speech_wav, "right")
    first, _ = flag_spoken_answers(app, session_id, speech_wav, count=2)
    client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "target": "response", "response_id": first, "confirm": "1"},
    )
    client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "level",
            "skill": "global",
            "level": "pré-A1",
            "reason": "Entretien : comprend très peu les questions simples.",
        },
    )
    words = set(
        re.findall(r"[\w:.-]+", visible_text(client.get(f"/desk/sessions/{session_id}").text))
    )
    internal = {
        "done",
        "asr",
        "auto",
        "to_review",
        "response",
        "level:global",
        "level:CO",
        "prescription_hours",
        "True",
        "False",
        "None",
        "null",
        "nan",
        "inf",
    }
    assert not internal & words, internal & words
