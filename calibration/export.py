"""Export of the collected responses from the platform's database as a responses file.

Reads the test sessions of an SQLite or PostgreSQL database (``placement.sessions.models``) and
writes ``person_id, item_id, score, release`` (and ``group`` when asked) in the project's one
responses format (:mod:`placement.responses`). Each score is the effective one: an auditeur's
correction over the machine's score, as the psychometrician page's download gives it (one
iterator, ``placement.sessions.exports.scored_responses``, serves both). The person id is the
test session's id (``S<id>``) or, with ``pseudonymise=True``, a keyed hash of it whose key is
drawn at random and never stored; names, dossier numbers, answers and recordings never leave
the database. Pretest responses are exported like the others (they are what pretest seeding is
for). Responses still waiting for a score are left out and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from calibration.errors import ExportError
from placement.responses import write_responses

GroupColumn = Literal["help_language", "non_reader"]


def export_responses(
    database_url: str,
    out: str | Path,
    *,
    release_version: str | None = None,
    group: GroupColumn | None = None,
    pseudonymise: bool = False,
) -> int:
    """Write the scored responses of the database to ``out``; returns how many.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL (``sqlite:///path.db``, ``postgresql://user@host/db``).
    out : path
        The CSV to write.
    release_version : str, optional
        Only responses of test sessions given under this bank release.
    group : {"help_language", "non_reader"}, optional
        Add a ``group`` column for DIF from this candidate attribute.
    pseudonymise : bool
        Hash the session ids with a random, unstored key.

    Raises
    ------
    ExportError
        The database cannot be read (a SQLite file that does not exist is not created), has no
        response table, or has no scored response.
    """
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from placement.responses import TooFewRows
    from placement.sessions.db import make_engine
    from placement.sessions.exports import scored_responses

    missing = _missing_sqlite_file(database_url)
    if missing is not None:
        # SQLite would create an empty database (and its folders) there: a typo is said instead
        raise ExportError(f"base SQLite introuvable : {missing}")
    key = secrets.token_bytes(32)

    def person(session_id: int) -> str:
        if not pseudonymise:
            return f"S{session_id}"
        digest = hmac.new(key, str(session_id).encode(), hashlib.sha256).hexdigest()
        return f"P{digest[:16]}"

    try:
        engine = make_engine(database_url)
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise ExportError(f"impossible d'ouvrir la base {database_url!r} : {reason}") from None
    counts = {"written": 0, "pending": 0}

    def rows(db: Session) -> Iterator[dict[str, Any]]:
        with_candidate = group == "help_language"
        for session, response, score in scored_responses(
            db, release_version, with_candidate=with_candidate
        ):
            if score is None:
                counts["pending"] += 1
                continue
            row: dict[str, Any] = {
                "person_id": person(session.id),
                "item_id": response.item_id,
                "score": int(score),
                "release": session.release_version,
            }
            if group == "help_language":
                row["group"] = session.candidate.help_language or "inconnue"
            elif group == "non_reader":
                row["group"] = "non-lecteur" if session.non_reader else "lecteur"
            counts["written"] += 1
            yield row

    target = Path(out)
    extra = ["release", *(["group"] if group else [])]
    try:
        with Session(engine) as db:
            # written beside the target and moved in only when complete and not empty, so a
            # failed export never replaces an earlier file
            write_responses(target, rows(db), extra, min_rows=1)
    except TooFewRows:
        where = f" pour la version {release_version}" if release_version else ""
        raise ExportError(
            f"aucune réponse corrigée dans la base{where} ({counts['pending']} en attente)"
        ) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if "test_session" in reason and ("no such table" in reason or "does not exist" in reason):
            # SQLite's and PostgreSQL's words for a database without the platform's tables
            raise ExportError(
                f"{database_url!r} n'est pas une base de la plateforme (pas de table "
                "test_session ; `placement-web upgrade-db` crée les tables d'une base neuve)"
            ) from None
        message = f"lecture des réponses de {database_url!r} impossible : {reason}"
        raise ExportError(message) from None
    except OSError as exc:
        raise ExportError(f"{target} : écriture impossible ({exc.strerror or exc})") from None
    finally:
        engine.dispose()
    return counts["written"]


def _missing_sqlite_file(database_url: str) -> Path | None:
    """The file of a SQLite URL when it does not exist (None for other databases)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return None  # make_engine says why
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri"):
        return None  # a sqlite3 URI ("file:...?mode=ro"): its own rules
    path = Path(url.database)
    return None if path.is_file() else path
