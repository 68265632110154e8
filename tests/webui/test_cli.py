"""``placement-web``: create-user, upgrade-db, purge, and serve with waitress on loopback."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from placement.sessions.db import current_revision, make_engine
from placement.sessions.models import AuditEvent, User
from placement.sessions.users import authenticate

BIN = Path(sys.executable).parent / "placement-web"


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PLACEMENT_DATABASE_URL": db_url,
        "PLACEMENT_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLACEMENT_SECRET_KEY": "clé-du-test-cli",
        "PLACEMENT_QUEUE": "sync",
    }


def _run(
    args: list[str],
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    """Run ``placement-web`` in this process (the same code as the console script, faster)."""
    import io

    from webui.cli import main

    for key, value in env.items():
        if key.startswith("PLACEMENT_"):
            monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_upgrade_create_user_and_purge(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _env(tmp_path, db_url)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        return _run(list(args), env, monkeypatch, capsys, stdin)

    code, out, _ = run("upgrade-db")
    assert code == 0
    engine = make_engine(db_url)
    try:
        assert f"révision {current_revision(engine)}" in out
        code, out, _ = run("create-user", "m.roux", "--name", "Mme Roux", "--role", "auditeur")
        assert code == 0
        password = re.search(r"Mot de passe : (\S+)", out)
        assert password is not None
        code, _, _ = run(
            "create-user",
            "p.sy",
            "--role",
            "psychometricien",
            "--password-stdin",
            stdin="un mot de passe choisi\n",
        )
        assert code == 0
        code, _, err = run("create-user", "m.roux", "--role", "admin")
        assert code == 2
        assert "existe déjà" in err
        code, _, err = run(
            "create-user", "x.y", "--role", "admin", "--password-stdin", stdin="court\n"
        )
        assert code == 2
        assert "au moins 10" in err
        from sqlalchemy.orm import Session

        with Session(engine) as session:
            assert authenticate(session, "m.roux", password.group(1)).display_name == "Mme Roux"
            assert authenticate(session, "p.sy", "un mot de passe choisi").role == "psychometricien"
        code, out, _ = run("purge", "--days", "400")
        assert code == 0
        assert "Purge (400 jours) : 0 candidat(s)" in out
        code, _, err = run("purge", "--days", "0")
        assert code == 2
        assert "au moins un jour" in err
        with Session(engine) as session:
            actions = list(session.scalars(select(AuditEvent.action)))
        assert actions.count("retention.purge") == 1
        assert actions.count("user.create") == 2
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_makes_demo_accounts_once_and_answers(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'serve.db'}"
    env = _env(tmp_path, db_url)
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN), "serve", "--port", str(port), "--threads", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines: list[str] = []
        assert server.stdout is not None
        while not any("placement-web : http://" in line for line in lines):
            line = server.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        # the passwords are not in the server's output, but in a file only its user reads
        assert "mot de passe :" not in "".join(lines)
        secrets_file = tmp_path / "instance" / "comptes-demo.txt"
        assert secrets_file.stat().st_mode & 0o077 == 0
        accounts = dict(
            re.findall(r"identifiant : (\S+)\s+mot de passe : (\S+)", secrets_file.read_text())
        )
        assert set(accounts) == {"admin", "auditeur", "psychometre"}
        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        for _ in range(50):
            try:
                page = opener.open(f"{base}/login", timeout=5).read().decode()
                break
            except urllib.error.URLError:
                time.sleep(0.1)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert token is not None
        form = urllib.parse.urlencode(
            {"username": "auditeur", "password": accounts["auditeur"], "csrf_token": token.group(1)}
        ).encode()
        forced = opener.open(f"{base}/login", data=form, timeout=10)
        # a demo password is handed over in a file: it must be replaced before anything else
        assert forced.geturl().endswith("/mot-de-passe")
        forced_page = forced.read().decode()
        assert "choisissez le vôtre" in forced_page
        token = re.search(r'name="csrf-token" content="([^"]+)"', forced_page)  # a new session
        assert token is not None
        change = urllib.parse.urlencode(
            {
                "current_password": accounts["auditeur"],
                "new_password": "mon propre mot de passe",
                "new_password_confirm": "mon propre mot de passe",
                "csrf_token": token.group(1),
            }
        ).encode()
        desk = opener.open(f"{base}/mot-de-passe", data=change, timeout=10)
        assert desk.geturl().endswith("/desk/")
        assert "Sessions du" in desk.read().decode()
        assert desk.headers["Content-Security-Policy"].startswith("default-src 'self'")
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
    # a second start keeps the accounts and prints no password
    again = subprocess.Popen(
        [str(BIN), "serve", "--port", str(_free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert again.stdout is not None
        first = again.stdout.readline()
        while "placement-web : http://" not in first:
            assert "mot de passe" not in first
            first = again.stdout.readline()
            assert first
    finally:
        again.terminate()
        again.wait(timeout=20)
        if again.stdout is not None:
            again.stdout.close()
    engine = make_engine(db_url)
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        assert len(session.scalars(select(User)).all()) == 3
    engine.dispose()


def test_speech_makes_the_tablets_sentences_in_the_chosen_languages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'p.db'}")
    code, out, _ = _run(["speech", "--languages", "xx"], env, monkeypatch, capsys)
    assert code == 2
    code, out, _ = _run(["speech", "--languages", "ps,sq"], env, monkeypatch, capsys)
    assert code == 0, out
    made = sorted((tmp_path / "instance" / "speech").glob("*.mp3"))
    from webui.candidate.texts import REFUSALS, TEXTS

    # French alone, and Albanian before French; Pashto has no voice: its sentences are French
    assert len(made) == 2 * len(set(TEXTS.values()) | set(REFUSALS.values()))
    again, out, _ = _run(["speech", "--languages", "ps,sq"], env, monkeypatch, capsys)
    assert again == 0
    assert "0 fichier(s) faits" in out
