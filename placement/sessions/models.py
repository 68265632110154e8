"""The database: candidates, users, test sessions, responses, results, overrides, audit trail.

Plain SQLAlchemy 2 typed models (no Flask). Rules the schema encodes:

- a computed result is never edited: every computation adds a :class:`Result` row, the newest is
  current; an auditeur's change is an :class:`Override` row (who, when, from, to, why) beside it;
- a response's machine score stays as computed; an auditeur's review of it is an ``Override``
  with ``target="response"``, which replaces the machine's score in the next result;
- an item is never given twice in a session (unique ``(session_id, item_id)``);
- every test session belongs to an office (a *direction territoriale*); a user belongs to one,
  except the national administrators (``office_id`` NULL, role ``admin``);
- a login is a :class:`LoginSession` row: logging out or changing the password ends it on the
  server, so that a copied cookie opens nothing afterwards;
- erasing a candidate (GDPR) blanks their personal data and recordings but keeps the
  pseudonymous responses the calibration needs, and the audit trail.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from audio.intake import served_mime_type


def utcnow() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def as_aware(moment: datetime | None) -> datetime | None:
    """A stored moment, timezone-aware: SQLite gives back naive datetimes; all we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class Base(DeclarativeBase):
    """Base of every model; JSON columns hold plain dicts and lists."""

    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute as is
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class Role(enum.StrEnum):
    """What a logged-in user may do. Candidates never log in: they hold a session code."""

    AUDITEUR = "auditeur"
    PSYCHOMETRICIAN = "psychometricien"
    ADMIN = "admin"


class SessionState(enum.StrEnum):
    """Where a test session stands, as the auditeur's desk shows it."""

    WAITING = "waiting"  # created, the tablet has not opened it yet
    IN_PROGRESS = "in_progress"
    TRANSCRIBING = "transcribing"  # the candidate is done, spoken answers are being scored
    TO_REVIEW = "to_review"  # a response needs the auditeur's review
    DONE = "done"  # a result exists and nothing waits
    ABANDONED = "abandoned"  # left unfinished; the auditeur can resume it


class Stage(enum.StrEnum):
    """The candidate's screens, in order."""

    WELCOME = "welcome"
    CONSENT = "consent"
    SOUND_CHECK = "sound_check"
    MIC_CHECK = "mic_check"
    PRACTICE = "practice"
    TEST = "test"
    FINISHED = "finished"


class Office(Base):
    """An OFII office (*direction territoriale*): its auditeurs see its sessions only."""

    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """An auditeur, psychometrician or administrator of an office (national admin: no office)."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    #: None only for a national administrator
    office_id: Mapped[int | None] = mapped_column(ForeignKey("office.id"))
    #: a password someone else chose (a new or reset account): changed at the next login
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: demo accounts stop working at this moment
    expires_at: Mapped[datetime | None]

    office: Mapped[Office | None] = relationship()


class LoginSession(Base):
    """One login of a user: the cookie names it; ended at logout or password change."""

    __tablename__ = "login_session"

    #: sha256 of the secret in the cookie (a copy of the database opens no session)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (Index("ix_login_session_user", "user_id"),)


class Candidate(Base):
    """A newly arrived foreigner with an OFII dossier."""

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_number: Mapped[str] = mapped_column(String(40), unique=True)
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    birth_date: Mapped[date | None]
    help_language: Mapped[str | None] = mapped_column(String(40))
    non_reader: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None]

    sessions: Mapped[list[TestSession]] = relationship(
        back_populates="candidate", order_by="TestSession.created_at"
    )


class TestSession(Base):
    """One sitting of the test by one candidate, on one bank release and one policy."""

    __tablename__ = "test_session"
    __test__ = False  # not a pytest test class, despite its name

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    #: short code typed (or scanned as a QR code) on the tablet; random, not guessable
    code: Mapped[str] = mapped_column(String(16), unique=True)
    code_expires_at: Mapped[datetime | None]
    #: secret that binds the tablet to the session once the code was entered (in its cookie)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    release_version: Mapped[str] = mapped_column(String(40))
    policy: Mapped[str] = mapped_column(String(40))
    #: the rules' name (``cir``) or the path of a rules file
    rules: Mapped[str] = mapped_column(String(1024), default="cir")
    seed: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(20), default=SessionState.WAITING)
    stage: Mapped[str] = mapped_column(String(20), default=Stage.WELCOME)
    non_reader: Mapped[bool] = mapped_column(default=False)
    #: the candidate's language for the tablet's own words (ISO 639 code); None: French only
    language: Mapped[str | None] = mapped_column(String(16))
    mic_ok: Mapped[bool | None]
    #: the item on screen; an answer for any other item is stale (409)
    pending_item_id: Mapped[str | None] = mapped_column(String(40))
    pending_since: Mapped[datetime | None]
    elapsed_s: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id"))
    #: when a tablet opened the code: another device is refused until the auditeur releases it
    code_used_at: Mapped[datetime | None]

    candidate: Mapped[Candidate] = relationship(back_populates="sessions")
    created_by: Mapped[User | None] = relationship()
    responses: Mapped[list[Response]] = relationship(
        back_populates="session", order_by="Response.seq", cascade="all, delete-orphan"
    )
    results: Mapped[list[Result]] = relationship(
        back_populates="session", order_by="Result.id", cascade="all, delete-orphan"
    )
    overrides: Mapped[list[Override]] = relationship(
        back_populates="session", order_by="Override.id", cascade="all, delete-orphan"
    )
    attestations: Mapped[list[Attestation]] = relationship(
        back_populates="session", order_by="Attestation.id", cascade="all, delete-orphan"
    )

    __table_args__ = (Index("ix_test_session_created_at", "created_at"),)


class Response(Base):
    """A candidate's answer to one item, with the machine's score (None while pending)."""

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("session_id", "item_id"),
        UniqueConstraint("session_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"))
    seq: Mapped[int]
    item_id: Mapped[str] = mapped_column(String(40))
    skill: Mapped[str] = mapped_column(String(2))
    #: given unscored to gather calibration data; never enters the candidate's estimate
    pretest: Mapped[bool] = mapped_column(default=False)
    #: {"choice": "b"} | {"text": "..."} | {"fields": {...}} | {"recording": true}; None if skipped
    answer: Mapped[dict[str, Any] | None]
    score: Mapped[int | None]
    max_score: Mapped[int] = mapped_column(default=1)
    #: "auto" (key or rubric), "asr" (rubric on a transcript), None while pending
    scorer: Mapped[str | None] = mapped_column(String(20))
    needs_review: Mapped[bool] = mapped_column(default=False)
    #: the scorer's reasons, found and missing elements, flags (ScoreResult.to_dict())
    score_detail: Mapped[dict[str, Any] | None]
    presented_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    duration_s: Mapped[float | None]

    session: Mapped[TestSession] = relationship(back_populates="responses")
    recording: Mapped[Recording | None] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    transcript: Mapped[Transcript | None] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Recording(Base):
    """The original recording of a spoken answer, as the tablet sent it, with its checksum."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    mime_type: Mapped[str] = mapped_column(String(60))
    container: Mapped[str] = mapped_column(String(20))
    size_bytes: Mapped[int]
    duration_s: Mapped[float]
    #: the original bytes; None once erased by retention or on request
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None]

    response: Mapped[Response] = relationship(back_populates="recording")

    @property
    def served_mime_type(self) -> str:
        """The audio type this recording is served as: decided by its checked container."""
        return served_mime_type(self.container)


class Transcript(Base):
    """The transcription job of a recording and its outcome."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id"), unique=True)
    #: "queued" | "running" | "done" | "failed"
    status: Mapped[str] = mapped_column(String(20), default="queued")
    text: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None]
    #: words with times and probabilities, language, flags (Transcript.to_dict())
    detail: Mapped[dict[str, Any] | None]
    model_name: Mapped[str | None] = mapped_column(String(80))
    model_version: Mapped[str | None] = mapped_column(String(80))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    response: Mapped[Response] = relationship(back_populates="transcript")


class Result(Base):
    """A computed result of a session; never edited, a recomputation adds a row."""

    __tablename__ = "result"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "final" once the test ended and every score is in, else "provisional"
    status: Mapped[str] = mapped_column(String(20), default="final")
    #: {skill: {"theta": θ̂, "se": SE, "n_items": n} | None}
    estimates: Mapped[dict[str, Any]]
    #: {skill: {"level": "A1", "probabilities": {...}} | None, "global": {...}}
    levels: Mapped[dict[str, Any]]
    global_level: Mapped[str] = mapped_column(String(10))
    #: placement.levels Decision.to_dict(): kind, hours, optional trainings, reasons, policy
    decision: Mapped[dict[str, Any]]
    policy: Mapped[str] = mapped_column(String(40))

    session: Mapped[TestSession] = relationship(back_populates="results")


class Override(Base):
    """An auditeur's change of a response score, a skill level or the decision, with a reason."""

    __tablename__ = "override"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: "response" | "level:CO" (any skill, or "level:global") | "decision" | "non_reader"
    target: Mapped[str] = mapped_column(String(40))
    from_value: Mapped[dict[str, Any] | None]
    to_value: Mapped[dict[str, Any]]
    reason: Mapped[str] = mapped_column(Text)

    session: Mapped[TestSession] = relationship(back_populates="overrides")
    user: Mapped[User] = relationship()


class Attestation(Base):
    """An issued attestation de dispense or prescription, checkable by its code."""

    __tablename__ = "attestation"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"))
    verification_code: Mapped[str] = mapped_column(String(24), unique=True)
    #: "dispense" | "prescription"
    kind: Mapped[str] = mapped_column(String(20))
    hours: Mapped[int]
    #: what the document says (names, dates, levels, decision), as issued
    content: Mapped[dict[str, Any]]
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    #: the PDF as issued, so that a download gives the very document that was signed
    pdf: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    session: Mapped[TestSession] = relationship(back_populates="attestations")
    issued_by: Mapped[User] = relationship()


class AuditEvent(Base):
    """Who looked at or changed what, when. Never edited or deleted."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    #: username, "tablette" for the candidate's tablet, "système" for jobs and the CLI
    actor: Mapped[str] = mapped_column(String(80))
    #: dotted verb: "candidate.view", "session.create", "recording.listen", "override.create"...
    action: Mapped[str] = mapped_column(String(60))
    candidate_id: Mapped[int | None]
    session_id: Mapped[int | None]
    detail: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (
        Index("ix_audit_event_candidate", "candidate_id"),
        Index("ix_audit_event_at", "at"),
    )


class LoginAttempt(Base):
    """One login attempt, kept a short while to throttle guessing per address (and per user)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str | None] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(default=False)
    #: does not count toward the lock: refused by it before the password was checked, or
    #: forgiven by a password reset
    throttled: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_login_attempt_ip_at", "ip", "at"),)


class CodeAttempt(Base):
    """A session code typed on a tablet, kept a short while to throttle guessing per address."""

    __tablename__ = "code_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))
    success: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_code_attempt_ip_at", "ip", "at"),)
