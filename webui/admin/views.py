"""Views of the administration pages (role ``admin`` only)."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from placement.sessions import audit, exports, operations, retention, users
from placement.sessions.models import AuditEvent, Candidate, Role
from webui.admin import bp
from webui.auth import actor, get_current_user, login_required
from webui.extensions import db


def _admin() -> Any:
    user = get_current_user()
    assert user is not None
    return user


@bp.get("/")
@login_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Accounts, retention settings and the candidate search."""
    return render_template(
        "admin/index.html",
        users=users.list_users(db.session),
        roles=list(Role),
        retention_days=current_app.config["RETENTION_DAYS"],
        new_password=None,
    )


def _show_password(user_name: str, password: str) -> ResponseReturnValue:
    # the password is shown once, on this page only; it is never stored in clear
    return render_template(
        "admin/index.html",
        users=users.list_users(db.session),
        roles=list(Role),
        retention_days=current_app.config["RETENTION_DAYS"],
        new_password={"username": user_name, "password": password},
    )


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
        must_change_password=True,  # the password shown here is handed over, then replaced
    )
    db.session.commit()
    return _show_password(user.username, password)


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
    """Run the retention purge now."""
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
    if query:
        found = operations.find_candidate(db.session, query)
        results = [found] if found else []
    else:
        results = list(
            db.session.scalars(select(Candidate).order_by(Candidate.id.desc()).limit(50))
        )
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
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)))
    return render_template("admin/audit.html", events=events)
