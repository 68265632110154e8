"""The psychometrician's pages: bank releases and the pseudonymous responses export."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("psy", __name__)

from webui.psy import views  # noqa: E402, F401 - registers the routes on bp
