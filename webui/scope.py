"""What each user may see of the offices' data: one guard for every route that names a test
session, a response, an attestation or a candidate in its URL.

Auditeurs and office administrators see their office's sessions only; national administrators
(no office) see all. A session of another office answers 404, as if it did not exist
(``placement.sessions.offices``).
"""

from __future__ import annotations

from sqlalchemy import exists, select

from placement.sessions import offices
from placement.sessions.errors import NotFound
from placement.sessions.models import Attestation, Response, TestSession, User
from webui.auth import get_current_user
from webui.extensions import db


def restricted_office() -> int | None:
    """The office the current user's view is limited to (None: every office)."""
    user = _restricted()
    return user.office_id if user is not None else None


def _restricted() -> User | None:
    """The current user when their view is limited to an office, else None."""
    user = get_current_user()
    if user is None or offices.is_national(user):
        return None
    return user


def guard_office() -> None:
    """Raise NotFound when the URL names a session (or its parts) of another office."""
    from flask import request

    user = _restricted()
    args = request.view_args or {}
    if user is None or not args:
        return
    session: TestSession | None = None
    if isinstance(args.get("session_id"), int):
        session = db.session.get(TestSession, args["session_id"])
    elif isinstance(args.get("response_id"), int):
        response = db.session.get(Response, args["response_id"])
        session = response.session if response is not None else None
    elif isinstance(args.get("attestation_id"), int):
        attestation = db.session.get(Attestation, args["attestation_id"])
        session = attestation.session if attestation is not None else None
    elif isinstance(args.get("user_id"), int):
        target = db.session.get(User, args["user_id"])
        if target is not None and target.office_id != user.office_id:
            raise NotFound("Cet utilisateur n'existe pas.")
    elif isinstance(args.get("candidate_id"), int):
        seen = db.session.scalar(
            select(
                exists().where(
                    TestSession.candidate_id == args["candidate_id"],
                    TestSession.office_id == user.office_id,
                )
            )
        )
        if not seen:
            raise NotFound("Ce candidat n'existe pas.")
    if session is not None:
        offices.check_access(user, session)
