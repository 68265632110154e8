"""The auditeur's desk: today's sessions, starting a test, following it, reviewing it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desk", __name__)


@bp.before_request
def _same_office_only() -> None:
    """A session of another office (or its response, attestation) is not found (404)."""
    from webui.scope import guard_office

    guard_office()


from webui.desk import views  # noqa: E402, F401 - registers the routes on bp
