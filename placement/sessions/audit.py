"""The audit trail: who looked at or changed a candidate's data, when, and what.

Every operation that reads or changes personal data writes an :class:`AuditEvent` through
:func:`record`. Events are never edited or deleted (erasure keeps them: they name no one but the
actor and carry only ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from placement.sessions.models import AuditEvent, User


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a logged-in user, the candidate's tablet, or the system (jobs, CLI)."""

    name: str
    user_id: int | None = None
    ip: str | None = None

    @classmethod
    def of(cls, user: User, ip: str | None = None) -> Actor:
        """The actor for a logged-in user."""
        return cls(user.username, user.id, ip)


SYSTEM = Actor("système")
TABLET = Actor("tablette")


def record(
    db: Session,
    actor: Actor | User,
    action: str,
    *,
    candidate_id: int | None = None,
    session_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event (flushed with the caller's transaction; never committed here)."""
    who = Actor.of(actor) if isinstance(actor, User) else actor
    event = AuditEvent(
        user_id=who.user_id,
        actor=who.name,
        action=action,
        candidate_id=candidate_id,
        session_id=session_id,
        detail=detail,
        ip=who.ip,
    )
    db.add(event)
    return event


def events_for_candidate(db: Session, candidate_id: int) -> list[AuditEvent]:
    """A candidate's audit trail, oldest first."""
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.candidate_id == candidate_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
