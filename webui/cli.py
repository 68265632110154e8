"""``placement-web``: serve the app, manage accounts, upgrade the database, purge old data.

Settings come from ``PLACEMENT_*`` environment variables (see webui/README.md), e.g.
``PLACEMENT_DATABASE_URL=postgresql://user@host/db placement-web serve``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask

#: The accounts made on first start (empty database), each with a generated password.
DEMO_ACCOUNTS = (
    ("admin", "Administrateur", "admin"),
    ("auditeur", "Auditeur de démonstration", "auditeur"),
    ("psychometre", "Psychométricien de démonstration", "psychometricien"),
)
#: Where the demo accounts' passwords are written (in the instance folder, mode 0600).
DEMO_PASSWORDS_FILE = "comptes-demo.txt"


def _app(**overrides: Any) -> Flask:
    from webui import create_app

    return create_app(overrides or None)


@contextlib.contextmanager
def _short_lived_app(**overrides: Any) -> Iterator[Flask]:
    """An app for one command, inside its app context; its engine is closed at the end."""
    from webui.extensions import db

    app = _app(**overrides)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.close()
            db.engine.dispose()


def create_demo_accounts(app: Flask) -> list[tuple[str, str, str]]:
    """On an empty user table, make the demo accounts; returns (username, role, password).

    They expire after ``DEMO_ACCOUNT_DAYS`` days and their passwords must be changed at the
    first login.
    """
    from datetime import timedelta

    from sqlalchemy import func, select

    from placement.sessions import users
    from placement.sessions.models import User, utcnow
    from webui.extensions import db

    made = []
    expires_at = utcnow() + timedelta(days=int(app.config["DEMO_ACCOUNT_DAYS"]))
    with app.app_context():
        if db.session.scalar(select(func.count(User.id))):
            return []
        for username, display_name, role in DEMO_ACCOUNTS:
            _user, password = users.create_user(
                db.session,
                username,
                display_name,
                role,
                must_change_password=True,
                expires_at=expires_at,
            )
            made.append((username, role, password))
        db.session.commit()
    return made


def write_demo_passwords(app: Flask, made: list[tuple[str, str, str]]) -> Path:
    """Write the demo accounts' passwords to a file only the server's user can read (never to
    the log, which is kept and shared); returns its path."""
    path = Path(app.instance_path) / DEMO_PASSWORDS_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(
            "# Comptes de démonstration : mot de passe à changer à la première connexion ; "
            f"ils expirent dans {app.config['DEMO_ACCOUNT_DAYS']} jours.\n"
        )
        for username, role, password in made:
            handle.write(f"{role:<16} identifiant : {username:<12} mot de passe : {password}\n")
    return path


def start_transcription_workers(app: Flask) -> int:
    """Start the queue the app hands spoken answers to, and re-enqueue unfinished work.

    With the ``thread`` backend the worker threads live in this process: the speech model is
    loaded in one of them now (so the first answer does not wait for it). Transcriptions that a
    stopped server left ``queued`` or ``running`` are enqueued again (the job is idempotent).
    Returns how many were re-enqueued.
    """
    from functools import partial

    from placement.sessions.jobs import requeue_pending
    from placement.workers import QueueUnavailable
    from webui.transcription import app_queue, enqueue_transcription

    backend = str(app.config["QUEUE"])
    if backend != "sync":
        try:
            queue = app_queue(app)
        except QueueUnavailable as error:
            # Redis is down: answers are kept in the database, the sweep hands them over later
            print(f"file d'attente injoignable ({error}) : nouvel essai périodique.")
            return 0
        if backend == "thread":
            queue.enqueue("audio.transcribe.get_transcriber", job_id="warm-up-speech-model")
    url = str(app.config["DATABASE_URL"])
    return len(requeue_pending(url, partial(enqueue_transcription, app)))


def proxy_settings(app: Flask) -> dict[str, Any]:
    """Waitress's trusted-proxy settings for ``PROXY_FIX`` proxies at ``TRUSTED_PROXY``.

    Waitress removes X-Forwarded-* before the app sees them unless it is told whom to trust; told,
    it sets the client's address (login throttling, code throttling, the audit trail) and the
    scheme (Secure cookies, HSTS) from the last ``PROXY_FIX`` hops, and drops the headers of
    anyone else.
    """
    hops = int(app.config["PROXY_FIX"])
    if hops <= 0:
        return {}
    return {
        "trusted_proxy": str(app.config["TRUSTED_PROXY"]),
        "trusted_proxy_count": hops,
        "trusted_proxy_headers": "x-forwarded-for x-forwarded-proto x-forwarded-host",
        "clear_untrusted_proxy_headers": True,
    }


def cmd_serve(args: argparse.Namespace) -> int:
    """Upgrade the database, make the demo accounts on first start, serve with waitress."""
    from waitress import serve

    from placement.sessions.db import upgrade

    url = os.environ.get("PLACEMENT_DATABASE_URL")
    if url:
        upgrade(url)  # PostgreSQL is not upgraded by create_app: do it here, explicitly
    # upgraded once: here, or by create_app; the proxy headers are waitress's job (below)
    upgraded_here = {"AUTO_UPGRADE": False} if url else {}
    app = _app(PROXY_FIX_MIDDLEWARE=False, **upgraded_here)
    host = args.host or os.environ.get("PLACEMENT_HOST", "127.0.0.1")
    port = int(args.port or os.environ.get("PLACEMENT_PORT", "5000"))
    made = create_demo_accounts(app)
    if made:
        path = write_demo_passwords(app, made)
        names = ", ".join(username for username, _role, _password in made)
        print(f"Comptes de démonstration créés ({names}) : mots de passe dans {path}")
    requeued = start_transcription_workers(app)
    if requeued:
        print(f"{requeued} transcription(s) en attente relancée(s).")
    sweep_s = float(app.config["QUEUE_SWEEP_SECONDS"])
    if str(app.config["QUEUE"]) != "sync" and sweep_s > 0:
        from webui.transcription import start_sweeper

        start_sweeper(app, sweep_s)  # what Redis lost (an outage, a restart) is enqueued again
    from placement.scoring import prepare

    prepare(())  # the French language model, loaded before the first typed answer, not during
    print(f"placement-web : http://{host}:{port}/  (base : {app.config['DATABASE_URL']})")
    sys.stdout.flush()
    # A recording being checked holds a thread for a second or two: with few threads, page loads
    # queue behind uploads (benchmarks/load.py: p95 2.6 s with 16 threads, 104 ms with 48).
    # waitress refuses connections past connection_limit (default 100): tablets keep theirs alive.
    serve(
        app,
        host=host,
        port=port,
        threads=args.threads,
        connection_limit=args.connection_limit,
        ident="placement",
        **proxy_settings(app),
    )
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create an account; prints the generated password (or reads one from stdin)."""
    from placement.sessions import users
    from placement.sessions.errors import SessionsError
    from webui.extensions import db

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.ask_password:
        password = getpass.getpass("Mot de passe : ")
    with _short_lived_app():
        try:
            user, password = users.create_user(
                db.session,
                args.username,
                args.name or args.username,
                args.role,
                password,
                # a generated password is handed over: its owner replaces it at first login
                must_change_password=password is None,
            )
        except SessionsError as error:
            print(f"erreur : {error.message}", file=sys.stderr)
            return 2
        db.session.commit()
    print(f"Compte créé : {user.username} ({user.role}). Mot de passe : {password}")
    return 0


def cmd_upgrade_db(args: argparse.Namespace) -> int:
    """Bring the database schema to the newest revision."""
    from placement.sessions.db import current_revision, make_engine, upgrade

    url = args.database_url or os.environ.get("PLACEMENT_DATABASE_URL")
    if not url:
        with _short_lived_app(AUTO_UPGRADE=False) as app:
            url = app.config["DATABASE_URL"]
    upgrade(url)
    engine = make_engine(url)
    try:
        print(f"Base à jour (révision {current_revision(engine)}).")
    finally:
        engine.dispose()
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Erase personal data and recordings older than the retention period."""
    from placement.sessions import retention
    from placement.sessions.errors import SessionsError
    from webui.extensions import db

    with _short_lived_app() as app:
        days = app.config["RETENTION_DAYS"] if args.days is None else args.days
        try:
            done = retention.purge(db.session, days)
        except SessionsError as error:
            print(f"erreur : {error.message}", file=sys.stderr)
            return 2
        db.session.commit()
    print(
        f"Purge ({days} jours) : {done.candidates} candidat(s), {done.recordings} "
        f"enregistrement(s), {done.transcripts} transcription(s), {done.answers} réponse(s) "
        f"écrite(s), {done.attestations} attestation(s), {done.login_attempts} tentative(s) "
        "de connexion."
    )
    return 0


def cmd_speech(args: argparse.Namespace) -> int:
    """Make the tablet's spoken sentences now, in French and in every candidate language."""
    from pathlib import Path

    from webui.candidate import speech
    from webui.candidate.languages import languages, spoken_sentences

    app = _app()
    codes = [c.strip() for c in args.languages.split(",") if c.strip()] if args.languages else None
    unknown = sorted(set(codes or []) - set(languages()))
    if unknown:
        print(f"erreur : langue(s) inconnue(s) : {', '.join(unknown)}", file=sys.stderr)
        return 2
    cache_dir = Path(app.instance_path) / "speech"
    keys = [
        speech.register(text, before)
        for text, before in spoken_sentences(int(app.config["RETENTION_DAYS"]), codes)
    ]
    try:
        made, kept = speech.make_all(cache_dir, sorted(set(keys)))
    except speech.SpeechUnavailable as error:
        print(f"erreur : {error}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in cache_dir.glob(f"*{speech.SUFFIX}"))
    print(
        f"Phrases de la tablette : {made} fichier(s) faits, {kept} déjà là, dans {cache_dir} "
        f"({size / 1e6:.1f} Mo en tout)."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``placement-web``."""
    parser = argparse.ArgumentParser(
        prog="placement-web", description="Le test de positionnement : serveur web et gestion."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="servir l'application (waitress)")
    serve.add_argument("--host", help="adresse (défaut : PLACEMENT_HOST ou 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (défaut : PLACEMENT_PORT ou 5000)")
    serve.add_argument("--threads", type=int, default=48, help="fils de waitress (défaut 48)")
    serve.add_argument(
        "--connection-limit",
        type=int,
        default=1000,
        help="connexions simultanées acceptées (défaut 1000)",
    )
    serve.set_defaults(func=cmd_serve)

    create = sub.add_parser("create-user", help="créer un compte")
    create.add_argument("username")
    create.add_argument("--name", help="nom affiché")
    create.add_argument("--role", required=True, choices=["auditeur", "psychometricien", "admin"])
    group = create.add_mutually_exclusive_group()
    group.add_argument("--password-stdin", action="store_true", help="lire le mot de passe")
    group.add_argument("--ask-password", action="store_true", help="demander le mot de passe")
    create.set_defaults(func=cmd_create_user)

    up = sub.add_parser("upgrade-db", help="mettre à jour le schéma de la base")
    up.add_argument("--database-url", help="défaut : PLACEMENT_DATABASE_URL ou l'instance")
    up.set_defaults(func=cmd_upgrade_db)

    purge = sub.add_parser("purge", help="effacer les données au-delà de la durée de conservation")
    purge.add_argument("--days", type=int, help="défaut : PLACEMENT_RETENTION_DAYS (365)")
    purge.set_defaults(func=cmd_purge)

    said = sub.add_parser(
        "speech",
        help="faire les phrases parlées de la tablette (français et langues des candidats)",
    )
    said.add_argument("--languages", help="codes séparés par des virgules (défaut : toutes)")
    said.set_defaults(func=cmd_speech)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``placement-web``; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
