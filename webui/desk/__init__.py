"""The auditeur's desk: today's sessions, starting a test, following it, reviewing it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("desk", __name__)

from webui.desk import views  # noqa: E402, F401 - registers the routes on bp
