"""A recording is served only as the audio the server checked it to be, never as what the tablet
declared: a WAV that is also JavaScript, or also HTML, must never run in an auditeur's browser."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placement.sessions import testflow
from placement.sessions.db import upgrade
from placement.sessions.models import AuditEvent, Candidate, Recording, Response, TestSession, User
from placement.sessions.results import bank_for
from tests.browser import chromium, log_in
from tests.webui.conftest import login
from tests.webui.flows import new_session, play_test
from webui.extensions import db

PAYLOAD = b"document.title='pwned';window.pwned=1;"


def js_polyglot(wav: bytes) -> bytes:
    """``wav`` rewritten so that it is also a valid script: ``RIFF=1/*…*/payload``.

    The RIFF size field becomes ``=1/*`` (decoders ignore an oversized RIFF size), a ``*/``
    inside the samples is broken so the comment runs to the end, where the payload follows.
    """
    body = bytearray(wav[8:])
    at = body.find(b"*/")
    while at != -1:
        body[at + 1] = ord(".")
        at = body.find(b"*/")
    return b"RIFF=1/*" + bytes(body) + b"*/;" + PAYLOAD


def html_polyglot(wav: bytes, script_url: str) -> bytes:
    """``wav`` with an HTML script tag after the samples (a browser renders the rest as text)."""
    return wav + f"<script src={script_url}></script>".encode()


def upload_on_a_spoken_item(
    app: Flask, user: User, dossier: str, mic_wav: bytes, data: bytes, declared: str
) -> int:
    """A tablet takes a test up to its first spoken item and uploads ``data`` declared as
    ``declared``; returns the stored response's id."""

    def is_speech(item: object) -> bool:
        return getattr(item, "response_mode", None) == "speech"

    session_id = new_session(app, user, dossier)
    play_test(app, session_id, mic_wav, "right", stop_when=is_speech)
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        view = testflow.current_item(db.session, session)
        assert view is not None
        assert bank_for(session).item(view.item_id).response_mode == "speech"
        response = testflow.submit_recording(db.session, session, view.item_id, data, declared)
        db.session.commit()
        return response.id


def store_polyglots(app: Flask, user: User, speech_wav: bytes) -> tuple[int, int]:
    """The two uploads of the attack: a script declared as such, and a page that includes it."""
    js_id = upload_on_a_spoken_item(
        app, user, "75-2026-00900", speech_wav, js_polyglot(speech_wav), "text/javascript"
    )
    html = html_polyglot(speech_wav, f"/desk/recordings/{js_id}")
    html_id = upload_on_a_spoken_item(app, user, "75-2026-00901", speech_wav, html, "text/html")
    return js_id, html_id


@pytest.fixture
def auditeur(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> tuple[User, FlaskClient, str]:
    user, password = make_user("auditeur", "agent.types")
    client = app.test_client()
    assert login(client, user.username, password).status_code == 302
    return user, client, password


def test_the_stored_and_served_type_is_the_checked_container(
    app: Flask, auditeur: tuple[User, FlaskClient, str], speech_wav: bytes
) -> None:
    user, client, _ = auditeur
    js_id, html_id = store_polyglots(app, user, speech_wav)
    with app.app_context():
        types = db.session.scalars(
            select(Recording.mime_type).where(Recording.response_id.in_([js_id, html_id]))
        ).all()
        assert types == ["audio/wav", "audio/wav"]
        declared = {
            e.detail.get("declared_type")
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "response.recording")
            )
        }
        assert declared == {"text/javascript", "text/html"}
    for response_id in (js_id, html_id):
        served = client.get(f"/desk/recordings/{response_id}")
        assert served.status_code == 200
        assert served.mimetype == "audio/wav"
        assert served.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in served.headers["Content-Security-Policy"]
        assert "default-src 'none'" in served.headers["Content-Security-Policy"]
        assert served.headers["X-Content-Type-Options"] == "nosniff"


def test_a_type_stored_before_the_fix_is_not_served(
    app: Flask, auditeur: tuple[User, FlaskClient, str], speech_wav: bytes
) -> None:
    user, client, _ = auditeur
    js_id, _ = store_polyglots(app, user, speech_wav)
    with app.app_context():
        recording = db.session.scalars(
            select(Recording).where(Recording.response_id == js_id)
        ).one()
        recording.mime_type = "text/javascript"  # as the tablet could set it before
        db.session.commit()
    served = client.get(f"/desk/recordings/{js_id}")
    assert served.mimetype == "audio/wav"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_migration_rewrites_declared_types(tmp_path: Path, db_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0001_initial")
    with sqlite3.connect(tmp_path / "old.db") as raw:
        rows = [
            (1, 1, "a" * 64, "text/html", "wav", 10, 1.0, b"x", "2026-01-01 00:00:00"),
            (2, 2, "b" * 64, "text/javascript", "webm", 10, 1.0, b"x", "2026-01-01 00:00:00"),
            (3, 3, "c" * 64, "text/html", "exe", 10, 1.0, b"x", "2026-01-01 00:00:00"),
        ]
        raw.executemany(
            "INSERT INTO recording (id, response_id, sha256, mime_type, container, size_bytes,"
            " duration_s, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    upgrade(url)
    with sqlite3.connect(tmp_path / "old.db") as raw:
        types = dict(raw.execute("SELECT id, mime_type FROM recording").fetchall())
    assert types == {1: "audio/wav", 2: "audio/webm", 3: "application/octet-stream"}


def _counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Candidate)) or 0,
            db.session.scalar(select(func.count()).select_from(Response)) or 0,
        )


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_polyglot_upload_never_runs_in_the_auditeurs_browser(
    app: Flask,
    served: str,
    make_user: Callable[..., tuple[User, str]],
    speech_wav: bytes,
) -> None:
    from playwright.sync_api import Error

    user, password = make_user("auditeur", "agent.browser")
    js_id, html_id = store_polyglots(app, user, speech_wav)
    before = _counts(app)
    with chromium() as browser:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        log_in(page, served, user.username, password)
        # the script the HTML polyglot would include, loaded from an app page the way its
        # <script src> would be: the browser refuses to run audio
        outcome = page.evaluate(
            """url => new Promise(resolve => {
                const s = document.createElement('script');
                s.src = url;
                s.onload = () => resolve('ran');
                s.onerror = () => resolve('refused');
                document.head.appendChild(s);
            })""",
            f"/desk/recordings/{js_id}",
        )
        assert outcome == "refused"
        assert page.evaluate("window.pwned") is None
        assert page.title() != "pwned"
        # opened directly, the HTML polyglot is a download, never a page
        with (
            page.expect_download() as download_info,
            # Chromium aborts a navigation that turns into a download
            pytest.raises(Error, match=r"ERR_ABORTED|[Dd]ownload"),
        ):
            page.goto(f"{served}/desk/recordings/{html_id}")
        download = download_info.value
        assert download.suggested_filename == f"reponse-{html_id}.wav"
        assert page.url == f"{served}/desk/"
        assert page.title() != "pwned"
        # the player on the review page still plays it as audio
        session_id = _session_of(app, html_id)
        page.goto(f"{served}/desk/sessions/{session_id}")
        player = page.locator(f'audio[src="/desk/recordings/{html_id}"]')
        player.evaluate("a => { a.preload = 'auto'; a.load(); }")
        page.wait_for_function(
            "a => a.readyState >= 1 && a.duration > 3", arg=player.element_handle()
        )
    assert _counts(app) == before


def _session_of(app: Flask, response_id: int) -> int:
    with app.app_context():
        response = db.session.get(Response, response_id)
        assert response is not None
        return response.session_id
