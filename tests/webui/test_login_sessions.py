"""Login sessions end on the server; passwords are changed by their owners; the lock is per
(account, address) with back-off, so nobody can lock someone else out from elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placement.sessions import users
from placement.sessions.errors import LoginRefused, LoginThrottled
from placement.sessions.models import AuditEvent, LoginSession, User, utcnow
from tests.webui.conftest import CSRF, login, set_csrf
from webui.cli import create_demo_accounts, write_demo_passwords
from webui.extensions import db

NEW = "un mot de passe à moi"


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s cookies (a saved or stolen cookie)."""
    thief = app.test_client()
    for cookie in client._cookies.values():
        thief.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)
    return thief


def _change(client: FlaskClient, current: str, new: str = NEW, confirm: str | None = None) -> Any:
    return client.post(
        "/mot-de-passe",
        data={
            "current_password": current,
            "new_password": new,
            "new_password_confirm": new if confirm is None else confirm,
            "csrf_token": CSRF,
        },
    )


def test_a_cookie_saved_before_logout_opens_nothing_after(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    login(client, user.username, password)
    saved = _copy(app, client)
    assert saved.get("/desk/").status_code == 200
    assert client.post("/logout", data={"csrf_token": CSRF}).status_code == 302
    refused = saved.get("/desk/")
    assert refused.status_code == 302
    assert "/login" in refused.location
    with app.app_context():
        ended = db.session.scalars(select(LoginSession.ended_at)).all()
    assert len(ended) == 1
    assert ended[0] is not None


def test_changing_ones_password_ends_every_other_session(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    here, elsewhere = app.test_client(), app.test_client()
    login(here, user.username, password)
    login(elsewhere, user.username, password)
    saved = _copy(app, here)
    wrong = _change(here, "pas le bon mot de passe")
    assert wrong.status_code == 400
    assert "actuel n&#39;est pas le bon" in wrong.text
    mismatch = _change(here, password, confirm="autre chose encore")
    assert mismatch.status_code == 400
    assert "diffèrent" in mismatch.text
    assert _change(here, password, new="court").status_code == 400
    changed = _change(here, password)
    assert changed.status_code == 302
    set_csrf(here)
    assert here.get("/desk/").status_code == 200  # this browser goes on with a new session
    assert elsewhere.get("/desk/").status_code == 302
    assert saved.get("/desk/").status_code == 302
    assert login(app.test_client(), user.username, password).status_code == 401
    assert login(app.test_client(), user.username, NEW).status_code == 302
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "user.password_change" in actions


def test_an_account_made_by_an_admin_changes_its_password_at_first_login(
    app: Flask, client_as: Callable[[str], FlaskClient]
) -> None:
    admin = client_as("admin")
    page = admin.post(
        "/admin/users",
        data={"username": "n.martin", "display_name": "N. Martin", "role": "auditeur"}
        | {"csrf_token": CSRF},
    )
    assert page.status_code == 200
    given = re.search(r"id=\"new-password\">([^<]+)<", page.text)
    assert given is not None, page.text
    client = app.test_client()
    first = login(client, "n.martin", given.group(1))
    assert first.status_code == 302
    assert first.location.endswith("/mot-de-passe")
    blocked = client.get("/desk/")
    assert blocked.status_code == 302
    assert blocked.location.endswith("/mot-de-passe")
    as_json = client.get("/desk/api/sessions", headers={"Accept": "application/json"})
    assert as_json.status_code == 403
    assert "mot de passe" in as_json.get_json()["error"]["message"]
    assert client.get("/mot-de-passe").status_code == 200
    assert _change(client, given.group(1)).status_code == 302
    set_csrf(client)
    assert client.get("/desk/").status_code == 200
    # a reset by the admin hands over a new password: to be changed again
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "n.martin"))
        assert user is not None
        assert not user.must_change_password
        users.set_password(db.session, user.id, None, actor=users.audit.SYSTEM)
        db.session.commit()
        assert user.must_change_password


def test_demo_accounts_change_their_password_first_and_expire(
    app: Flask, tmp_path: pytest.TempPathFactory
) -> None:
    made = create_demo_accounts(app)
    assert {m[0] for m in made} == {"admin", "auditeur", "psychometre"}
    path = write_demo_passwords(app, made)
    assert path.stat().st_mode & 0o077 == 0
    password = {m[0]: m[2] for m in made}["auditeur"]
    assert password in path.read_text()
    client = app.test_client()
    assert login(client, "auditeur", password).location.endswith("/mot-de-passe")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "auditeur"))
        assert user is not None
        assert user.expires_at is not None
        days = (user.expires_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)).days
        assert days == app.config["DEMO_ACCOUNT_DAYS"] - 1
        with pytest.raises(LoginRefused):
            users.authenticate(
                db.session, "auditeur", password, now=utcnow() + timedelta(days=days + 2)
            )
        # an open session ends with the account
        user.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/mot-de-passe").status_code == 302
    assert login(app.test_client(), "auditeur", password).status_code == 401


def test_the_lock_is_per_account_and_address_and_backs_off(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("admin")
    throttle = users.Throttle(max_failures=3, lock_minutes=10, ip_max_failures=1000)
    attacker, office = "203.0.113.66", "198.51.100.7"
    with app.app_context():
        start = utcnow()

        def attempt(secret: str, ip: str, minutes: float) -> User:
            return users.authenticate(
                db.session,
                user.username,
                secret,
                ip,
                throttle=throttle,
                now=start + timedelta(minutes=minutes),
            )

        for k in range(3):
            with pytest.raises(LoginRefused) as refused:
                attempt("devine", attacker, k * 0.1)
            assert not isinstance(refused.value, LoginThrottled)
        with pytest.raises(LoginThrottled):
            attempt(password, attacker, 1)
        # the admin, from the office, is not locked out by someone else's guesses
        assert attempt(password, office, 1).id == user.id
        # the lock lifts after 10 minutes; one more failure locks for 20, then 40
        with pytest.raises(LoginRefused):
            attempt("devine", attacker, 10.3)
        with pytest.raises(LoginThrottled):
            attempt(password, attacker, 10.3 + 19)
        with pytest.raises(LoginRefused):
            attempt("devine", attacker, 10.3 + 21)
        with pytest.raises(LoginThrottled):
            attempt(password, attacker, 10.3 + 21 + 39)
        assert attempt(password, attacker, 10.3 + 21 + 41).id == user.id
        locked = db.session.scalars(
            select(AuditEvent.ip).where(AuditEvent.action == "user.locked")
        ).all()
    assert locked == [attacker]


def test_a_reset_unlocks_the_account_from_every_address(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, _ = make_user("auditeur")
    throttle = users.Throttle(max_failures=2, lock_minutes=10)
    with app.app_context():
        for _ in range(2):
            with pytest.raises(LoginRefused):
                users.authenticate(db.session, user.username, "x", "192.0.2.1", throttle=throttle)
        _, new = users.set_password(db.session, user.id, None, actor=users.audit.SYSTEM)
        assert users.authenticate(db.session, user.username, new, "192.0.2.1", throttle=throttle)


def test_logging_in_again_works_when_a_poll_sent_before_logout_answers_after_it(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    """The desk polls its lists: a poll in flight when the auditeur logs out answers with the
    old cookie (its login session ended), which the browser keeps. The login page shown after
    the logout must still accept its own form then, not answer « Demande refusée »."""
    user, password = make_user("auditeur")
    client = app.test_client()
    login(client, user.username, password)
    in_flight = _copy(app, client)  # the poll's request left with the cookie of before
    assert client.post("/logout", data={"csrf_token": CSRF}).status_code == 302
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    # the poll answers now: its cookie (login session ended, sid dropped) replaces the browser's
    polled = in_flight.get("/desk/", headers={"Accept": "application/json"})
    assert polled.status_code == 401
    old = in_flight.get_cookie("placement_session")
    assert old is not None
    client.set_cookie("placement_session", old.value)
    again = client.post(
        "/login",
        data={"username": user.username, "password": password, "csrf_token": token.group(1)},
    )
    assert again.status_code == 302, again.get_data(as_text=True)[:300]
    assert "/desk" in again.location
