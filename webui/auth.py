"""Logging in and out, the current user, and the role check every view goes through.

``login_required(*roles)`` lets a view through for a logged-in, active user with one of
``roles`` (none given: any role; the admin is not let in everywhere on purpose: each view
names who may use it). Anonymous users are sent to the login page (401 as JSON for fetch
calls); a wrong role gets 403; a user who must change a password someone else chose is sent to
the password page (403 as JSON) until it is done.

The signed cookie holds only the secret of a server-side login session
(``placement.sessions.users.open_login_session``): logging out, a password change or reset and a
deactivation end it on the server, so that a copy of the cookie opens nothing afterwards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.local import LocalProxy

from placement.sessions import users
from placement.sessions.audit import Actor
from placement.sessions.errors import InvalidInput, LoginRefused
from placement.sessions.models import Role, User
from webui.errors import error_response, wants_json
from webui.extensions import db
from webui.security import clear_session_keeping_csrf

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

MUST_CHANGE_MESSAGE = "Choisissez d'abord votre propre mot de passe."
_PASSWORD_ENDPOINTS = frozenset({"auth.password", "auth.password_post"})

#: where each role lands after logging in
HOME = {
    Role.AUDITEUR: "desk.index",
    Role.PSYCHOMETRICIAN: "psy.index",
    Role.ADMIN: "admin.index",
}


_SESSION_KEY = "sid"


def _load_user() -> User | None:
    if "user" not in g:
        user = users.user_of_session(db.session, session.get(_SESSION_KEY))
        if user is None:
            # logged out elsewhere, password changed or reset, deactivated, expired
            session.pop(_SESSION_KEY, None)
        g.user = user
    return cast("User | None", g.user)


current_user: User | None = cast("User | None", LocalProxy(_load_user))


def get_current_user() -> User | None:
    """The logged-in user, or None."""
    return _load_user()


def client_ip() -> str | None:
    """The client's address (the WSGI server's view; set a proxy fix in front if needed)."""
    return request.remote_addr


def actor() -> Actor:
    """The audit actor for the current request."""
    user = _load_user()
    if user is None:
        return Actor("anonyme", None, client_ip())
    return Actor.of(user, client_ip())


def login_required(*roles: Role | str) -> Callable[[F], F]:
    """Let the view through for a logged-in user having one of ``roles`` (any if none)."""
    allowed = frozenset(Role(r) for r in roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = _load_user()
            if user is None:
                if wants_json():
                    return error_response(401, "Veuillez vous connecter.")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if user.must_change_password and request.endpoint not in _PASSWORD_ENDPOINTS:
                if wants_json():
                    return error_response(403, MUST_CHANGE_MESSAGE)
                return redirect(url_for("auth.password"))
            if allowed and Role(user.role) not in allowed:
                return error_response(403, "Vous n'avez pas accès à cette page.")
            return view(*args, **kwargs)

        return cast("F", wrapped)

    return decorator


def _safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never another host.

    Refused: ``//evil.example``, ``https://...``, a backslash, and any space or control
    character (browsers drop a tab or a newline, so ``/\t/evil.example`` is ``//evil.example``;
    CR/LF would split the Location header).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or not ch.isprintable() for ch in target):
        return None
    return target


@bp.get("/login")
def login() -> ResponseReturnValue:
    """The login form."""
    user = _load_user()
    if user is not None:
        return redirect(url_for(HOME[Role(user.role)]))
    return render_template("auth/login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    """Check the password (throttled); on success start a fresh signed session."""
    username = request.form.get("username", "")
    password = request.form.get("password", "")
    throttle = users.Throttle(
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        lock_minutes=current_app.config["LOGIN_LOCK_MINUTES"],
        ip_max_failures=current_app.config["LOGIN_IP_MAX_FAILURES"],
        ip_window_minutes=current_app.config["LOGIN_IP_WINDOW_MINUTES"],
    )
    try:
        user = users.authenticate(db.session, username, password, client_ip(), throttle=throttle)
    except LoginRefused as error:
        db.session.commit()  # failures must count
        response = render_template(
            "auth/login.html",
            next=_safe_next(request.form.get("next")),
            error=error.message,
            username=username,
        )
        return response, error.status
    _start_session(user)
    flash(f"Bonjour {user.display_name}.")
    if user.must_change_password:
        flash(MUST_CHANGE_MESSAGE)
        return redirect(url_for("auth.password"))
    return redirect(_safe_next(request.form.get("next")) or url_for(HOME[Role(user.role)]))


def _start_session(user: User) -> None:
    """A new server-side login session in a fresh cookie (no session fixation); commits."""
    secret = users.open_login_session(db.session, user, client_ip())
    db.session.commit()
    session.clear()
    session[_SESSION_KEY] = secret
    session.permanent = True
    g.pop("user", None)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End the login session on the server and forget the cookie."""
    user = _load_user()
    if user is not None:
        from placement.sessions import audit

        audit.record(db.session, actor(), "user.logout")
    users.end_login_session(db.session, session.get(_SESSION_KEY))
    db.session.commit()
    clear_session_keeping_csrf()
    return redirect(url_for("auth.login"))


@bp.get("/mot-de-passe")
@login_required()
def password() -> ResponseReturnValue:
    """The form to change one's own password."""
    user = _load_user()
    assert user is not None  # login_required let us in
    return render_template("auth/password.html", forced=user.must_change_password)


@bp.post("/mot-de-passe")
@login_required()
def password_post() -> ResponseReturnValue:
    """Change one's own password: every other session of the account ends."""
    user = _load_user()
    assert user is not None  # login_required let us in
    form = request.form
    try:
        users.change_password(
            db.session,
            user,
            form.get("current_password", ""),
            form.get("new_password", ""),
            form.get("new_password_confirm", ""),
        )
    except InvalidInput as error:
        db.session.rollback()
        page = render_template(
            "auth/password.html", forced=user.must_change_password, error=error.message
        )
        return page, error.status
    _start_session(user)
    flash("Votre mot de passe est changé ; vos autres connexions sont fermées.")
    return redirect(url_for(HOME[Role(user.role)]))


@bp.get("/")
def home() -> ResponseReturnValue:
    """The home page: each role's own page, or the login form."""
    user = _load_user()
    if user is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(HOME[Role(user.role)]))


def init_app(app: Flask) -> None:
    """Make ``current_user`` available to templates."""
    app.register_blueprint(bp)

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        return {"current_user": _load_user(), "Role": Role}
