"""Attestations: the French PDF an auditeur issues after the interview, and its public check.

An attestation is either an *attestation de dispense* (the candidate reached the level the
policy requires: no training) or a *prescription* (hours of free French training, and the
optional A2/B1 trainings the policy offers). Its content (who, dossier, levels, decision, the
policy's wording, date, auditeur) is stored as issued, with the PDF itself and its sha256; a
random verification code printed on it lets anyone check it on the verification page. Issuing a
new attestation for the same session revokes the older ones.

The PDF is made with fpdf2, in DejaVu Sans when the font is installed (accents and the ≥ sign
need a Unicode font), else in Helvetica with the text reduced to Latin-1.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from placement import formatting
from placement.levels import SKILL_NAMES as SKILL_ONLY_NAMES
from placement.sessions import audit
from placement.sessions.errors import Conflict, NotFound
from placement.sessions.models import Attestation, Role, TestSession, User, utcnow
from placement.sessions.operations import (
    CODE_ALPHABET,
    RUNNING_STATES,
    SKILLS,
    EffectiveResult,
    confirm_machine_scores,
    effective_result,
    get_session,
    known_training,
    policy_trainings,
    require_not_erased,
    require_role,
)

#: Where Debian's fonts-dejavu-core puts the fonts.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")

#: The skills' names on the document, the global level last.
SKILL_NAMES = {**SKILL_ONLY_NAMES, "global": "Niveau global"}

#: Wording used when the policy file gives none (CIR 2016 rules).
DEFAULT_WORDING = {
    "dispense": (
        "Au vu du test de positionnement linguistique, le niveau de connaissance de la langue "
        "française de la personne désignée ci-dessous atteint le niveau A1 du Cadre européen "
        "commun de référence pour les langues. Elle est dispensée de la formation linguistique "
        "prévue par le contrat d'intégration républicaine."
    ),
    "prescription": (
        "Au vu du test de positionnement linguistique, une formation linguistique gratuite de "
        "{hours} heures est prescrite à la personne désignée ci-dessous, dans le cadre du "
        "contrat d'intégration républicaine, afin d'atteindre le niveau A1 du Cadre européen "
        "commun de référence pour les langues."
    ),
    "optional": (
        "Elle peut en outre suivre, si elle le souhaite, les formations facultatives suivantes :"
    ),
    "non_reader": (
        "La personne désignée ci-dessous a été reconnue non-lectrice ou non-scriptrice. Une "
        "formation linguistique gratuite de {hours} heures lui est prescrite, dans le cadre du "
        "contrat d'intégration républicaine."
    ),
    "auditeur_dispense": (
        "Au vu des résultats du test de positionnement et de l'entretien individuel, l'auditeur "
        "décide de dispenser la personne désignée ci-dessous de la formation linguistique prévue "
        "par le contrat d'intégration républicaine."
    ),
    "auditeur_prescription": (
        "Au vu des résultats du test de positionnement et de l'entretien individuel, l'auditeur "
        "décide de prescrire une formation linguistique gratuite de {hours} heures à la personne "
        "désignée ci-dessous, dans le cadre du contrat d'intégration républicaine."
    ),
}

#: What a decision's ``rule`` prints as, beside the levels.
DECISION_BASIS = {
    "dispense": "décision de la politique {policy} : niveau requis atteint",
    "band": "décision de la politique {policy} selon le niveau global",
    "non_reader": "décision de la politique {policy} pour une personne non-lectrice",
    "auditeur": "décision de l'auditeur",
}

_TRAINING_NAMES = {
    "A2": "formation vers le niveau A2 (100 heures)",
    "B1_oral": "formation vers le niveau B1 oral (50 heures)",
    "B1-oral": "formation vers le niveau B1 oral (50 heures)",
}


def new_verification_code() -> str:
    """A random code like ``ATT-K7P4-QX9M-3CDE`` (12 symbols of 22: about 53 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))  # a session code's letters
    return f"ATT-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_verification_code(code: str) -> str:
    """A typed code as stored (upper case, dashes in place)."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    raw = raw.removeprefix("ATT")
    return f"ATT-{raw[:4]}-{raw[4:8]}-{raw[8:]}" if len(raw) == 12 else code.strip().upper()


def _policy_wording(policy_name: str) -> dict[str, str]:
    """The policy's attestation wording (French), falling back on the CIR 2016 text."""
    wording = dict(DEFAULT_WORDING)
    try:
        from placement.levels import load_policy

        policy = load_policy(policy_name)
    except Exception:
        return wording
    found = getattr(policy, "attestation", None) or getattr(policy, "wording", None)
    if isinstance(found, Mapping):
        wording.update({str(k): str(v) for k, v in found.items() if isinstance(v, str)})
    return wording


def _training_label(training: Any) -> str:
    if isinstance(training, Mapping):
        name = training.get("label") or training.get("name") or training.get("id")
        hours = training.get("hours")
        return f"{name} ({hours} heures)" if hours and "heure" not in str(name) else str(name)
    return _TRAINING_NAMES.get(str(training), str(training))


def decision_rule(session: TestSession, effective: EffectiveResult) -> str:
    """Which rule gave the retained decision: ``dispense``, ``band``, ``non_reader`` or
    ``auditeur`` (results computed before rules were recorded: inferred)."""
    if effective.auditeur_decision:
        return "auditeur"
    rule = str(effective.decision.get("rule") or "")
    if rule in DECISION_BASIS:
        return rule
    if effective.kind == "dispense":
        return "dispense"
    from placement.sessions.results import effective_non_reader

    return "non_reader" if effective_non_reader(session) else "band"


def decision_statement(policy_name: str, kind: str, hours: int, rule: str) -> str:
    """The attestation's sentence for a decision, in the policy's words for the rule that gave
    it: the same decision always reads the same, and never contradicts itself."""
    wording = _policy_wording(policy_name)
    key = {"auditeur": f"auditeur_{kind}", "non_reader": "non_reader"}.get(rule, kind)
    return wording.get(key, wording[kind]).format(hours=hours)


def attestation_content(
    db: Session, session_id: int, user: User, *, office: str, tz: str = "Europe/Paris"
) -> dict[str, Any]:
    """What the attestation says, from the session's effective result (overrides applied)."""
    session = get_session(db, session_id)
    candidate = session.candidate
    require_not_erased(candidate)
    effective = effective_result(session)
    if effective is None:
        raise Conflict("Aucun résultat n'a encore été calculé pour ce test.")
    if session.state in RUNNING_STATES:
        raise Conflict("Le test n'est pas terminé.")
    from placement.sessions.triage import require_decided

    require_decided(session)
    kind = effective.kind
    if kind not in ("dispense", "prescription"):
        raise Conflict("La décision de ce test n'est ni une dispense ni une prescription.")
    hours = effective.hours
    rule = decision_rule(session, effective)
    # only what the session's policy offers, as it words it (older free text is left out)
    known = policy_trainings(session.policy)
    trainings = [
        _training_label(training)
        for given in effective.decision.get("optional_trainings") or []
        if (training := known_training(known, given)) is not None
    ]
    now = datetime.now(ZoneInfo(tz))
    levels = {k: v for k, v in effective.levels.items() if k in (*SKILLS, "global")}
    return {
        "kind": kind,
        "hours": hours,
        "rule": rule,
        "basis": DECISION_BASIS[rule].format(policy=session.policy),
        "decision_reason": effective.decision_reason,
        "proposed": {
            "kind": effective.proposed.get("kind"),
            "hours": effective.proposed.get("hours"),
        },
        "corrected_levels": sorted(
            o.split(":", 1)[1] for o in effective.overridden if o.startswith("level:")
        ),
        "title": "Attestation de dispense de formation linguistique"
        if kind == "dispense"
        else "Prescription de formation linguistique",
        "statement": decision_statement(session.policy, kind, hours, rule),
        "optional_intro": _policy_wording(session.policy)["optional"] if trainings else "",
        "optional_trainings": trainings,
        "candidate": {
            "dossier_number": candidate.dossier_number,
            "last_name": candidate.last_name,
            "first_name": candidate.first_name,
            "birth_date": candidate.birth_date.strftime("%d/%m/%Y")
            if candidate.birth_date
            else None,
        },
        "levels": levels,
        "overridden": sorted(effective.overridden),
        "test_date": formatting.day(session.finished_at or session.created_at, tz),
        "issued_on": now.strftime("%d/%m/%Y"),
        "issued_at": now.isoformat(timespec="seconds"),
        "auditeur": user.display_name,
        "office": office,
        "policy": session.policy,
        "release": session.release_version,
        "session_id": session.id,
        "result_id": effective.machine.id,
    }


def _font(pdf: Any) -> str:
    regular = DEJAVU_DIR / "DejaVuSans.ttf"
    bold = DEJAVU_DIR / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdf.add_font("DejaVu", "", str(regular))
        pdf.add_font("DejaVu", "B", str(bold))
        return "DejaVu"
    return "Helvetica"


def render_pdf(content: Mapping[str, Any], verification_code: str, verify_url: str) -> bytes:
    """The attestation as a one-page A4 PDF (deterministic for the same content)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.fromisoformat(str(content["issued_at"])))
    pdf.set_title(str(content["title"]))
    pdf.set_author("OFII")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    family = _font(pdf)

    def text(value: str) -> str:
        if family == "DejaVu":
            return value
        return (
            value.replace("’", "'")
            .replace("θ", "theta")
            .encode("latin-1", "replace")
            .decode("latin-1")
        )

    width = pdf.epw

    def line(value: str, height: float = 6, align: str = "L") -> None:
        """One line across the page, the cursor then at the start of the next."""
        pdf.cell(width, height, text(value), align=align, new_x="LMARGIN", new_y="NEXT")

    def paragraph(value: str, height: float = 6, align: str = "J") -> None:
        """Wrapped text across the page, the cursor then at the start of the next line."""
        pdf.multi_cell(width, height, text(value), align=align, new_x="LMARGIN", new_y="NEXT")

    pdf.set_font(family, "B", 10)
    line("Office français de l'immigration et de l'intégration")
    pdf.set_font(family, "", 10)
    line(str(content["office"]))
    pdf.ln(8)
    pdf.set_font(family, "B", 16)
    paragraph(str(content["title"]), 9, align="C")
    pdf.set_font(family, "", 10)
    line("Contrat d'intégration républicaine", align="C")
    pdf.ln(6)
    pdf.set_font(family, "", 11)
    paragraph(str(content["statement"]), align="L")
    pdf.ln(4)
    cand = content["candidate"]
    rows = [
        ("Nom", str(cand["last_name"]).upper()),
        ("Prénom", cand["first_name"]),
        ("Date de naissance", cand["birth_date"] or "—"),
        ("Numéro de dossier", cand["dossier_number"]),
        ("Date du test", content["test_date"]),
    ]
    for label, value in rows:
        pdf.set_font(family, "B", 11)
        pdf.cell(55, 7, text(f"{label} :"))
        pdf.set_font(family, "", 11)
        pdf.cell(width - 55, 7, text(str(value)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(family, "B", 11)
    line("Niveaux constatés (CECR)", 7)
    pdf.set_font(family, "", 11)
    corrected = set(content.get("corrected_levels") or ())
    for skill in (*SKILLS, "global"):
        level = content["levels"].get(skill)
        mark = " (retenu par l'auditeur)" if skill in corrected and level else ""
        line(f"{SKILL_NAMES[skill]} : {level or 'non évaluée'}{mark}")
    if content.get("basis"):
        pdf.ln(3)
        pdf.set_font(family, "B", 11)
        basis = str(content["basis"])
        paragraph(basis[:1].upper() + basis[1:] + ".")
        if content.get("decision_reason"):
            pdf.set_font(family, "", 11)
            paragraph(f"Motif : {content['decision_reason']}")
    if content["kind"] == "prescription":
        pdf.ln(3)
        pdf.set_font(family, "B", 12)
        line(f"Durée de la formation prescrite : {content['hours']} heures", 7)
    if content["optional_trainings"]:
        pdf.ln(3)
        pdf.set_font(family, "", 11)
        paragraph(str(content["optional_intro"]), align="L")
        for training in content["optional_trainings"]:
            paragraph(f"  – {training}", align="L")
    pdf.ln(8)
    pdf.set_font(family, "", 11)
    line(f"Fait le {content['issued_on']}.")
    line(f"L'auditeur : {content['auditeur']}")
    pdf.ln(14)
    line("Signature :")
    pdf.ln(12)
    pdf.set_font(family, "", 9)
    paragraph(
        f"Code de vérification : {verification_code}. Ce document peut être vérifié à "
        f"l'adresse {verify_url} (politique {content['policy']}, banque {content['release']}).",
        5,
        align="L",
    )
    return bytes(pdf.output())


def issue_attestation(
    db: Session,
    session_id: int,
    user: User,
    *,
    verify_base_url: str,
    office: str = "Direction territoriale de l'OFII",
    tz: str = "Europe/Paris",
    confirm_reason: str | None = None,
) -> Attestation:
    """Issue the attestation for the session's current decision; older ones are revoked.

    Refused (Conflict) while responses are still to check, unless ``confirm_reason`` is given:
    then the machine's scores of those responses are confirmed with it first
    (:func:`~placement.sessions.operations.confirm_machine_scores`).
    """
    require_role(user, Role.AUDITEUR)
    from placement.sessions.results import responses_to_check

    to_check = responses_to_check(get_session(db, session_id))
    if to_check and confirm_reason is None:
        raise Conflict(
            f"{len(to_check)} réponse(s) sont encore à vérifier : vérifiez-les, ou confirmez "
            "les notes de la machine avec une raison avant d'émettre le document."
        )
    if to_check:
        confirm_machine_scores(db, session_id, reason=confirm_reason or "", user=user)
    content = attestation_content(db, session_id, user, office=office, tz=tz)
    session = get_session(db, session_id)
    code = new_verification_code()
    while db.scalar(select(Attestation.id).where(Attestation.verification_code == code)):
        code = new_verification_code()  # pragma: no cover - 53 bits: practically never
    verify_url = f"{verify_base_url.rstrip('/')}/{code}"
    pdf = render_pdf(content, code, verify_url)
    now = utcnow()
    for older in session.attestations:
        if older.revoked_at is None:
            older.revoked_at = now
    attestation = Attestation(
        session_id=session.id,
        verification_code=code,
        kind=content["kind"],
        hours=int(content["hours"]),
        content=content,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf=pdf,
        issued_by_id=user.id,
        issued_at=now,
    )
    db.add(attestation)
    db.flush()
    audit.record(
        db,
        user,
        "attestation.issue",
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail={
            "attestation_id": attestation.id,
            "kind": attestation.kind,
            "hours": attestation.hours,
        },
    )
    db.flush()
    return attestation


def get_attestation(db: Session, attestation_id: int, user: User) -> Attestation:
    """An attestation for download (audited); NotFound if unknown or erased."""
    attestation = db.get(Attestation, attestation_id)
    if attestation is None or attestation.pdf is None:
        raise NotFound("Cette attestation n'existe pas ou a été effacée.")
    audit.record(
        db,
        user,
        "attestation.download",
        candidate_id=attestation.session.candidate_id,
        session_id=attestation.session_id,
        detail={"attestation_id": attestation.id},
    )
    return attestation


def verify(db: Session, code: str) -> Attestation | None:
    """The attestation with this verification code, if any (the public check)."""
    return db.scalar(
        select(Attestation).where(
            Attestation.verification_code == normalise_verification_code(code)
        )
    )
