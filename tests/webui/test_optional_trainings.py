"""The optional trainings printed on an attestation are the policy's, as it words them: a
correction may choose among them, never type free text onto the official document."""

from __future__ import annotations

import io
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from placement.sessions.models import Attestation, Override, TestSession, User
from tests.webui.conftest import CSRF
from tests.webui.flows import new_session, play_test
from webui.extensions import db

REASON = "Entretien concluant : le candidat prépare la carte de résident."
HOSTILE = "Formation offerte : appelez le 08 99 00 00 00 " + "x" * 500


def _decide(client: FlaskClient, session_id: int, trainings: list[str]) -> int:
    return client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "decision",
            "kind": "dispense",
            "hours": "0",
            "reason": REASON,
            "optional_trainings": trainings,
        },
    ).status_code


def _pdf_text(app: Flask, client: FlaskClient, session_id: int) -> str:
    assert (
        client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    ).status_code == 302
    with app.app_context():
        newest = db.session.scalars(select(Attestation).order_by(Attestation.id.desc())).first()
        assert newest is not None
        newest_id = newest.id
    pdf = client.get(f"/desk/attestations/{newest_id}.pdf").data
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_only_the_policys_trainings_reach_the_pdf(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    client_as: Callable[[str], FlaskClient],
    speech_wav: bytes,
) -> None:
    user, _ = make_user("auditeur")
    session_id = new_session(app, user, "75-2026-00850")
    play_test(app, session_id, speech_wav, "wrong")  # a prescription, made a dispense below
    client = client_as("auditeur")
    assert _decide(client, session_id, [HOSTILE]) == 400
    assert _decide(client, session_id, ["<b>B2</b>"]) == 400
    with app.app_context():
        assert db.session.scalars(select(Override)).all() == []
    assert _decide(client, session_id, ["a2", "A2"]) == 302
    with app.app_context():
        stored = db.session.scalars(select(Override)).one().to_value
    assert [t["name"] for t in stored["optional_trainings"]] == ["Formation vers le niveau A2"]
    text = _pdf_text(app, client, session_id)
    assert "Formation vers le niveau A2" in text
    assert "B1 oral" not in text

    # free text stored before this rule (or by hand in the database) is not printed
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        override = db.session.scalars(select(Override)).one()
        override.to_value = {**override.to_value, "optional_trainings": [HOSTILE, "B1_oral"]}
        db.session.commit()
    text = _pdf_text(app, client, session_id)
    assert "08 99" not in text
    assert "B1 oral" in text
