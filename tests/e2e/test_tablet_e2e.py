"""End to end in a real Chromium: an auditeur starts a test, a candidate takes it on a tablet,
speaking into the (fake) microphone, reloads mid-test, and the auditeur reviews and issues the PDF.

The app is served by werkzeug's WSGI server in a thread on a free port, on a temporary SQLite
database and the small test bank (``tests/candidate/testbank.py``); transcription runs inline
(``QUEUE=sync``). Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright's sync API;
its fake microphone plays a French sentence made with espeak-ng. Screenshots of every screen go
to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import CHROMIUM, chromium, log_in
from tests.candidate import testbank
from tests.speech import speak

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "un-mot-de-passe-assez-long"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="e2e"))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def spoken_wav(workdir: Path) -> Path:
    """The candidate's voice for Chromium's fake microphone: French by espeak-ng, 48 kHz."""
    raw = workdir / "voix.wav"
    out = workdir / "micro.wav"
    speak("Bonjour, je m'appelle Amina. J'habite à Lyon avec mes enfants.", raw)
    # a little silence around the sentence, as a person breathes before and after speaking
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(raw),
            "-af",
            "adelay=300:all=1,apad=pad_dur=0.7",
            "-ar",
            "48000",
            "-ac",
            "1",
            "-c:a",
            "pcm_s16le",
            str(out),
        ],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[dict[str, Any]]:
    """The whole app on a free loopback port, with an auditeur account, served by waitress as
    ``placement-web serve`` serves it (werkzeug's development server left a file open when the
    browser dropped a sound request mid-way, which failed a test's teardown now and then)."""
    from waitress.server import create_server

    from placement.sessions.bankcache import set_default_root
    from placement.sessions.models import Role
    from placement.sessions.users import create_user
    from webui import create_app
    from webui.extensions import db

    root, rules = testbank.publish(workdir / "bank")
    app = create_app(
        {
            "SECRET_KEY": "e2e-secret",
            "DATABASE_URL": f"sqlite:///{workdir / 'e2e.db'}",
            "BANK_ROOT": str(root),
            "RULES": str(rules),
            "QUEUE": "sync",
        }
    )
    app.instance_path = str(workdir / "instance")
    with app.app_context():
        create_user(db.session, "agent", "Claire Martin", Role.AUDITEUR, PASSWORD)
        db.session.commit()
    http: Any = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{http.effective_port}", "app": app}
    finally:
        # waitress's own way out of its loop: close every dispatcher of its map (the listening
        # socket, its trigger, open channels), then stop its worker threads
        while http._map:
            for dispatcher in list(http._map.values()):
                dispatcher.handle_close()
        http.task_dispatcher.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
        set_default_root(None)


@pytest.fixture(scope="module")
def browser(spoken_wav: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():  # pragma: no cover - depends on the machine
        pytest.skip("Debian's Chromium is not installed")
    with chromium(
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_wav}",
    ) as browser:
        yield browser


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _touch_targets_are_big(page: Any) -> None:
    """Every visible button of the tablet is at least 64 px high and wide."""
    small = page.evaluate(
        """() => Array.from(document.querySelectorAll('button, input[type=text], textarea'))
            .filter(b => b.offsetParent !== null)
            .map(b => [b.className || b.id || b.tagName, b.getBoundingClientRect()])
            .filter(([, r]) => r.height < 64 || r.width < 64)
            .map(([name, r]) => name + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))"""
    )
    assert small == [], small


def _record(page: Any, seconds: float = 2.5) -> None:
    page.click("button.rec")
    page.wait_for_selector('button.rec[data-state="recording"]')
    page.wait_for_timeout(int(seconds * 1000))
    page.click("button.rec")
    page.wait_for_selector(".rec-actions:not([hidden])")


def test_auditeur_and_candidate_end_to_end(server: dict[str, Any], browser: Any) -> None:
    base = server["url"]

    # --- the auditeur logs in and starts a test
    desk = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="fr-FR", accept_downloads=True
    )
    agent = desk.new_page()
    log_in(agent, base, "agent", PASSWORD)
    agent.fill("#dossier_number", "75-2026-00042")
    agent.fill("#last_name", "Diallo")
    agent.fill("#first_name", "Amina")
    agent.click("text=Créer le test et afficher le code")
    agent.wait_for_selector("p.code")
    code = agent.inner_text("p.code").strip()
    session_url = agent.url
    _shot(agent, "00-desk-code")

    # --- the candidate on a 10-inch tablet, portrait
    tablet = browser.new_context(
        viewport={"width": 800, "height": 1280},
        has_touch=True,
        locale="fr-FR",
        device_scale_factor=1,
    )
    tablet.grant_permissions(["microphone"], origin=base)
    pad = tablet.new_page()
    errors: list[str] = []
    pad.on("pageerror", lambda exc: errors.append(str(exc)))
    missing: list[str] = []  # the favicon, or any other file a page asks for
    pad.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    pad.goto(f"{base}/t/")
    _shot(pad, "01-code")
    pad.fill("#code", code.lower().replace("-", " "))
    pad.click("button.go")
    pad.wait_for_selector('main[data-stage="welcome"]')
    _shot(pad, "02-welcome")
    _touch_targets_are_big(pad)
    pad.click("#suivant")
    pad.wait_for_selector('main[data-stage="consent"]')
    _shot(pad, "03-consent")
    pad.click("#accepte")
    pad.wait_for_selector('main[data-stage="sound_check"]')
    pad.click("#entends-pas")  # not heard: the page says what to do, and stays
    pad.wait_for_selector("#message:not([hidden])")
    _shot(pad, "04-sound-check")
    pad.click("#entends")
    pad.wait_for_selector('main[data-stage="mic_check"]')
    _record(pad)
    pad.wait_for_selector("#mic-next:not([hidden])", timeout=30_000)
    _shot(pad, "05-mic-check")
    pad.click("#suivant")
    pad.wait_for_selector('main[data-stage="practice"]')
    _shot(pad, "06-practice")
    _touch_targets_are_big(pad)
    pad.click('.choice[data-choice="maison"]')
    with pad.expect_navigation():
        pad.click("#valider")
    pad.wait_for_selector('main[data-stage="test"]')

    # --- the adaptive test, one item at a time
    seen: list[str] = []
    reloaded = False
    for n in range(1, 20):
        main = pad.locator("main")
        if main.get_attribute("data-stage") != "test":
            break
        item_id = main.get_attribute("data-item-id")
        mode = main.get_attribute("data-mode")
        assert item_id not in seen
        seen.append(item_id)
        if n == 3 and not reloaded:
            # a reload mid-test comes back to the very same item
            pad.reload()
            assert pad.locator("main").get_attribute("data-item-id") == item_id
            reloaded = True
        if n == 4:
            pad.set_viewport_size({"width": 1280, "height": 800})  # turned to landscape
        _shot(pad, f"1{n:01d}-item-{mode}-{pad.viewport_size['width']}")
        _touch_targets_are_big(pad)
        # no two buttons read the same (the instruction's and the document's "Écouter ...")
        names = pad.locator("button.speak span").all_inner_texts()
        assert len(names) == len(set(names)), names
        if pad.locator("progress.timer").count():
            assert pad.locator("label[for=temps-restant]").inner_text().startswith("Temps restant")
        if mode == "choice":
            pad.click(".choice >> nth=0")
        elif mode in ("text", "long_text"):
            pad.fill("#texte", "vendredi" if mode == "text" else "Bonjour, je suis malade.")
        elif mode == "form":
            for field in pad.locator("[data-field]").all():
                field.fill("Diallo" if field.get_attribute("data-field") == "nom" else "0612345678")
        elif mode == "speech":
            _record(pad)
            playback = pad.locator("audio.playback")
            assert playback.get_attribute("src").startswith("blob:")
        with pad.expect_navigation(timeout=60_000):
            pad.click("#valider")
    assert reloaded
    assert pad.locator("main").get_attribute("data-stage") == "finished"
    _shot(pad, "30-finished")
    assert errors == []
    assert missing == []
    assert {i.split("-")[0] for i in seen} == {"CO", "CE", "EO", "EE"}

    # --- the auditeur reviews: plays the recording, overrides with a reason, issues the PDF
    agent.goto(session_url)
    agent.wait_for_selector("audio[src*='/desk/recordings/']", state="attached")
    _shot(agent, "40-desk-review")
    played = agent.evaluate(
        """async () => {
            const audio = document.querySelector("audio[src*='/desk/recordings/']");
            audio.muted = true;
            await audio.play();
            await new Promise(r => setTimeout(r, 800));
            return [audio.currentTime, audio.duration];
        }"""
    )
    assert played[0] > 0
    assert played[1] > 1.0
    # every answer still to check is settled in one tap (its machine score confirmed); a referred
    # decision, when the engine refers this one, is settled by the decision recorded below
    to_check = "[data-todo].needs-review"
    for _ in range(20):
        entry = agent.locator(to_check).first
        if not entry.count():
            break
        button = entry.locator("button.confirm, button.score").first
        with agent.expect_navigation():
            button.click()
    assert agent.locator(to_check).count() == 0
    agent.click("#corriger summary")  # the corrections are collapsed below the result
    agent.select_option("#ov-kind", "prescription")
    agent.fill("#ov-hours", "100")
    agent.fill("#ov-dec-reason", "Entretien : l'écrit reste très fragile malgré le test.")
    agent.click("text=Enregistrer la décision")
    agent.wait_for_selector("text=Correction enregistrée")
    assert agent.locator("[data-todo]").count() == 0  # nothing left to do, referral included
    agent.click("text=Émettre la prescription")
    agent.wait_for_selector("text=télécharger le PDF")
    with agent.expect_download() as download_info:
        agent.click("text=télécharger le PDF")
    pdf_path = download_info.value.path()
    _shot(agent, "41-desk-after-override")

    from pypdf import PdfReader

    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(Path(pdf_path).read_bytes())).pages
    )
    assert "DIALLO" in text.upper()
    assert "75-2026-00042" in text
    assert "100" in text
    assert "Claire Martin" in text


def test_a_login_on_the_same_browser_does_not_stop_the_tablet(
    server: dict[str, Any], browser: Any
) -> None:
    """The desk and the tablet in one browser (the README's "second window"): the auditeur
    logs in again, which renews the browser's session and its CSRF token under the tablet's
    page. A tap on a plain form comes back to the same screen, and the microphone check (a
    fetch) is sent again with the session's new token: the candidate never meets an error
    page nor a message asking to reload."""
    base = server["url"]
    context = browser.new_context(viewport={"width": 800, "height": 1280}, has_touch=True)
    context.grant_permissions(["microphone"], origin=base)
    agent = context.new_page()
    log_in(agent, base, "agent", PASSWORD)
    agent.fill("#dossier_number", "75-2026-00043")
    agent.fill("#last_name", "Diallo")
    agent.fill("#first_name", "Moussa")
    agent.click("text=Créer le test et afficher le code")
    code = agent.inner_text("p.code").strip()

    pad = context.new_page()
    errors: list[str] = []
    pad.on("pageerror", lambda exc: errors.append(str(exc)))
    pad.goto(f"{base}/t/")
    pad.fill("#code", code)
    pad.click("button.go")
    pad.wait_for_selector('main[data-stage="welcome"]')

    def log_in_again() -> None:
        # what a login on the desk does to the browser's session: a new one, a new CSRF token
        # (the desk's own page is left alone: its live poll may race a real log out)
        context.clear_cookies(name="placement_session")
        assert agent.url.endswith("/desk/sessions/1") or "/desk/" in agent.url

    log_in_again()
    pad.click("#suivant")  # a plain form with the page's stale token
    pad.wait_for_selector('main[data-stage="welcome"]')
    pad.click("#suivant")
    pad.wait_for_selector('main[data-stage="consent"]')
    pad.click("#accepte")
    pad.wait_for_selector('main[data-stage="sound_check"]')
    pad.click("#entends")
    pad.wait_for_selector('main[data-stage="mic_check"]')

    log_in_again()
    _record(pad, 3.0)  # the microphone check is sent by fetch with the page's stale token
    pad.wait_for_selector("#mic-next:not([hidden])", timeout=30_000)
    assert pad.locator("#message").is_hidden()
    pad.click("#mic-next #suivant")
    pad.wait_for_selector('main[data-stage="practice"]')
    assert errors == []
    context.close()
