"""The auditeur's desk: today's sessions, starting a test, following it, reviewing it."""

from __future__ import annotations

from flask import Blueprint

from webui.scope import guard_office

bp = Blueprint("desk", __name__)
# a session of another office (or its response, attestation) is not found (404)
bp.before_request(guard_office)

from webui.desk import views  # noqa: E402, F401 - registers the routes on bp
