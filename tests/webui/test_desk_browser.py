"""The desk in a real Chromium: the live status updates without a reload, under the CSP; the
review's work to do on the first screen, its keyboard shortcuts, a WebM's real duration."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable

import pytest
from flask import Flask

from placement.sessions import testflow
from placement.sessions.models import Override, TestSession, User
from tests.browser import chromium, log_in
from tests.webui.flows import new_session, play_test
from webui.extensions import db

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_desk_follows_a_test_live(
    app: Flask, served: str, make_user: Callable[..., tuple[User, str]], speech_wav: bytes
) -> None:
    user, password = make_user("auditeur", "agent.live")
    session_id = new_session(app, user, "75-2026-00500", last_name="Tran", first_name="Minh")
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        log_in(page, served, user.username, password)
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
        page.click("#graphique summary")  # the charts come after the work, collapsed
        plot = page.locator("figure.plot img")
        plot.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=plot.element_handle(),
            timeout=30_000,
        )
        assert page.locator("article.card").count() >= 5
    assert problems == []


def _webm_without_duration(wav: bytes) -> bytes:
    """What a tablet's MediaRecorder sends: Opus in a WebM written as a stream (no duration)."""
    done = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", "pipe:0", "-c:a", "libopus", "-f", "webm", "pipe:1"],
        input=wav,
        capture_output=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_review_work_first_with_shortcuts_and_real_durations(
    app: Flask, served: str, make_user: Callable[..., tuple[User, str]], speech_wav: bytes
) -> None:
    import io
    import wave

    from sqlalchemy import select

    from placement.sessions.models import Recording
    from tests.webui.test_review import flag_spoken_answers
    from webui.desk.review import COMMON_REASONS, CONFIRM_REASON

    user, password = make_user("auditeur", "agent.clavier")
    session_id = new_session(app, user, "75-2026-00501")
    play_test(app, session_id, speech_wav, "right")
    first, second = flag_spoken_answers(app, session_id, speech_wav, count=2)
    with wave.open(io.BytesIO(speech_wav)) as w:
        real_s = w.getnframes() / w.getframerate()
    webm = _webm_without_duration(speech_wav)
    with app.app_context():
        for rec in db.session.scalars(select(Recording)):
            rec.data, rec.mime_type, rec.container = webm, "audio/webm;codecs=opus", "webm"
            rec.size_bytes, rec.duration_s = len(webm), real_s
        db.session.commit()
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        log_in(page, served, user.username, password)
        page.goto(f"{served}/desk/sessions/{session_id}")
        # the work to do starts within the first screen
        box = page.locator("#a-faire").bounding_box()
        assert box is not None
        assert box["y"] < 900
        # a WebM without a duration in its header: the player learns the real one
        duration = page.evaluate(
            """async audio => {
                audio.muted = true;
                await audio.play();
                const start = Date.now();
                while (!isFinite(audio.duration) && Date.now() - start < 10000) {
                    await new Promise(r => setTimeout(r, 100));
                }
                audio.pause();
                return isFinite(audio.duration) ? audio.duration : -1;
            }""",
            page.locator("#a-faire audio").first.element_handle(),
        )
        assert math.isclose(duration, real_s, abs_tol=0.3), (duration, real_s)
        # C confirms the first answer's score; then 0 gives the next one 0 points
        ids = [str(e.get_attribute("id")) for e in page.locator("[data-todo]").all()]
        assert sorted(ids) == sorted([f"reponse-{first}", f"reponse-{second}"])
        confirmed, scored = (int(str(i).split("-")[1]) for i in ids)
        with page.expect_navigation():
            page.keyboard.press("c")
        assert page.locator("[data-todo]").count() == 1
        with page.expect_navigation():
            page.keyboard.press("0")
        assert page.locator("[data-todo]").count() == 0
        assert "rien à vérifier" in page.locator("#a-faire").inner_text()
    assert problems == []
    with app.app_context():
        by_response = {o.response_id: o for o in db.session.scalars(select(Override))}
        assert by_response[confirmed].reason == CONFIRM_REASON
        assert by_response[scored].to_value["score"] == 0
        assert by_response[scored].reason == next(iter(COMMON_REASONS.values()))
