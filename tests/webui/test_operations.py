"""Operations on candidates and sessions called directly (the desk's views are thin over them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from placement.sessions import operations, retention
from placement.sessions.errors import Conflict, Forbidden, InvalidInput, NotFound
from placement.sessions.models import AuditEvent, SessionState, User, utcnow
from webui.extensions import db


def test_start_session_choices_and_refusals(
    app: Flask, make_user: Callable[..., tuple[User, str]]
) -> None:
    rules = app.config["RULES"]
    made = {role: make_user(role)[0].id for role in ("auditeur", "psychometricien", "admin")}
    with app.app_context():
        auditeur, psy, admin = (db.session.get(User, made[r]) for r in made)
        assert auditeur is not None
        assert psy is not None
        assert admin is not None
        candidate = operations.create_candidate(
            db.session,
            auditeur,
            dossier_number=" 75-2026-abc ",
            last_name="  Sy ",
            first_name="Awa  Marie",
            non_reader=True,
        )
        assert candidate.dossier_number == "75-2026-ABC"
        assert candidate.first_name == "Awa Marie"
        assert operations.find_candidate(db.session, "75-2026-abc") is candidate
        assert operations.find_candidate(db.session, "??") is None
        with pytest.raises(Conflict, match="existe déjà"):
            operations.create_candidate(
                db.session, auditeur, dossier_number="75-2026-ABC", last_name="X", first_name="Y"
            )
        with pytest.raises(Forbidden):
            operations.start_session(db.session, candidate.id, psy, rules=rules)
        with pytest.raises(NotFound):
            operations.start_session(db.session, 999_999, auditeur, rules=rules)
        with pytest.raises(NotFound, match="banque"):
            operations.start_session(db.session, candidate.id, auditeur, "1999.1.0", rules=rules)
        with pytest.raises(NotFound, match="Politique"):
            operations.start_session(
                db.session, candidate.id, auditeur, policy="cir-1900", rules=rules
            )
        session = operations.start_session(
            db.session,
            candidate.id,
            auditeur,
            policy="cir-2019",
            rules=rules,
            code_ttl=timedelta(minutes=30),
        )
        assert session.policy == "cir-2019"
        assert session.release_version == "2026.1.0"  # the newest release
        assert session.non_reader  # from the candidate's flag
        assert session.code_expires_at is not None
        expires = session.code_expires_at.replace(tzinfo=None)
        assert (
            timedelta(minutes=29) < expires - utcnow().replace(tzinfo=None) <= timedelta(minutes=30)
        )
        assert operations.normalise_code(session.code.lower().replace("-", " ")) == session.code
        with pytest.raises(Conflict, match="déjà en cours"):
            operations.start_session(db.session, candidate.id, auditeur, rules=rules)
        operations.abandon_session(db.session, session.id, auditeur)
        with pytest.raises(Conflict):
            operations.abandon_session(db.session, session.id, auditeur)
        second = operations.start_session(db.session, candidate.id, auditeur, rules=rules)
        assert second.code != session.code
        assert second.seed != session.seed
        operations.abandon_session(db.session, second.id, auditeur)
        retention.erase_candidate(db.session, candidate.id, admin)
        with pytest.raises(Conflict, match="effacées"):
            operations.start_session(db.session, candidate.id, auditeur, rules=rules)
        db.session.commit()
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.candidate_id == candidate.id)
        ).all()
        assert actions.count("session.create") == 2
        assert actions.count("session.abandon") == 2
        assert "candidate.create" in actions
        assert "candidate.erase" in actions
        assert {s.state for s in candidate.sessions} == {SessionState.ABANDONED}


def test_codes_avoid_ambiguous_symbols() -> None:
    drawn = [operations.new_code() for _ in range(2000)]
    assert all(re.fullmatch(r"[A-Z0-9]{3}-[A-Z0-9]{3}", code) for code in drawn)
    assert not set("".join(drawn)) & set("0O1IL2Z5S8B6G")
    # 22**6 = 1.1e8 codes: among 2,000 draws about 0.02 pairs collide (1 run in 57 has one,
    # which the database's uniqueness check then redraws), a handful only if the draw is broken
    assert len(set(drawn)) >= 1995


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12/03/1990", "1990-03-12"), ("1990-03-12", "1990-03-12"), ("", None), (None, None)],
)
def test_birth_dates(value: str | None, expected: str | None) -> None:
    parsed = operations.parse_birth_date(value)
    assert (parsed.isoformat() if parsed else None) == expected


@pytest.mark.parametrize("value", ["31/02/1990", "12-03-1990", "01/01/1850", "01/01/2999"])
def test_bad_birth_dates(value: str) -> None:
    with pytest.raises(InvalidInput):
        operations.parse_birth_date(value)


def test_no_published_release_is_a_clear_message(
    app: Flask, make_user: Callable[..., tuple[User, str]], tmp_path: Path
) -> None:
    from placement.sessions.bankcache import set_default_root

    made, _ = make_user("auditeur")
    set_default_root(tmp_path / "no-releases")
    with app.app_context():
        auditeur = db.session.get(User, made.id)
        assert auditeur is not None
        candidate = operations.create_candidate(
            db.session, auditeur, dossier_number="75-2026-777", last_name="A", first_name="B"
        )
        with pytest.raises(NotFound, match="Aucune version de la banque"):
            operations.start_session(db.session, candidate.id, auditeur)


def test_a_rules_file_deep_in_a_folder_starts_a_test(
    app: Flask, tmp_path: Path, make_user: Callable[..., tuple[User, str]]
) -> None:
    """The session keeps the rules file's path: a real deployment's path is longer than 80."""
    from tests.webui.flows import new_session

    deep = tmp_path.joinpath("etc", "placement", "directions-territoriales", "regles-en-vigueur")
    deep.mkdir(parents=True)
    rules = deep / "regles-cir-avec-bande-de-renvoi-2026.yaml"
    rules.write_bytes(Path(app.config["RULES"]).read_bytes())
    assert len(str(rules)) > 120
    app.config["RULES"] = str(rules)
    user, _ = make_user("auditeur")
    session_id = new_session(app, user, "75-2026-00777")
    with app.app_context():
        from placement.sessions.models import TestSession

        session = db.session.get(TestSession, session_id)
        assert session is not None
        assert session.rules == str(rules)
