"""Session codes on the tablet: wrong codes are throttled per address and audited; a code opens
the test on one device only, until the auditeur releases it."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placement.sessions.models import AuditEvent, TestSession, User
from tests.webui.conftest import CSRF, set_csrf
from tests.webui.flows import new_session
from webui.extensions import db


def _tablet(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    set_csrf(client)
    return client


def _type(client: FlaskClient, code: str) -> int:
    return client.post("/t/", data={"code": code, "csrf_token": CSRF}).status_code


def _code(app: Flask, session_id: int) -> str:
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        return session.code


def test_wrong_codes_are_throttled_per_address_and_audited(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    app.config["CODE_MAX_FAILURES"] = 3
    auditeur, _ = make_user("auditeur")
    code = _code(app, new_session(app, auditeur, "75-2026-00700"))
    guesser = _tablet(app, "203.0.113.5")
    for guess in ("AAA-AAA", "BBB-BBB", "CCC-CCC"):
        assert _type(guesser, guess) == 404
    refused = guesser.post("/t/", data={"code": code, "csrf_token": CSRF})
    assert refused.status_code == 429  # even the right code, from this address, for a while
    assert "Trop de codes erronés" in refused.text
    assert _type(_tablet(app, "198.51.100.20"), code) == 303  # another tablet is not concerned
    with app.app_context():
        events = db.session.execute(
            select(AuditEvent.action, AuditEvent.ip, AuditEvent.detail).order_by(AuditEvent.id)
        ).all()
    refusals = [e for e in events if e.action == "code.refused"]
    assert [e.ip for e in refusals] == ["203.0.113.5"] * 4
    assert [e.detail["reason"] for e in refusals] == ["NotFound"] * 3 + ["CodeThrottled"]
    assert ("session.open", "198.51.100.20") in {(e.action, e.ip) for e in events}


def test_a_code_opens_on_one_device_until_the_auditeur_releases_it(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    client_as: Callable[[str], FlaskClient],
) -> None:
    auditeur, _ = make_user("auditeur")
    session_id = new_session(app, auditeur, "75-2026-00701")
    code = _code(app, session_id)
    first, second = _tablet(app, "192.0.2.10"), _tablet(app, "192.0.2.11")
    assert _type(first, code) == 303
    assert first.get("/t/test").status_code == 200
    taken = second.post("/t/", data={"code": code, "csrf_token": CSRF})
    assert taken.status_code == 409
    assert "déjà utilisé sur une autre tablette" in taken.text
    assert second.get(f"/t/c/{code}").status_code == 409  # the QR code neither
    assert first.get(f"/t/c/{code}").status_code == 303  # the same tablet scanning it again
    desk = client_as("auditeur")
    page = desk.get(f"/desk/sessions/{session_id}")
    assert "Libérer le code" in page.text
    released = desk.post(f"/desk/sessions/{session_id}/release", data={"csrf_token": CSRF})
    assert released.status_code == 302
    assert _type(second, code) == 303
    assert second.get("/t/test").status_code == 200
    lost = first.get("/t/test")
    assert lost.status_code == 404  # the first tablet's token no longer opens the test
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "session.release" in actions
