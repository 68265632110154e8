"""The candidate's routes and operations, over the real app, bank release and databases."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select

from placement.sessions.models import (
    AuditEvent,
    Recording,
    Response,
    Result,
    SessionState,
    Stage,
    TestSession,
    Transcript,
    User,
    utcnow,
)
from tests.candidate import testbank
from tests.candidate.tablet import Tablet
from webui.candidate.texts import TEXTS
from webui.extensions import db

Start = Callable[..., dict[str, Any]]


def _session(app: Flask, session_id: int) -> TestSession:
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        # load what the assertions read before the session closes
        _ = [r.transcript for r in session.responses], session.results
        return session


def _count(app: Flask, model: Any, session_id: int) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                select(func.count()).select_from(model).where(model.session_id == session_id)
            )
            or 0
        )


def _sound(tmp_path: Path, name: str, *args: str) -> bytes:
    """An audio file made by ffmpeg from a lavfi source (silence, noise...)."""
    path = tmp_path / name
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", *args, str(path)], check=True
    )
    return path.read_bytes()


@pytest.fixture
def in_test(start_test: Start, tablet: FlaskClient, speech_wav: bytes) -> tuple[Tablet, dict]:
    """A tablet that opened a test and went through the checks and the practice item."""
    started = start_test()
    pad = Tablet(tablet)
    assert pad.open(started["code"]).status_code == 303
    pad.through_checks(speech_wav)
    pad.practice()
    return pad, started


# ----------------------------------------------------------------------------- opening


def test_wrong_code_is_refused_in_french(tablet: FlaskClient) -> None:
    pad = Tablet(tablet)
    response = pad.open("ZZZ-999")
    assert response.status_code == 404
    assert "Ce code n&#39;existe pas" in response.get_data(as_text=True)
    # without a test, the test page sends back to the code
    page = pad.get("/t/test")
    assert page.status_code == 404
    assert 'name="code"' in page.get_data(as_text=True)


def test_expired_code_is_refused(app: Flask, start_test: Start, tablet: FlaskClient) -> None:
    started = start_test()
    with app.app_context():
        session = db.session.get(TestSession, started["session_id"])
        assert session is not None
        session.code_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = Tablet(tablet).open(started["code"])
    assert response.status_code == 409
    assert "expiré" in response.get_data(as_text=True)
    assert _session(app, started["session_id"]).state == SessionState.WAITING


def test_code_opens_in_any_spelling_and_by_qr(
    app: Flask, start_test: Start, tablet: FlaskClient
) -> None:
    started = start_test()
    typed = started["code"].replace("-", " ").lower()
    response = Tablet(tablet).open(typed)
    assert response.status_code == 303
    assert "placement_tablet=" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert _session(app, started["session_id"]).state == SessionState.IN_PROGRESS
    assert tablet.get(f"/t/c/{started['code']}").status_code == 303  # the same tablet, by QR
    other = app.test_client().get(f"/t/c/{started['code']}")
    assert other.status_code == 409  # one device per code, until the auditeur releases it


# ----------------------------------------------------------------------------- stages


def test_screens_go_forward_only(
    app: Flask, start_test: Start, tablet: FlaskClient, tmp_path: Path, speech_wav: bytes
) -> None:
    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    page = pad.get("/t/test").get_data(as_text=True)
    assert "Bienvenue" in page
    # jumping ahead is refused, and so is skipping the microphone check
    assert pad.post_json("/t/etape", {"stage": "test"}).status_code == 409
    assert pad.post_json("/t/etape", {"stage": "sound_check"}).status_code == 409
    for stage in ("consent", "sound_check", "mic_check"):
        assert pad.post_json("/t/etape", {"stage": stage}).status_code == 200
    assert pad.post_json("/t/etape", {"stage": "practice"}).status_code == 409
    # the same stage again (a double tap) changes nothing
    assert pad.post_json("/t/etape", {"stage": "mic_check"}).status_code == 200
    assert pad.post_json("/t/etape", {"stage": "bidon"}).status_code == 404
    # a silent microphone check is refused with the French message and its code
    silence = _sound(tmp_path, "silence.wav", "-i", "anullsrc=r=16000:cl=mono", "-t", "3")
    refused = pad.post_audio("/t/micro", silence, "micro.wav")
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "silence"
    assert "entendu" in error["message"]
    assert _session(app, started["session_id"]).mic_ok is False
    accepted = pad.post_audio("/t/micro", speech_wav, "micro.wav")
    assert accepted.status_code == 200
    assert pad.post_json("/t/etape", {"stage": "practice"}).status_code == 200
    assert _session(app, started["session_id"]).stage == Stage.PRACTICE


def test_practice_item_is_not_scored(app: Flask, in_test: tuple[Tablet, dict]) -> None:
    _, started = in_test
    session = _session(app, started["session_id"])
    assert session.stage == Stage.TEST
    assert session.responses == []
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.session_id == started["session_id"])
        ).all()
    assert "practice.answer" in actions


# ----------------------------------------------------------------------------- the test


def test_reload_resumes_on_the_same_item(
    app: Flask, in_test: tuple[Tablet, dict], speech_wav: bytes
) -> None:
    pad, started = in_test
    first = pad.state()["item"]["id"]
    # a reload, a new tab: the same item
    assert pad.state()["item"]["id"] == first
    assert f'data-item-id="{first}"' in pad.get("/t/test").get_data(as_text=True)
    # a lost cookie (or another tablet) with the code typed again: refused until the auditeur
    # releases the code, then the same item
    other = Tablet(app.test_client())
    assert other.open(started["code"]).status_code == 409
    with app.app_context():
        from placement.sessions.operations import release_code

        release_code(db.session, started["session_id"], db.session.get(User, started["user_id"]))
        db.session.commit()
    other.open(started["code"])
    assert other.state()["item"]["id"] == first
    pad = other
    response = pad.answer_current(speech_wav)
    assert response is not None
    assert response.status_code == 200
    second = pad.state()["item"]["id"]
    assert second != first
    assert pad.state()["item"]["id"] == second


def test_double_tap_and_old_tab_get_409_and_lose_nothing(
    app: Flask, in_test: tuple[Tablet, dict], speech_wav: bytes
) -> None:
    pad, started = in_test
    item = pad.state()["item"]
    answer = {"item_id": item["id"], "answer": {"choice": item["choices"][0]["id"]}}
    assert pad.post_json("/t/reponse", answer).status_code == 200
    stored = _count(app, Response, started["session_id"])
    assert stored == 1
    # the same answer again (double tap)
    again = pad.post_json("/t/reponse", answer)
    assert again.status_code == 409
    assert again.get_json()["error"]["message"]
    # an answer for another item than the one on screen (an old tab)
    current = pad.state()["item"]["id"]
    stale = pad.post_json("/t/reponse", {"item_id": "CO-999", "answer": {"choice": "a"}})
    assert stale.status_code == 409
    assert _count(app, Response, started["session_id"]) == 1
    assert pad.state()["item"]["id"] == current
    # a plain form from an old page goes back to the current item
    back = pad.post_form("/t/reponse", {"item_id": item["id"], "choice": "a"})
    assert back.status_code == 303
    assert back.headers["Location"].endswith("/t/test")
    with app.app_context():
        first = db.session.scalars(
            select(Response).where(Response.session_id == started["session_id"])
        ).one()
        assert first.answer == {"choice": item["choices"][0]["id"]}


def test_unreadable_answer_is_422_and_nothing_changes(
    app: Flask, in_test: tuple[Tablet, dict]
) -> None:
    pad, started = in_test
    item = pad.state()["item"]
    assert item["response_mode"] == "choice"  # the test starts with listening (CO)
    bad = pad.post_json("/t/reponse", {"item_id": item["id"], "answer": {"choice": "zz"}})
    assert bad.status_code == 422
    assert "réponses proposées" in bad.get_json()["error"]["message"]
    assert pad.post_json("/t/reponse", {"item_id": item["id"]}).status_code == 422
    # a recording for an item that asks for a touch is refused too
    assert _count(app, Response, started["session_id"]) == 0
    assert pad.state()["item"]["id"] == item["id"]


def _advance_to_speech(pad: Tablet, speech: bytes) -> dict[str, Any]:
    for _ in range(20):
        state = pad.state()
        if state["stage"] != "test":
            break
        if state["item"]["response_mode"] == "speech":
            return state["item"]
        pad.answer_current(speech)
    raise AssertionError("the test never asked for a spoken answer")


def test_bad_recordings_are_refused_and_nothing_is_stored(
    app: Flask, in_test: tuple[Tablet, dict], tmp_path: Path, speech_wav: bytes
) -> None:
    pad, started = in_test
    item = _advance_to_speech(pad, speech_wav)
    before = _count(app, Response, started["session_id"])
    silence = _sound(
        tmp_path, "silence.webm", "-i", "anullsrc=r=48000:cl=mono", "-t", "3", "-c:a", "libopus"
    )
    truncated = _sound(
        tmp_path, "voice.webm", "-i", "sine=f=220:r=48000", "-t", "3", "-c:a", "libopus"
    )[:700]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    for data, code in (
        (silence, "silence"),
        (truncated, "corrupt"),
        (png, "not_audio"),
        (b"", "empty"),
    ):
        response = pad.post_audio("/t/enregistrement", data, "reponse.webm", item_id=item["id"])
        assert response.status_code == 422, (code, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert error["code"] == code
        assert error["message"]  # French, said and shown by the page
    assert _count(app, Response, started["session_id"]) == before
    assert pad.state()["item"]["id"] == item["id"]
    # a typed answer to a spoken item is refused as well
    typed = pad.post_json("/t/reponse", {"item_id": item["id"], "answer": {"text": "bonjour"}})
    assert typed.status_code == 422


def test_media_route_serves_only_the_release(
    app: Flask, in_test: tuple[Tablet, dict], test_bank: tuple[Path, Path]
) -> None:
    pad, _ = in_test
    item = pad.state()["item"]
    with pad.client.get(f"/t/media/{testbank.all_items()[0]['instruction']['audio']}") as audio:
        assert audio.status_code == 200
        assert audio.data[:4] == b"OggS"
    with pad.client.get(f"/t/media/{item['choices'][0]['image']}") as picture:
        assert picture.status_code == 200
        assert b"<svg" in picture.data
    for path in (
        "bank.yaml",
        "CO/CO-001.yaml",
        "../../../../etc/passwd",
        "items/CO/CO-001.yaml",
        "parameters.csv",
        "/etc/passwd",
    ):
        with pad.client.get(f"/t/media/{path}", follow_redirects=True) as refused:
            assert refused.status_code == 404, path
    # and never without a test on the tablet
    assert app.test_client().get(f"/t/media/{item['choices'][0]['image']}").status_code == 404


def test_spoken_sentences(app: Flask, tablet: FlaskClient) -> None:
    from webui.candidate import speech

    key = speech.register(TEXTS["finished"])
    with tablet.get(f"/t/parole/{key}.mp3") as response:
        assert response.status_code == 200
        assert _is_mp3(response.data)
        assert response.mimetype == "audio/mpeg"
    # a key that the server did not register: no espeak-ng on text of someone's choosing
    assert tablet.get("/t/parole/0123456789abcdef0123.mp3").status_code == 404


def _is_mp3(data: bytes) -> bool:
    """An ID3 tag or an MPEG audio frame header at the start."""
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def test_posts_need_the_csrf_token(start_test: Start, tablet: FlaskClient) -> None:
    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    response = tablet.post(
        "/t/etape", json={"stage": "consent"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400


def test_abandoned_test_cannot_be_continued(
    app: Flask, start_test: Start, tablet: FlaskClient
) -> None:
    from placement.sessions import operations
    from placement.sessions.models import User

    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    with app.app_context():
        user = db.session.get(User, started["user_id"])
        assert user is not None
        operations.abandon_session(db.session, started["session_id"], user)
        db.session.commit()
    # the tablet's token no longer works: back to the code page
    page = pad.get("/t/test")
    assert page.status_code == 404
    assert 'name="code"' in page.get_data(as_text=True)
    assert pad.post_json("/t/etape", {"stage": "consent"}).status_code == 404
    # and the old code does not open it again (the auditeur gives a new one to resume)
    again = pad.open(started["code"])
    assert again.status_code == 409


# ----------------------------------------------------------------------------- whole tests


def _secret_strings(bodies: list[str]) -> list[str]:
    """Secrets of the bank found in what the tablet received (public words excepted)."""
    public = " ".join(
        [*TEXTS.values(), *[json.dumps(i, ensure_ascii=False) for i in _public_views()]]
    ).lower()
    leaks = []
    blob = "\n".join(bodies).lower()
    for secret in testbank.secrets_of():
        needle = secret.lower()
        if len(needle) >= 4 and needle not in public and needle in blob:
            leaks.append(secret)
    return leaks


def _public_views() -> list[dict[str, Any]]:

    return [item.public_view() for item in _release().items.values()]


def _release() -> Any:
    from placement.sessions.bankcache import engine_bank

    return engine_bank(testbank.VERSION).release


def _walk(obj: Any) -> list[str]:
    keys: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            keys.append(str(key))
            keys.extend(_walk(value))
    elif isinstance(obj, list):
        for value in obj:
            keys.extend(_walk(value))
    return keys


@pytest.mark.slow
def test_a_whole_test_on_the_tablet(
    app: Flask, in_test: tuple[Tablet, dict], speech_wav: bytes, db_url: str
) -> None:
    """Every item to the end: results, states, transcription, and no secret ever sent."""
    pad, started = in_test
    seen: list[str] = []
    for _ in range(30):
        state = pad.state()
        if state["stage"] != "test":
            break
        seen.append(state["item"]["id"])
        assert not {"key", "accepted", "rubric", "parameters", "a", "b", "transcript"} & set(
            _walk(state)
        )
        assert 0 <= state["progress"]["percent"] < 100
        response = pad.answer_current(speech_wav)
        assert response is not None
        assert response.status_code == 200, response.get_data(as_text=True)
    assert pad.state()["stage"] == "finished"
    assert "C&#39;est fini" in pad.get("/t/test").get_data(as_text=True)
    assert len(seen) == len(set(seen)), "an item was given twice"
    skills = {i.split("-")[0] for i in seen}
    assert skills == {"CO", "CE", "EO", "EE"}
    assert _secret_strings(pad.bodies) == []

    session = _session(app, started["session_id"])
    assert session.stage == Stage.FINISHED
    spoken = [r for r in session.responses if r.skill == "EO"]
    assert spoken
    for response in spoken:
        # QUEUE=sync: Whisper ran in the request; its transcript and score are stored
        assert response.transcript is not None
        assert response.transcript.status == "done"
        assert response.transcript.text
        assert response.transcript.model_name
        assert response.score is not None
        assert response.scorer == "asr"
    # the job is idempotent: a done transcript is not redone, and no result is added
    from placement.sessions.jobs import process_recording

    attempts = spoken[0].transcript.attempts
    n_results = _count(app, Result, started["session_id"])
    process_recording(spoken[0].id, db_url)
    again = _session(app, started["session_id"])
    assert [r.transcript.attempts for r in again.responses if r.id == spoken[0].id] == [attempts]
    assert _count(app, Result, started["session_id"]) == n_results
    with app.app_context():
        recordings = db.session.scalars(select(Recording)).all()
        assert all(len(r.sha256) == 64 and r.size_bytes > 0 for r in recordings)
    # QUEUE=sync: the transcription ran, so the session is settled
    assert session.state in (SessionState.DONE, SessionState.TO_REVIEW)
    final = session.results[-1]
    assert final.status == "final"
    assert set(final.estimates) == {"CO", "CE", "EO", "EE"}
    assert final.decision["kind"] in ("dispense", "prescription")
    # the finished test refuses any further answer and cannot be opened again
    late = pad.post_json("/t/reponse", {"item_id": seen[-1], "answer": {"choice": "a"}})
    assert late.status_code == 409
    assert Tablet(app.test_client()).open(started["code"]).status_code == 409


def test_non_reader_gets_listening_and_speaking_only(
    app: Flask, start_test: Start, tablet: FlaskClient, speech_wav: bytes
) -> None:
    started = start_test(non_reader=True)
    pad = Tablet(tablet)
    pad.open(started["code"])
    pad.through_checks(speech_wav)
    pad.practice()
    skills = set()
    for _ in range(5):
        state = pad.state()
        if state["stage"] != "test" or state["item"]["response_mode"] == "speech":
            break
        skills.add(state["item"]["skill"])
        pad.answer_current(speech_wav)
    assert skills == {"CO"}
    item_ids = [r.item_id for r in _session(app, started["session_id"]).responses]
    nonreader = {i["id"] for i in testbank.all_items() if i.get("non_reader")}
    assert set(item_ids) <= nonreader


def test_a_non_reader_takes_the_sections_the_rules_give_non_readers(
    app: Flask,
    start_test: Start,
    tablet: FlaskClient,
    speech_wav: bytes,
    test_bank: tuple[Path, Path],
) -> None:
    _, rules = test_bank
    data = yaml.safe_load(rules.read_text(encoding="utf-8"))
    data["non_reader_sections"] = [{"skill": "CO", "min_items": 5, "max_items": 5}]
    own = rules.parent / "rules-nr.yaml"
    own.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    started = start_test(non_reader=True, rules_file=own)
    pad = Tablet(tablet)
    pad.open(started["code"])
    pad.through_checks(speech_wav)
    pad.practice()
    skills = []
    for _ in range(12):
        state = pad.state()
        if state["stage"] != "test":
            break
        skills.append(state["item"]["skill"])
        pad.answer_current(speech_wav)
    # the readers' CO section is 2-3 items in these rules; the non-readers' own is 5
    assert skills == ["CO"] * 5 + ["EO"]
    assert state["stage"] == "finished"


def test_failed_transcription_goes_to_review_and_loses_nothing(
    app: Flask, in_test: tuple[Tablet, dict], speech_wav: bytes, db_url: str
) -> None:
    """The worst case: the recording is gone when its job runs. The answer stays, for review."""
    from placement.sessions import testflow
    from placement.sessions.jobs import process_recording

    pad, started = in_test
    item = _advance_to_speech(pad, speech_wav)
    with app.app_context():
        session = db.session.get(TestSession, started["session_id"])
        assert session is not None
        enqueued: list[int] = []
        response = testflow.submit_recording(
            db.session, session, item["id"], speech_wav, "audio/wav", enqueue=enqueued.append
        )
        assert enqueued == []  # only once the transaction commits
        db.session.commit()
        assert enqueued == [response.id]
        response_id = response.id
        recording = db.session.scalars(
            select(Recording).where(Recording.response_id == response_id)
        ).one()
        recording.data = None
        db.session.commit()
    # a job lost with its process (thread queue, restart) is found and enqueued again
    from placement.sessions.jobs import requeue_pending

    requeued: list[int] = []
    assert requeue_pending(db_url, requeued.append) == [response_id]
    assert requeued == [response_id]
    process_recording(response_id, db_url)
    process_recording(response_id, db_url)  # a retry of a failed job tries again, and fails
    assert requeue_pending(db_url, requeued.append) == []
    with app.app_context():
        stored = db.session.get(Response, response_id)
        assert stored is not None
        assert stored.answer == {"recording": True}
        assert stored.score is None
        assert stored.needs_review is True
        transcript = db.session.scalars(
            select(Transcript).where(Transcript.response_id == response_id)
        ).one()
        assert transcript.status == "failed"
        assert transcript.attempts == 2
        assert "erased" in (transcript.error or "")
    # the test goes on without waiting for the score
    assert pad.state()["item"]["id"] != item["id"]


def _esc(text: str) -> str:
    """``text`` as Jinja writes it into a page."""
    return str(escape(text))


def test_the_tablet_speaks_the_candidates_language_then_french(
    app: Flask, start_test: Callable[..., dict[str, Any]], tablet: FlaskClient, speech_wav: bytes
) -> None:
    from webui.candidate.languages import languages

    arabic = languages()["ar"]
    info = start_test(language="ar", non_reader=True)
    pad = Tablet(tablet)
    assert pad.open(info["code"]).status_code == 303
    welcome = pad.get("/t/test").get_data(as_text=True)
    assert 'data-tr-lang="ar" data-tr-dir="rtl"' in welcome
    # the Arabic sentence comes first, in its own direction, then the French one
    tr_at = welcome.index(f'<p class="lead tr" lang="ar" dir="rtl">{arabic.texts["welcome"]}</p>')
    fr_at = welcome.index(_esc(TEXTS["welcome"]))
    assert tr_at < fr_at
    assert f'<span class="tr" lang="ar" dir="rtl">{arabic.labels["start"]}</span>' in welcome
    pad.post_form("/t/etape", {"stage": "consent"})
    consent = pad.get("/t/test").get_data(as_text=True)
    days = app.config.get("RETENTION_DAYS", 365)
    assert arabic.texts["consent"].format(days=days) in consent
    assert _esc(TEXTS["consent"].format(days=days)) in consent
    # the consent is spoken in Arabic then in French: one registered sound, made on request
    audio = re.search(r'class="speak[^"]*" data-audio="([^"]+)" data-autoplay', consent)
    assert audio is not None
    with tablet.get(audio.group(1)) as spoken:
        assert spoken.status_code == 200
        assert spoken.mimetype == "audio/mpeg"
        assert _is_mp3(spoken.get_data())
    # the refusals of a recording carry their translation for the script to show
    refusals = json.loads(consent.split('id="refusals">', 1)[1].split("</script>", 1)[0])
    assert refusals["silence"]["tr"] == {
        "text": arabic.refusals["silence"],
        "lang": "ar",
        "dir": "rtl",
    }
    for stage in ("sound_check", "mic_check"):
        pad.post_form("/t/etape", {"stage": stage})
    pad.get("/t/test")
    assert pad.post_audio("/t/micro", speech_wav, "micro.wav").status_code == 200
    pad.post_form("/t/etape", {"stage": "practice"})
    practice = pad.get("/t/test").get_data(as_text=True)
    assert arabic.texts["practice"] in practice
    pad.practice()
    item = pad.get("/t/test").get_data(as_text=True)
    state = pad.state()
    # the items are the test: their instruction stays French only; the tablet's help is Arabic
    instruction = state["item"]["instruction"]
    assert instruction["tr"] is None
    assert _esc(instruction["text"]) in item
    assert arabic.texts["item_choice"] in item or arabic.texts["item_speech"] in item
    assert f'<span class="tr" lang="ar" dir="rtl">{arabic.texts["skip"]}</span>' in item


def test_a_french_only_session_shows_no_translation(
    start_test: Callable[..., dict[str, Any]], tablet: FlaskClient
) -> None:
    info = start_test()
    pad = Tablet(tablet)
    pad.open(info["code"])
    page = pad.get("/t/test").get_data(as_text=True)
    assert "data-tr-lang" not in page
    assert 'class="lead tr"' not in page
    assert "Bonjour et bienvenue" in page


def test_a_non_reader_test_is_refused_when_the_bank_cannot_fill_its_path(
    app: Flask, test_bank: tuple[Path, Path], tmp_path: Path
) -> None:
    import yaml

    from placement.sessions import operations
    from placement.sessions.errors import Conflict
    from placement.sessions.models import Role
    from placement.sessions.users import create_user

    # the same bank, but rules that want reading items on the non-reader path: none exist
    rules = tmp_path / "r.yaml"
    rules.write_text(
        yaml.safe_dump({**testbank.RULES, "non_reader_skills": ["CO", "CE", "EO"]}),
        encoding="utf-8",
    )
    with app.app_context():
        user, _ = create_user(
            db.session, "agent.nr", "Agent", Role.AUDITEUR, "mot-de-passe-long-12"
        )
        reader, non_reader = (
            operations.create_candidate(
                db.session,
                user,
                dossier_number=f"75-2026-0090{n}",
                last_name="Diallo",
                first_name="Amina",
                non_reader=bool(n),
            )
            for n in (0, 1)
        )
        with pytest.raises(Conflict) as refused:
            operations.start_session(db.session, non_reader.id, user, rules=str(rules))
        message = refused.value.message
        assert "non-lecteur" in message
        assert "la partie CE demande au moins 2 questions sans lecture, la banque en a 0" in message
        # a reader's test on the same bank and rules starts
        session = operations.start_session(db.session, reader.id, user, rules=str(rules))
        assert session.id is not None
        db.session.rollback()


def test_a_refused_screen_change_shows_the_current_screen_again(
    app: Flask, start_test: Start, tablet: FlaskClient
) -> None:
    """A plain form of the tablet (Continuer, J'accepte...) refused by the server goes back to
    the tablet's current screen, never to the desk's error page (whose links lead to the
    auditeurs' login): an old tab, a CSRF token gone stale, a test the auditeur abandoned."""
    from placement.sessions import operations
    from placement.sessions.models import User

    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    for stage in ("consent", "sound_check"):
        assert pad.post_form("/t/etape", {"stage": stage}).status_code == 303
    # an old tab still on the welcome screen taps "Commencer"
    old_tab = pad.post_form("/t/etape", {"stage": "consent"})
    assert old_tab.status_code == 303
    assert old_tab.headers["Location"].endswith("/t/test")
    assert _session(app, started["session_id"]).stage == Stage.SOUND_CHECK
    # the token of the page is no longer the session's (the auditeur logged in on this browser)
    stale = tablet.post("/t/etape", data={"csrf_token": "perime", "stage": "mic_check"})
    assert stale.status_code == 303
    assert stale.headers["Location"].endswith("/t/test")
    assert _session(app, started["session_id"]).stage == Stage.SOUND_CHECK
    # the code page too: its form comes back instead of an error page
    assert tablet.post("/t/", data={"code": started["code"]}).headers["Location"].endswith("/t/")
    # the auditeur abandoned the test: the tablet shows why, spoken, on its own page
    with app.app_context():
        user = db.session.get(User, started["user_id"])
        assert user is not None
        operations.abandon_session(db.session, started["session_id"], user)
        db.session.commit()
    gone = pad.post_form("/t/etape", {"stage": "mic_check"})
    assert gone.status_code == 303
    page = pad.get(gone.headers["Location"]).get_data(as_text=True)
    assert 'name="code"' in page
    assert "Se connecter" not in page
    assert "/login" not in page
    # scripts (fetch) still get the error as JSON, and a missing page is still a 404
    assert pad.post_json("/t/etape", {"stage": "mic_check"}).status_code == 404
    assert pad.get("/t/media/rien.png").status_code == 404


def test_a_stale_csrf_token_is_renewed_by_the_state(start_test: Start, tablet: FlaskClient) -> None:
    """A fetch refused for its CSRF token says so with a code, and ``/t/etat`` gives the
    session's token, so that the tablet's script sends the same answer again (a recording is
    not lost to a reload)."""
    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    pad.csrf = "perime"
    refused = pad.post_json("/t/etape", {"stage": "consent"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf"
    pad.csrf = pad.state()["csrf"]
    assert pad.post_json("/t/etape", {"stage": "consent"}).status_code == 200
