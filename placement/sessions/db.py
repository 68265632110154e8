"""Database engines, sessions and schema upgrades (Alembic), for any SQLAlchemy URL.

SQLite (the default, one machine) and PostgreSQL (production) are both supported. A
``postgresql://`` URL is served by psycopg 3. SQLite connections get foreign keys on, WAL
journaling and a busy timeout so that the web server's threads and the transcription workers
can write at the same time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

#: The Alembic scripts: the top-level ``migrations/`` folder of the project.
MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"

#: How long an SQLite writer waits for the lock before giving up (ms).
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """The URL with the driver spelled out: ``postgresql://`` and ``postgres://`` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets per-connection pragmas and a file-friendly pool."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """A factory of sessions bound to ``engine``; objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Any:
    """The Alembic configuration for ``url`` (script location: ``migrations/``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation: a literal % in a password must be doubled
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def _broken_keys(connection: Any) -> set[tuple[Any, ...]]:
    """SQLite's rows whose foreign key points nowhere (table, rowid, parent, key index)."""
    return {tuple(row) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")}


def upgrade(url: str, revision: str = "head", engine: Engine | None = None) -> None:
    """Bring the schema of the database at ``url`` to ``revision`` (default: the newest).

    With ``engine``, its connection is used (e.g. an in-memory SQLite database shared with the
    caller); otherwise an engine is made for the URL and disposed of afterwards.
    """
    from alembic import command

    config = alembic_config(url)
    own = engine is None
    engine = engine or make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                # SQLite alters a table by rebuilding it; with foreign keys on, dropping the old
                # copy of a table others point at fails. The pragma only works outside a
                # transaction: off now, every key checked before the commit, on again after.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    before = _broken_keys(connection) if sqlite else set()
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                    # only what the migration broke: rows already orphaned stay as they were
                    broken = (_broken_keys(connection) - before) if sqlite else set()
                    if broken:
                        raise RuntimeError(f"foreign keys broken by the migration: {broken}")
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    finally:
        if own:
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def table_names(engine: Engine) -> list[str]:
    """The tables in the database (used by tests and the ``upgrade-db`` command)."""
    return sorted(inspect(engine).get_table_names())
