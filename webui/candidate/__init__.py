"""The candidate's tablet: open a test with a code, the checks, the practice item, the test.

Blueprint ``candidate`` (URL prefix ``/t``). The tablet holds only a cookie with the session's
secret token; everything else lives on the server, so a reload, a lost connection or a closed
tab comes back to the same screen and the same item. Pages are rendered on the server; the
small scripts in ``static/`` play the spoken instructions, record with MediaRecorder and send
answers with ``fetch`` (with the CSRF token); after each answer the page reloads the current
screen. See ``webui/candidate/README.md``.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "candidate",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from webui.candidate import views  # noqa: E402, F401 - the routes register themselves on bp

__all__ = ["bp"]
