"""Export of the collected responses from the platform's database as a responses file.

Reads the ``response`` and ``test_session`` tables (``placement.sessions.models``) of an SQLite
or PostgreSQL database and writes ``person_id, item_id, score, release`` (and ``group`` when
asked) in the project's one responses format (:mod:`placement.responses`). The person id is
the test session's id (``S<id>``) or, with ``pseudonymise=True``, a keyed hash of it whose key
is drawn at random and never stored; names, dossier numbers, answers and recordings never
leave the database. Pretest responses are exported like the others (they are what pretest
seeding is for). Responses still waiting for a score are left out and counted.
"""

from __future__ import annotations

import contextlib
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
        The database cannot be read, has no response table, or has no scored response.
    """
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from placement.sessions.db import make_engine
    from placement.sessions.models import Candidate, Response, TestSession

    key = secrets.token_bytes(32)

    def person(session_id: int) -> str:
        if not pseudonymise:
            return f"S{session_id}"
        digest = hmac.new(key, str(session_id).encode(), hashlib.sha256).hexdigest()
        return f"P{digest[:16]}"

    columns: list[Any] = [
        Response.session_id,
        Response.item_id,
        Response.score,
        TestSession.release_version,
    ]
    if group == "help_language":
        columns.append(Candidate.help_language)
    elif group == "non_reader":
        columns.append(TestSession.non_reader)
    query = select(*columns).join(TestSession, Response.session_id == TestSession.id)
    if group == "help_language":
        query = query.join(Candidate, TestSession.candidate_id == Candidate.id)
    if release_version is not None:
        query = query.where(TestSession.release_version == release_version)
    query = query.order_by(Response.session_id, Response.seq)
    try:
        engine = make_engine(database_url)
    except (SQLAlchemyError, ValueError) as exc:
        reason = str(exc).splitlines()[0]
        raise ExportError(f"impossible d'ouvrir la base {database_url!r} : {reason}") from None
    counts = {"written": 0, "pending": 0}

    def rows(conn: Any) -> Iterator[dict[str, Any]]:
        for row in conn.execute(query):
            session_id, item_id, score, release = row[0], row[1], row[2], row[3]
            if score is None:
                counts["pending"] += 1
                continue
            out = {
                "person_id": person(int(session_id)),
                "item_id": item_id,
                "score": int(score),
                "release": release,
            }
            if group == "help_language":
                out["group"] = row[4] or "inconnue"
            elif group == "non_reader":
                out["group"] = "non-lecteur" if row[4] else "lecteur"
            counts["written"] += 1
            yield out

    target = Path(out)
    staged = target.with_name(f".{target.name}.export")
    extra = ["release", *(["group"] if group else [])]
    try:
        with engine.connect() as conn:
            # staged beside the target and moved in only when complete and not empty, so a
            # failed export never replaces an earlier file
            write_responses(staged, rows(conn), extra)
        if counts["written"] == 0:
            where = f" pour la version {release_version}" if release_version else ""
            raise ExportError(
                f"aucune réponse corrigée dans la base{where} ({counts['pending']} en attente)"
            )
        staged.replace(target)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        message = f"lecture des réponses de {database_url!r} impossible : {reason}"
        raise ExportError(message) from None
    except OSError as exc:
        raise ExportError(f"{target} : écriture impossible ({exc.strerror or exc})") from None
    finally:
        with contextlib.suppress(OSError):  # e.g. the folder of --out is not a folder
            staged.unlink(missing_ok=True)
        engine.dispose()
    return counts["written"]
