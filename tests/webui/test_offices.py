"""Offices: auditeurs see their office's sessions only, an office's administrator manages its
own people and candidates, a national administrator sees everything; migration 0005 moves the
existing data to a default office."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from placement.sessions import offices, users
from placement.sessions.db import make_engine, upgrade
from placement.sessions.models import Attestation, Office, TestSession, User
from tests.webui.conftest import CSRF, PG_ADMIN_URL, login
from tests.webui.flows import add_recording, new_session, play_test
from webui.extensions import db


def _office(app: Flask, name: str) -> int:
    with app.app_context():
        office = offices.create_office(db.session, name)
        db.session.commit()
        return office.id


def _person(app: Flask, role: str, office_id: int | None) -> tuple[User, FlaskClient]:
    with app.app_context():
        user, password = users.create_user(
            db.session, f"{role}-{secrets.token_hex(3)}", role, role, office_id=office_id
        )
        db.session.commit()
        db.session.expunge(user)
    client = app.test_client()
    assert login(client, user.username, password).status_code == 302
    return user, client


def test_each_office_sees_its_own_sessions(app: Flask, speech_wav: bytes) -> None:
    lyon, lille = _office(app, "DT Lyon"), _office(app, "DT Lille")
    agent_lyon, lyon_desk = _person(app, "auditeur", lyon)
    _, lille_desk = _person(app, "auditeur", lille)
    _, national = _person(app, "admin", None)
    session_id = new_session(app, agent_lyon, "69-2026-00001", last_name="Lyonnais")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.office_id == lyon  # the office of the auditeur who started it
        response = next(r for r in session.responses if r.skill == "EO")
        add_recording(response, speech_wav)
        db.session.commit()
        response_id, candidate_id = response.id, session.candidate_id
    assert (
        lyon_desk.post(
            f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF}
        ).status_code
        == 302
    )
    with app.app_context():
        attestation_id = db.session.scalars(select(Attestation.id)).one()

    paths = [
        f"/desk/sessions/{session_id}",
        f"/desk/api/sessions/{session_id}",
        f"/desk/sessions/{session_id}/plot.svg",
        f"/desk/recordings/{response_id}",
        f"/desk/attestations/{attestation_id}.pdf",
    ]
    for path in paths:
        assert lyon_desk.get(path).status_code == 200, path
        assert national.get(path).status_code == 200, path
        assert lille_desk.get(path).status_code == 404, path
    for action in ("abandon", "resume", "release", "attestation"):
        refused = lille_desk.post(
            f"/desk/sessions/{session_id}/{action}", data={"csrf_token": CSRF}
        )
        assert refused.status_code == 404, action
    assert "Lyonnais" in lyon_desk.get("/desk/").text
    assert "Lyonnais" not in lille_desk.get("/desk/").text
    assert lille_desk.get("/desk/api/sessions").get_json()["sessions"] == []
    assert len(lyon_desk.get("/desk/api/sessions").get_json()["sessions"]) == 1
    assert "69-2026-00001" in lyon_desk.get("/desk/export.csv").text
    assert "69-2026-00001" not in lille_desk.get("/desk/export.csv").text

    # the office's administrator: its candidates, not the others'
    _, lyon_admin = _person(app, "admin", lyon)
    _, lille_admin = _person(app, "admin", lille)
    assert lyon_admin.get(f"/admin/candidats/{candidate_id}").status_code == 200
    assert lille_admin.get(f"/admin/candidats/{candidate_id}").status_code == 404
    assert lille_admin.get(f"/admin/candidats/{candidate_id}/export.zip").status_code == 404
    assert "69-2026-00001" not in lille_admin.get("/admin/candidats").text
    assert "69-2026-00001" in lyon_admin.get("/admin/candidats").text


def test_office_admins_manage_their_people_and_the_national_one_all(app: Flask) -> None:
    lyon, lille = _office(app, "DT Lyon"), _office(app, "DT Lille")
    agent_lille, _ = _person(app, "auditeur", lille)
    _, lyon_admin = _person(app, "admin", lyon)
    _, national = _person(app, "admin", None)
    page = lyon_admin.get("/admin/").text
    assert agent_lille.username not in page
    assert "Créer un bureau" not in page
    refused = lyon_admin.post(f"/admin/users/{agent_lille.id}/password", data={"csrf_token": CSRF})
    assert refused.status_code == 404
    made = lyon_admin.post(
        "/admin/users",
        data={"username": "agent.lyon", "display_name": "A", "role": "auditeur"}
        | {"office_id": str(lille), "csrf_token": CSRF},  # ignored: its own office
    )
    assert made.status_code == 200
    assert (
        lyon_admin.post("/admin/offices", data={"name": "X", "csrf_token": CSRF}).status_code == 403
    )
    assert lyon_admin.post("/admin/purge", data={"csrf_token": CSRF}).status_code == 403
    assert agent_lille.username in national.get("/admin/").text
    assert (
        national.post(
            "/admin/offices", data={"name": "DT Marseille", "csrf_token": CSRF}
        ).status_code
        == 302
    )
    with app.app_context():
        assert (
            db.session.scalar(select(User.office_id).where(User.username == "agent.lyon")) == lyon
        )
        marseille = db.session.scalar(select(Office.id).where(Office.name == "DT Marseille"))
    assert (
        national.post(
            "/admin/users",
            data={"username": "agent.mrs", "display_name": "M", "role": "auditeur"}
            | {"office_id": str(marseille), "csrf_token": CSRF},
        ).status_code
        == 200
    )
    with app.app_context():
        assert (
            db.session.scalar(select(User.office_id).where(User.username == "agent.mrs"))
            == marseille
        )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test alone (SQLite, or PostgreSQL dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"placement_mig_{secrets.token_hex(5)}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_migration_moves_existing_data_to_a_default_office(empty_db_url: str) -> None:
    url = empty_db_url
    upgrade(url, "0001_initial")
    engine = make_engine(url)
    now = "2026-11-23 10:00:00"
    with engine.begin() as conn:
        for uid, name, role in ((1, "agent", "auditeur"), (2, "chef", "admin")):
            conn.execute(
                text(
                    "INSERT INTO app_user (id, username, display_name, role, password_hash,"
                    " active, failed_logins, created_at) VALUES (:id, :n, :n, :r, 'x', :a, 0, :t)"
                ),
                {"id": uid, "n": name, "r": role, "t": now, "a": True},
            )
        conn.execute(
            text(
                "INSERT INTO candidate (id, dossier_number, last_name, first_name, non_reader,"
                " created_at) VALUES (1, '75-1', 'A', 'B', :f, :t)"
            ),
            {"t": now, "f": False},
        )
        conn.execute(
            text(
                "INSERT INTO test_session (id, candidate_id, created_by_id, code, token,"
                " release_version, policy, rules, seed, state, stage, non_reader, elapsed_s,"
                " created_at, started_at) VALUES (1, 1, 1, 'AAA-AAA', 'tok', 'r', 'cir-2016',"
                " 'cir', 1, 'in_progress', 'test', :f, 0, :t, :t)"
            ),
            {"t": now, "f": False},
        )
    upgrade(url)
    with engine.connect() as conn:
        # a new office gets the next id (PostgreSQL's sequence follows the inserted row)
        conn.execute(
            text("INSERT INTO office (name, created_at) VALUES ('DT Lyon', :t)"), {"t": now}
        )
        office = conn.execute(text("SELECT id, name FROM office ORDER BY id")).first()
        assert office is not None
        user_offices = dict(conn.execute(text("SELECT username, office_id FROM app_user")).all())
        session = conn.execute(
            text("SELECT office_id, code_used_at FROM test_session WHERE id = 1")
        ).one()
    engine.dispose()
    assert office.name == offices.DEFAULT_OFFICE
    assert user_offices == {"agent": office.id, "chef": None}  # the admin stays national
    assert session.office_id == office.id
    assert session.code_used_at is not None  # already on a tablet: bound to it
