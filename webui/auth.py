"""Logging in and out, the current user, and the role check every view goes through.

``login_required(*roles)`` lets a view through for a logged-in, active user with one of
``roles`` (none given: any role; the admin is not let in everywhere on purpose: each view
names who may use it). Anonymous users are sent to the login page (401 as JSON for fetch
calls); a wrong role gets 403.
"""

from __future__ import annotations

import functools
import hashlib
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
from placement.sessions.errors import LoginRefused
from placement.sessions.models import Role, User
from webui.errors import error_response, wants_json
from webui.extensions import db

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])

_USER_KEY = "user_id"
#: where each role lands after logging in
HOME = {
    Role.AUDITEUR: "desk.index",
    Role.PSYCHOMETRICIAN: "psy.index",
    Role.ADMIN: "admin.index",
}


def _password_marker(user: User) -> str:
    """A short digest of the password hash: a reset password ends the sessions made before."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _load_user() -> User | None:
    if "user" not in g:
        user = None
        user_id = session.get(_USER_KEY)
        if isinstance(user_id, int):
            user = db.session.get(User, user_id)
            if user is not None and (
                not user.active or session.get("pw") != _password_marker(user)
            ):
                # deactivated, or the password was reset since this cookie was made
                session.pop(_USER_KEY, None)
                user = None
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
    db.session.commit()
    session.clear()  # no session fixation: a new session for the logged-in user
    session[_USER_KEY] = user.id
    session["pw"] = _password_marker(user)
    session.permanent = True
    g.pop("user", None)
    flash(f"Bonjour {user.display_name}.")
    return redirect(_safe_next(request.form.get("next")) or url_for(HOME[Role(user.role)]))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Forget the session."""
    user = _load_user()
    if user is not None:
        from placement.sessions import audit

        audit.record(db.session, actor(), "user.logout")
        db.session.commit()
    session.clear()
    return redirect(url_for("auth.login"))


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
