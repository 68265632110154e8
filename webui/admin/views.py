"""Views of the administration pages (role ``admin`` only)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from placement.sessions import audit, exports, offices, operations, retention, users
from placement.sessions.errors import Forbidden, InvalidInput
from placement.sessions.models import AuditEvent, Candidate, Office, Role, TestSession, User
from webui.admin import bp
from webui.auth import actor, get_current_user, login_required
from webui.extensions import db
from webui.scope import guard_office, restricted_office

# an office's administrator manages its users and candidates only (404 for others)
bp.before_request(guard_office)


def _national_only() -> None:
    if restricted_office() is not None:
        raise Forbidden("Réservé à l'administration nationale.")


def _admin() -> Any:
    user = get_current_user()
    assert user is not None
    return user


@bp.get("/")
@login_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Accounts, retention settings and the candidate search."""
    return _index_page(None)


def _index_page(new_password: dict[str, str] | None) -> ResponseReturnValue:
    office_id = restricted_office()
    return render_template(
        "admin/index.html",
        users=users.list_users(db.session, office_id),
        roles=list(Role),
        offices=offices.list_offices(db.session)
        if office_id is None
        else [db.session.get(Office, office_id)],
        national=office_id is None,
        retention_days=current_app.config["RETENTION_DAYS"],
        new_password=new_password,
    )


def _show_password(user_name: str, password: str) -> ResponseReturnValue:
    # the password is shown once, on this page only; it is never stored in clear
    return _index_page({"username": user_name, "password": password})


@bp.post("/users")
@login_required(Role.ADMIN)
def create_user() -> ResponseReturnValue:
    """Create an account with a generated password, shown once."""
    form = request.form
    user, password = users.create_user(
        db.session,
        form.get("username", ""),
        form.get("display_name", ""),
        form.get("role", ""),
        actor=actor(),
        office_id=_office_field(),
        must_change_password=True,  # the password shown here is handed over, then replaced
    )
    db.session.commit()
    return _show_password(user.username, password)


def _office_field() -> int | None:
    """The office a new account joins: the office admin's own; for a national administrator the
    one chosen (none: a national administrator, or the default office for other roles)."""
    own = restricted_office()
    if own is not None:
        return own
    raw = request.form.get("office_id", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or db.session.get(Office, int(raw)) is None:
        raise InvalidInput("Bureau inconnu.")
    return int(raw)


@bp.post("/offices")
@login_required(Role.ADMIN)
def create_office() -> ResponseReturnValue:
    """A new office (national administrators only)."""
    _national_only()
    office = offices.create_office(db.session, request.form.get("name", ""))
    audit.record(db.session, actor(), "office.create", detail={"office_id": office.id})
    db.session.commit()
    flash(f"Bureau « {office.name} » créé.")
    return redirect(url_for(".index"))


@bp.post("/users/<int:user_id>/password")
@login_required(Role.ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    """Reset an account's password (generated, shown once) and unlock it."""
    user, password = users.set_password(db.session, user_id, None, actor=actor())
    db.session.commit()
    return _show_password(user.username, password)


@bp.post("/users/<int:user_id>/active")
@login_required(Role.ADMIN)
def set_active(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account."""
    active = request.form.get("active") == "1"
    user = users.set_active(db.session, user_id, active, actor=_admin())
    db.session.commit()
    flash(f"Compte {user.username} {'réactivé' if active else 'désactivé'}.")
    return redirect(url_for(".index"))


@bp.post("/purge")
@login_required(Role.ADMIN)
def purge() -> ResponseReturnValue:
    """Run the retention purge now (national administrators: it spans every office)."""
    _national_only()
    done = retention.purge(db.session, current_app.config["RETENTION_DAYS"], actor())
    db.session.commit()
    flash(
        f"Purge effectuée : {done.candidates} candidat(s) effacé(s), "
        f"{done.recordings} enregistrement(s), {done.login_attempts} tentative(s) de connexion."
    )
    return redirect(url_for(".index"))


@bp.get("/candidats")
@login_required(Role.ADMIN)
def candidates() -> ResponseReturnValue:
    """Find a candidate by dossier number (or list the latest)."""
    query = request.args.get("dossier", "").strip()
    listing = select(Candidate).order_by(Candidate.id.desc())
    office_id = restricted_office()
    if office_id is not None:  # an office's administrator: the candidates it tested
        listing = listing.where(
            Candidate.id.in_(
                select(TestSession.candidate_id).where(TestSession.office_id == office_id)
            )
        )
    if query:
        found = operations.find_candidate(db.session, query)
        results = (
            list(db.session.scalars(listing.where(Candidate.id == found.id)))
            if found is not None
            else []
        )
    else:
        results = list(db.session.scalars(listing.limit(50)))
    return render_template("admin/candidates.html", candidates=results, query=query)


@bp.get("/candidats/<int:candidate_id>")
@login_required(Role.ADMIN)
def candidate(candidate_id: int) -> ResponseReturnValue:
    """A candidate's sessions and audit trail (the view itself is audited)."""
    found = operations.get_candidate(db.session, candidate_id, actor())
    db.session.commit()
    events = audit.events_for_candidate(db.session, candidate_id)
    return render_template("admin/candidate.html", candidate=found, events=events)


@bp.get("/candidats/<int:candidate_id>/export.zip")
@login_required(Role.ADMIN)
def export_candidate(candidate_id: int) -> ResponseReturnValue:
    """Everything kept about the candidate: JSON, recordings, attestations (ZIP)."""
    content = exports.candidate_export_zip(db.session, candidate_id, actor())
    db.session.commit()
    response = current_app.response_class(content, mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="candidat-{candidate_id}.zip"'
    return response


@bp.post("/candidats/<int:candidate_id>/effacer")
@login_required(Role.ADMIN)
def erase_candidate(candidate_id: int) -> ResponseReturnValue:
    """Erase the candidate's personal data (the dossier number must be typed to confirm)."""
    found = operations.get_candidate(db.session, candidate_id)
    confirm = request.form.get("confirm", "").strip().upper()
    if confirm != found.dossier_number:
        from placement.sessions.errors import InvalidInput

        raise InvalidInput("Saisissez le numéro de dossier pour confirmer l'effacement.")
    done = retention.erase_candidate(db.session, candidate_id, _admin())
    db.session.commit()
    flash(
        f"Données effacées : {done.recordings} enregistrement(s), {done.answers} réponse(s) "
        f"écrite(s), {done.attestations} attestation(s)."
    )
    return redirect(url_for(".candidate", candidate_id=candidate_id))


@bp.get("/journal")
@login_required(Role.ADMIN)
def audit_log() -> ResponseReturnValue:
    """The newest audit events."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    office_id = restricted_office()
    if office_id is not None:  # what the office's people did, and what touched its sessions
        query = query.where(
            AuditEvent.user_id.in_(select(User.id).where(User.office_id == office_id))
            | AuditEvent.session_id.in_(
                select(TestSession.id).where(TestSession.office_id == office_id)
            )
        )
    events = list(db.session.scalars(query.limit(200)))
    return render_template("admin/audit.html", events=events)
