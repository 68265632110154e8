"""A referred decision on the desk: shown first, settled by the auditeur before the attestation."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placement.sessions.models import Attestation, Result, User
from tests.webui.conftest import CSRF, login
from tests.webui.flows import new_session, play_test
from webui.extensions import db


@pytest.fixture
def refer_everything(app: Flask, tmp_path: Path) -> Path:
    """The test bank's rules with a referral band that holds every probability."""
    rules = yaml.safe_load(Path(app.config["RULES"]).read_text(encoding="utf-8"))
    rules["triage"] = {"refer_between": [0.0, 1.0]}
    path = tmp_path / "refer-all.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    app.config["RULES"] = str(path)
    return path


def _attestations(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Attestation)) or 0)


def test_a_referred_decision_comes_first_and_waits_for_the_auditeur(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    refer_everything: Path,
    speech_wav: bytes,
) -> None:
    user, password = make_user("auditeur", "agent.triage")
    client: FlaskClient = app.test_client()
    assert login(client, user.username, password).status_code == 302
    session_id = new_session(app, user, "75-2026-00911")
    play_test(app, session_id, speech_wav, "right")
    with app.app_context():
        result = db.session.scalars(select(Result).order_by(Result.id.desc())).first()
        assert result is not None
        triage = result.decision["triage"]
        assert triage["referred"] is True
        assert 0.0 <= triage["p_dispense"] <= 1.0

    page = client.get(f"/desk/sessions/{session_id}").text
    # first thing on the page: the "work to do" block opens with the referral
    assert page.index("Décision à confirmer") < page.index("Résultat")
    todo = page[page.index('id="a-faire"') :]
    assert todo.index("Décision à confirmer") < todo.index("</section>")
    assert re.search(r"(CO|CE|EO|EE) autour de A1 : \d,\d\d", page)
    assert "Questions à poser pendant l" in page
    assert "À écouter" in page
    assert re.search(r"Probabilité de la décision calculée : \d,\d\d", page)

    refused = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert refused.status_code == 409
    assert "Décision à confirmer" in refused.text
    assert _attestations(app) == 0

    decided = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={
            "csrf_token": CSRF,
            "target": "decision",
            "kind": "prescription",
            "hours": "50",
            "reason": "À l'entretien, elle répond à des questions simples sur son logement.",
        },
    )
    assert decided.status_code == 302
    page = client.get(f"/desk/sessions/{session_id}").text
    assert "décision de l'auditeur enregistrée" in page
    assert 'id="decision-incertaine"' not in page  # settled: no longer in the work to do
    issued = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert issued.status_code == 302
    with app.app_context():
        attestation = db.session.scalars(select(Attestation)).one()
        assert (attestation.kind, attestation.hours) == ("prescription", 50)


def test_interview_questions_come_from_the_bank_for_the_pivotal_skill() -> None:
    import itembank
    from placement.sessions.triage import Referral, interview_questions

    items = itembank.load_release().items
    first = interview_questions(items, "EO", "A1", set())
    assert len(first) == 3
    assert all(items[q.item_id].skill == "EO" for q in first)
    assert all(q.listen_for for q in first)  # the rubric's levels
    given = {q.item_id for q in first}
    again = interview_questions(items, "EO", "A1", given)
    assert not given & {q.item_id for q in again}  # never an item the candidate had
    listening = interview_questions(items, "CO", "A1", set())
    assert all("Réponse attendue" in q.listen_for[0] for q in listening)
    pivotal = Referral(0.4, 0.6, "prescription", 50, "EO", "A1", 0.583, decided=False)
    assert pivotal.pivotal_text == "EO autour de A1 : 0,58"
