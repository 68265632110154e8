"""End to end in a real Chromium: a non-reader takes a whole test with the tablet in Arabic.

The auditeur picks Arabic and ticks *non-lecteur / non-scripteur* when starting the test; on a
tablet viewport with the fake microphone, the candidate goes through the welcome, the consent, the
sound and microphone checks, the practice item and every item of the non-reader path (listening
and speaking only). Every tablet sentence shows in Arabic, laid out right to left, before the
French; the items stay French. The app, the bank and the browser are those of
``test_tablet_e2e.py`` (its module fixtures, imported here).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import log_in
from tests.e2e.test_tablet_e2e import (  # noqa: F401 - pytest fixtures, used by name
    PASSWORD,
    _record,
    _shot,
    _touch_targets_are_big,
    browser,
    server,
    spoken_wav,
    workdir,
)
from webui.candidate.languages import languages

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _arabic_first(page: Any, sentence: str) -> None:
    """The Arabic sentence is on screen, right to left, above its French."""
    block = page.locator("p.lead.tr", has_text=sentence)
    assert block.count() == 1, sentence
    assert block.get_attribute("lang") == "ar"
    assert block.get_attribute("dir") == "rtl"
    assert block.evaluate("e => getComputedStyle(e).direction") == "rtl"
    below = block.evaluate(
        """e => { const n = e.nextElementSibling;
                  return n && n.lang === 'fr' && getComputedStyle(n).direction === 'ltr'
                         && n.getBoundingClientRect().top
                         >= e.getBoundingClientRect().bottom - 1; }"""
    )
    assert below, "the French sentence follows the Arabic one"


def test_a_non_reader_takes_the_whole_test_in_arabic(
    server: dict[str, Any],  # noqa: F811 - the fixture imported above, by name
    browser: Any,  # noqa: F811 - the fixture imported above, by name
) -> None:
    base = server["url"]
    arabic = languages()["ar"]

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    agent = desk.new_page()
    log_in(agent, base, "agent", PASSWORD)
    agent.fill("#dossier_number", "75-2026-00777")
    agent.fill("#last_name", "Haddad")
    agent.fill("#first_name", "Youssef")
    agent.select_option("#language", "ar")
    agent.check("input[name=non_reader]")
    agent.click("text=Créer le test et afficher le code")
    agent.wait_for_selector("p.code")
    code = agent.inner_text("p.code").strip()

    tablet = browser.new_context(
        viewport={"width": 800, "height": 1280}, has_touch=True, locale="ar", device_scale_factor=1
    )
    tablet.grant_permissions(["microphone"], origin=base)
    pad = tablet.new_page()
    errors: list[str] = []
    pad.on("pageerror", lambda exc: errors.append(str(exc)))
    pad.goto(f"{base}/t/c/{code}")
    pad.wait_for_selector('main[data-stage="welcome"]')
    _arabic_first(pad, arabic.texts["welcome"])
    _touch_targets_are_big(pad)
    # the welcome is spoken (Arabic, then French): the sound the page names is served
    audio = pad.get_attribute("button.speak[data-autoplay]", "data-audio")
    spoken = pad.request.get(f"{base}{audio}")
    assert spoken.ok
    assert spoken.headers["content-type"] == "audio/mpeg"
    assert pad.locator("#suivant .tr[dir=rtl]").inner_text() == arabic.labels["start"]
    _shot(pad, "ar-01-welcome")
    pad.click("#suivant")

    pad.wait_for_selector('main[data-stage="consent"]')
    _arabic_first(pad, arabic.texts["consent"].split("{days}")[0].strip())
    _shot(pad, "ar-02-consent")
    pad.click("#refuse")  # refusing says what happens, in Arabic then French, and stays
    pad.wait_for_selector("#message:not([hidden])")
    message_tr = pad.locator("#message-tr")
    assert message_tr.is_visible()
    assert message_tr.inner_text() == arabic.texts["consent_refused"]
    assert message_tr.get_attribute("dir") == "rtl"
    pad.click("#accepte")

    pad.wait_for_selector('main[data-stage="sound_check"]')
    _arabic_first(pad, arabic.texts["sound_check"])
    pad.click("#entends")
    pad.wait_for_selector('main[data-stage="mic_check"]')
    _arabic_first(pad, arabic.texts["mic_check"])
    _record(pad)
    pad.wait_for_selector("#mic-next:not([hidden])", timeout=30_000)
    assert arabic.texts["mic_ok"] in pad.inner_text("#mic-status")
    _shot(pad, "ar-03-mic-check")
    pad.click("#suivant")

    pad.wait_for_selector('main[data-stage="practice"]')
    _arabic_first(pad, arabic.texts["practice"])
    _shot(pad, "ar-04-practice")
    pad.click("#valider")  # nothing chosen yet: told so, in Arabic
    pad.wait_for_selector("#message:not([hidden])")
    assert pad.inner_text("#message-tr") == arabic.texts["choose_first"]
    pad.click('.choice[data-choice="maison"]')
    with pad.expect_navigation():
        pad.click("#valider")
    pad.wait_for_selector('main[data-stage="test"]')

    seen: list[str] = []
    for n in range(1, 40):
        main = pad.locator("main")
        if main.get_attribute("data-stage") != "test":
            break
        item_id = main.get_attribute("data-item-id")
        mode = main.get_attribute("data-mode")
        assert item_id not in seen
        seen.append(item_id)
        # the item is the test: its instruction is French only; the help around it is Arabic
        assert pad.locator(".instruction p.tr").count() == 0
        assert pad.locator(".instruction p.lead[lang=fr]").count() == 1
        help_key = "item_speech" if mode == "speech" else "item_choice"
        hint = pad.locator(".hint-text")
        assert hint.inner_text() == arabic.texts[help_key]
        assert hint.get_attribute("dir") == "rtl"
        french_label = pad.locator(".hint .speak span[lang=fr]")
        assert french_label.evaluate("e => getComputedStyle(e).direction") == "ltr"
        assert pad.locator("#passer .tr").inner_text() == arabic.texts["skip"]
        if n <= 2 or mode == "speech":
            _shot(pad, f"ar-1{n:02d}-item-{mode}")
        _touch_targets_are_big(pad)
        if mode == "choice":
            pad.click(".choice >> nth=0")
        else:
            assert mode == "speech", mode  # a non-reader never gets a reading or writing item
            _record(pad)
        with pad.expect_navigation(timeout=60_000):
            pad.click("#valider")

    assert pad.locator("main").get_attribute("data-stage") == "finished"
    _arabic_first(pad, arabic.texts["finished"])
    _shot(pad, "ar-30-finished")
    assert errors == []
    skills = {i.split("-")[0] for i in seen}
    assert skills == {"CO", "EO"}, seen
