"""Logging in, throttling, CSRF, security headers, sessions ended by a reset or deactivation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from placement.sessions import users
from placement.sessions.errors import InvalidInput, LoginRefused, LoginThrottled
from placement.sessions.models import AuditEvent, LoginAttempt, User, utcnow
from tests.webui.conftest import CSRF, login, set_csrf
from webui.extensions import db


def test_login_lands_on_the_role_home_and_is_audited(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    response = login(client, user.username, password)
    assert response.status_code == 302
    assert response.location.endswith("/desk/")
    page = client.get("/desk/")
    assert page.status_code == 200
    assert "Sessions du" in page.text
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.user_id == user.id)
        ).all()
    assert "user.login" in actions


def test_wrong_password_is_refused_in_french_without_saying_which_part(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, _ = make_user("auditeur")
    client = app.test_client()
    wrong = login(client, user.username, "pas le bon mot de passe")
    unknown = login(client, "personne", "pas le bon mot de passe")
    assert wrong.status_code == unknown.status_code == 401
    assert "Identifiant ou mot de passe incorrect" in wrong.text
    assert "Identifiant ou mot de passe incorrect" in unknown.text
    assert client.get("/desk/").status_code == 302  # still anonymous


def test_account_locks_after_repeated_failures_then_reset_unlocks(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    admin, _ = make_user("admin")
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, user.username, "mauvais-mot-de-passe").status_code == 401
    locked = login(client, user.username, password)  # even the right password now
    assert locked.status_code == 429
    assert "Trop d&#39;essais" in locked.text
    with app.app_context():
        _, new_password = users.set_password(
            db.session, user.id, None, actor=db.session.get(User, admin.id)
        )
        db.session.commit()
    assert login(client, user.username, new_password).status_code == 302


def test_lock_expires_after_its_minutes(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    throttle = users.Throttle(max_failures=2, lock_minutes=10)
    with app.app_context():
        start = utcnow()
        for _ in range(2):
            with pytest.raises(LoginRefused):
                users.authenticate(
                    db.session, user.username, "faux-faux-faux", throttle=throttle, now=start
                )
        with pytest.raises(LoginThrottled):
            users.authenticate(
                db.session,
                user.username,
                password,
                throttle=throttle,
                now=start + timedelta(minutes=9),
            )
        ok = users.authenticate(
            db.session,
            user.username,
            password,
            throttle=throttle,
            now=start + timedelta(minutes=11),
        )
        assert ok.id == user.id
        assert ok.failed_logins == 0


def test_an_address_that_guesses_across_accounts_is_throttled(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    throttle = users.Throttle(max_failures=100, ip_max_failures=3, ip_window_minutes=15)
    with app.app_context():
        for name in ("a", "b", "c"):
            with pytest.raises(LoginRefused):
                users.authenticate(
                    db.session, name, "essai-au-hasard", "203.0.113.9", throttle=throttle
                )
        with pytest.raises(LoginThrottled):
            users.authenticate(
                db.session, user.username, password, "203.0.113.9", throttle=throttle
            )
        # another address is not affected
        assert users.authenticate(
            db.session, user.username, password, "198.51.100.1", throttle=throttle
        )
        attempts = db.session.scalar(select(func.count(LoginAttempt.id)))
    assert attempts == 5  # three failures, the throttled try, the success elsewhere


def test_post_without_csrf_token_is_refused(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    response = client.post("/login", data={"username": user.username, "password": password})
    assert response.status_code == 400
    assert "formulaire a expiré" in response.text
    set_csrf(client)
    bad = client.post(
        "/login", data={"username": user.username, "password": password, "csrf_token": "autre"}
    )
    assert bad.status_code == 400
    header = client.post(
        "/login",
        data={"username": user.username, "password": password},
        headers={"X-CSRF-Token": CSRF},
    )
    assert header.status_code == 302  # the header is accepted as well as the field


def test_security_headers_on_every_page(app: Flask) -> None:
    response = app.test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_no_inline_script_in_staff_pages(client_as: Callable[[str], FlaskClient]) -> None:
    client = client_as("admin")
    for path in ("/desk/", "/admin/", "/psy/", "/admin/candidats", "/admin/journal"):
        html = client.get(path).text
        assert "<script>" not in html
        assert "onclick=" not in html, path


def test_password_reset_ends_the_sessions_made_before(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    login(client, user.username, password)
    assert client.get("/desk/").status_code == 200
    with app.app_context():
        users.set_password(db.session, user.id, "un-nouveau-mot-de-passe", actor=users.audit.SYSTEM)
        db.session.commit()
    assert client.get("/desk/").status_code == 302


def test_deactivated_user_is_logged_out_and_cannot_log_in(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    login(client, user.username, password)
    with app.app_context():
        users.set_active(db.session, user.id, False, actor=users.audit.SYSTEM)
        db.session.commit()
    assert client.get("/desk/").status_code == 302
    assert login(client, user.username, password).status_code == 401


def test_logout(client_as: Callable[[str], FlaskClient]) -> None:
    client = client_as("auditeur")
    assert client.post("/logout", data={"csrf_token": CSRF}).status_code == 302
    assert client.get("/desk/").status_code == 302


def test_login_redirects_only_to_local_paths(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    set_csrf(client)
    for target, expected in (
        ("/desk/export.csv", "/desk/export.csv"),
        ("//evil.example/", "/desk/"),
        ("https://evil.example/", "/desk/"),
    ):
        client.post("/logout", data={"csrf_token": CSRF})
        set_csrf(client)
        response = client.post(
            "/login",
            data={
                "username": user.username,
                "password": password,
                "csrf_token": CSRF,
                "next": target,
            },
        )
        assert response.location == expected


def test_user_rules(app: Flask) -> None:
    with app.app_context():
        with pytest.raises(InvalidInput, match="au moins 10"):
            users.create_user(db.session, "court", "Court", "auditeur", "123")
        with pytest.raises(InvalidInput, match="Rôle inconnu"):
            users.create_user(db.session, "x-user", "X", "pirate")
        user, password = users.create_user(db.session, "dupont", "M. Dupont", "auditeur")
        assert len(password) >= 12
        assert password not in user.password_hash
        assert user.password_hash.startswith("$argon2id$")
        with pytest.raises(users.Conflict):
            users.create_user(db.session, "dupont", "Autre", "admin")
        with pytest.raises(users.Conflict, match="propre compte"):
            users.set_active(db.session, user.id, False, actor=user)
