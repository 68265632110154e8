"""The database extension, in the manner of flask-sqlalchemy-lite.

``db.engine`` is the app's engine; ``db.session`` is a SQLAlchemy ``Session`` made on first use in
an app context (one per request) and closed at teardown. Views own the transaction: they call
operations, then ``db.session.commit()``; anything not committed is rolled back at teardown.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from placement.sessions.db import make_engine, session_factory

_EXTENSION_KEY = "placement.db"
_G_KEY = "_placement_db_session"


@dataclass(slots=True)
class _State:
    engine: Engine
    factory: sessionmaker[Session]


class Database:
    """Engine and request-scoped session for the app's ``DATABASE_URL``."""

    def init_app(self, app: Flask) -> None:
        """Make the engine for ``app.config["DATABASE_URL"]`` and close sessions at teardown."""
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions[_EXTENSION_KEY] = _State(engine, session_factory(engine))
        app.teardown_appcontext(self._close)

    @staticmethod
    def _state() -> _State:
        state: _State = current_app.extensions[_EXTENSION_KEY]
        return state

    @property
    def engine(self) -> Engine:
        """The engine of the current app."""
        return self._state().engine

    @property
    def factory(self) -> sessionmaker[Session]:
        """The session factory of the current app (for threads outside a request)."""
        return self._state().factory

    @property
    def session(self) -> Session:
        """The session of the current app context, made on first use."""
        session: Session | None = g.get(_G_KEY)
        if session is None:
            session = self._state().factory()
            setattr(g, _G_KEY, session)
        return session

    @staticmethod
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop(_G_KEY, None)
        if session is not None:
            session.close()


db = Database()
