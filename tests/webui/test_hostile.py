"""Hostile input: what a probing tablet or a typo sends gets a 4xx in French and changes nothing.

Two parts: the inputs the probe of issue 14 found answering 500 (ids past 2**63, extreme dates,
a JSON body that is not an object, CR/LF/tab in ``next``, NUL bytes), each checked on SQLite
and PostgreSQL; then a Hypothesis property over **every** route of the app (read from its URL
map, so a new route is covered without editing this file): hostile path values, query strings,
form fields and JSON bodies, from every role, never answer 5xx, and a refusal (4xx) leaves the
database as it was (only the audit trail and the throttling counters may grow).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from placement.sessions.models import Base, TestSession, User
from tests.webui.conftest import CSRF, set_csrf
from tests.webui.test_roles import client_for, objects  # noqa: F401 - the fixture is shared
from webui.extensions import db

#: Tables a refused request may still write: who tried what (audit, throttling, sessions).
_MAY_GROW = frozenset({"audit_event", "login_attempt", "code_attempt", "login_session"})
#: Columns that follow activity, not data (a refused request from the tablet still "saw" it).
_ACTIVITY = frozenset({"last_seen_at", "last_login_at", "updated_at"})

HUGE_IDS = (str(2**63), str(2**63 + 1), str(2**64), "9" * 40)
HOSTILE_STRINGS = (
    "\x00",
    "a\x00b",
    "%00",
    "\r\nSet-Cookie: pris=1",
    "/\r\n/evil.example",
    "/\t/evil.example",
    "\t//evil.example",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "-1",
    "1e309",
    "NaN",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "é" * 3000,
    "x" * 70_000,
    *HUGE_IDS,
)
#: Every form field and query argument a view reads (plus a stranger).
FIELDS = (
    "username",
    "password",
    "new_password",
    "new_password_confirm",
    "current_password",
    "next",
    "jour",
    "dossier",
    "dossier_number",
    "last_name",
    "first_name",
    "birth_date",
    "help_language",
    "non_reader",
    "target",
    "reason",
    "response_id",
    "score",
    "skill",
    "level",
    "kind",
    "hours",
    "optional_trainings",
    "display_name",
    "role",
    "office_id",
    "active",
    "confirm",
    "code",
    "stage",
    "item_id",
    "choice",
    "text",
    "skipped",
    "autre",
)

hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def snapshot(app: Flask) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a refusal must leave alone (activity columns left out)."""
    with app.app_context():
        rows = {}
        for table in Base.metadata.sorted_tables:
            if table.name in _MAY_GROW:
                continue
            columns = [c for c in table.columns if c.name not in _ACTIVITY]
            order = list(table.primary_key.columns)
            rows[table.name] = [
                tuple(row) for row in db.session.execute(select(*columns).order_by(*order))
            ]
        db.session.rollback()
        return rows


# --------------------------------------------------------------------------- the probe's 18


def _probe_cases(ids: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(role, method, path, request kwargs) of each input the probe saw answer 500."""
    huge = 2**63
    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        ("auditeur", "GET", f"/desk/sessions/{huge}", {}),
        ("auditeur", "GET", f"/desk/api/sessions/{huge}", {}),
        ("auditeur", "GET", f"/desk/sessions/{huge}/plot.svg", {}),
        ("auditeur", "GET", f"/desk/sessions/{huge}/media/a.ogg", {}),
        ("auditeur", "GET", f"/desk/attestations/{huge}.pdf", {}),
        ("auditeur", "POST", f"/desk/sessions/{huge}/abandon", {}),
        ("auditeur", "POST", f"/desk/sessions/{huge}/resume", {}),
        ("admin", "GET", f"/admin/candidats/{huge}", {}),
        ("admin", "POST", f"/admin/users/{huge}/password", {}),
        ("auditeur", "GET", "/desk/?jour=9999-12-31", {}),
        ("auditeur", "GET", "/desk/?jour=0001-01-01", {}),
        ("auditeur", "GET", "/desk/export.csv?jour=9999-12-31", {}),
        ("auditeur", "GET", "/desk/api/sessions?jour=0001-01-01", {}),
        (
            "auditeur",
            "POST",
            f"/desk/sessions/{ids['session']}/overrides",
            {"data": {"target": "response", "response_id": str(huge), "score": "1"}},
        ),
        ("candidat", "POST", "/t/etape", {"json": ["consent"]}),
        ("candidat", "POST", "/t/etape", {"json": "consent"}),
        ("anonyme", "GET", "/verifier/ATT-\x00", {}),
        ("auditeur", "GET", "/desk/?jour=2026-01-01\x00", {}),
        ("auditeur", "POST", "/desk/sessions", {"data": {"dossier_number": "75\x00-1"}}),
        ("candidat", "POST", "/t/", {"data": {"code": "K7P\x004QX"}}),
        ("anonyme", "POST", "/login", {"data": {"username": "admin\x00", "password": "x"}}),
    ]
    return cases


def test_the_inputs_that_gave_500_are_refused_in_french(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    objects: dict[str, Any],  # noqa: F811
) -> None:
    cases = _probe_cases(objects)
    roles = {role for role, *_ in cases}
    clients = {role: client_for(role, app, make_user, objects) for role in roles}
    before = snapshot(app)
    for role, method, path, asked in cases:
        client = clients[role]
        kwargs = asked
        if method == "POST" and "json" in asked:
            kwargs = {**asked, "headers": {"X-CSRF-Token": CSRF}}
        elif method == "POST":
            kwargs = {"data": {"csrf_token": CSRF, **asked.get("data", {})}}
        response = client.open(path, method=method, **kwargs)
        where = f"{role} {method} {path!r} {kwargs}"
        assert 400 <= response.status_code < 500, where
        assert response.status_code != 302, where
        body = response.get_data(as_text=True)
        assert "Traceback" not in body, where
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "target",
    [
        "/\r\n/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "\t//evil.example",
        "/ /evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/desk/\x7f",
    ],
)
def test_next_never_leaves_the_site(
    app: Flask, make_user: Callable[..., tuple[User, str]], target: str
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    set_csrf(client)
    page = client.get("/login", query_string={"next": target})
    assert page.status_code == 200
    assert "evil" not in page.get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": user.username, "password": password, "next": target, "csrf_token": CSRF},
    )
    assert response.status_code == 302
    assert response.location == "/desk/"


def test_a_path_on_the_site_is_still_followed(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    user, password = make_user("auditeur")
    client = app.test_client()
    set_csrf(client)
    response = client.post(
        "/login",
        data={
            "username": user.username,
            "password": password,
            "next": "/desk/?jour=2026-11-23",
            "csrf_token": CSRF,
        },
    )
    assert response.location == "/desk/?jour=2026-11-23"


# --------------------------------------------------------------------------- every route


def _routes(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every route of the app but the static files."""
    return [
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.endswith("static")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]


_EXAMPLES: list[int] = []


def _fill(rule: str, values: st.DataObject, ids: dict[str, Any]) -> str:
    """A concrete path for ``rule``: each variable a real id, a huge one or hostile text."""
    from urllib.parse import quote

    def one(match: re.Match[str]) -> str:
        converter = match.group(1) or "string"
        if converter == "int":
            real = [str(v) for v in ids.values() if isinstance(v, int)]
            return str(values.draw(st.sampled_from([*real, *HUGE_IDS, "0"])))
        text = values.draw(hostile_text)
        return quote(text, safe="/" if converter == "path" else "") or "x"

    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", one, rule)


@pytest.mark.slow
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.data())
def test_no_route_answers_5xx_and_a_refusal_changes_nothing(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    objects: dict[str, Any],  # noqa: F811
    values: st.DataObject,
) -> None:
    method, rule = values.draw(st.sampled_from(_routes(app)), label="route")
    role = values.draw(
        st.sampled_from(("anonyme", "candidat", "auditeur", "psychometricien", "admin")),
        label="role",
    )
    path = _fill(rule, values, objects)
    query = values.draw(st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=3))
    kwargs: dict[str, Any] = {"query_string": query}
    if method != "GET":
        body = values.draw(st.sampled_from(("form", "json", "raw")), label="body")
        if body == "form":
            form = values.draw(st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=5))
            kwargs["data"] = {"csrf_token": CSRF, **form}
        elif body == "json":
            kwargs["json"] = values.draw(json_values, label="json")
            kwargs["headers"] = {"X-CSRF-Token": CSRF}
        else:
            kwargs["data"] = values.draw(st.binary(max_size=200))
            kwargs["headers"] = {"X-CSRF-Token": CSRF, "Content-Type": "application/json"}
    # each example from an address of its own: the login throttling is per address
    _EXAMPLES.append(1)
    address = f"10.{len(_EXAMPLES) // 250 % 250}.{len(_EXAMPLES) % 250}.1"
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    if role == "candidat":  # the tablet that opened the code (one device per code)
        with app.app_context():
            token = db.session.scalar(
                select(TestSession.token).where(TestSession.code == objects["waiting_code"])
            )
        client.set_cookie("placement_tablet", str(token), path="/t")
        set_csrf(client)
    else:
        client = client_for(role, app, make_user, objects, client)
    before = snapshot(app)
    response = client.open(path, method=method, **kwargs)
    response.close()
    where = f"{role} {method} {path!r} {json.dumps(kwargs, default=repr)[:300]}"
    assert response.status_code < 500, where
    if response.status_code >= 400:
        assert snapshot(app) == before, where
