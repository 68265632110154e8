"""The auditeur's effort on the review page: clicks, page height and time to the printed document.

A whole test is taken on the bundled bank release with the CIR rules, six spoken answers
included (the rules' EO section is set to six items): choices and typed answers through the
real test flow, each spoken answer a real espeak-ng recording stored by the test flow and
transcribed and scored by the real transcription job (Whisper, the bundled model). The six
spoken answers are then all "à vérifier" (those Whisper's scorer was sure of are flagged too,
so that the count is the same on every run). Then a real Chromium (``/usr/bin/chromium``, 1366×900)
opens the review as an auditeur and does the work the page asks for, as directly as it allows:

- the page's own one-tap review where there is one (``[data-todo]`` entries): listen, confirm;
- otherwise the per-answer forms of the older page: listen, choose the score, type a reason,
  save;

then issues the document and downloads its PDF. Printed: the page's height when opened, where
the work to do starts (px from the top; the first screen is 900 px), the clicks and keystroke
fields per answer to check and in all, and the machine time from opening the review to the
downloaded PDF.

Run it on this checkout, and on another one for a "before" figure (its own code, this script):

    .venv/bin/python benchmarks/review.py
    .venv/bin/python benchmarks/review.py --code /work/main     # the page before the change

Targets (issue 13): at most 2 actions per answer to check, the work-to-do block within the
first screen, at most 60 s of machine time for the whole review.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 1366, 900
PASSWORD = "un-mot-de-passe-assez-long"
SPOKEN = (
    "Bonjour, je m'appelle Amina Diallo. J'habite à Lyon, rue de la République.",
    "Je voudrais un rendez-vous chez le médecin mardi matin, s'il vous plaît.",
    "Sur l'image, il y a une femme qui fait les courses au marché.",
    "J'ai trois enfants. Ma fille va à l'école et mes fils à la crèche.",
    "Je cherche un travail dans la cuisine, j'ai travaillé dans un restaurant.",
    "Le bus numéro douze va à la gare. Il part toutes les dix minutes.",
)


def _wav(text: str, path: Path) -> bytes:
    subprocess.run(["espeak-ng", "-v", "fr-fr", "-s", "140", "-w", str(path), text], check=True)
    return path.read_bytes()


def _rules(work: Path) -> Path:
    """The CIR rules with exactly six spoken items (the case the issue measures)."""
    import yaml

    rules = yaml.safe_load((ROOT / "placement" / "rules" / "cir.yaml").read_text("utf-8"))
    for section in rules["sections"]:
        if section["skill"] == "EO":
            section["min_items"] = section["max_items"] = 6
    rules["stopping"]["max_items"] = max(int(rules["stopping"]["max_items"]), 40)
    path = work / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), "utf-8")
    return path


def take_test(app: Any, work: Path) -> tuple[int, int]:
    """A whole test with six spoken answers to check; returns (session id, spoken answers)."""
    from placement.sessions import audit, jobs, operations, testflow
    from placement.sessions.models import Role, Stage, TestSession
    from placement.sessions.results import bank_for
    from placement.sessions.users import create_user
    from webui.extensions import db

    voices = [_wav(text, work / f"voix-{n}.wav") for n, text in enumerate(SPOKEN)]
    with app.app_context():
        user = create_user(db.session, "agent", "Claire Martin", Role.AUDITEUR, PASSWORD)[0]
        person = operations.create_candidate(
            db.session,
            user,
            dossier_number="75-2026-BENCH",
            last_name="Diallo",
            first_name="Amina",
            birth_date="12/03/1990",
        )
        session = operations.start_session(db.session, person.id, user, rules=app.config["RULES"])
        testflow.open_by_code(db.session, session.code)
        for stage in (Stage.CONSENT, Stage.SOUND_CHECK, Stage.MIC_CHECK):
            testflow.advance_stage(db.session, session, stage)
        testflow.check_microphone(db.session, session, voices[0], "audio/wav")
        testflow.advance_stage(db.session, session, Stage.PRACTICE)
        practice = testflow.current_item(db.session, session)
        assert practice is not None
        first = practice.item["choices"][0]["id"]
        testflow.submit_answer(db.session, session, practice.item_id, {"choice": first})
        db.session.commit()
        bank = bank_for(session)
        spoken: list[int] = []
        n = 0
        while (view := testflow.current_item(db.session, session)) is not None:
            item = bank.item(view.item_id)
            n += 1
            if item.response_mode == "speech":
                voice = voices[len(spoken) % len(voices)]
                response = testflow.submit_recording(
                    db.session, session, view.item_id, voice, "audio/wav"
                )
                db.session.commit()
                spoken.append(response.id)
                continue
            testflow.submit_answer(db.session, session, view.item_id, _answer(item, n))
            db.session.commit()
        session_id = session.id
    url = str(app.config["DATABASE_URL"])
    for response_id in spoken:  # the real transcription job, as a worker runs it
        jobs.process_recording(response_id, url)
    with app.app_context():
        finished = db.session.get(TestSession, session_id)
        assert finished is not None
        for response in finished.responses:
            if response.id in spoken:
                response.needs_review = True
        testflow.settle_result(db.session, finished, audit.SYSTEM)
        db.session.commit()
    return session_id, len(spoken)


def _answer(item: Any, n: int) -> dict[str, Any]:
    """A plausible answer: right two times in three."""
    right = n % 3 != 0
    mode = item.response_mode
    if mode == "choice":
        wrong = next(c.id for c in item.choices if c.id != item.key)
        return {"choice": item.key if right else wrong}
    if mode == "text":
        return {"text": item.accepted[0] if right and item.accepted else "je sais pas"}
    if mode == "form":
        return {"fields": {f.id: "Diallo" if right else "" for f in item.form}}
    if mode == "long_text":
        return {"text": "Bonjour, je suis malade, je ne peux pas venir demain. Merci. Amina."}
    return {"skipped": True}


def review(base: str, session_id: int, downloads: Path) -> dict[str, Any]:
    """The auditeur's review in Chromium, from opening the page to the downloaded PDF."""
    from playwright.sync_api import sync_playwright

    clicks = 0
    typed = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            context = browser.new_context(
                viewport={"width": WIDTH, "height": HEIGHT}, locale="fr-FR", accept_downloads=True
            )
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", "agent")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r"/desk/?$"))
            started = time.perf_counter()
            page.goto(f"{base}/desk/sessions/{session_id}")
            height = page.evaluate("document.documentElement.scrollHeight")
            one_tap = page.locator("[data-todo]").count() > 0
            work = page.locator("#a-faire" if one_tap else "article.needs-review").first
            work_top = work.bounding_box()
            to_check = page.locator("[data-todo]" if one_tap else "article.needs-review").count()
            for _ in range(to_check):
                if one_tap:
                    entry = page.locator("[data-todo]").first
                else:
                    entry = page.locator("article.needs-review:not([data-done])").first
                    entry.evaluate("e => e.setAttribute('data-done', '1')")
                audio = entry.locator("audio").first
                audio.evaluate("a => { a.muted = true; }")
                audio.click()  # listen: the player's own button
                clicks += 1
                if one_tap:
                    button = entry.locator("button.confirm, button.score").first
                    with page.expect_navigation():
                        button.click()
                    clicks += 1
                else:
                    summary = entry.locator("details > summary").last
                    if not entry.locator("details[open] form").count():
                        summary.click()
                        clicks += 1
                    select = entry.locator("select[name=score]")
                    select.select_option(select.input_value())  # the machine's score, kept
                    clicks += 1
                    entry.locator("textarea[name=reason]").fill(
                        "Note de la machine confirmée à l'écoute de l'enregistrement."
                    )
                    typed += 1
                    with page.expect_navigation():
                        entry.locator("button[type=submit]").click()
                    clicks += 1
            issue = page.locator("form[action$='/attestation'] button[type=submit]").first
            with page.expect_navigation():
                issue.click()
            clicks += 1
            with page.expect_download() as download:
                page.locator("a[href$='.pdf']").last.click()
            clicks += 1
            pdf = downloads / "document.pdf"
            download.value.save_as(str(pdf))
            elapsed = time.perf_counter() - started
            assert pdf.read_bytes().startswith(b"%PDF")
        finally:
            browser.close()
    return {
        "one_tap": one_tap,
        "to_check": to_check,
        "height": height,
        "work_top": round(work_top["y"]) if work_top else None,
        "clicks": clicks,
        "typed": typed,
        "elapsed": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose app is measured")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))

    from waitress.server import create_server

    from webui import create_app
    from webui.extensions import db

    work = Path(tempfile.mkdtemp(prefix="review-bench"))
    try:
        app = create_app(
            {
                "SECRET_KEY": "banc-d-essai",
                "DATABASE_URL": f"sqlite:///{work / 'review.db'}",
                "INSTANCE_PATH": str(work / "instance"),
                "RULES": str(_rules(work)),
                "QUEUE": "sync",
            }
        )
        prepared = time.perf_counter()
        session_id, spoken = take_test(app, work)
        prepared = time.perf_counter() - prepared
        server = create_server(app, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            figures = review(f"http://127.0.0.1:{server.effective_port}", session_id, work)  # type: ignore[union-attr]
        finally:
            server.close()
            thread.join(timeout=10)
            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = max(figures["to_check"], 1)
    per_answer = (figures["clicks"] - 2 + figures["typed"]) / n  # less issuing and downloading
    print(f"code measured: {args.code.resolve()}")
    print(f"test taken: {spoken} spoken answers, prepared in {prepared:.1f} s (not counted)")
    print(f"review page: {'one-tap entries to do' if figures['one_tap'] else 'per-answer forms'}")
    print(f"answers to check: {figures['to_check']}")
    print(f"page height when opened: {figures['height']} px (first screen: 900 px)")
    print(f"work to do starts at: {figures['work_top']} px from the top")
    print(
        f"actions: {figures['clicks']} clicks + {figures['typed']} typed reasons; "
        f"{per_answer:.1f} per answer to check (target <= 2)"
    )
    print(
        f"machine time, review opened -> PDF downloaded: {figures['elapsed']:.1f} s (target <= 60)"
    )


if __name__ == "__main__":
    main()
