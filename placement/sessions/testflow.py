"""The candidate's side of a test session: what the tablet may do, one operation each.

Every function takes a SQLAlchemy session, changes what it must, writes an audit event as the
actor ``tablette``, flushes and never commits (the view owns the transaction). The screens
follow :class:`~placement.sessions.models.Stage` in order: welcome, consent, sound check,
microphone check, one practice item, the adaptive test, finished. There is no way back.

The server holds the whole state; the tablet holds only the session's token. At every request
the engine's state is rebuilt from the stored responses (:mod:`placement.sessions.results`)
and the next item chosen with ``step_rng(session.seed, n)``, so the choice is replayable. The
item on screen is stored (``pending_item_id``): a reload shows it again, and an answer for any
other item (a double tap, an old tab) is refused with :class:`StaleAnswer` (409) and changes
nothing. Claiming the pending item is a conditional ``UPDATE ... WHERE pending_item_id = :item``,
so two simultaneous answers cannot both be stored, on SQLite as on PostgreSQL.

A spoken answer is checked (:func:`audio.intake.check_recording`) before anything is stored: a
refusal raises :class:`audio.errors.AudioRejected` (422 with its French message) and the
candidate records again. An accepted one is stored (original bytes and sha256), with a response
whose score is None and a ``queued`` transcript; the transcription job is enqueued once the
view's transaction commits. The next item does not wait: the engine treats the pending score
as missing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from audio.intake import Recording as CheckedRecording
from audio.intake import check_recording
from itembank.model import Item
from placement.cat import Rules, next_step, step_rng
from placement.scoring import score_answer
from placement.sessions import audit, results
from placement.sessions.bankcache import EngineBank
from placement.sessions.errors import (
    CodeThrottled,
    Conflict,
    InvalidAnswer,
    NotFound,
    SessionsError,
    StaleAnswer,
)
from placement.sessions.models import (
    CodeAttempt,
    Recording,
    Response,
    Result,
    SessionState,
    Stage,
    TestSession,
    Transcript,
    as_aware,
    utcnow,
)
from placement.sessions.operations import normalise_code as stored_code

__all__ = [
    "PRACTICE_ITEM",
    "STAGES",
    "CodeThrottle",
    "ItemView",
    "Progress",
    "advance_stage",
    "check_microphone",
    "current_item",
    "finish",
    "open_by_code",
    "planned_items",
    "progress",
    "session_by_token",
    "set_recording_checks",
    "settle_result",
    "settle_state",
    "submit_answer",
    "submit_recording",
    "transcription_job_id",
]

#: The screens in order; the tablet only ever moves one step forward.
STAGES: tuple[Stage, ...] = (
    Stage.WELCOME,
    Stage.CONSENT,
    Stage.SOUND_CHECK,
    Stage.MIC_CHECK,
    Stage.PRACTICE,
    Stage.TEST,
    Stage.FINISHED,
)

#: The practice item: shows how to answer, is never scored and never enters the estimate.
#: Its pictures are the tablet's own (not the bank's); its right answer stays here.
PRACTICE_ITEM: dict[str, Any] = {
    "id": "ENTRAINEMENT",
    "skill": None,
    "type": "listen_choose_picture",
    "response_mode": "choice",
    "instruction": {
        "text": "Entraînement. Touchez l'image de la maison.",
        "audio": None,
    },
    "stem": None,
    "choices": [
        {"id": "voiture", "text": None, "image": "practice/voiture.svg", "audio": None},
        {"id": "maison", "text": None, "image": "practice/maison.svg", "audio": None},
        {"id": "arbre", "text": None, "image": "practice/arbre.svg", "audio": None},
    ],
    "form": [],
    "time_limit_s": None,
}
_PRACTICE_KEY = "maison"

#: At most this many recordings are decoded and checked at once (ffmpeg and the VAD take a CPU
#: core each for a fraction of a second): a burst of recordings then waits its turn instead of
#: starving every tablet's page loads and answers of CPU. See :func:`set_recording_checks`.
RECORDING_CHECKS = max(1, (os.cpu_count() or 2) // 2)
_recording_checks = threading.BoundedSemaphore(RECORDING_CHECKS)

_MAX_TEXT_CHARS = 4000
_SKIP_KEY = "skipped"


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the candidate is, without any hint of how well it goes."""

    done: int
    planned: int

    @property
    def percent(self) -> int:
        """Share done, 0..100, never 100 before the end."""
        if self.planned <= 0:
            return 0
        return min(99, round(100 * self.done / self.planned))


@dataclass(frozen=True, slots=True)
class ItemView:
    """What the tablet shows for one item: its public view and the progress."""

    item: dict[str, Any]  # Item.public_view(): no key, accepted answers, rubric or parameters
    number: int  # 1-based position of this item in the test (0 for the practice item)
    progress: Progress
    practice: bool = False

    @property
    def item_id(self) -> str:
        """The item's id, which the answer must name."""
        return str(self.item["id"])


# --------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return utcnow()


def _audit(db: Session, session: TestSession, action: str, **detail: Any) -> None:
    audit.record(
        db,
        audit.TABLET,
        action,
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail=detail or None,
    )


#: How stale ``last_seen_at`` may get before a page load writes it again: a write per page load
#: would serialise every tablet's reads behind SQLite's single writer for a value the desk only
#: needs to the minute.
SEEN_RESOLUTION_S = 30.0


def _seen(session: TestSession) -> None:
    now = _now()
    last = as_aware(session.last_seen_at)
    if last is None or (now - last).total_seconds() >= SEEN_RESOLUTION_S:
        session.last_seen_at = now


def _stage_index(stage: str) -> int:
    return STAGES.index(Stage(stage))


def set_recording_checks(limit: int) -> None:
    """How many recordings may be checked at once in this process (at least 1)."""
    global _recording_checks  # noqa: PLW0603 - one process-wide limit, set at start
    _recording_checks = threading.BoundedSemaphore(max(1, int(limit)))


def _check(data: bytes, **limits: Any) -> CheckedRecording:
    with _recording_checks:
        return check_recording(data, **limits)


def transcription_job_id(response_id: int) -> str:
    """The queue's job id for a response's transcription (enqueuing twice does nothing)."""
    return f"transcribe-{response_id}"


# --------------------------------------------------------------------------- opening


@dataclass(frozen=True, slots=True)
class CodeThrottle:
    """How many wrong codes an address may type within ``window_minutes``."""

    max_failures: int = 10
    window_minutes: int = 15


def _code_refused(
    db: Session, ip: str | None, now: datetime, error: SessionsError, **detail: Any
) -> SessionsError:
    """Count and audit a refused code (the caller commits even on failure)."""
    db.add(CodeAttempt(at=now, ip=ip, success=False))
    audit.record(
        db,
        audit.Actor(audit.TABLET.name, None, ip),
        "code.refused",
        session_id=detail.pop("session_id", None),
        detail={"reason": type(error).__name__, **detail},
    )
    db.flush()
    return error


def open_by_code(
    db: Session,
    code: str,
    *,
    ip: str | None = None,
    held_token: str | None = None,
    throttle: CodeThrottle | None = None,
) -> TestSession:
    """The session a code opens on the tablet; marks it in progress and binds it to the device.

    Raises :class:`NotFound` for an unknown code, :class:`Conflict` for an expired code, a
    finished test, an abandoned one (the auditeur gives a new code to resume it) or a code
    already opened on another device (``held_token`` is the token the asking device holds; the
    auditeur releases the code to move the test to another tablet), and
    :class:`CodeThrottled` once the address typed too many wrong codes. Every refusal is
    counted and audited with the address: the caller commits even when this raises.
    """
    throttle = throttle or CodeThrottle()
    now = _now()
    if ip is not None:
        failures = db.scalar(
            select(func.count(CodeAttempt.id)).where(
                CodeAttempt.ip == ip,
                CodeAttempt.success.is_(False),
                CodeAttempt.at >= now - timedelta(minutes=throttle.window_minutes),
            )
        )
        if (failures or 0) >= throttle.max_failures:
            raise _code_refused(db, ip, now, CodeThrottled())
    wanted = stored_code(code or "")
    unknown = NotFound("Ce code n'existe pas. Vérifiez le code donné par l'agent.")
    session = (
        db.scalars(select(TestSession).where(TestSession.code == wanted)).first()
        if wanted
        else None
    )
    if session is None:
        raise _code_refused(db, ip, now, unknown)
    expires = as_aware(session.code_expires_at)
    refusal: SessionsError | None = None
    if expires is not None and expires < now:
        refusal = Conflict("Ce code a expiré. Demandez un nouveau code à l'agent.")
    elif session.state == SessionState.ABANDONED:
        refusal = Conflict("Ce test a été interrompu. Demandez un nouveau code à l'agent.")
    elif session.stage == Stage.FINISHED:
        refusal = Conflict("Ce test est terminé. Merci, rendez la tablette à l'agent.")
    elif session.code_used_at is not None and held_token != session.token:
        refusal = Conflict(
            "Ce code est déjà utilisé sur une autre tablette. "
            "Demandez à l'agent de le libérer pour continuer ici."
        )
    if refusal is not None:
        raise _code_refused(db, ip, now, refusal, session_id=session.id)
    if session.state == SessionState.WAITING:
        session.state = SessionState.IN_PROGRESS
        session.started_at = session.started_at or now
    session.code_used_at = session.code_used_at or now
    session.last_seen_at = now
    db.add(CodeAttempt(at=now, ip=ip, success=True))
    audit.record(
        db,
        audit.Actor(audit.TABLET.name, None, ip),
        "session.open",
        candidate_id=session.candidate_id,
        session_id=session.id,
    )
    db.flush()
    return session


def session_by_token(db: Session, token: str | None, *, for_update: bool = False) -> TestSession:
    """The session bound to a tablet's token; :class:`NotFound` when there is none.

    ``for_update`` locks the row until the transaction ends (PostgreSQL; SQLite serialises
    writers anyway), so that answers from two tabs are handled one after the other.
    """
    if not token:
        raise NotFound("Aucun test n'est ouvert sur cette tablette. Entrez votre code.")
    query = select(TestSession).where(TestSession.token == token)
    if for_update:
        query = query.with_for_update()
    session = db.scalars(query).first()
    if session is None:
        raise NotFound("Aucun test n'est ouvert sur cette tablette. Entrez votre code.")
    if session.state == SessionState.ABANDONED:
        raise Conflict("Ce test a été interrompu. Demandez un nouveau code à l'agent.")
    return session


# --------------------------------------------------------------------------- stages


def advance_stage(db: Session, session: TestSession, stage: str) -> TestSession:
    """Move to ``stage``, which must be the next screen (asking for the current one is a no-op).

    The microphone check is passed by :func:`check_microphone`, the practice item by answering
    it, the test by the engine's stopping rule: asking to skip them raises :class:`Conflict`.
    """
    try:
        wanted = Stage(stage)
    except ValueError:
        raise NotFound(f"Étape inconnue : {stage}.") from None
    current = _stage_index(session.stage)
    target = STAGES.index(wanted)
    if target == current:
        return session
    if target != current + 1:
        raise Conflict("Cette étape n'est pas la suivante.")
    if wanted == Stage.PRACTICE and not session.mic_ok:
        raise Conflict("Il faut d'abord vérifier le micro.")
    if wanted in (Stage.TEST, Stage.FINISHED):
        raise Conflict("Répondez d'abord à la question.")
    session.stage = wanted
    session.last_seen_at = _now()
    _audit(db, session, "session.stage", stage=str(wanted))
    db.flush()
    return session


def check_microphone(
    db: Session, session: TestSession, data: bytes, mime: str | None = None, **limits: Any
) -> dict[str, Any]:
    """Check a short test recording; on success the microphone check is passed.

    The recording is not kept. A refusal raises :class:`audio.errors.AudioRejected` (its French
    message is shown and spoken, and the candidate tries again); it is logged.
    ``limits`` are passed to :func:`audio.intake.check_recording` (``max_bytes``...).
    """
    if session.stage != Stage.MIC_CHECK:
        raise Conflict("Ce n'est pas le moment de vérifier le micro.")
    from audio.errors import AudioRejected

    try:
        recording = _check(data, **limits)
    except AudioRejected as refusal:
        session.mic_ok = False
        _audit(db, session, "mic_check.refused", code=refusal.code, mime=(mime or "")[:60])
        db.flush()
        raise
    session.mic_ok = True
    _audit(db, session, "mic_check.ok", **recording.to_dict())
    db.flush()
    return recording.to_dict()


# --------------------------------------------------------------------------- the test


def progress(session: TestSession, bank: EngineBank | None = None) -> Progress:
    """Items answered so far and the most the rules allow on this path: no score in it."""
    bank = bank or results.bank_for(session)
    planned = planned_items(bank.rules, non_reader=results.effective_non_reader(session))
    done = len(session.responses)
    return Progress(done=done, planned=max(planned, done + 1))


def planned_items(rules: Rules, *, non_reader: bool = False) -> int:
    """The most items a test can have: the sections' maxima on the path, capped by the rules."""
    total = sum(s.max_items for s in rules.path_sections(non_reader))
    cap = rules.stopping.max_items
    return min(total, cap) if cap else total


def current_item(db: Session, session: TestSession) -> ItemView | None:
    """The item to show now: the pending one again, else the engine's next choice.

    Returns None when there is nothing to show (before the practice item, or when the test is
    over; the engine's stopping rule ends it here: see :func:`finish`).
    """
    stage = Stage(session.stage)
    if stage == Stage.PRACTICE:
        return ItemView(item=dict(PRACTICE_ITEM), number=0, progress=Progress(0, 1), practice=True)
    if stage != Stage.TEST:
        return None
    bank = results.bank_for(session)
    _seen(session)
    if session.pending_item_id is None:
        state = results.state_from_session(session, bank=bank)
        n = len(state.responses)
        step = next_step(state, bank.pool, bank.rules, step_rng(session.seed, n))
        if step.done or step.item_id is None:
            finish(db, session, reason=step.reason)
            return None
        claimed = db.execute(
            update(TestSession)
            .where(TestSession.id == session.id, TestSession.pending_item_id.is_(None))
            .values(pending_item_id=step.item_id, pending_since=_now())
            .execution_options(synchronize_session=False)
        )
        db.refresh(session)
        if claimed.rowcount == 1:  # type: ignore[attr-defined]  # CursorResult of an UPDATE
            _audit(db, session, "item.present", item_id=step.item_id, seq=n + 1)
    db.flush()
    pending = session.pending_item_id
    if pending is None:  # the test ended in a concurrent request
        return None
    item = bank.item(pending)
    return ItemView(
        item=item.public_view(),
        number=len(session.responses) + 1,
        progress=progress(session, bank),
    )


def _claim(db: Session, session: TestSession, item_id: str) -> datetime:
    """Take the pending item off the screen, atomically; :class:`StaleAnswer` if it is not."""
    if session.stage != Stage.TEST or session.pending_item_id != item_id:
        raise StaleAnswer()
    presented_at = as_aware(session.pending_since) or _now()
    claimed = db.execute(
        update(TestSession)
        .where(TestSession.id == session.id, TestSession.pending_item_id == item_id)
        .values(pending_item_id=None, pending_since=None)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]  # another request answered first
        raise StaleAnswer()
    # the row is already updated: record the new values without a second UPDATE
    set_committed_value(session, "pending_item_id", None)
    set_committed_value(session, "pending_since", None)
    return presented_at


def _check_answer(item: Item, answer: Mapping[str, Any]) -> dict[str, Any]:
    """The answer in its stored form, or :class:`InvalidAnswer` when it cannot be for this item."""
    mode = item.response_mode
    if mode == "choice":
        choice = answer.get("choice")
        if not isinstance(choice, str) or choice not in {c.id for c in item.choices}:
            raise InvalidAnswer("Touchez une des réponses proposées.")
        return {"choice": choice}
    if mode in ("text", "long_text"):
        text = answer.get("text")
        if not isinstance(text, str):
            raise InvalidAnswer("Écrivez votre réponse dans la case.")
        if len(text) > _MAX_TEXT_CHARS:
            raise InvalidAnswer("Votre réponse est trop longue.")
        return {"text": text}
    if mode == "form":
        fields = answer.get("fields")
        known = {f.id for f in item.form}
        if not isinstance(fields, Mapping) or not all(
            isinstance(value, str) and len(value) <= _MAX_TEXT_CHARS for value in fields.values()
        ):
            raise InvalidAnswer("Remplissez les cases du formulaire.")
        return {"fields": {key: str(fields.get(key, "")) for key in known}}
    raise InvalidAnswer("Pour cette question, il faut parler : appuyez sur le micro.")


def _new_response(
    session: TestSession,
    bank: EngineBank,
    item: Item,
    presented_at: datetime,
    answer: dict[str, Any] | None,
) -> Response:
    now = _now()
    index = bank.pool.index(item.id)
    response = Response(
        session=session,
        seq=len(session.responses) + 1,
        item_id=item.id,
        skill=item.skill,
        pretest=bool(bank.pool.pretest[index]),
        answer=answer,
        max_score=item.max_score,
        presented_at=presented_at,
        answered_at=now,
        duration_s=max(0.0, (now - presented_at).total_seconds()),
    )
    session.elapsed_s = float(session.elapsed_s or 0.0) + float(response.duration_s or 0.0)
    _seen(session)
    return response


def submit_answer(
    db: Session, session: TestSession, item_id: str, answer: Mapping[str, Any] | None
) -> Response | None:
    """Store and score the answer to the item on screen.

    ``answer`` is ``{"choice": id}``, ``{"text": ...}`` or ``{"fields": {...}}`` as the item asks,
    or ``{"skipped": true}`` when the candidate taps « je ne sais pas » or the item's time is up
    (scored 0). Raises :class:`StaleAnswer` (409, nothing changed) when ``item_id`` is not the
    item on screen, :class:`InvalidAnswer` (422, nothing changed) when the answer does not fit
    the item. Returns the stored response (None for the practice item, which is not stored).
    """
    answer = answer or {}
    if session.stage == Stage.PRACTICE:
        if item_id != PRACTICE_ITEM["id"]:
            raise StaleAnswer()
        choice = answer.get("choice")
        _audit(db, session, "practice.answer", correct=choice == _PRACTICE_KEY)
        session.stage = Stage.TEST
        _audit(db, session, "session.stage", stage=str(Stage.TEST))
        db.flush()
        return None
    bank = results.bank_for(session)
    if session.stage != Stage.TEST or session.pending_item_id != item_id:
        raise StaleAnswer()
    item = bank.item(item_id)
    skipped = bool(answer.get(_SKIP_KEY))
    stored = None if skipped else _check_answer(item, answer)
    presented_at = _claim(db, session, item_id)
    response = _new_response(session, bank, item, presented_at, stored)
    if stored is None:
        response.score = 0
        response.scorer = "auto"
        response.score_detail = {
            "reasons": ["Pas de réponse (« je ne sais pas » ou temps écoulé)."]
        }
    else:
        scored = score_answer(item, stored)
        response.score = int(scored.score)
        response.max_score = int(scored.max_score)
        response.scorer = "auto"
        response.needs_review = bool(scored.needs_review)
        response.score_detail = scored.to_dict()
    db.add(response)
    db.flush()
    _audit(db, session, "response.submit", item_id=item_id, seq=response.seq, skipped=skipped)
    db.flush()
    return response


def submit_recording(
    db: Session,
    session: TestSession,
    item_id: str,
    data: bytes,
    mime: str | None,
    *,
    enqueue: Callable[[int], object] | None = None,
    **limits: Any,
) -> Response:
    """Check and store a spoken answer; its transcription is enqueued when the transaction commits.

    The recording is checked first: a refusal raises :class:`audio.errors.AudioRejected` (422,
    French message, nothing stored, the item stays on screen). Otherwise stores the original
    bytes with their sha256, a response with score None and a ``queued`` transcript.
    ``enqueue(response_id)`` is called after the commit (not at all if the transaction is
    rolled back). ``limits`` go to :func:`audio.intake.check_recording`.
    """
    if session.stage != Stage.TEST or session.pending_item_id != item_id:
        raise StaleAnswer()
    bank = results.bank_for(session)
    item = bank.item(item_id)
    if item.response_mode != "speech":
        raise InvalidAnswer("Pour cette question, il faut toucher ou écrire la réponse.")
    recording = _check(data, **limits)
    presented_at = _claim(db, session, item_id)
    response = _new_response(session, bank, item, presented_at, {"recording": True})
    # The stored (and later served) type is the one the bytes were checked to be; the type the
    # tablet declared is hostile input and only goes to the audit trail.
    response.recording = Recording(
        sha256=recording.sha256,
        mime_type=recording.mime_type,
        container=recording.container,
        size_bytes=len(data),
        duration_s=float(recording.duration_s),
        data=data,
    )
    response.transcript = Transcript(status="queued")
    db.add(response)
    db.flush()
    _audit(
        db,
        session,
        "response.recording",
        item_id=item_id,
        seq=response.seq,
        sha256=recording.sha256,
        duration_s=round(recording.duration_s, 2),
        container=recording.container,
        declared_type=(mime or "")[:60],
    )
    db.flush()
    if enqueue is not None:
        response_id = response.id

        def _after_commit(_db: Session) -> None:
            enqueue(response_id)

        event.listen(db, "after_commit", _after_commit, once=True)
    return response


# --------------------------------------------------------------------------- the end


def settle_state(session: TestSession) -> SessionState:
    """The state a finished session is in: transcribing, to review, or done.

    Transcribing while a transcript is queued or running; to review while a response needs
    review and no auditeur has scored it; done otherwise.
    """
    if any(
        r.transcript is not None and r.transcript.status in ("queued", "running")
        for r in session.responses
    ):
        return SessionState.TRANSCRIBING
    if results.responses_to_check(session):
        return SessionState.TO_REVIEW
    return SessionState.DONE


def finish(db: Session, session: TestSession, *, reason: str = "") -> None:
    """End the test: compute the result and set the state the desk shows.

    The result is ``provisional`` while spoken answers are still being transcribed (the
    transcription job recomputes it when the last one is in), else ``final``.
    """
    now = _now()
    first_time = session.stage != Stage.FINISHED
    session.stage = Stage.FINISHED
    session.pending_item_id = None
    session.pending_since = None
    session.finished_at = session.finished_at or now
    settle_result(db, session, audit.TABLET, finish_reason=reason if first_time else None)


def settle_result(
    db: Session, session: TestSession, actor: audit.Actor, *, finish_reason: str | None = None
) -> Result:
    """Settle a finished session's state (:func:`settle_state`) and add its result.

    The result is ``provisional`` while spoken answers are still being transcribed, else
    ``final``. With ``finish_reason`` the test has just ended: the ``session.finish`` event, with
    the settled state, is recorded before the result.
    """
    state = settle_state(session)
    session.state = state
    if finish_reason is not None:
        audit.record(
            db,
            actor,
            "session.finish",
            candidate_id=session.candidate_id,
            session_id=session.id,
            detail={"reason": finish_reason, "state": str(state)},
        )
    db.flush()
    status = "provisional" if state == SessionState.TRANSCRIBING else "final"
    return results.compute_result(db, session, status=status, actor=actor)
