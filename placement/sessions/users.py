"""Users (auditeurs, psychometricians, administrators): accounts, passwords, login throttling.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when they change). Login
throttling has two locks, neither of which anyone can use to lock someone else out everywhere:

- an (account, address) pair is locked after ``max_failures`` failed passwords (since the pair's
  last success, over the last day) for ``lock_minutes``, doubled at each further failure
  (back-off, at most a day); the same account from another address is not locked;
- an address that failed ``ip_max_failures`` times within ``ip_window_minutes`` is refused for
  every account (guessing across accounts).

A refused or locked login gives the same message whether the user exists or not.

A successful login opens a :class:`LoginSession` (:func:`open_login_session`); logging out ends
it, and a password change or reset, or a deactivation, ends every session of the account, so a
cookie copied before opens nothing after. A password set by someone else (a new account, a
reset, a demo account) must be changed at the next login (``must_change_password``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from placement.sessions import audit
from placement.sessions.audit import Actor
from placement.sessions.errors import (
    Conflict,
    InvalidInput,
    LoginRefused,
    LoginThrottled,
    NotFound,
)
from placement.sessions.models import LoginAttempt, LoginSession, Role, User, as_aware, utcnow

_hasher = PasswordHasher()

#: Shortest password accepted when one is set by hand.
MIN_PASSWORD_LENGTH = 10
#: A hash of a random password, checked when the user does not exist (same time as a real check).
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Throttle:
    """Login throttling settings."""

    max_failures: int = 5
    lock_minutes: int = 15
    ip_max_failures: int = 20
    ip_window_minutes: int = 15
    #: the longest an (account, address) lock grows to, and how far back failures count
    max_lock_minutes: int = 24 * 60

    def pair_lock(self, failures: int) -> timedelta:
        """How long an (account, address) pair is locked after its last of ``failures``."""
        if failures < self.max_failures:
            return timedelta(0)
        doublings = min(failures - self.max_failures, 20)
        minutes = min(self.lock_minutes * 2**doublings, self.max_lock_minutes)
        return timedelta(minutes=minutes)


def set_hash_parameters(*, time_cost: int, memory_cost: int, parallelism: int = 1) -> None:
    """Change the Argon2 cost (tests use a cheap one; production keeps argon2-cffi's defaults).

    Hashes made with other parameters still verify, and are rehashed at their next login.
    """
    global _hasher, _DUMMY_HASH  # noqa: PLW0603 - one process-wide hashing policy
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
    _DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``."""
    return _hasher.hash(password)


def generate_password() -> str:
    """A random password for a new account (about 96 bits), to be shown once."""
    return secrets.token_urlsafe(12)


def _check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD_LENGTH} caractères."
        )


def create_user(
    db: Session,
    username: str,
    display_name: str,
    role: str | Role,
    password: str | None = None,
    *,
    actor: Actor | User = audit.SYSTEM,
    office_id: int | None = None,
    must_change_password: bool = False,
    expires_at: datetime | None = None,
) -> tuple[User, str]:
    """Create an account; returns it and its password (generated when none is given).

    Everyone but an administrator belongs to an office (the default one when none is given);
    an administrator without one is a national administrator.
    """
    username = username.strip()
    if not username or len(username) > 80 or any(ch.isspace() for ch in username):
        raise InvalidInput("L'identifiant doit être un mot sans espace de 1 à 80 caractères.")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(f"Rôle inconnu : {role}.") from None
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"L'identifiant « {username} » existe déjà.")
    if password is None:
        password = generate_password()
    else:
        _check_password_rules(password)
    if office_id is None and role != Role.ADMIN:
        from placement.sessions.offices import default_office

        office_id = default_office(db).id
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=role.value,
        password_hash=hash_password(password),
        office_id=office_id,
        must_change_password=must_change_password,
        expires_at=expires_at,
    )
    db.add(user)
    db.flush()
    audit.record(
        db,
        actor,
        "user.create",
        detail={"user_id": user.id, "role": role.value, "office_id": office_id},
    )
    db.flush()
    return user, password


def get_user(db: Session, user_id: int) -> User:
    """The user with this id; raises NotFound."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("Cet utilisateur n'existe pas.")
    return user


def list_users(db: Session, office_id: int | None = None) -> list[User]:
    """Every account (of ``office_id`` when given), by user name."""
    query = select(User).order_by(User.username)
    if office_id is not None:
        query = query.where(User.office_id == office_id)
    return list(db.scalars(query))


def _pair_failures(db: Session, username: str, ip: str | None, since: datetime) -> list[datetime]:
    """When the pair's checked passwords failed, since its last success (at most ``since``)."""
    pair = (LoginAttempt.username == username) & (
        LoginAttempt.ip == ip if ip is not None else LoginAttempt.ip.is_(None)
    )
    last_success = db.scalar(
        select(func.max(LoginAttempt.at)).where(pair, LoginAttempt.success.is_(True))
    )
    start = max(since, as_aware(last_success) or since)
    return [
        moment
        for moment in db.scalars(
            select(LoginAttempt.at)
            .where(
                pair,
                LoginAttempt.success.is_(False),
                LoginAttempt.throttled.is_(False),
                LoginAttempt.at > start,
            )
            .order_by(LoginAttempt.at)
        )
        if moment is not None
    ]


def authenticate(
    db: Session,
    username: str,
    password: str,
    ip: str | None = None,
    *,
    throttle: Throttle | None = None,
    now: datetime | None = None,
) -> User:
    """The user if the password is right; raises LoginThrottled or LoginRefused otherwise.

    Every attempt is stored (for the locks); the caller commits, even on failure, so that
    failures count. An expired account (a demo one) is refused like a wrong password.
    """
    throttle = throttle or Throttle()
    now = now or utcnow()
    username = username.strip()[:80]

    def refuse(error: LoginRefused, *, throttled: bool = False) -> LoginRefused:
        db.add(LoginAttempt(at=now, username=username, ip=ip, success=False, throttled=throttled))
        db.flush()
        return error

    if ip is not None:
        window_start = now - timedelta(minutes=throttle.ip_window_minutes)
        ip_failures = db.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.ip == ip,
                LoginAttempt.success.is_(False),
                LoginAttempt.at >= window_start,
            )
        )
        if (ip_failures or 0) >= throttle.ip_max_failures:
            raise refuse(LoginThrottled(), throttled=True)
    failures = _pair_failures(db, username, ip, now - timedelta(minutes=throttle.max_lock_minutes))
    last_failure = as_aware(failures[-1]) if failures else None
    if last_failure is not None and last_failure + throttle.pair_lock(len(failures)) > now:
        raise refuse(LoginThrottled(), throttled=True)
    user = db.scalar(select(User).where(User.username == username))
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    expires = as_aware(user.expires_at) if user is not None else None
    if user is None or not ok or not user.active or (expires is not None and expires <= now):
        error = refuse(LoginRefused())
        if user is not None:
            user.failed_logins = len(failures) + 1
            if user.failed_logins == throttle.max_failures:
                audit.record(
                    db,
                    Actor(username, user.id, ip),
                    "user.locked",
                    detail={"failures": user.failed_logins, "ip": ip},
                )
            db.flush()
        raise error
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.add(LoginAttempt(at=now, username=username, ip=ip, success=True))
    audit.record(db, Actor(user.username, user.id, ip), "user.login")
    db.flush()
    return user


def _session_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_login_session(db: Session, user: User, ip: str | None = None) -> str:
    """A new login session of ``user``; returns the secret the cookie holds (only its hash is
    stored)."""
    secret = secrets.token_urlsafe(32)
    db.add(LoginSession(id=_session_key(secret), user_id=user.id, ip=ip))
    db.flush()
    return secret


def user_of_session(db: Session, secret: object, *, now: datetime | None = None) -> User | None:
    """The active user whose open login session ``secret`` names, or None."""
    if not isinstance(secret, str) or not secret or len(secret) > 100:
        return None
    row = db.get(LoginSession, _session_key(secret))
    if row is None or row.ended_at is not None:
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    expires = as_aware(user.expires_at)
    if expires is not None and expires <= (now or utcnow()):
        return None
    return user


def end_login_session(db: Session, secret: object) -> None:
    """End one login session (logout); unknown secrets are ignored."""
    if isinstance(secret, str) and secret:
        row = db.get(LoginSession, _session_key(secret))
        if row is not None and row.ended_at is None:
            row.ended_at = utcnow()
            db.flush()


def end_login_sessions(db: Session, user_id: int) -> int:
    """End every open login session of a user (password change, reset, deactivation)."""
    result = db.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    db.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def change_password(db: Session, user: User, current: str, new: str, confirm: str) -> User:
    """The user changes their own password: the current one is checked, the new one must
    follow the rules, differ from it and be typed twice. Every login session of the account
    ends (the caller opens a new one for this device). Raises InvalidInput."""
    ok: bool = False
    try:
        ok = _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise InvalidInput("Le mot de passe actuel n'est pas le bon.")
    if new != confirm:
        raise InvalidInput("Les deux saisies du nouveau mot de passe diffèrent.")
    if new == current:
        raise InvalidInput("Le nouveau mot de passe doit différer de l'actuel.")
    _check_password_rules(new)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_login_sessions(db, user.id)
    audit.record(db, user, "user.password_change", detail={"user_id": user.id})
    db.flush()
    return user


def set_password(
    db: Session, user_id: int, password: str | None, *, actor: Actor | User
) -> tuple[User, str]:
    """Reset a password (generated when None), unlock the account and end its sessions; returns
    the password (to be changed at the next login unless the user set it themselves)."""
    user = get_user(db, user_id)
    if password is None:
        password = generate_password()
    else:
        _check_password_rules(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    # someone else chose it: the owner changes it at the next login
    actor_id = actor.id if isinstance(actor, User) else actor.user_id
    user.must_change_password = actor_id != user.id
    end_login_sessions(db, user.id)
    # a reset unlocks the account from every address
    db.execute(
        update(LoginAttempt)
        .where(LoginAttempt.username == user.username, LoginAttempt.success.is_(False))
        .values(throttled=True)
    )
    audit.record(db, actor, "user.password_reset", detail={"user_id": user.id})
    db.flush()
    return user, password


def set_active(db: Session, user_id: int, active: bool, *, actor: Actor | User) -> User:
    """Deactivate (or reactivate) an account; one cannot deactivate oneself."""
    user = get_user(db, user_id)
    actor_id = actor.id if isinstance(actor, User) else actor.user_id
    if not active and actor_id == user.id:
        raise Conflict("Vous ne pouvez pas désactiver votre propre compte.")
    user.active = active
    if not active:
        end_login_sessions(db, user.id)
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        db, actor, "user.activate" if active else "user.deactivate", detail={"user_id": user.id}
    )
    db.flush()
    return user


def purge_login_attempts(db: Session, older_than: datetime) -> int:
    """Delete login and session-code attempts older than ``older_than``, and the login sessions
    ended (or started) before it; returns how many attempts."""
    from placement.sessions.models import CodeAttempt

    result = db.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than))
    codes = db.execute(delete(CodeAttempt).where(CodeAttempt.at < older_than))
    db.execute(delete(LoginSession).where(LoginSession.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0) + int(getattr(codes, "rowcount", 0) or 0)
