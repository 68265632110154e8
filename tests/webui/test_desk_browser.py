"""The desk in a real Chromium: the live status updates without a reload, under the CSP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from placement.sessions import testflow
from placement.sessions.models import TestSession, User
from tests.webui.flows import new_session, play_test
from webui.extensions import db

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app served by waitress on a free loopback port."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_desk_follows_a_test_live(
    app: Flask, served: str, make_user: Callable[..., tuple[User, str]], speech_wav: bytes
) -> None:
    from playwright.sync_api import sync_playwright

    user, password = make_user("auditeur", "agent.live")
    session_id = new_session(app, user, "75-2026-00500", last_name="Tran", first_name="Minh")
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{served}/login")
            page.fill("#username", user.username)
            page.fill("#password", password)
            page.click("button[type=submit]")
            page.wait_for_url(f"{served}/desk/")
            # the session page shows the code and its QR code (inline SVG, under the CSP)
            page.goto(f"{served}/desk/sessions/{session_id}")
            assert page.locator(".qr svg").count() == 1
            assert page.locator(".code").inner_text().count("-") == 1
            page.goto(f"{served}/desk/")
            cell = page.locator(f'tr[data-session-id="{session_id}"] [data-field="state_label"]')
            assert cell.inner_text() == "en attente"
            # the tablet opens the test: the desk shows it within a poll, without a reload
            page.evaluate("window.__sameDocument = true")
            with app.app_context():
                session = db.session.get(TestSession, session_id)
                assert session is not None
                testflow.open_by_code(db.session, session.code)
                db.session.commit()
            page.wait_for_function(
                "el => el.textContent === 'en cours'", arg=cell.element_handle(), timeout=15_000
            )
            assert page.evaluate("window.__sameDocument") is True
            assert "status-in_progress" in (cell.get_attribute("class") or "")
            # a finished test's review: the θ̂ plot (an SVG image with its own CSP) is drawn
            play_test(app, session_id, speech_wav, "right")
            page.goto(f"{served}/desk/sessions/{session_id}")
            plot = page.locator("figure.plot img")
            plot.scroll_into_view_if_needed()
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0",
                arg=plot.element_handle(),
                timeout=30_000,
            )
            assert page.locator("article.card").count() >= 5
        finally:
            browser.close()
    assert problems == []
