"""One source of truth for the decision: every outcome of each policy, printed and read back.

A finished session is given a machine result whose abilities sit in a chosen band of the
release's cuts (computed by the real ``placement.levels.assess`` with the session's policy);
the auditeur then corrects through the desk's real routes, issues the document, and the PDF's
text is read back with pypdf and checked for coherence against the policy file: the hours, the
title, the sentences and the levels printed must all tell the same decision.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from placement.cat.rules import LEVELS
from placement.irt import Estimate
from placement.levels import Policy, assess, load_policy
from placement.sessions.attestations import SKILL_NAMES
from placement.sessions.models import (
    Attestation,
    Result,
    SessionState,
    Stage,
    User,
    utcnow,
)
from placement.sessions.results import bank_for
from tests.webui.conftest import CSRF
from tests.webui.flows import start_test
from webui.extensions import db

SKILLS = ("CO", "CE", "EO", "EE")
REASON = "Constaté pendant l'entretien individuel avec le candidat."


def _theta_in(band: str, cuts: Mapping[str, float], policy: Policy) -> float:
    """An ability inside ``band`` of one skill's cuts ("débutant" = below the débutant cut)."""
    if band == "débutant":
        debutant = cuts.get("débutant", cuts[policy.debutant_below] - policy.debutant_offset)
        return float(debutant) - 0.5
    if band == "infra":  # pré-A1, above the débutant cut
        debutant = cuts.get("débutant", cuts[policy.debutant_below] - policy.debutant_offset)
        return (float(debutant) + float(cuts["A1.1"])) / 2
    index = LEVELS.index(band)
    low = float(cuts[band])
    high = float(cuts[LEVELS[index + 1]]) if index + 1 < len(LEVELS) else low + 1.0
    return (low + high) / 2


def finished_session(
    app: Flask, user: User, dossier: str, policy: str, band: str, *, non_reader: bool = False
) -> int:
    """A finished test whose machine result puts every skill in ``band`` under ``policy``."""
    with app.app_context():
        auditeur = db.session.get(User, user.id)
        assert auditeur is not None
        session = start_test(
            app,
            auditeur,
            dossier,
            policy=policy,
            last_name="Haddad",
            first_name="Nour",
            birth_date="02/04/1988",
            non_reader=non_reader,
        )
        bank = bank_for(session)
        assessed = [s for s in SKILLS if not (non_reader and s in ("CE", "EE"))]
        estimates: dict[str, Estimate | None] = {
            s: Estimate(_theta_in(band, bank.cut_scores[s], bank.policy), 0.3)
            if s in assessed
            else None
            for s in SKILLS
        }
        assessment = assess(estimates, bank.cut_scores, bank.policy, non_reader=non_reader)
        levels: dict[str, Any] = {
            s: (v.to_dict() if v else None) for s, v in assessment.skills.items()
        }
        levels["global"] = assessment.global_level.to_dict() if assessment.global_level else None
        session.state = SessionState.DONE
        session.stage = Stage.FINISHED
        session.finished_at = utcnow()
        db.session.add(
            Result(
                session=session,
                status="final",
                estimates={
                    s: {"theta": e.theta, "se": e.se, "n_items": 3} if e else None
                    for s, e in estimates.items()
                },
                levels=levels,
                global_level=assessment.global_level.level if assessment.global_level else "",
                decision=assessment.decision.to_dict(),
                policy=assessment.decision.policy,
            )
        )
        db.session.commit()
        return session.id


def correct(client: FlaskClient, session_id: int, **form: str) -> None:
    response = client.post(
        f"/desk/sessions/{session_id}/overrides",
        data={"csrf_token": CSRF, "reason": REASON, **form},
    )
    assert response.status_code == 302, response.text


def issue_and_read(app: Flask, client: FlaskClient, session_id: int) -> tuple[str, Attestation]:
    issued = client.post(f"/desk/sessions/{session_id}/attestation", data={"csrf_token": CSRF})
    assert issued.status_code == 302, issued.text
    with app.app_context():
        attestation = db.session.scalars(
            select(Attestation)
            .where(Attestation.session_id == session_id)
            .order_by(Attestation.id.desc())
        ).first()
        assert attestation is not None
        db.session.expunge(attestation)
    pdf = client.get(f"/desk/attestations/{attestation.id}.pdf")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    return " ".join(text.split()), attestation


def printed_levels(text: str) -> dict[str, str | None]:
    """The level printed for each skill and the global one (None: non évaluée)."""
    levels: dict[str, str | None] = {}
    for skill, name in SKILL_NAMES.items():
        match = re.search(re.escape(name) + r" : (pré-A1|A1\.1|A1|A2|B1|non évaluée)", text)
        assert match, (skill, text)
        levels[skill] = None if match.group(1) == "non évaluée" else match.group(1)
    return levels


def check_coherent(text: str, policy: Policy, attestation: Attestation) -> str:
    """Fail unless the PDF tells one decision; returns which rule it says gave it."""
    hours_said = {int(h) for h in re.findall(r"(\d+) heures", text)}
    levels = printed_levels(text)
    counted = [levels[s] for s in policy.dispense_skills]
    reached = all(
        lv is not None and LEVELS.index(lv) >= LEVELS.index(policy.dispense_level) for lv in counted
    )
    by_auditeur = "Décision de l'auditeur" in text
    if by_auditeur:
        assert "Motif : " + REASON in text
    if attestation.kind == "dispense":
        assert attestation.hours == 0
        assert "Attestation de dispense" in text
        assert "Durée de la formation prescrite" not in text
        assert "n'est pas atteint" not in text
        # the only hours on a dispense are the optional trainings'
        assert hours_said <= {t.hours for t in policy.optional_trainings}
        if not by_auditeur:
            assert reached, levels
            assert "est atteint dans chaque compétence" in text
        return "auditeur" if by_auditeur else "dispense"
    assert "Prescription de formation linguistique" in text
    assert f"Durée de la formation prescrite : {attestation.hours} heures" in text
    assert hours_said == {attestation.hours}, hours_said  # one number of hours, everywhere
    assert "est atteint dans chaque compétence" not in text
    if by_auditeur:
        return "auditeur"
    assert not reached or "non-lectrice" in text, levels
    if "non-lectrice" in text:
        assert attestation.hours == policy.non_reader_hours
        return "non_reader"
    assert "n'est pas atteint" in text
    band_hours = [b.hours for b in policy.bands]
    if levels["global"] is not None and levels["global"] != LEVELS[0]:
        assert attestation.hours == band_hours[0], (levels, attestation.hours)
    else:
        assert attestation.hours in band_hours[1:], (levels, attestation.hours)
    return "band"


@pytest.mark.parametrize("policy_name", ["cir-2016", "cir-2019"])
def test_every_policy_outcome_prints_one_coherent_decision(
    app: Flask, auditeur: tuple[User, FlaskClient], policy_name: str
) -> None:
    user, client = auditeur
    policy = load_policy(policy_name)
    bands = [b.hours for b in policy.bands]
    seen: dict[str, int] = {}

    def outcome(dossier: str, band: str, *, non_reader: bool = False) -> int:
        return finished_session(app, user, dossier, policy_name, band, non_reader=non_reader)

    # the machine's own decisions: dispense, and each band of hours
    for n, (band, expected_hours, rule) in enumerate(
        (
            ("A1", 0, "dispense"),
            ("A1.1", bands[0], "band"),
            ("infra", bands[1], "band"),
            ("débutant", bands[2], "band"),
        )
    ):
        session_id = outcome(f"75-OUT-{n:03d}", band)
        text, attestation = issue_and_read(app, client, session_id)
        assert attestation.hours == expected_hours, (band, text)
        assert check_coherent(text, policy, attestation) == rule
        seen[f"{rule}:{expected_hours}"] = attestation.hours

    # a non-reader: the policy's own rule and wording
    session_id = outcome("75-OUT-100", "A1", non_reader=True)
    text, attestation = issue_and_read(app, client, session_id)
    assert check_coherent(text, policy, attestation) == "non_reader"
    assert attestation.hours == policy.non_reader_hours

    # corrections of levels recompute the decision: the issue's case (global set to A1.1)
    session_id = outcome("75-OUT-200", "débutant")
    correct(client, session_id, target="level", skill="global", level="A1.1")
    text, attestation = issue_and_read(app, client, session_id)
    assert attestation.hours == bands[0]
    assert check_coherent(text, policy, attestation) == "band"
    assert "Niveau global : A1.1 (retenu par l'auditeur)" in text
    # every skill corrected to A1: a dispense, by the policy, not by the auditeur
    for skill in SKILLS:
        correct(client, session_id, target="level", skill=skill, level="A1")
    text, attestation = issue_and_read(app, client, session_id)
    assert attestation.kind == "dispense"
    assert check_coherent(text, policy, attestation) == "dispense"
    # one skill back below A1: a prescription again
    correct(client, session_id, target="level", skill="EO", level="A1.1")
    text, attestation = issue_and_read(app, client, session_id)
    assert attestation.kind == "prescription"
    assert check_coherent(text, policy, attestation) == "band"

    # the auditeur decides against the policy: printed as the auditeur's, with its reason
    session_id = outcome("75-OUT-300", "A1.1")
    correct(client, session_id, target="decision", kind="dispense", hours="0")
    text, attestation = issue_and_read(app, client, session_id)
    assert attestation.kind == "dispense"
    assert check_coherent(text, policy, attestation) == "auditeur"
    assert "Formation vers le niveau A2" in text  # offered as to any dispensed candidate below A2
    session_id = outcome("75-OUT-301", "A1")
    correct(client, session_id, target="decision", kind="prescription", hours="100")
    text, attestation = issue_and_read(app, client, session_id)
    assert (attestation.kind, attestation.hours) == ("prescription", 100)
    assert check_coherent(text, policy, attestation) == "auditeur"
    # a decision "override" that agrees with the policy is no auditeur's decision
    session_id = outcome("75-OUT-302", "A1.1")
    correct(client, session_id, target="decision", kind="prescription", hours=str(bands[0]))
    text, attestation = issue_and_read(app, client, session_id)
    assert check_coherent(text, policy, attestation) == "band"
    assert len(seen) == 4


def test_the_desk_warns_when_the_auditeur_decision_departs_from_the_levels(
    app: Flask, auditeur: tuple[User, FlaskClient]
) -> None:
    user, client = auditeur
    session_id = finished_session(app, user, "75-OUT-400", "cir-2016", "débutant")
    page = client.get(f"/desk/sessions/{session_id}").text
    # the form proposes the retained decision, never a dispense by default
    kind = page.split('id="ov-kind"', 1)[1].split("</select>", 1)[0]
    assert '<option value="prescription" selected>' in kind
    assert '<option value="dispense" selected>' not in kind
    correct(client, session_id, target="level", skill="global", level="A1.1")
    page = client.get(f"/desk/sessions/{session_id}").text
    decision = page.split('id="decision-retenue"', 1)[1].split("</p>", 1)[0]
    assert "prescription de 50 h" in decision
    assert "selon la politique" in decision
    correct(client, session_id, target="decision", kind="prescription", hours="200")
    page = client.get(f"/desk/sessions/{session_id}").text
    decision = page.split('id="decision-retenue"', 1)[1].split("</p>", 1)[0]
    assert "décision de l'auditeur" in decision
    assert "la politique donne : prescription de 50 h" in decision
