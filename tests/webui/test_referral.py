"""A referred decision on the desk: shown first, settled by the auditeur before the attestation."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placement.formatting import number
from placement.sessions.models import Attestation, Result, User
from tests.webui.conftest import CSRF, login
from tests.webui.flows import new_session, play_test
from webui.extensions import db


@pytest.fixture
def refer_everything(triage_band: Callable[[float, float], Path]) -> Path:
    """A referral band that holds every probability."""
    return triage_band(0.0, 1.0)


@pytest.fixture
def refer_nothing(triage_band: Callable[[float, float], Path]) -> Path:
    """A referral band that a confident candidate never reaches."""
    return triage_band(0.0, 0.0)


def _attestations(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Attestation)) or 0)


def test_a_referred_decision_comes_first_and_waits_for_the_auditeur(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    refer_everything: Path,
    speech_wav: bytes,
) -> None:
    user, password = make_user("auditeur", "agent.triage")
    client: FlaskClient = app.test_client()
    assert login(client, user.username, password).status_code == 302
    session_id = new_session(app, user, "75-2026-00911")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        result = db.session.scalars(select(Result).order_by(Result.id.desc())).first()
        assert result is not None
        triage = result.decision["triage"]
        assert triage["referred"] is True
        assert 0.0 <= triage["p_dispense"] <= 1.0

    page = client.get(f"/desk/sessions/{session_id}").text
    # first thing on the page: the "work to do" block opens with the referral
    assert page.index("Décision à confirmer") < page.index("Résultat")
    todo = page[page.index('id="a-faire"') :]
    assert todo.index("Décision à confirmer") < todo.index("</section>")
    assert re.search(r"(CO|CE|EO|EE) autour de A1 : \d,\d\d", page)
    assert "Questions à poser pendant l" in page
    assert "À écouter" in page
    assert re.search(r"Probabilité de la décision calculée : \d,\d\d", page)

    refused = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert refused.status_code == 409
    assert "Décision à confirmer" in refused.text
    assert _attestations(app) == 0

    decided = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "decision",
            "kind": "prescription",
            "hours": "50",
            "reason": "À l'entretien, elle répond à des questions simples sur son logement.",
        },
    )
    assert decided.status_code == 302
    page = client.get(f"/desk/sessions/{session_id}").text
    assert "décision de l'auditeur enregistrée" in page
    assert 'id="decision-incertaine"' not in page  # settled: no longer in the work to do
    issued = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert issued.status_code == 302
    with app.app_context():
        attestation = db.session.scalars(select(Attestation)).one()
        assert (attestation.kind, attestation.hours) == ("prescription", 50)


def test_interview_questions_come_from_the_bank_for_the_pivotal_skill() -> None:
    import itembank
    from placement.sessions.triage import Referral, interview_questions

    items = itembank.load_release().items
    first = interview_questions(items, "EO", "A1", set())
    assert len(first) == 3
    assert all(items[q.item_id].skill == "EO" for q in first)
    assert all(q.listen_for for q in first)  # the rubric's levels
    given = {q.item_id for q in first}
    again = interview_questions(items, "EO", "A1", given)
    assert not given & {q.item_id for q in again}  # never an item the candidate had
    listening = interview_questions(items, "CO", "A1", set())
    assert all("Réponse attendue" in q.listen_for[0] for q in listening)
    pivotal = Referral(0.4, 0.6, "prescription", 50, "EO", "A1", 0.583, decided=False)
    assert pivotal.pivotal_text == "EO autour de A1 : 0,58"


def _machine_triage(app: Flask) -> dict[str, object]:
    with app.app_context():
        result = db.session.scalars(select(Result).order_by(Result.id.desc())).first()
        assert result is not None
        triage: dict[str, object] = result.decision["triage"]
        return triage


def _day_list(client: FlaskClient, session_id: int) -> tuple[str, str]:
    """The desk's day list: the referral notice and the marker in the session's row."""
    page = client.get("/desk/").text
    notice = re.search(r'<p class="error" id="referral-notice".*?</p>', page, re.S)
    row = re.search(rf'<tr data-session-id="{session_id}">.*?</tr>', page, re.S)
    assert notice is not None
    assert row is not None
    marker = re.search(
        r'<span class="status status-referral" data-field="referral"[^>]*>.*?</span>', row[0], re.S
    )
    assert marker is not None
    return notice[0], marker[0]


def _live(client: FlaskClient, session_id: int) -> dict[str, object]:
    sessions = client.get("/desk/api/sessions").get_json()["sessions"]
    (found,) = (s for s in sessions if s["id"] == session_id)
    assert isinstance(found, dict)
    return found


def _export_row(client: FlaskClient) -> dict[str, str]:
    (row,) = csv.DictReader(io.StringIO(client.get("/desk/export.csv").text))
    return row


def test_the_day_list_and_export_mark_a_referred_decision_until_the_auditeur_decides(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    refer_everything: Path,
    speech_wav: bytes,
) -> None:
    user, password = make_user("auditeur", "agent.liste")
    client: FlaskClient = app.test_client()
    assert login(client, user.username, password).status_code == 302
    session_id = new_session(app, user, "75-2026-00912")
    play_test(app, session_id, speech_wav, "right")
    triage = _machine_triage(app)
    assert triage["referred"] is True
    p_decision = triage["p_hours"]
    assert isinstance(p_decision, float)

    # the day list: a marker in the row, and the session named above the list
    notice, marker = _day_list(client, session_id)
    assert "hidden" not in notice
    assert f'href="/desk/sessions/{session_id}">75-2026-00912</a>' in notice
    assert "hidden" not in marker
    assert re.search(
        r"décision à prendre — incertaine, (CO|CE|EO|EE) autour de A1 : \d,\d\d", marker
    )
    # the live poll carries it
    live = _live(client, session_id)
    assert live["referral_pending"] is True
    assert isinstance(live["referral_label"], str)
    assert live["referral_label"] in marker
    # the export says it, the probability written the French way
    exported = _export_row(client)
    assert exported["decision_renvoyee"] == "oui"
    assert exported["decision_a_prendre"] == "oui"
    assert exported["p_decision"] == number(p_decision)
    assert re.fullmatch(r"[01],\d\d", exported["p_decision"])

    decided = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "decision",
            "kind": "dispense",
            "reason": "À l'entretien, il décrit son quartier et prend un rendez-vous sans aide.",
        },
    )
    assert decided.status_code == 302
    notice, marker = _day_list(client, session_id)
    assert " hidden" in notice
    assert "75-2026-00912" not in notice
    assert " hidden" in marker
    assert "décision à prendre" not in marker
    live = _live(client, session_id)
    assert (live["referral_pending"], live["referral_label"]) == (False, None)
    exported = _export_row(client)
    # still a referred decision (the engine could not settle it), no longer one to take
    assert (exported["decision_renvoyee"], exported["decision_a_prendre"]) == ("oui", "non")
    assert exported["p_decision"] == number(p_decision)  # the engine's, kept beside the auditeur's
    assert exported["decision"] == "dispense"


def test_a_confident_decision_is_not_marked_on_the_day_list(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    refer_nothing: Path,
    speech_wav: bytes,
) -> None:
    user, password = make_user("auditeur", "agent.sure")
    client: FlaskClient = app.test_client()
    assert login(client, user.username, password).status_code == 302
    session_id = new_session(app, user, "75-2026-00913")
    play_test(app, session_id, speech_wav, "right")
    triage = _machine_triage(app)
    assert triage["referred"] is False
    notice, marker = _day_list(client, session_id)
    assert " hidden" in notice
    assert " hidden" in marker
    assert _live(client, session_id)["referral_pending"] is False
    exported = _export_row(client)
    assert (exported["decision_renvoyee"], exported["decision_a_prendre"]) == ("non", "non")
    p_decision = triage["p_hours"]
    assert isinstance(p_decision, float)
    assert exported["p_decision"] == number(p_decision)
