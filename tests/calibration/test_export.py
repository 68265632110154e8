"""Export of responses from the platform's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

import pytest

from calibration.cli import main
from calibration.errors import ExportError
from calibration.export import export_responses


def _fill(url: str) -> None:
    from sqlalchemy.orm import Session

    from placement.sessions.db import make_engine
    from placement.sessions.models import Base, Candidate, Office, Response, TestSession

    engine = make_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        office = Office(name="Bureau")
        db.add(office)
        db.flush()
        for k, (name, language, release) in enumerate(
            [
                ("Diallo", "peul", "2026.11.0"),
                ("Nguyen", None, "2026.11.0"),
                ("Haddad", "arabe", "2026.10.0"),
            ]
        ):
            cand = Candidate(
                dossier_number=f"D-{uuid.uuid4().hex[:8]}", last_name=name, first_name="Awa",
                help_language=language,
            )  # fmt: skip
            db.add(cand)
            db.flush()
            session = TestSession(
                candidate_id=cand.id, code=uuid.uuid4().hex[:8], token=uuid.uuid4().hex,
                release_version=release, policy="cir-2016", seed=k, office_id=office.id,
            )  # fmt: skip
            db.add(session)
            db.flush()
            db.add_all(
                [
                    Response(session_id=session.id, seq=1, item_id="CO-001", skill="CO", score=1),
                    Response(session_id=session.id, seq=2, item_id="CE-002", skill="CE", score=0),
                    Response(session_id=session.id, seq=3, item_id="EO-003", skill="EO",
                             score=2 if k != 1 else None, max_score=3),
                    Response(session_id=session.id, seq=4, item_id="CO-009", skill="CO",
                             score=1, pretest=True),
                ]
            )  # fmt: skip
        db.commit()
    engine.dispose()


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_export_from_sqlite_keeps_no_name(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _fill(url)
    out = tmp_path / "responses.csv"
    n = export_responses(url, out, group="help_language")
    rows = _rows(out)
    assert n == len(rows) == 11  # 12 responses, one still waiting for its score
    assert list(rows[0]) == ["person_id", "item_id", "score", "release", "group"]
    assert {r["person_id"] for r in rows} == {"S1", "S2", "S3"}
    assert {r["group"] for r in rows} == {"peul", "inconnue", "arabe"}
    text = out.read_text(encoding="utf-8")
    for secret in ("Diallo", "Nguyen", "Haddad", "Awa", "D-"):
        assert secret not in text
    assert any(r["item_id"] == "CO-009" for r in rows)  # pretest responses are exported


def test_export_takes_the_auditeurs_corrections(tmp_path):
    """Calibration learns from the effective score, as the psychometrician page's download."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from placement.sessions.db import make_engine
    from placement.sessions.models import Override, Response, User

    url = f"sqlite:///{tmp_path / 'app.db'}"
    _fill(url)
    engine = make_engine(url)
    with Session(engine) as db:
        user = User(username="a", display_name="A", role="auditeur", password_hash="x")
        db.add(user)
        db.flush()
        by_key = {(r.session_id, r.item_id): r for r in db.scalars(select(Response))}
        for (session_id, item_id), score in {(1, "CE-002"): 1, (2, "EO-003"): 3}.items():
            response = by_key[session_id, item_id]
            db.add(
                Override(
                    session_id=session_id, response_id=response.id, user_id=user.id,
                    target="response", from_value={"score": response.score},
                    to_value={"score": score}, reason="Réécoutée.",
                )
            )  # fmt: skip
        db.commit()
    engine.dispose()
    out = tmp_path / "responses.csv"
    assert export_responses(url, out) == 12  # the waiting one now has the auditeur's score
    scores = {(r["person_id"], r["item_id"]): r["score"] for r in _rows(out)}
    assert scores["S1", "CE-002"] == "1"  # corrected from the machine's 0
    assert scores["S2", "EO-003"] == "3"
    assert scores["S3", "CE-002"] == "0"  # untouched


def test_export_filters_by_release_and_pseudonymises(tmp_path):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _fill(url)
    out = tmp_path / "r.csv"
    assert main(["export", "--database", url, "--out", str(out), "--release-version", "2026.10.0",
                 "--pseudonymise"]) == 0  # fmt: skip
    rows = _rows(out)
    assert len(rows) == 4
    assert {r["release"] for r in rows} == {"2026.10.0"}
    (person,) = {r["person_id"] for r in rows}
    assert person.startswith("P")
    assert len(person) == 17


def test_export_of_an_empty_or_missing_database_is_a_clear_error(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _fill(url)
    with pytest.raises(
        ExportError, match="aucune réponse corrigée dans la base pour la version 19"
    ):
        export_responses(url, tmp_path / "x.csv", release_version="1999.1.0")
    assert not (tmp_path / "x.csv").exists()
    # a failed export leaves an earlier file as it was
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("person_id,item_id,score\nS1,CO-001,1\n", encoding="utf-8")
    with pytest.raises(ExportError):
        export_responses(url, earlier, release_version="1999.1.0")
    assert earlier.read_text(encoding="utf-8") == "person_id,item_id,score\nS1,CO-001,1\n"
    status = main(
        [
            "export",
            "--database",
            f"sqlite:///{tmp_path / 'none.db'}",
            "--out",
            str(tmp_path / "y.csv"),
        ]
    )
    assert status == 2
    assert "calibration : erreur : base SQLite introuvable : " in capsys.readouterr().err


def test_exporting_from_a_mistyped_sqlite_path_creates_nothing(tmp_path):
    """A read-only export must not leave an empty database (and its folders) at a typo."""
    missing = tmp_path / "instanse" / "placement.db"
    with pytest.raises(ExportError, match=f"base SQLite introuvable : {missing}"):
        export_responses(f"sqlite:///{missing}", tmp_path / "r.csv")
    assert not missing.parent.exists()
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.postgres
def test_export_from_postgresql(tmp_path):
    from sqlalchemy import text

    from placement.sessions.db import make_engine

    schema_db = f"calib_{uuid.uuid4().hex[:8]}"
    admin = make_engine("postgresql://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{schema_db}"'))
    except Exception as exc:  # the server is part of the environment; say so when it is not
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    url = f"postgresql://postgres@127.0.0.1:5432/{schema_db}"
    try:
        _fill(url)
        out = tmp_path / "pg.csv"
        assert export_responses(url, out) == 11
        assert {r["person_id"] for r in _rows(out)} == {"S1", "S2", "S3"}
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{schema_db}" WITH (FORCE)'))
        admin.dispose()


def test_an_export_that_cannot_be_written_is_one_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'app.db'}"
    _fill(url)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    assert main(["export", "--database", url, "--out", str(blocker / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("calibration : erreur : ")
    assert err.count("\n") == 1
    assert str(blocker) in err


def test_exporting_from_a_database_that_is_not_the_platforms_says_so(tmp_path, capsys):
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    assert (
        main(["export", "--database", f"sqlite:///{other}", "--out", str(tmp_path / "r.csv")]) == 2
    )
    err = capsys.readouterr().err
    assert "n'est pas une base de la plateforme (pas de table test_session" in err
    assert "no such table" not in err
