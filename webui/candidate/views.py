"""Routes of the candidate's tablet (blueprint ``candidate``, prefix ``/t``).

Pages (GET): ``/t/`` code entry, ``/t/c/<code>`` (the QR code's address), ``/t/test`` the
current screen. Actions (POST, CSRF token required; JSON for fetch, a redirect for a plain form):
``/t/etape`` next screen, ``/t/micro`` microphone check, ``/t/reponse`` an answer,
``/t/enregistrement`` a spoken answer. Data: ``/t/etat`` (JSON of the current screen),
``/t/media/<path>`` (media of the session's bank release only), ``/t/parole/<key>.mp3`` (the
tablet's own sentences, spoken). Views are thin: an operation of
:mod:`placement.sessions.testflow`, then commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import (
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from audio.errors import AudioRejected
from placement.sessions import results, testflow
from placement.sessions.errors import InvalidAnswer, SessionsError, StaleAnswer
from placement.sessions.models import Stage, TestSession
from webui.candidate import bp, speech
from webui.candidate.languages import Language, get_language
from webui.candidate.texts import LABELS, REFUSALS, TEXTS
from webui.errors import expected_error_response, wants_json
from webui.extensions import db
from webui.security import CsrfRefused, csrf_token
from webui.transcription import enqueue_transcription

#: The cookie that binds the tablet to its session (the session's secret token).
COOKIE = "placement_tablet"
COOKIE_MAX_AGE_S = 12 * 3600

_SPOKEN_URLS: dict[tuple[str, str, str, str], str] = {}


# --------------------------------------------------------------------------- helpers


def _fill(text: str) -> str:
    return text.format(days=current_app.config.get("RETENTION_DAYS", 365))


def _text(key: str) -> str:
    return _fill(TEXTS[key])


def _say(text: str, lang: Language | None = None, translation: str | None = None) -> str:
    """The URL of ``text`` spoken, after its ``translation`` in ``lang``'s voice if it has one.

    Registers the sentence; cached, since every page names a dozen sentences.
    """
    before = lang.spoken_before(translation) if lang is not None else []
    voice = before[0][0] if before else ""
    cache_key = (request.script_root, text, voice, translation or "")
    url = _SPOKEN_URLS.get(cache_key)
    if url is None:
        key = speech.register(text, before)
        url = _SPOKEN_URLS[cache_key] = url_for("candidate.spoken", key=key)
    return url


def _tr(translation: str | None, lang: Language | None) -> dict[str, str] | None:
    """A translation as the templates show it (text, ``lang``, ``dir``), or None."""
    if lang is None or not translation:
        return None
    return {"text": translation, "lang": lang.code, "dir": lang.dir}


def _words(text: str, translation: str | None, lang: Language | None) -> dict[str, Any]:
    """A French sentence with its translation (shown first) and the URL that says both."""
    return {"text": text, "audio": _say(text, lang, translation), "tr": _tr(translation, lang)}


def _said(key: str, lang: Language | None = None) -> dict[str, Any]:
    """A sentence of the tablet in the candidate's language and in French, and its sound."""
    translation = lang.texts.get(key) if lang is not None else None
    return _words(_text(key), _fill(translation) if translation else None, lang)


def labels_for(lang: Language | None) -> dict[str, dict[str, Any]]:
    """The buttons' words: French, and the translation shown before it."""
    shown = {
        key: {"text": french, "tr": _tr(lang.labels.get(key) if lang else None, lang)}
        for key, french in LABELS.items()
    }
    skip = lang.texts.get("skip") if lang else None
    shown["skip"] = {"text": TEXTS["skip"], "tr": _tr(skip, lang)}
    return shown


def _language(session: TestSession) -> Language | None:
    return get_language(session.language)


def _session(*, for_update: bool = False) -> TestSession:
    return testflow.session_by_token(db.session, request.cookies.get(COOKIE), for_update=for_update)


def _media_url(path: str | None, *, practice: bool = False) -> str | None:
    if not path:
        return None
    if practice:
        return url_for("candidate.static", filename=path)
    return url_for("candidate.media", rel=path)


def _item_for_tablet(view: testflow.ItemView, lang: Language | None = None) -> dict[str, Any]:
    """The item's public view with the addresses of its media (nothing else is added).

    The items are the test and stay in French; the practice item belongs to the tablet, so its
    instruction comes in the candidate's language too.
    """
    item = view.item
    practice = view.practice
    instruction = dict(item["instruction"])
    instruction["audio_url"] = _media_url(instruction.get("audio")) if not practice else None
    instruction["tr"] = None
    if practice and lang is not None:
        said = _said("practice", lang)
        instruction.update(text=said["text"], audio_url=said["audio"], tr=said["tr"])
    if not instruction["audio_url"]:
        instruction["audio_url"] = _say(instruction["text"])
    stem = None
    if item.get("stem"):
        stem = dict(item["stem"])
        stem["image_url"] = _media_url(stem.get("image"), practice=practice)
        stem["audio_url"] = _media_url(stem.get("audio"), practice=practice)
    choices = []
    for choice in item.get("choices", []):
        shown = dict(choice)
        shown["image_url"] = _media_url(choice.get("image"), practice=practice)
        shown["audio_url"] = _media_url(choice.get("audio"), practice=practice)
        if not shown["audio_url"] and choice.get("text"):
            shown["audio_url"] = _say(choice["text"])
        choices.append(shown)
    return {
        **item,
        "instruction": instruction,
        "stem": stem,
        "choices": choices,
        "form": [dict(f) for f in item.get("form", [])],
    }


def _screen(session: TestSession) -> dict[str, Any]:
    """What the tablet shows now, as data (the page and ``/t/etat`` both use it)."""
    view = None
    if session.stage in (Stage.PRACTICE, Stage.TEST):
        view = testflow.current_item(db.session, session)
    stage = str(session.stage)
    screen: dict[str, Any] = {"stage": stage}
    if view is not None:
        screen["item"] = _item_for_tablet(view, _language(session))
        screen["number"] = view.number
        screen["practice"] = view.practice
        screen["progress"] = {
            "done": view.progress.done,
            "planned": view.progress.planned,
            "percent": view.progress.percent,
        }
    return screen


def _refusal_audio(lang: Language | None = None) -> dict[str, dict[str, Any]]:
    return {
        code: _words(text, lang.refusals.get(code) if lang else None, lang)
        for code, text in REFUSALS.items()
    }


def _set_cookie(response: BaseResponse, token: str) -> BaseResponse:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        path="/t",
    )
    return response


def _done(next_url: str | None = None, **data: Any) -> ResponseReturnValue:
    """The answer to a successful action: JSON for fetch, else back to the current screen."""
    target = next_url or url_for("candidate.test")
    if wants_json():
        return jsonify({"ok": True, "next": target, **data})
    return redirect(target, code=303)


def _commit_or_stale(action: Callable[[], Any]) -> Any:
    """Run an operation and commit; a clash with a simultaneous request is a 409, nothing lost."""
    try:
        result = action()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise StaleAnswer() from None
    return result


def _answer_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    if form.get("skipped"):
        return {"skipped": True}
    if "choice" in form:
        return {"choice": form["choice"]}
    if "text" in form:
        return {"text": form["text"]}
    fields = {k[len("fields.") :]: v for k, v in form.items() if k.startswith("fields.")}
    if fields:
        return {"fields": fields}
    return {}


def _queue_enqueue(response_id: int) -> None:
    """Hand a recorded response to the transcription job (after the commit)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # the real app object
    enqueue_transcription(app, response_id)


# --------------------------------------------------------------------------- pages


@bp.get("/")
def index() -> ResponseReturnValue:
    """The code entry page (or the current screen when the tablet already holds a test)."""
    if request.cookies.get(COOKIE):
        try:
            session = _session()
        except SessionsError:
            pass
        else:
            if session.stage != Stage.FINISHED:
                return redirect(url_for(".test"))
    return render_template("candidate/code.html", said=_said("code"), error=None)


def _open(code: str) -> ResponseReturnValue:
    config = current_app.config
    try:
        session = testflow.open_by_code(
            db.session,
            code,
            ip=request.remote_addr,
            held_token=request.cookies.get(COOKIE),
            throttle=testflow.CodeThrottle(
                max_failures=int(config["CODE_MAX_FAILURES"]),
                window_minutes=int(config["CODE_WINDOW_MINUTES"]),
            ),
        )
    except SessionsError as error:
        db.session.commit()  # the refusal is counted (throttling) and audited
        page = render_template(
            "candidate/code.html",
            said=_said("code"),
            error={"text": error.message, "audio": _say(error.message)},
            code=code,
        )
        return page, error.status
    db.session.commit()
    response = redirect(url_for(".test"), code=303)
    return _set_cookie(response, session.token)


@bp.post("/")
def open_code() -> ResponseReturnValue:
    """Open the test whose code was typed."""
    return _open(request.form.get("code", ""))


@bp.get("/c/<code>")
def open_qr(code: str) -> ResponseReturnValue:
    """Open the test of a scanned QR code."""
    return _open(code)


@bp.get("/test")
def test() -> ResponseReturnValue:
    """The current screen: a check, the practice item, the item on screen, or the end."""
    try:
        session = _session()
    except SessionsError as error:
        return render_template(
            "candidate/code.html",
            said=_said("code"),
            error={"text": error.message, "audio": _say(error.message)},
        ), error.status
    lang = _language(session)
    screen = _screen(session)
    db.session.commit()
    stage = screen["stage"]
    said = {key: _said(key, lang) for key in SCREEN_SENTENCES}
    return render_template(
        f"candidate/{_template_for(stage)}.html",
        screen=screen,
        said=said,
        labels=labels_for(lang),
        lang=lang,
        refusals=json.dumps(_refusal_audio(lang), ensure_ascii=False),
    )


#: The sentences a screen of the test may show or say (every one but the code page's).
SCREEN_SENTENCES = tuple(key for key in TEXTS if key not in ("code", "skip"))


def _template_for(stage: str) -> str:
    if stage in (Stage.PRACTICE, Stage.TEST):
        return "item"
    if stage == Stage.FINISHED:
        return "finished"
    return stage


@bp.get("/etat")
def state() -> ResponseReturnValue:
    """The current screen as JSON (what the page shows; never a key or a score)."""
    screen = _screen(_session())
    db.session.commit()
    # the token the next POST must carry: the script renews its own with it after a 400 "csrf"
    return jsonify({**screen, "csrf": csrf_token()})


@bp.errorhandler(SessionsError)
@bp.errorhandler(CsrfRefused)
def refused(error: SessionsError | CsrfRefused) -> ResponseReturnValue:
    """A plain form of the tablet that the server refuses (an old tab, a stale CSRF token, an
    abandoned test) goes back to the tablet's own screen, which shows and says what to do;
    the desk's error page would be a dead end there. Scripts, pages and hostile input (a NUL,
    a file too big) get the usual error."""
    if request.method != "POST" or wants_json():
        return expected_error_response(error)
    db.session.rollback()
    target = ".index" if request.endpoint == "candidate.open_code" else ".test"
    return redirect(url_for(target), code=303)


# --------------------------------------------------------------------------- actions


@bp.post("/etape")
def stage() -> ResponseReturnValue:
    """Go to the next screen (welcome → consent → sound check → microphone check)."""
    payload = request.get_json(silent=True)
    wanted = payload.get("stage") if isinstance(payload, Mapping) else None
    if not isinstance(wanted, str) or not wanted:
        wanted = request.form.get("stage", "")
    session = _session(for_update=True)
    _commit_or_stale(lambda: testflow.advance_stage(db.session, session, wanted))
    return _done(stage=str(session.stage))


@bp.post("/micro")
def microphone() -> ResponseReturnValue:
    """Check a short test recording from the microphone."""
    session = _session(for_update=True)
    upload = request.files.get("audio")
    data = upload.read() if upload is not None else b""
    try:
        measures = testflow.check_microphone(
            db.session,
            session,
            data,
            upload.mimetype if upload is not None else None,
            max_bytes=int(current_app.config["RECORDING_MAX_BYTES"]),
        )
    except AudioRejected:
        db.session.commit()  # keep the audit of the refusal; the candidate tries again
        raise
    db.session.commit()
    return _done(mic=measures, message=_said("mic_ok", _language(session)))


@bp.post("/reponse")
def answer() -> ResponseReturnValue:
    """An answer to the item on screen (or the practice item)."""
    payload = request.get_json(silent=True)
    if isinstance(payload, Mapping):
        item_id = payload.get("item_id")
        given = payload.get("answer")
    else:
        item_id = request.form.get("item_id")
        given = _answer_from_form(request.form)
    if not isinstance(item_id, str) or not isinstance(given, Mapping):
        raise InvalidAnswer("Réponse illisible. Touchez de nouveau votre réponse.")
    session = _session(for_update=True)
    try:
        _commit_or_stale(lambda: testflow.submit_answer(db.session, session, item_id, given))
    except StaleAnswer:
        if not wants_json():  # a plain form: show the current item again, nothing is lost
            return redirect(url_for(".test"), code=303)
        raise
    return _done()


@bp.post("/enregistrement")
def recording() -> ResponseReturnValue:
    """A spoken answer to the item on screen; transcribed in the background."""
    item_id = request.form.get("item_id", "")
    upload = request.files.get("audio")
    data = upload.read() if upload is not None else b""
    session = _session(for_update=True)
    _commit_or_stale(
        lambda: testflow.submit_recording(
            db.session,
            session,
            item_id,
            data,
            upload.mimetype if upload is not None else None,
            enqueue=_queue_enqueue,
            max_bytes=int(current_app.config["RECORDING_MAX_BYTES"]),
        )
    )
    return _done()


# --------------------------------------------------------------------------- media


@bp.get("/media/<path:rel>")
def media(rel: str) -> ResponseReturnValue:
    """A picture or sound of the session's bank release (nothing else on the server)."""
    session = _session()
    path = results.bank_for(session).media_path(rel)
    if path is None:
        abort(404)
    return send_file(path, max_age=3600, conditional=True)


@bp.get("/parole/<key>.mp3")
def spoken(key: str) -> ResponseReturnValue:
    """One of the tablet's own sentences, spoken by espeak-ng (made once, then cached)."""
    if speech.text_for(key) is None:
        abort(404)
    cache_dir = Path(current_app.instance_path) / "speech"
    try:
        path = speech.sound_path(key, cache_dir)
    except speech.SpeechUnavailable:
        current_app.logger.warning("espeak-ng could not speak sentence %s", key)
        abort(404)
    return send_file(path, mimetype=speech.MIMETYPE, max_age=86400, conditional=True)
