"""Helpers that play a candidate's whole test through the real test-flow operations."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Literal

from flask import Flask

from placement.sessions import operations, testflow
from placement.sessions.models import Recording, Response, Stage, TestSession, User
from placement.sessions.results import bank_for
from webui.extensions import db

Strategy = Literal["right", "wrong"]


def _answer(item: Any, strategy: Strategy) -> dict[str, Any]:
    """An answer of the kind the item asks for: the key (``right``) or a wrong one."""
    mode = item.response_mode
    if mode == "choice":
        if strategy == "right":
            return {"choice": item.key}
        return {"choice": next(c.id for c in item.choices if c.id != item.key)}
    if mode == "text":
        return {"text": item.accepted[0] if strategy == "right" and item.accepted else "zzz"}
    if mode == "form":
        return (
            {"fields": {f.id: "" for f in item.form}}
            if strategy == "wrong"
            else {"fields": {f.id: _field_value(f.check) for f in item.form}}
        )
    if mode == "long_text":
        text = "Bonjour, je suis malade. Je ne peux pas venir demain. Merci, Amina."
        return {"text": text if strategy == "right" else "non"}
    return {"skipped": True}  # speech: the candidate says « je ne sais pas »


def _field_value(check: str) -> str:
    return {
        "date": "12/03/1990",
        "phone": "06 12 34 56 78",
        "postal_code": "75011",
        "email": "amina@example.fr",
        "number": "3",
    }.get(check, "Diallo")


def start_test(
    app: Flask, auditeur: User, dossier: str, *, policy: str | None = None, **candidate: Any
) -> TestSession:
    """In an app context: ``auditeur`` (a user of ``db.session``) registers a candidate (Amina
    Diallo unless ``candidate`` says otherwise) and starts a test; nothing is committed."""
    fields = {"last_name": "Diallo", "first_name": "Amina", "birth_date": "12/03/1990", **candidate}
    person = operations.create_candidate(db.session, auditeur, dossier_number=dossier, **fields)
    return operations.start_session(
        db.session, person.id, auditeur, policy=policy, rules=app.config["RULES"]
    )


def new_session(app: Flask, user: User, dossier: str, **candidate: Any) -> int:
    """An auditeur registers a candidate and starts a test; returns the session id."""
    with app.app_context():
        auditeur = db.session.get(User, user.id)
        assert auditeur is not None
        session = start_test(app, auditeur, dossier, **candidate)
        db.session.commit()
        return session.id


def add_recording(response: Response, wav: bytes, duration_s: float = 3.0) -> None:
    """Store ``wav`` as the recording of ``response``, as the tablet's upload leaves it (in the
    app context's session, not committed)."""
    db.session.add(
        Recording(
            response_id=response.id,
            sha256=hashlib.sha256(wav).hexdigest(),
            mime_type="audio/wav",
            container="wav",
            size_bytes=len(wav),
            duration_s=duration_s,
            data=wav,
        )
    )


def play_test(
    app: Flask,
    session_id: int,
    mic_wav: bytes,
    strategy: Strategy = "right",
    stop_after: int | None = None,
    stop_when: Callable[[Any], bool] | None = None,
) -> TestSession:
    """The tablet takes the test to its end with ``strategy``.

    It stops early after ``stop_after`` answers, or on the first item for which
    ``stop_when(item)`` is true (left pending on screen).
    """
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        testflow.open_by_code(db.session, session.code, held_token=session.token)  # this tablet
        for stage in (Stage.CONSENT, Stage.SOUND_CHECK, Stage.MIC_CHECK):
            testflow.advance_stage(db.session, session, stage)
        testflow.check_microphone(db.session, session, mic_wav, "audio/wav")
        testflow.advance_stage(db.session, session, Stage.PRACTICE)
        practice = testflow.current_item(db.session, session)
        assert practice is not None
        testflow.submit_answer(
            db.session, session, practice.item_id, {"choice": practice.item["choices"][0]["id"]}
        )
        db.session.commit()
        bank = bank_for(session)
        answered = 0
        while (view := testflow.current_item(db.session, session)) is not None:
            if stop_after is not None and answered >= stop_after:
                break
            item = bank.item(view.item_id)
            if stop_when is not None and stop_when(item):
                break
            testflow.submit_answer(db.session, session, view.item_id, _answer(item, strategy))
            db.session.commit()
            answered += 1
        db.session.commit()
        return session
