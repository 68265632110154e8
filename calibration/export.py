"""Export of the collected responses from the platform's database as a long CSV.

Reads the ``response`` and ``test_session`` tables (``placement.sessions.models``) of an SQLite
or PostgreSQL database and writes ``person_id, item_id, score, release`` (and ``group`` when
asked). The person id is the test session's id (``S<id>``) or, with ``pseudonymise=True``, a
keyed hash of it whose key is drawn at random and never stored; names, dossier numbers,
answers and recordings never leave the database. Pretest responses are exported like the
others (they are what pretest seeding is for). Responses still waiting for a score are left
out and counted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any, Literal

from calibration.errors import ExportError
from placement import csvsafe

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
        raise ExportError(f"cannot open the database {database_url!r}: {exc}") from None
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = pending = 0
    try:
        with engine.connect() as conn, target.open("w", newline="", encoding="utf-8") as handle:
            writer = csvsafe.writer(handle, lineterminator="\n")  # formulas stay text
            writer.writerow(
                ["person_id", "item_id", "score", "release", *(["group"] if group else [])]
            )
            for row in conn.execute(query):
                session_id, item_id, score, release = row[0], row[1], row[2], row[3]
                if score is None:
                    pending += 1
                    continue
                extra = []
                if group == "help_language":
                    extra = [row[4] or "inconnue"]
                elif group == "non_reader":
                    extra = ["non-lecteur" if row[4] else "lecteur"]
                writer.writerow([person(int(session_id)), item_id, int(score), release, *extra])
                written += 1
    except SQLAlchemyError as exc:
        target.unlink(missing_ok=True)
        raise ExportError(f"cannot read responses from {database_url!r}: {exc}") from None
    finally:
        engine.dispose()
    if written == 0:
        target.unlink(missing_ok=True)
        where = f" under release {release_version}" if release_version else ""
        raise ExportError(f"no scored response in the database{where} ({pending} pending)")
    return written
