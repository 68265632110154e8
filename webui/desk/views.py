"""Views of the auditeur's desk. Thin: parse the form, call an operation, commit, redirect."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import segno
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from placement.sessions import audit, labels, operations, triage
from placement.sessions.errors import InvalidInput, NotFound, SessionsError
from placement.sessions.models import Response, Role, SessionState, TestSession
from webui.auth import actor, get_current_user, login_required
from webui.candidate.languages import languages
from webui.desk import bp, review
from webui.errors import wants_json
from webui.extensions import db

DESK_ROLES = (Role.AUDITEUR, Role.ADMIN)
#: The days the desk's list and export accept (anything wider is a typo or a probe).
MIN_DAY, MAX_DAY = date(2000, 1, 1), date(2999, 12, 31)
#: Bound of a number typed in a form (ids, scores, hours): what every database column holds.
MAX_FORM_INT = 2**31 - 1
#: A recording is data, never a document: no sources at all, and a sandbox if opened directly.
RECORDING_CSP = "default-src 'none'; sandbox"

#: Rendered θ̂ plots (matplotlib takes about a second), oldest dropped first.
_PLOT_CACHE: dict[tuple[Any, ...], str] = {}
_PLOT_CACHE_SIZE = 64
_PLOT_LOCK = threading.Lock()


def _user() -> Any:
    user = get_current_user()
    assert user is not None  # login_required let us in
    return user


def _tz() -> str:
    return str(current_app.config["TIMEZONE"])


def _code_ttl() -> timedelta:
    return timedelta(hours=int(current_app.config["SESSION_CODE_TTL_HOURS"]))


def session_summary(session: TestSession) -> dict[str, Any]:
    """What the desk's live list shows of a session (JSON for the poll)."""
    n_answered = sum(1 for r in session.responses if r.answered_at is not None)
    from placement.sessions.results import responses_to_check

    n_review = len(responses_to_check(session, loaded=True))
    effective = operations.effective_result(session)
    waiting = triage.awaiting_auditeur(session, effective)
    return {
        "id": session.id,
        "state": session.state,
        "state_label": labels.state_label(session.state),
        "stage": session.stage,
        "responses": n_answered,
        "needs_review": n_review,
        "level": effective.levels.get("global") if effective else None,
        "decision": effective.kind if effective else None,
        "hours": effective.hours if effective else None,
        "decision_label": labels.decision_label(effective.decision) if effective else None,
        # a referred decision still waiting for the auditeur's: marked on the day list
        "referral_pending": waiting is not None,
        "referral_label": labels.referral_label(waiting.pivotal_text) if waiting else None,
    }


@bp.get("/")
@login_required(*DESK_ROLES)
def index() -> ResponseReturnValue:
    """Today's sessions with their live status, and the form to start a test."""
    day = _parse_day(request.args.get("jour"))
    sessions = operations.sessions_of_day(db.session, day, _tz(), viewer=_user())
    # the list shows names: who saw it is kept (the JSON poll shows none, and is not logged)
    audit.record(
        db.session,
        actor(),
        "session.list",
        detail={"day": day.isoformat(), "candidate_ids": [s.candidate_id for s in sessions]},
    )
    db.session.commit()
    summaries = {s.id: session_summary(s) for s in sessions}
    return render_template(
        "desk/index.html",
        day=day,
        sessions=sessions,
        summaries=summaries,
        referred=[s for s in sessions if summaries[s.id]["referral_pending"]],
        is_today=day == operations.today(_tz()),
        languages=list(languages().values()),
    )


def _parse_day(value: str | None) -> date:
    if not value:
        return operations.today(_tz())
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("La date doit s'écrire AAAA-MM-JJ.") from None
    # the day's bounds in UTC must exist: 0001-01-01 or 9999-12-31 would overflow
    if not MIN_DAY <= day <= MAX_DAY:
        raise InvalidInput(
            f"La date doit être comprise entre {MIN_DAY.year} et {MAX_DAY.year}."
        ) from None
    return day


@bp.get("/api/sessions")
@login_required(*DESK_ROLES)
def sessions_json() -> ResponseReturnValue:
    """Live status of the day's sessions, polled by the desk page every few seconds."""
    day = _parse_day(request.args.get("jour"))
    sessions = operations.sessions_of_day(db.session, day, _tz(), viewer=_user())
    return jsonify({"sessions": [session_summary(s) for s in sessions]})


@bp.post("/sessions")
@login_required(*DESK_ROLES)
def start() -> ResponseReturnValue:
    """Find or create the candidate by dossier number, then start a test."""
    form = request.form
    language = form.get("language", "").strip() or None
    if language is not None and language not in languages():
        raise InvalidInput("Cette langue n'est pas dans la liste : choisissez-en une autre.")
    candidate = operations.find_candidate(db.session, form.get("dossier_number", ""))
    running = operations.running_test(candidate) if candidate is not None else None
    if running is not None and not wants_json():
        # the auditeur lands on the test already running (its code, its progress) with why
        flash(operations.RUNNING_MESSAGE)
        return redirect(url_for(".session_page", session_id=running.id), code=303)
    if candidate is None:
        candidate = operations.create_candidate(
            db.session,
            actor(),
            dossier_number=form.get("dossier_number", ""),
            last_name=form.get("last_name", ""),
            first_name=form.get("first_name", ""),
            birth_date=form.get("birth_date"),
            help_language=language or form.get("help_language"),
            non_reader=form.get("non_reader") == "1",
        )
    elif form.get("non_reader") == "1" and not candidate.non_reader:
        operations.set_candidate_non_reader(db.session, candidate.id, True, actor())
    session = operations.start_session(
        db.session,
        candidate.id,
        _user(),
        current_app.config["BANK_RELEASE"],
        current_app.config["POLICY"],
        rules=current_app.config["RULES"],
        code_ttl=_code_ttl(),
        language=language,
    )
    db.session.commit()
    flash(f"Test créé pour le dossier {candidate.dossier_number}.")
    return redirect(url_for(".session_page", session_id=session.id))


def qr_svg(url: str) -> str:
    """An inline SVG QR code pointing at ``url`` (no script, no style element)."""
    qr = segno.make(url, error="m")
    svg: str = qr.svg_inline(scale=6, border=2, title="Code QR de la session", dark="#1d2330")
    return svg


@bp.get("/sessions/<int:session_id>")
@login_required(*DESK_ROLES)
def session_page(session_id: int) -> ResponseReturnValue:
    """A session: its code and QR code while it waits, its progress, then its review."""
    session = operations.get_session(db.session, session_id, actor())
    context = review.review_context(session)
    db.session.commit()  # the audit event of the view
    code_url = f"{request.host_url}t/c/{session.code}"
    return render_template(
        "desk/session.html",
        session=session,
        candidate=session.candidate,
        summary=session_summary(session),
        qr=qr_svg(code_url),
        code_url=code_url,
        show_code=session.state == SessionState.WAITING,
        levels=operations.LEVELS,
        skills=operations.SKILLS,
        **context,
    )


@bp.get("/api/sessions/<int:session_id>")
@login_required(*DESK_ROLES)
def session_json(session_id: int) -> ResponseReturnValue:
    """Live status of one session (polled while the desk follows it)."""
    session = operations.get_session(db.session, session_id)
    return jsonify(session_summary(session))


@bp.post("/sessions/<int:session_id>/abandon")
@login_required(*DESK_ROLES)
def abandon(session_id: int) -> ResponseReturnValue:
    """Mark the test abandoned (the tablet's access ends)."""
    operations.abandon_session(db.session, session_id, _user())
    db.session.commit()
    flash("Le test est marqué abandonné. Vous pourrez le reprendre avec un nouveau code.")
    return redirect(url_for(".session_page", session_id=session_id))


@bp.post("/sessions/<int:session_id>/release")
@login_required(*DESK_ROLES)
def release(session_id: int) -> ResponseReturnValue:
    """Free the code for another tablet (the one that held the test loses it)."""
    operations.release_code(db.session, session_id, _user())
    db.session.commit()
    flash("Code libéré : saisissez-le sur la nouvelle tablette, le test reprendra où il était.")
    return redirect(url_for(".session_page", session_id=session_id))


@bp.post("/sessions/<int:session_id>/resume")
@login_required(*DESK_ROLES)
def resume(session_id: int) -> ResponseReturnValue:
    """A new code for the same session: the tablet goes on where it stopped."""
    operations.resume_session(db.session, session_id, _user(), code_ttl=_code_ttl())
    db.session.commit()
    flash("Nouveau code créé : le test reprendra où il s'était arrêté.")
    return redirect(url_for(".session_page", session_id=session_id))


@bp.get("/sessions/<int:session_id>/plot.svg")
@login_required(*DESK_ROLES)
def plot(session_id: int) -> ResponseReturnValue:
    """θ̂ with its SE band across the test per skill (SVG made by matplotlib)."""
    from placement.sessions.results import bank_for, theta_trajectory
    from webui.desk.plot import trajectory_svg

    session = operations.get_session(db.session, session_id)
    # the plot changes only with the responses, their scores and the reviews: cache it on them
    key = (
        current_app.config["DATABASE_URL"],
        session_id,
        session.seed,
        tuple((r.id, r.score) for r in session.responses),
        tuple(o.id for o in session.overrides),
    )
    svg = _PLOT_CACHE.get(key)
    if svg is None:
        try:
            cuts = bank_for(session).cut_scores
            trajectory = theta_trajectory(session)
        except SessionsError:
            cuts, trajectory = {}, {}
        svg = trajectory_svg(trajectory, cuts)
        with _PLOT_LOCK:
            _PLOT_CACHE[key] = svg
            while len(_PLOT_CACHE) > _PLOT_CACHE_SIZE:
                _PLOT_CACHE.pop(next(iter(_PLOT_CACHE)))
    response = current_app.response_class(svg, mimetype="image/svg+xml")
    # matplotlib's SVG carries a <style> element: allow it in this image, nothing else
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


@bp.get("/recordings/<int:response_id>")
@login_required(*DESK_ROLES)
def recording(response_id: int) -> ResponseReturnValue:
    """The original recording of a spoken answer (each listening is in the audit trail)."""
    response_row = db.session.get(Response, response_id)
    if response_row is None or response_row.recording is None:
        raise NotFound("Cet enregistrement n'existe pas.")
    rec = response_row.recording
    if rec.data is None:
        raise NotFound("Cet enregistrement a été effacé.")
    audit.record(
        db.session,
        actor(),
        "recording.listen",
        candidate_id=response_row.session.candidate_id,
        session_id=response_row.session_id,
        detail={"response_id": response_id},
    )
    db.session.commit()
    # The bytes came from a tablet: they are served only as the audio type the server checked
    # them to be, as a download when opened outside the player (an <audio> element ignores the
    # disposition), and in a sandbox with no sources, so that a polyglot file never runs.
    response = current_app.response_class(rec.data, mimetype=rec.served_mime_type)
    # byte ranges, so that the player can seek in the recording
    response.make_conditional(request, accept_ranges=True, complete_length=len(rec.data))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="reponse-{response_id}.{rec.container}"'
    )
    response.headers["Content-Security-Policy"] = RECORDING_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _int_field(name: str) -> int:
    try:
        value = int(request.form.get(name, ""))
    except ValueError:
        raise InvalidInput(f"Le champ « {name} » doit être un nombre entier.") from None
    if abs(value) > MAX_FORM_INT:
        raise InvalidInput(f"Le champ « {name} » est hors des limites.")
    return value


@bp.post("/sessions/<int:session_id>/overrides")
@login_required(*DESK_ROLES)
def override(session_id: int) -> ResponseReturnValue:
    """Record an auditeur's correction (score, level, decision, non-reader) with its reason."""
    form = request.form
    target = form.get("target", "")
    reason = form.get("reason", "")
    user = _user()
    anchor = ""
    if target == "response":
        response_id = _int_field("response_id")
        if form.get("confirm") == "1":
            # one tap: the machine's score, kept with the usual confirmation
            operations.confirm_response(
                db.session,
                session_id,
                response_id,
                reason=reason.strip() or review.CONFIRM_REASON,
                user=user,
            )
        else:
            score = _int_field("score")
            reason = reason.strip() or review.COMMON_REASONS.get(form.get("reason_code", ""), "")
            operations.override_response(
                db.session, session_id, response_id, score=score, reason=reason, user=user
            )
        anchor = "a-faire"
    elif target == "confirm_all":
        operations.confirm_machine_scores(db.session, session_id, reason=reason, user=user)
        anchor = "a-faire"
    elif target == "level":
        operations.override_level(
            db.session,
            session_id,
            form.get("skill", ""),
            level=form.get("level", ""),
            reason=reason,
            user=user,
        )
    elif target == "decision":
        kind = form.get("kind", "")
        operations.override_decision(
            db.session,
            session_id,
            kind,
            hours=_int_field("hours") if kind == "prescription" else 0,
            reason=reason,
            user=user,
            optional_trainings=form.getlist("optional_trainings"),
        )
    elif target == "non_reader":
        operations.override_non_reader(
            db.session,
            session_id,
            non_reader=form.get("non_reader") == "1",
            reason=reason,
            user=user,
        )
    else:
        raise InvalidInput("Correction inconnue.")
    db.session.commit()
    flash("Correction enregistrée.")
    return redirect(url_for(".session_page", session_id=session_id, _anchor=anchor or None))


@bp.post("/sessions/<int:session_id>/attestation")
@login_required(*DESK_ROLES)
def issue_attestation(session_id: int) -> ResponseReturnValue:
    """Issue the attestation de dispense or the prescription (PDF) for the current decision."""
    from placement.sessions import attestations

    attestation = attestations.issue_attestation(
        db.session,
        session_id,
        _user(),
        verify_base_url=f"{request.host_url}verifier",
        office=current_app.config["OFFICE_NAME"],
        tz=_tz(),
        confirm_reason=request.form.get("confirm_reason") if request.form.get("confirm") else None,
    )
    db.session.commit()
    flash(f"Document émis. Code de vérification : {attestation.verification_code}.")
    return redirect(url_for(".session_page", session_id=session_id))


@bp.get("/attestations/<int:attestation_id>.pdf")
@login_required(*DESK_ROLES)
def attestation_pdf(attestation_id: int) -> ResponseReturnValue:
    """The PDF as issued (audited)."""
    from placement.sessions import attestations

    attestation = attestations.get_attestation(db.session, attestation_id, _user())
    db.session.commit()
    response = current_app.response_class(attestation.pdf, mimetype="application/pdf")
    name = "attestation" if attestation.kind == "dispense" else "prescription"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{name}-{attestation.verification_code}.pdf"'
    )
    return response


@bp.get("/export.csv")
@login_required(*DESK_ROLES)
def export_day() -> ResponseReturnValue:
    """The day's results as CSV for the OFII information system."""
    from placement.sessions import exports

    day = _parse_day(request.args.get("jour"))
    content = exports.day_results_csv(db.session, day, actor(), _tz(), viewer=_user())
    db.session.commit()
    response = current_app.response_class(content, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="resultats-{day.isoformat()}.csv"'
    )
    return response


@bp.get("/sessions/<int:session_id>/media/<path:path>")
@login_required(*DESK_ROLES)
def item_media(session_id: int, path: str) -> ResponseReturnValue:
    """A picture or sound of an item of the session's release, for the review page."""
    from flask import send_file

    from placement.sessions.results import bank_for

    session = operations.get_session(db.session, session_id)
    file = bank_for(session).media_path(path)
    if file is None:
        raise NotFound("Ce média n'existe pas dans la banque de ce test.")
    return send_file(file, max_age=3600)
