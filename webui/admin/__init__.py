"""Administration: accounts, retention, a candidate's export and erasure, the audit trail."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)

from webui.admin import views  # noqa: E402, F401 - registers the routes on bp
