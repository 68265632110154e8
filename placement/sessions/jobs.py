"""Background jobs of test sessions: the transcription and scoring of a spoken answer.

:func:`process_recording` is what the queue runs (by import path
``placement.sessions.jobs.process_recording``): in a thread of the web app by default, in RQ
worker processes at scale (``placement worker``). It opens its own database connection from the
URL it is given, so it runs the same in either place.

It never loses an answer: a transcription that fails, or one the scorer is not confident about,
leaves the recording stored and the response marked ``needs_review`` for the auditeur, who
listens and scores it. It is idempotent: a transcript already ``done`` is not redone, so a job
enqueued twice, or retried after a worker died, does the work once. When the session's test is
over, the result is recomputed and the session's state updated (transcribing → to review or
done).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from audio.intake import check_recording
from audio.transcribe import get_transcriber
from placement.scoring import score_recording
from placement.sessions import audit, results
from placement.sessions.db import make_engine, session_factory
from placement.sessions.models import Response, Stage, Transcript, utcnow

__all__ = [
    "PROCESS_RECORDING",
    "pending_transcriptions",
    "process_recording",
    "recompute_if_finished",
    "requeue_pending",
]

#: The import path the queue is given.
PROCESS_RECORDING = "placement.sessions.jobs.process_recording"

#: Flags of a transcript that leave nothing to score: a person must listen. The scorer sends
#: these to review too; the doubts it weighs on the evidence (``not_french``: the language
#: identification's; ``low_confidence``: the words') are its decision alone
#: (:func:`placement.scoring.score_transcript`), the one ``benchmarks/scoring.py`` measures.
_REVIEW_FLAGS = frozenset({"failed", "loop", "silence"})

_log = logging.getLogger(__name__)
_factories: dict[str, sessionmaker[Session]] = {}
_engines: dict[str, Engine] = {}
_factories_lock = threading.Lock()


def _factory(database_url: str) -> sessionmaker[Session]:
    """One engine per database URL per process: jobs share its connection pool."""
    with _factories_lock:
        factory = _factories.get(database_url)
        if factory is None:
            engine = make_engine(database_url)
            _engines[database_url] = engine
            factory = _factories[database_url] = session_factory(engine)
        return factory


@contextmanager
def _db(database_url: str) -> Iterator[Session]:
    db = _factory(database_url)()
    try:
        yield db
    finally:
        db.close()


def _audit(db: Session, response: Response, action: str, **detail: Any) -> None:
    audit.record(
        db,
        audit.SYSTEM,
        action,
        candidate_id=response.session.candidate_id,
        session_id=response.session_id,
        detail={"response_id": response.id, "item_id": response.item_id, **detail},
    )


def process_recording(response_id: int, database_url: str) -> None:
    """Transcribe and score the recording of a response; store transcript, score and review flag.

    Idempotent (a ``done`` transcript is left alone). A failure of decoding, transcription or
    scoring marks the transcript ``failed`` and the response ``needs_review``; the recording
    stays. At the end the session's result is recomputed if its test is over.
    """
    with _db(database_url) as db:
        response = db.get(Response, response_id)
        if response is None or response.recording is None:
            _log.warning("no recorded response %s: nothing to transcribe", response_id)
            return
        transcript_row = response.transcript or Transcript(response=response)
        if transcript_row.status == "done":
            return
        transcript_row.status = "running"
        transcript_row.attempts = (transcript_row.attempts or 0) + 1
        db.add(transcript_row)
        db.commit()
        session_id = response.session_id

        try:
            _transcribe_and_score(db, response, transcript_row)
        except Exception as exc:
            db.rollback()
            response = db.get(Response, response_id)
            assert response is not None
            transcript_row = response.transcript or Transcript(response=response)
            transcript_row.status = "failed"
            transcript_row.error = f"{type(exc).__name__}: {exc}"[:2000]
            response.needs_review = True
            response.score_detail = {
                "reasons": ["La transcription a échoué : écoutez l'enregistrement et notez-le."],
                "flags": ["failed"],
                "scorer": "asr",
            }
            db.add(transcript_row)
            _audit(db, response, "transcript.failed", error=transcript_row.error)
            _log.exception("transcription of response %s failed", response_id)
        db.commit()
        recompute_if_finished(db, session_id)
        db.commit()


def _transcribe_and_score(db: Session, response: Response, row: Transcript) -> None:
    bank = results.bank_for(response.session)
    item = bank.item(response.item_id)
    data = response.recording.data if response.recording is not None else None
    if data is None:
        raise ValueError("the recording was erased before it was transcribed")
    # decode again: the queue carries ids only, never audio. Its size was checked at intake
    # against the app's RECORDING_MAX_BYTES, which the job does not know: not again here
    recording = check_recording(data, max_bytes=len(data))
    spoken = score_recording(item, recording, get_transcriber())
    transcript, scored = spoken.transcript, spoken.result
    flags = set(transcript.flags) | set(scored.flags)
    row.status = "done"
    row.text = transcript.text
    row.confidence = float(transcript.confidence)
    row.detail = transcript.to_dict()
    row.model_name = transcript.model_name
    row.model_version = transcript.model_version
    row.error = None
    row.updated_at = utcnow()
    response.score = int(scored.score)
    response.max_score = int(scored.max_score)
    response.scorer = "asr"
    response.needs_review = bool(scored.needs_review) or bool(flags & _REVIEW_FLAGS)
    response.score_detail = {**scored.to_dict(), "phrase_scores": spoken.to_dict()["phrase_scores"]}
    _audit(
        db,
        response,
        "transcript.done",
        needs_review=response.needs_review,
        confidence=round(float(transcript.confidence), 3),
    )


def recompute_if_finished(db: Session, session_id: int) -> None:
    """If the session's test is over, recompute its result and settle its state."""
    from placement.sessions.models import TestSession
    from placement.sessions.testflow import settle_result

    db.expire_all()  # another job may have scored a sibling response meanwhile
    session = db.get(TestSession, session_id)
    if session is None or session.stage != Stage.FINISHED:
        return
    settle_result(db, session, audit.SYSTEM)


def pending_transcriptions(db: Session) -> list[int]:
    """Responses whose transcript is still ``queued`` or ``running``, oldest first.

    With the in-process thread queue, jobs die with the process: after a restart these are the
    answers whose transcription must be enqueued again (see :func:`requeue_pending`).
    """
    from sqlalchemy import select

    return list(
        db.scalars(
            select(Transcript.response_id)
            .where(Transcript.status.in_(("queued", "running")))
            .order_by(Transcript.id)
        )
    )


def requeue_pending(database_url: str, enqueue: Callable[[int], object]) -> list[int]:
    """Enqueue again every pending transcription (at server start); returns the response ids.

    Safe to call at any time: the job is idempotent and the queue ignores a job id it holds.
    """
    with _db(database_url) as db:
        ids = pending_transcriptions(db)
    for response_id in ids:
        enqueue(response_id)
    return ids
