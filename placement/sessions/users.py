"""Users (auditeurs, psychometricians, administrators): accounts, passwords, login throttling.

Passwords are hashed with Argon2id (argon2-cffi's defaults, rehashed when they change). Login
throttling has two locks: an account is locked for ``lock_minutes`` after ``max_failures``
consecutive failures, and an address that failed ``ip_max_failures`` times within
``ip_window_minutes`` is refused for every account (guessing across accounts). A refused or
locked login gives the same message whether the user exists or not.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
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
from placement.sessions.models import LoginAttempt, Role, User, as_aware, utcnow

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
) -> tuple[User, str]:
    """Create an account; returns it and its password (generated when none is given)."""
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
    user = User(
        username=username,
        display_name=display_name.strip() or username,
        role=role.value,
        password_hash=hash_password(password),
    )
    db.add(user)
    db.flush()
    audit.record(db, actor, "user.create", detail={"user_id": user.id, "role": role.value})
    db.flush()
    return user, password


def get_user(db: Session, user_id: int) -> User:
    """The user with this id; raises NotFound."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("Cet utilisateur n'existe pas.")
    return user


def list_users(db: Session) -> list[User]:
    """Every account, by user name."""
    return list(db.scalars(select(User).order_by(User.username)))


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

    Every attempt is stored (for the per-address lock); the caller commits, even on failure, so
    that failures count.
    """
    throttle = throttle or Throttle()
    now = now or utcnow()
    username = username.strip()
    window_start = now - timedelta(minutes=throttle.ip_window_minutes)
    if ip is not None:
        ip_failures = db.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.ip == ip,
                LoginAttempt.success.is_(False),
                LoginAttempt.at >= window_start,
            )
        )
        if (ip_failures or 0) >= throttle.ip_max_failures:
            db.add(LoginAttempt(at=now, username=username[:80], ip=ip, success=False))
            db.flush()
            raise LoginThrottled()
    user = db.scalar(select(User).where(User.username == username))
    locked_until = as_aware(user.locked_until) if user is not None else None
    if user is not None and locked_until is not None and locked_until > now:
        db.add(LoginAttempt(at=now, username=username[:80], ip=ip, success=False))
        db.flush()
        raise LoginThrottled()
    ok = False
    try:
        ok = _hasher.verify(user.password_hash if user is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if user is None or not ok or not user.active:
        db.add(LoginAttempt(at=now, username=username[:80], ip=ip, success=False))
        if user is not None and user.active:
            user.failed_logins += 1
            if user.failed_logins >= throttle.max_failures:
                user.locked_until = now + timedelta(minutes=throttle.lock_minutes)
                audit.record(
                    db,
                    Actor(username, user.id, ip),
                    "user.locked",
                    detail={"failures": user.failed_logins},
                )
        db.flush()
        raise LoginRefused()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.add(LoginAttempt(at=now, username=username[:80], ip=ip, success=True))
    audit.record(db, Actor(user.username, user.id, ip), "user.login")
    db.flush()
    return user


def set_password(
    db: Session, user_id: int, password: str | None, *, actor: Actor | User
) -> tuple[User, str]:
    """Reset a password (generated when None) and unlock the account; returns the password."""
    user = get_user(db, user_id)
    if password is None:
        password = generate_password()
    else:
        _check_password_rules(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
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
    if active:
        user.failed_logins = 0
        user.locked_until = None
    audit.record(
        db, actor, "user.activate" if active else "user.deactivate", detail={"user_id": user.id}
    )
    db.flush()
    return user


def purge_login_attempts(db: Session, older_than: datetime) -> int:
    """Delete login attempts older than ``older_than``; returns how many."""
    result = db.execute(delete(LoginAttempt).where(LoginAttempt.at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
