"""Offices (*directions territoriales*): who sees which test sessions.

A user belongs to one office; a national administrator (role ``admin``, no office) sees every
office. Auditeurs, psychometricians and office administrators see their own office's sessions
only: :func:`visible_sessions` narrows any query on ``TestSession`` and :func:`check_access`
refuses (404, as if it did not exist) a session of another office. One national deployment on one
PostgreSQL thus serves many offices.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from placement.sessions.errors import InvalidInput, NotFound
from placement.sessions.models import Office, Role, TestSession, User

#: The office that existing data was moved to, and new data goes to when none is named.
DEFAULT_OFFICE = "Direction territoriale"

_Row = TypeVar("_Row", bound=Any)


def default_office(db: Session) -> Office:
    """The default office, made on first use."""
    office = db.scalar(select(Office).where(Office.name == DEFAULT_OFFICE))
    if office is None:
        office = Office(name=DEFAULT_OFFICE)
        db.add(office)
        db.flush()
    return office


def is_national(user: User) -> bool:
    """Whether the user sees every office (an administrator without an office)."""
    return Role(user.role) == Role.ADMIN and user.office_id is None


def office_of(db: Session, user: User | None) -> int:
    """The office new sessions of ``user`` belong to (the default one for national users)."""
    if user is not None and user.office_id is not None:
        return user.office_id
    return default_office(db).id


def visible_sessions(query: Select[_Row], user: User | None) -> Select[_Row]:
    """``query`` (on ``TestSession``) narrowed to the sessions ``user`` may see."""
    if user is None or is_national(user):
        return query
    return query.where(TestSession.office_id == user.office_id)


def check_access(user: User | None, session: TestSession) -> TestSession:
    """``session`` if ``user`` may see it; NotFound otherwise (another office's is not shown)."""
    if user is None or is_national(user) or session.office_id == user.office_id:
        return session
    raise NotFound("Cette session de test n'existe pas.")


def list_offices(db: Session) -> list[Office]:
    """Every office, by name."""
    return list(db.scalars(select(Office).order_by(Office.name)))


def create_office(db: Session, name: str) -> Office:
    """A new office; raises InvalidInput for an empty or taken name."""
    name = name.strip()
    if not name or len(name) > 120:
        raise InvalidInput("Le nom du bureau doit compter de 1 à 120 caractères.")
    if db.scalar(select(Office.id).where(Office.name == name)) is not None:
        raise InvalidInput(f"Le bureau « {name} » existe déjà.")
    office = Office(name=name)
    db.add(office)
    db.flush()
    return office
