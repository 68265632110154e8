"""Every staff and public route against every role, in one table.

Roles: anonymous, a candidate's tablet (the cookie a session code gives), auditeur,
psychometricien, admin. A role that may not use a route gets 403 (logged-in) or the login page
(302; 401 for JSON); a role that may gets the route's own answer, given here exactly. The
tablet's own routes (``/t/...``) are tested in tests/candidate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from placement.sessions import attestations
from placement.sessions.models import TestSession, User
from tests.webui.conftest import CSRF, login, set_csrf
from tests.webui.flows import add_recording, new_session, play_test
from webui.extensions import db

ROLES = ("anonyme", "candidat", "auditeur", "psychometricien", "admin")
DESK = frozenset({"auditeur", "admin"})
ADMIN = frozenset({"admin"})
PSY = frozenset({"psychometricien", "admin"})
EVERYONE = frozenset(ROLES)
STAFF = frozenset({"auditeur", "psychometricien", "admin"})


@dataclass(frozen=True)
class Route:
    """A request, who may make it, and the answer they get."""

    method: str
    path: str
    allowed: frozenset[str]
    status: int  # for an allowed role
    data: dict[str, Any] | None = None
    #: a different answer for some allowed roles (e.g. the login page sends staff home)
    by_role: tuple[tuple[str, int], ...] = ()

    def expected(self, role: str) -> int:
        """The status an allowed ``role`` gets."""
        return dict(self.by_role).get(role, self.status)


def routes(ids: dict[str, Any]) -> list[Route]:
    """The table; ``ids`` are the objects the paths name."""
    s, r, a, c, u = (
        ids["session"],
        ids["response"],
        ids["attestation"],
        ids["candidate"],
        ids["user"],
    )
    return [
        Route("GET", "/", STAFF, 302),
        Route("GET", "/login", EVERYONE, 200, by_role=tuple((r, 302) for r in STAFF)),
        Route("POST", "/login", EVERYONE, 401, {"username": "personne", "password": "faux"}),
        Route("GET", "/favicon.ico", EVERYONE, 200),
        Route("GET", "/verifier/", EVERYONE, 200),
        Route("GET", f"/verifier/{ids['code']}", EVERYONE, 200),
        Route("GET", "/desk/", DESK, 200),
        Route("GET", "/desk/api/sessions", DESK, 200),
        Route("GET", f"/desk/api/sessions/{s}", DESK, 200),
        Route("GET", f"/desk/sessions/{s}", DESK, 200),
        Route("GET", f"/desk/sessions/{s}/plot.svg", DESK, 200),
        Route("GET", f"/desk/sessions/{s}/media/{ids['media']}", DESK, 200),
        Route("GET", f"/desk/recordings/{r}", DESK, 200),
        Route("GET", f"/desk/attestations/{a}.pdf", DESK, 200),
        Route("GET", "/desk/export.csv", DESK, 200),
        Route("POST", "/desk/sessions", DESK, 400, {"dossier_number": ""}),
        Route("POST", f"/desk/sessions/{s}/abandon", DESK, 409),
        Route("POST", f"/desk/sessions/{s}/resume", DESK, 409),
        Route("POST", f"/desk/sessions/{s}/release", DESK, 409),
        Route("POST", f"/desk/sessions/{s}/overrides", DESK, 400, {"target": "?"}),
        Route("POST", f"/desk/sessions/{s}/attestation", DESK, 302),
        Route("GET", "/admin/", ADMIN, 200),
        Route("GET", "/admin/candidats", ADMIN, 200),
        Route("GET", f"/admin/candidats/{c}", ADMIN, 200),
        Route("GET", f"/admin/candidats/{c}/export.zip", ADMIN, 200),
        Route("GET", "/admin/journal", ADMIN, 200),
        Route("POST", "/admin/users", ADMIN, 400, {"username": "", "role": "auditeur"}),
        Route("POST", f"/admin/users/{u}/password", ADMIN, 200),
        Route("POST", f"/admin/users/{u}/active", ADMIN, 302, {"active": "1"}),
        Route("POST", "/admin/purge", ADMIN, 302),
        Route("POST", "/admin/offices", ADMIN, 400, {"name": ""}),
        Route("POST", f"/admin/candidats/{c}/effacer", ADMIN, 400, {"confirm": "non"}),
        Route("GET", "/psy/", PSY, 200),
        Route("GET", "/psy/responses.csv", PSY, 200),
        Route("GET", "/mot-de-passe", STAFF, 200),
        Route("POST", "/mot-de-passe", STAFF, 400, {"current_password": "faux"}),
        Route("POST", "/logout", EVERYONE, 302),
    ]


@pytest.fixture
def objects(
    app: Flask, make_user: Callable[..., tuple[User, str]], speech_wav: bytes
) -> dict[str, Any]:
    """A finished test with a recording and an attestation, a spare account, a waiting test."""
    auditeur, _ = make_user("auditeur")
    spare, _ = make_user("auditeur")
    session_id = new_session(app, auditeur, "75-2026-00900")
    play_test(app, session_id, speech_wav, "right")
    waiting = new_session(app, auditeur, "75-2026-00901")
    with app.app_context():
        session = db.session.get(TestSession, session_id)
        assert session is not None
        response = next(r for r in session.responses if r.skill == "EO")
        add_recording(response, speech_wav)
        user = db.session.get(User, auditeur.id)
        assert user is not None
        issued = attestations.issue_attestation(
            db.session, session_id, user, verify_base_url="http://localhost/verifier"
        )
        db.session.commit()
        from placement.sessions.results import bank_for

        items = bank_for(session).items
        media = next(iter(items.values())).instruction.audio
        return {
            "session": session_id,
            "response": response.id,
            "attestation": issued.id,
            "code": issued.verification_code,
            "candidate": session.candidate_id,
            "user": spare.id,
            "media": media,
            "waiting_code": db.session.get(TestSession, waiting).code,
        }


def client_for(
    role: str,
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    objects: dict[str, Any],
    client: FlaskClient | None = None,
) -> FlaskClient:
    client = client or app.test_client()
    if role == "candidat":
        opened = client.get(f"/t/c/{objects['waiting_code']}")
        assert opened.status_code in (200, 302, 303)
        assert any(c.key == "placement_tablet" for c in client._cookies.values())
    elif role != "anonyme":
        user, password = make_user(role)
        assert login(client, user.username, password).status_code == 302
    set_csrf(client)
    return client


def _call(client: FlaskClient, route: Route, **kwargs: Any) -> Any:
    if route.method == "GET":
        return client.get(route.path, **kwargs)
    return client.post(route.path, data={"csrf_token": CSRF, **(route.data or {})}, **kwargs)


def test_the_table_names_every_route(app: Flask) -> None:
    """A new staff or public route must be added to the table (the tablet's are E2's)."""
    placeholders = dict.fromkeys(
        ("session", "response", "attestation", "candidate", "user", "code", "media"), "1"
    )
    covered = {(r.method, r.path) for r in routes(placeholders)}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("candidate."):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert any(m == method and _matches(rule.rule, p) for m, p in covered), (
                method,
                rule.rule,
            )


def test_every_route_against_every_role(
    app: Flask, make_user: Callable[..., tuple[User, str]], objects: dict[str, Any]
) -> None:
    table = routes(objects)
    for role in ROLES:
        client = client_for(role, app, make_user, objects)
        for route in table[:-1]:  # the last, /logout, ends the session
            _check(role, route, client)
        logout = _call(client, table[-1])
        assert logout.status_code == 302


def _check(role: str, route: Route, client: FlaskClient) -> None:
    response = _call(client, route)
    response.close()  # streamed files (media) are closed as a server would
    where = f"{role} {route.method} {route.path}"
    if role in route.allowed:
        assert response.status_code == route.expected(role), where
        if response.status_code == 302:
            assert "/login" not in response.location, where
    elif role in ("anonyme", "candidat"):
        assert response.status_code == 302, where
        assert "/login" in response.location, where
        if route.path == "/":
            return  # the home page sends everyone somewhere: here, to the login form
        as_json = _call(client, route, headers={"Accept": "application/json"})
        assert as_json.status_code == 401, where
        assert as_json.get_json()["error"]["message"] == "Veuillez vous connecter."
    else:
        assert response.status_code == 403, where
        assert "accès" in response.get_data(as_text=True), where


def _matches(rule: str, path: str) -> bool:
    """Whether a concrete path fits a URL rule such as ``/desk/sessions/<int:session_id>``."""
    import re

    pattern = re.sub(
        r"<path:[a-z_]+>", "\x00", re.escape(rule).replace("\\<", "<").replace("\\>", ">")
    )
    pattern = re.sub(r"<(?:[a-z]+:)?[a-z_]+>", "[^/]+", pattern).replace("\x00", ".+")
    return re.fullmatch(pattern, path) is not None


def test_unknown_pages_and_methods_are_french(app: Flask) -> None:
    client = app.test_client()
    missing = client.get("/nulle-part")
    assert missing.status_code == 404
    assert "Cette page n&#39;existe pas" in missing.text
    assert client.get("/nulle-part", headers={"Accept": "application/json"}).get_json() == {
        "error": {"status": 404, "message": "Cette page n'existe pas."}
    }
    set_csrf(client)
    wrong_method = client.delete("/login", headers={"X-CSRF-Token": CSRF})
    assert wrong_method.status_code == 405
    assert "pas permise" in wrong_method.text


def test_unknown_objects_are_french_404s(client_as: Callable[[str], FlaskClient]) -> None:
    admin = client_as("admin")
    for method, path, message in (
        ("GET", "/desk/sessions/999999", "Cette session de test n&#39;existe pas."),
        ("GET", "/desk/api/sessions/999999", "Cette session de test n&#39;existe pas."),
        ("GET", "/desk/attestations/999999.pdf", "Cette attestation n&#39;existe pas"),
        ("GET", "/admin/candidats/999999", "Ce candidat n&#39;existe pas."),
        ("POST", "/admin/users/999999/password", "Cet utilisateur n&#39;existe pas."),
        ("POST", "/desk/sessions/999999/abandon", "Cette session de test n&#39;existe pas."),
    ):
        response = admin.open(path, method=method, data={"csrf_token": CSRF})
        assert response.status_code == 404, path
        assert message in response.get_data(as_text=True), path
    as_json = admin.get("/desk/api/sessions/999999", headers={"Accept": "application/json"})
    assert as_json.get_json()["error"] == {
        "status": 404,
        "message": "Cette session de test n'existe pas.",
        "kind": "NotFound",
    }
    too_big = admin.post("/admin/purge", data={"csrf_token": CSRF, "x": "y" * (17 * 1024 * 1024)})
    assert too_big.status_code == 413
    assert "trop gros" in too_big.get_data(as_text=True)
