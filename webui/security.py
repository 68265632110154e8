"""CSRF protection and security headers for every response.

CSRF: a random token is kept in the signed session cookie; every POST, PUT, PATCH and DELETE
must carry it in the ``X-CSRF-Token`` header (fetch calls) or the ``csrf_token`` form field,
else 400. Templates get ``csrf_token()``. Headers: a CSP without inline scripts, no framing,
no sniffing, no referrer to other sites, no caching of pages with personal data; HSTS when
``HSTS_SECONDS`` is set (behind HTTPS only).

Hostile input: an id in a URL is a ``BoundedInt`` (past 2**63 - 1 no database can hold it: 404,
not an overflow), and a NUL character anywhere in the query, the form, the path, the cookies or
a JSON body is refused with 400 before any view runs (PostgreSQL cannot store one in text).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import Flask, Response, abort, request, session
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

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


class CsrfRefused(BadRequest):
    """A request without the session's CSRF token (400, code ``csrf`` in JSON answers)."""


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


#: The largest id a URL may name: a signed 64-bit integer, the widest key the databases hold.
MAX_ID = 2**63 - 1
NUL_MESSAGE = "Les données envoyées contiennent un caractère interdit."


class BoundedInt(IntegerConverter):
    """``<int:...>`` in every route: 0 to ``MAX_ID``; anything larger does not match (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def clear_session_keeping_csrf() -> None:
    """Empty the session cookie except its CSRF token (logging out).

    A request in flight at that moment (the desk's poll) answers with the old cookie, which
    the browser keeps; the page shown after the logout carries this same token, so its form
    is still accepted then. Logging in starts a new session, with a new token.
    """
    token = csrf_token()
    session.clear()
    session[_SESSION_KEY] = token


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul() -> None:
    """400 for a NUL character in anything a view may read as text (never in file uploads)."""
    texts: list[Any] = [request.path]
    texts.extend(request.args.keys())
    texts.extend(request.args.values())
    texts.extend(request.cookies.values())
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        texts.extend(request.form.keys())
        texts.extend(request.form.values())
    if request.is_json:
        texts.append(request.get_json(silent=True))
    if any(_has_nul(text) for text in texts):
        abort(400, NUL_MESSAGE)


def _check_csrf() -> None:
    if request.method not in _UNSAFE_METHODS:
        return
    from flask import current_app

    if not current_app.config.get("CSRF_ENABLED", True):
        return
    expected = session.get(_SESSION_KEY)
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfRefused(CSRF_MESSAGE)


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
    from flask import current_app

    hsts_s = int(current_app.config.get("HSTS_SECONDS") or 0)
    if hsts_s > 0 and request.is_secure:
        headers.setdefault("Strict-Transport-Security", f"max-age={hsts_s}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Bound ids in URLs, refuse NULs and check CSRF before every request, add the headers after."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_refuse_nul)
    app.before_request(_check_csrf)
    app.after_request(_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
