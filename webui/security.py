"""CSRF protection and security headers for every response.

CSRF: a random token is kept in the signed session cookie; every POST, PUT, PATCH and DELETE
must carry it in the ``X-CSRF-Token`` header (fetch calls) or the ``csrf_token`` form field,
else 400. Templates get ``csrf_token()``. Headers: a CSP without inline scripts, no framing,
no sniffing, no referrer to other sites, no caching of pages with personal data.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, request, session

_SESSION_KEY = "csrf_token"
CSRF_MESSAGE = "Le formulaire a expiré ou ne vient pas de cette application. Rechargez la page."
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: Content-Security-Policy: everything from the app itself; no inline scripts, no frames.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def _check_csrf() -> None:
    if request.method not in _UNSAFE_METHODS:
        return
    from flask import current_app

    if not current_app.config.get("CSRF_ENABLED", True):
        return
    expected = session.get(_SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        abort(400, CSRF_MESSAGE)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
    if not request.path.startswith("/static/") and "/static/" not in request.path:
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    """Check CSRF before every request, add the headers after."""
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
