"""Results from stored responses: pending oral scores, reviews, unedited rows, θ̂ over the test."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from placement.cat import Section
from placement.sessions import operations, results, testflow
from placement.sessions.models import Result, SessionState, Stage, TestSession, User
from webui.extensions import db

Start = Callable[..., dict[str, Any]]


def _answer(item: dict[str, Any]) -> dict[str, Any]:
    mode = item["response_mode"]
    if mode == "choice":
        return {"choice": item["choices"][-1]["id"]}
    if mode == "text":
        return {"text": "vendredi"}
    if mode == "long_text":
        return {"text": "Bonjour, je suis malade, je ne viens pas."}
    return {"fields": {f["id"]: "0612345678" for f in item["form"]}}


def _take_whole_test(app: Flask, code: str, speech: bytes) -> int:
    """The candidate's operations from the code to the end; spoken answers are not transcribed."""
    with app.app_context():
        session = testflow.open_by_code(db.session, code)
        for stage in ("consent", "sound_check", "mic_check"):
            testflow.advance_stage(db.session, session, stage)
        testflow.check_microphone(db.session, session, speech)
        testflow.advance_stage(db.session, session, "practice")
        testflow.submit_answer(db.session, session, "ENTRAINEMENT", {"choice": "maison"})
        db.session.commit()
        for _ in range(30):
            view = testflow.current_item(db.session, session)
            db.session.commit()
            if view is None:
                break
            if view.item["response_mode"] == "speech":
                testflow.submit_recording(db.session, session, view.item_id, speech, "audio/wav")
            else:
                testflow.submit_answer(db.session, session, view.item_id, _answer(view.item))
            db.session.commit()
        assert session.stage == Stage.FINISHED
        return session.id


def _load(session_id: int) -> TestSession:
    session = db.session.get(TestSession, session_id)
    assert session is not None
    return session


def test_pending_oral_score_then_review(app: Flask, start_test: Start, speech_wav: bytes) -> None:
    started = start_test()
    session_id = _take_whole_test(app, started["code"], speech_wav)
    with app.app_context():
        session = _load(session_id)
        spoken = [r for r in session.responses if r.skill == "EO"]
        assert len(spoken) == 1
        assert spoken[0].score is None
        assert spoken[0].transcript is not None
        assert spoken[0].transcript.status == "queued"
        # the engine treats the pending score as missing: EO is not estimated yet
        assert session.state == SessionState.TRANSCRIBING
        first = session.results[-1]
        assert first.status == "provisional"
        assert first.estimates["EO"] is None
        assert first.estimates["CO"]["n_items"] >= 2
        machine = results.state_from_session(session, with_overrides=False)
        assert [r.score for r in machine.responses if r.item_id == spoken[0].item_id] == [None]
        first_id, first_estimates = first.id, dict(first.estimates)

        # the auditeur listens and scores it: the review replaces the missing score
        user = db.session.get(User, started["user_id"])
        assert user is not None
        operations.override_response(
            db.session,
            session_id,
            spoken[0].id,
            score=2,
            reason="Réponse complète à l'écoute.",
            user=user,
        )
        db.session.commit()
    with app.app_context():
        session = _load(session_id)
        reviewed = results.state_from_session(session)
        assert [r.score for r in reviewed.responses if r.item_id == spoken[0].item_id] == [2]
        rows = db.session.scalars(
            select(Result).where(Result.session_id == session_id).order_by(Result.id)
        ).all()
        assert len(rows) >= 2
        # the first result is never edited; the new one has the spoken skill estimated
        assert rows[0].id == first_id
        assert rows[0].estimates == first_estimates
        assert rows[-1].estimates["EO"] is not None
        assert rows[-1].estimates["EO"]["n_items"] == 1


def test_a_level_override_stays_beside_the_machine_result(
    app: Flask, start_test: Start, speech_wav: bytes
) -> None:
    started = start_test()
    session_id = _take_whole_test(app, started["code"], speech_wav)
    with app.app_context():
        session = _load(session_id)
        before = results.compute_result(db.session, session)
        user = db.session.get(User, started["user_id"])
        assert user is not None
        target = "B1" if before.levels["CO"]["level"] != "B1" else "A1.1"
        operations.override_level(
            db.session,
            session_id,
            "CO",
            level=target,
            reason="Échange oral très aisé pendant l'entretien.",
            user=user,
        )
        after = results.compute_result(db.session, session)
        db.session.commit()
        assert after.id != before.id
        assert after.levels["CO"] == before.levels["CO"]
        assert after.decision == before.decision
        assert [o.target for o in results.overrides_of(session, "level:CO")] == ["level:CO"]


def test_theta_trajectory_follows_the_test(
    app: Flask, start_test: Start, speech_wav: bytes
) -> None:
    started = start_test()
    session_id = _take_whole_test(app, started["code"], speech_wav)
    with app.app_context():
        session = _load(session_id)
        trajectory = results.theta_trajectory(session)
        latest = session.results[-1]
        # the spoken answer is still pending: no point for EO
        assert set(trajectory) == {"CO", "CE", "EE"}
        order = {r.seq: r.skill for r in session.responses}
        for skill, points in trajectory.items():
            ns = [n for n, _, _ in points]
            assert ns == sorted(set(ns))
            assert all(order[n] == skill for n in ns)
            assert all(math.isfinite(t) and 0 < se < 2 for _, t, se in points)
            # the last point is the skill's estimate in the result
            assert points[-1][1] == pytest.approx(latest.estimates[skill]["theta"], abs=1e-9)
            assert points[-1][2] == pytest.approx(latest.estimates[skill]["se"], abs=1e-9)
            # each point agrees with a recomputation from the first n responses
            n, theta, se = points[0]
            prefix = results.state_from_session(session, limit=n)
            estimate = results.estimates_for(session, prefix, results.bank_for(session))[skill]
            assert estimate is not None
            assert (estimate.theta, estimate.se) == (theta, se)


def test_progress_reveals_no_score(app: Flask, start_test: Start) -> None:
    started = start_test(non_reader=True)
    with app.app_context():
        session = _load(started["session_id"])
        bank = results.bank_for(session)
        # a non-reader's path: listening (≤ 3) and speaking (1) only
        assert testflow.progress(session).planned == 4
        assert testflow.planned_items(bank.rules) == 9
        # a rules file that gives non-readers their own lengths: the tablet counts those
        own = bank.rules.with_changes(non_reader_sections=(Section("CO", 2, 6),))
        assert testflow.planned_items(own, non_reader=True) == 7
        assert testflow.planned_items(own) == 9
        progress = testflow.progress(session)
        assert (progress.done, progress.percent) == (0, 0)
