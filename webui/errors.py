"""One place that turns errors into HTTP answers: French for people, JSON for fetch calls.

- ``placement.sessions.errors.SessionsError`` → its ``status`` (404, 403, 409, 400, 422, 401, 429);
- ``audio.errors.AudioRejected`` → 422 with its ``code`` and French ``message``;
- every werkzeug ``HTTPException`` (404, 405, 413, CSRF's 400 with ``code: "csrf"``...) → a
  French page or JSON;
- anything else → 500 with a French apology (and the traceback in the log): never for bad input.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from audio.errors import AudioRejected
from placement.sessions.errors import SessionsError
from webui.security import CsrfRefused

#: French wording of the HTTP errors people may meet.
HTTP_MESSAGES = {
    400: "La demande n'est pas valable.",
    401: "Veuillez vous connecter.",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette page n'existe pas.",
    405: "Cette action n'est pas permise ici.",
    409: "Cette action n'est plus possible dans l'état actuel.",
    413: "Le fichier envoyé est trop gros.",
    415: "Ce type de fichier n'est pas accepté.",
    422: "Cette réponse ne peut pas être lue.",
    429: "Trop de demandes. Réessayez dans quelques minutes.",
    500: "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.",
}


def wants_json() -> bool:
    """Whether the client is a script (fetch/XHR or a JSON request) rather than a page load."""
    if request.is_json or request.headers.get("Sec-Fetch-Dest") == "empty":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


#: The heading of the error page, by status.
HTTP_TITLES = {
    400: "Demande refusée",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    409: "Action impossible pour l'instant",
    413: "Fichier trop gros",
    429: "Trop de demandes",
}

_DESK_SESSION = re.compile(r"^(/desk/sessions/\d+)(?:/|$)")


def back_link() -> str | None:
    """Where the person was before the refused request: the desk session it concerns, else the
    page that sent it (same site only), else None."""
    if (match := _DESK_SESSION.match(request.path)) and request.method != "GET":
        return match.group(1)
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc == request.host and referrer.path != request.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    if match and match.group(1) != request.path:
        return match.group(1)
    return None


def error_response(status: int, message: str, **extra: Any) -> Response:
    """The error as JSON ``{"error": {"status", "message", ...}}`` or as a French HTML page
    with a way back to where the person was (nothing they typed is lost there)."""
    if wants_json():
        response = jsonify({"error": {"status": status, "message": message, **extra}})
    else:
        response = Response(
            render_template(
                "error.html",
                status=status,
                title=HTTP_TITLES.get(status, "Erreur"),
                message=message,
                back=back_link(),
            ),
            mimetype="text/html",
        )
    response.status_code = status
    return response


def _sessions_error(error: SessionsError) -> Response:
    return error_response(error.status, error.message, kind=type(error).__name__)


def _audio_rejected(error: AudioRejected) -> Response:
    return error_response(422, error.message, code=error.code)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = HTTP_MESSAGES.get(status) or "La demande n'a pas pu être traitée."
    # a French description given by our own code (abort(400, "...")) wins over the generic one
    description = error.description or ""
    if description and description != type(error).description:
        message = description
    extra = {"code": "csrf"} if isinstance(error, CsrfRefused) else {}
    response = error_response(status, message, **extra)
    if status == 405 and (allowed := error.get_response().headers.get("Allow")):
        response.headers["Allow"] = allowed
    return response


def expected_error_response(error: SessionsError | AudioRejected | HTTPException) -> Response:
    """The answer the app gives to ``error`` (for a blueprint that handles some cases itself)."""
    if isinstance(error, SessionsError):
        return _sessions_error(error)
    if isinstance(error, AudioRejected):
        return _audio_rejected(error)
    return _http_error(error)


def _unexpected(error: Exception) -> Response:
    from flask import current_app

    current_app.logger.exception("unexpected error", exc_info=error)
    return error_response(500, HTTP_MESSAGES[500])


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(SessionsError, _sessions_error)
    app.register_error_handler(AudioRejected, _audio_rejected)
    app.register_error_handler(HTTPException, _http_error)
    if not app.testing:
        # in tests a bug should fail loudly with its traceback, not as a polite page
        app.register_error_handler(Exception, _unexpected)
