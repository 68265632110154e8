"""Fixtures of the tablet's tests: a real bank release, the app on SQLite and PostgreSQL.

``db_url`` is parametrised over SQLite (a fresh file per test) and PostgreSQL (one database
``placement_<random>`` per test session on 127.0.0.1, emptied between tests, dropped at the end),
so every test that uses the app runs on both.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from tests.candidate import testbank
from tests.speech import speak

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


@pytest.fixture(scope="session")
def test_bank() -> Iterator[tuple[Path, Path]]:
    """(releases root, rules file) of the small test bank, published once per session."""
    # a short path: the session row keeps the rules file's path in a VARCHAR(80)
    base = Path(tempfile.mkdtemp(prefix="tb"))
    try:
        yield testbank.publish(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL database of our own for this test session, at the newest schema."""
    import psycopg

    from placement.sessions.db import upgrade

    name = f"placement_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True)
    except psycopg.OperationalError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        from placement.sessions import jobs

        for engine in jobs._engines.values():
            engine.dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _empty_tables(url: str) -> None:
    from placement.sessions.db import make_engine
    from placement.sessions.models import Base

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database brought to the newest schema by the migrations, once per session."""
    from placement.sessions.db import upgrade

    path = tmp_path_factory.mktemp("template") / "placement.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL, on SQLite (a fresh copy of the migrated template) and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "placement.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_url")
    _empty_tables(url)
    return url


@pytest.fixture
def app(db_url: str, test_bank: tuple[Path, Path], tmp_path: Path) -> Iterator[Flask]:
    """The whole app (E1's factory with the tablet's blueprint) on the test bank."""
    from webui import create_app

    root, rules = test_bank
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "tests-secret",
            "DATABASE_URL": db_url,
            "AUTO_UPGRADE": False,  # both databases are at the newest schema already
            "BANK_ROOT": str(root),
            "RULES": str(rules),
            "QUEUE": "sync",
            "RECORDING_MAX_BYTES": 2 * 1024 * 1024,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    yield app
    from placement.sessions.bankcache import set_default_root
    from webui.extensions import db

    with app.app_context():
        db.engine.dispose()
    set_default_root(None)


@pytest.fixture
def start_test(app: Flask, test_bank: tuple[Path, Path]) -> Callable[..., dict[str, Any]]:
    """A factory: an auditeur starts a test for a new candidate; returns its code and ids."""
    from placement.sessions import operations
    from placement.sessions.models import Role
    from placement.sessions.users import create_user
    from webui.extensions import db

    counter = iter(range(1, 10_000))
    _, rules = test_bank

    def start(
        *, non_reader: bool = False, language: str | None = None, rules_file: Path | None = None
    ) -> dict[str, Any]:
        n = next(counter)
        with app.app_context():
            session = db.session
            user, _ = create_user(
                session, f"auditeur{n}", f"Agent {n}", Role.AUDITEUR, "mot-de-passe-tres-long-1"
            )
            candidate = operations.create_candidate(
                session,
                user,
                dossier_number=f"75-2026-{n:05d}",
                last_name="Diallo",
                first_name="Amina",
                non_reader=non_reader,
            )
            test = operations.start_session(
                session, candidate.id, user, rules=str(rules_file or rules), language=language
            )
            session.commit()
            return {
                "code": test.code,
                "session_id": test.id,
                "user_id": user.id,
                "token": test.token,
            }

    return start


@pytest.fixture
def tablet(app: Flask) -> FlaskClient:
    """A test client playing the tablet."""
    return app.test_client()


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A French answer spoken by espeak-ng, as a WAV file's bytes."""
    path = tmp_path_factory.mktemp("speech") / "reponse.wav"
    speak("Bonjour, je m'appelle Amina. J'habite à Paris.", path)
    return path.read_bytes()
