"""The public page where anyone holding an attestation checks its verification code."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from placement.sessions import attestations
from webui.extensions import db

bp = Blueprint("verify", __name__)


@bp.get("/")
def form() -> ResponseReturnValue:
    """The form to type a code (or the result when ``?code=`` is given)."""
    code = request.args.get("code", "").strip()
    if code:
        return redirect(url_for(".check", code=attestations.normalise_verification_code(code)))
    return render_template("verify/form.html")


@bp.get("/<code>")
def check(code: str) -> ResponseReturnValue:
    """Whether the code belongs to an issued attestation, and what it says (minimal data)."""
    found = attestations.verify(db.session, code)
    if found is None:
        return render_template("verify/result.html", attestation=None, code=code), 404
    return render_template("verify/result.html", attestation=found, code=found.verification_code)
