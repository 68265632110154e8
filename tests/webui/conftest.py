"""Fixtures of the web platform's tests: the app on SQLite and on PostgreSQL, users, clients.

``db_url`` is parametrised: every test that uses the database runs once on SQLite (a fresh file
copied from a migrated template) and once on PostgreSQL (its own database for this test run,
``placement_<random>``, migrated once, emptied between tests, dropped at the end).
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from placement.sessions import users
from placement.sessions.db import make_engine, upgrade
from placement.sessions.models import Base, User
from tests.speech import speak
from webui import create_app
from webui.extensions import db

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CSRF = "jeton-de-test"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at its production cost takes ~0.3 s a hash on 2 shared cores: too slow here."""
    users.set_hash_parameters(time_cost=1, memory_cost=1024)
    yield
    users.set_hash_parameters(time_cost=3, memory_cost=65536, parallelism=4)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of this test run, migrated once; dropped at the end."""
    name = f"placement_{secrets.token_hex(6)}"
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            # a throw-away database: no need to wait for each commit to reach the disk
            conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _empty_pg(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite file or this run's PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "placement.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _empty_pg(url)
    return url


@pytest.fixture(scope="session")
def test_bank(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small complete bank published as a real release, and short CAT rules (about ten
    items): the tablet's test bank (tests/candidate/testbank.py), shared to test the same app."""
    from tests.candidate import testbank

    return testbank.publish(tmp_path_factory.mktemp("bank"))


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A French sentence spoken by espeak-ng (WAV bytes), for the microphone check."""
    path = tmp_path_factory.mktemp("speech") / "micro.wav"
    speak("Bonjour, je m'appelle Amina. J'habite à Paris.", path)
    return path.read_bytes()


@pytest.fixture
def app(db_url: str, tmp_path: Path, test_bank: tuple[Path, Path]) -> Iterator[Flask]:
    """The app on the test database and the test bank (CSRF on, as in production)."""
    from placement.sessions.bankcache import set_default_root

    root, rules = test_bank
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": db_url,
            "SECRET_KEY": "clé-de-test",
            "AUTO_UPGRADE": False,
            "QUEUE": "sync",
            "RETENTION_DAYS": 30,
            "BANK_ROOT": str(root),
            "RULES": str(rules),
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    set_default_root(None)


@pytest.fixture
def served(app: Flask) -> Iterator[str]:
    """The app served by waitress (the production server) on a free loopback port."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.fixture
def triage_band(app: Flask, tmp_path: Path) -> Callable[[float, float], Path]:
    """Factory: ``triage_band(lo, hi)`` makes the test bank's rules, with the referral band
    ``refer_between: [lo, hi]``, the rules of the tests started from then on."""

    def make(lo: float, hi: float) -> Path:
        rules = yaml.safe_load(Path(app.config["RULES"]).read_text(encoding="utf-8"))
        rules["triage"] = {"refer_between": [lo, hi]}
        path = tmp_path / "band.yaml"
        path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
        app.config["RULES"] = str(path)
        return path

    return make


@pytest.fixture
def dbs(app: Flask) -> Iterator[Session]:
    """A database session in an app context, for calling operations directly."""
    with app.app_context():
        yield db.session


@pytest.fixture
def make_user(app: Flask) -> Callable[..., tuple[User, str]]:
    """Factory: ``make_user(role, username=None)`` -> (user, password)."""

    def make(
        role: str, username: str | None = None, password: str | None = None
    ) -> tuple[User, str]:
        with app.app_context():
            user, pw = users.create_user(
                db.session,
                username or f"{role}-{secrets.token_hex(3)}",
                f"{role.title()} Test",
                role,
                password,
            )
            db.session.commit()
            db.session.expunge(user)
            return user, pw

    return make


def set_csrf(client: FlaskClient) -> str:
    """Put a known CSRF token in the client's session; returns it."""
    with client.session_transaction() as session:
        session["csrf_token"] = CSRF
    return CSRF


def login(client: FlaskClient, username: str, password: str) -> Any:
    """Log in through the real form (with its CSRF token)."""
    set_csrf(client)
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": CSRF}
    )
    # logging in starts a new session: put the known token back
    set_csrf(client)
    return response


@pytest.fixture
def auditeur(app: Flask, make_user: Callable[..., tuple[User, str]]) -> tuple[User, FlaskClient]:
    """An auditeur and a test client logged in as them."""
    user, password = make_user("auditeur")
    client = app.test_client()
    assert login(client, user.username, password).status_code == 302
    return user, client


@pytest.fixture
def client_as(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> Callable[[str], FlaskClient]:
    """Factory: a test client logged in with a new account of ``role``."""

    def make(role: str) -> FlaskClient:
        user, password = make_user(role)
        client = app.test_client()
        response = login(client, user.username, password)
        assert response.status_code == 302, response.text
        return client

    return make
