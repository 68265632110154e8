"""Load test of the candidate's tablet: many candidates taking tests at once.

The whole app is served by waitress (the production WSGI server) on loopback, on SQLite or
PostgreSQL. N simulated tablets (threads, one keep-alive HTTP connection each) open their test
with its code, go through the checks (the microphone check with a real WAV), the practice item,
then answer every item until the engine ends the test: a choice, a typed text, a form, or a
spoken answer (a real espeak-ng WAV, checked and stored; its transcription job is enqueued on a
private RQ queue on the local Redis that no worker serves, so the figures are those of the web
tier, as in production where ``placement worker`` processes transcribe elsewhere).

Measured per request, client side: "next item" (GET ``/t/test``, the page with the item the
engine chose) and "answer" (POST ``/t/reponse``), and, apart, "recording" (POST
``/t/enregistrement``). Printed: count, p50/p95/p99/max in ms, errors (any status but the
expected one, or a connection failure), throughput, for each database.

    .venv/bin/python benchmarks/load.py                      # 200 candidates, SQLite and PostgreSQL
    .venv/bin/python benchmarks/load.py --candidates 50 --db sqlite --think-s 0.5 2

Between two requests a tablet waits a random "think time" (default 5 to 15 s; real candidates
take 20 to 60 s per item, so this is a heavier load than an office's), and the tablets start
over ``--ramp-s`` seconds (default 60: an office does not start 200 tests in the same second).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tqdm import tqdm  # noqa: E402 - after the path set-up, so that `tests` imports

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_ITEM = re.compile(r'data-item-id="([^"]+)" data-mode="([^"]+)"')
_STAGE = re.compile(r'data-stage="([^"]+)"')


# --------------------------------------------------------------------------- the client


@dataclass
class Figures:
    """Latencies (s) by kind of request, and the errors met."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    finished: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class TabletClient:
    """One tablet: a keep-alive connection, the cookies, the CSRF token."""

    def __init__(self, port: int, figures: Figures) -> None:
        self.port = port
        self.figures = figures
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        kind: str | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, str]:
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        all_headers.update(headers or {})
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=body, headers=all_headers)
                response = self.connection.getresponse()
                data = response.read().decode("utf-8", "replace")
                break
            except (OSError, http.client.HTTPException) as exc:
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    self.figures.error(f"{method} {path}: {type(exc).__name__}: {exc}")
                    return 0, ""
        elapsed = time.perf_counter() - started
        if kind is not None:
            self.figures.add(kind, elapsed)
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        if match := _CSRF.search(data):
            self.csrf = match.group(1)
        if response.status not in expect:
            self.figures.error(f"{method} {path}: HTTP {response.status} {data[:200]!r}")
        return response.status, data

    def post_form(self, path: str, fields: dict[str, str], **kw: Any) -> tuple[int, str]:
        from urllib.parse import urlencode

        body = urlencode({"csrf_token": self.csrf, **fields}).encode()
        return self.request(
            "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"}, **kw
        )

    def post_json(self, path: str, payload: dict[str, Any], **kw: Any) -> tuple[int, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-CSRF-Token": self.csrf,
        }
        return self.request("POST", path, json.dumps(payload).encode(), headers, **kw)

    def post_audio(self, path: str, audio: bytes, fields: dict[str, str], **kw: Any) -> Any:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; '
            f'filename="reponse.wav"\r\nContent-Type: audio/wav\r\n\r\n'.encode()
            + audio
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept": "application/json",
            "X-CSRF-Token": self.csrf,
        }
        return self.request("POST", path, body, headers, **kw)


def take_test(
    port: int,
    code: str,
    *,
    audio: bytes,
    figures: Figures,
    think: tuple[float, float],
    deadline: float,
    rng: random.Random,
) -> None:
    """One candidate's whole test, as the tablet's pages make the requests."""
    tablet = TabletClient(port, figures)

    def pause() -> None:
        time.sleep(rng.uniform(*think))

    try:
        tablet.request("GET", "/t/")
        tablet.post_form("/t/", {"code": code}, expect=(303,))
        tablet.request("GET", "/t/test")
        for stage in ("consent", "sound_check", "mic_check"):
            pause()
            tablet.post_form("/t/etape", {"stage": stage}, expect=(303,))
            tablet.request("GET", "/t/test")
        pause()
        tablet.post_audio("/t/micro", audio, {})
        tablet.post_form("/t/etape", {"stage": "practice"}, expect=(303,))
        tablet.request("GET", "/t/test")
        pause()
        tablet.post_json("/t/reponse", {"item_id": "ENTRAINEMENT", "answer": {"choice": "maison"}})
        while time.monotonic() < deadline:
            status, page = tablet.request("GET", "/t/test", kind="next item")
            shown = _STAGE.search(page)
            if status != 200 or shown is None or shown.group(1) != "test":
                break
            item = _ITEM.search(page)
            if item is None:
                figures.error("an item page without its item")
                break
            item_id, mode = item.groups()
            pause()
            if mode == "speech":
                tablet.post_audio(
                    "/t/enregistrement", audio, {"item_id": item_id}, kind="recording"
                )
                continue
            if mode == "choice":
                choices = re.findall(r'data-choice="([^"]+)"', page)
                answer: dict[str, Any] = {"choice": rng.choice(choices)}
            elif mode == "form":
                fields = re.findall(r'data-field="([^"]+)"', page)
                answer = {"fields": dict.fromkeys(fields, "Diallo 0612345678")}
            else:
                answer = {"text": rng.choice(["vendredi", "lundi", "Bonjour, je suis malade."])}
            tablet.post_json("/t/reponse", {"item_id": item_id, "answer": answer}, kind="answer")
        else:
            figures.error("a test did not end before the deadline")
            return
        with figures.lock:
            figures.finished += 1
    finally:
        tablet.connection.close()


# --------------------------------------------------------------------------- the set-up


def _speech(work: Path) -> bytes:
    path = work / "reponse.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "fr-fr",
            "-s",
            "140",
            "-w",
            str(path),
            "Bonjour, je m'appelle Amina, j'habite à Lyon.",
        ],
        check=True,
    )
    return path.read_bytes()


def _database(kind: str, work: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite:///{work / 'load.db'}", None
    import psycopg

    from placement.sessions.db import upgrade

    name = f"placement_load_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    upgrade(url)
    return url, name


def _drop(name: str | None) -> None:
    if name is None:
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start_sessions(app: Any, n: int, rules: str) -> list[str]:
    from placement.sessions import operations
    from placement.sessions.models import Role
    from placement.sessions.users import create_user
    from webui.extensions import db

    codes = []
    with app.app_context():
        user, _ = create_user(
            db.session, "charge", "Agent de charge", Role.AUDITEUR, "mot-de-passe-de-charge-1"
        )
        for i in tqdm(range(n), desc="tests started", unit="test"):
            candidate = operations.create_candidate(
                db.session,
                user,
                dossier_number=f"99-LOAD-{i:05d}",
                last_name="Charge",
                first_name=f"Candidat{i}",
            )
            session = operations.start_session(db.session, candidate.id, user, rules=rules)
            codes.append(session.code)
        db.session.commit()
    return codes


class _Timed:
    """WSGI middleware: time spent inside the app per request (excludes waitress's queue)."""

    KINDS: ClassVar[dict[tuple[str, str], str]] = {
        ("GET", "/t/test"): "next item (in app)",
        ("POST", "/t/reponse"): "answer (in app)",
    }

    def __init__(self, wsgi_app: Any, figures: Figures) -> None:
        self.wsgi_app = wsgi_app
        self.figures = figures

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        kind = self.KINDS.get((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")))
        started = time.perf_counter()
        body = self.wsgi_app(environ, start_response)
        if kind is not None:
            self.figures.add(kind, time.perf_counter() - started)
        return body


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run(kind: str, args: argparse.Namespace, root: Path, rules: str, work: Path) -> None:
    from waitress.server import create_server

    from placement.sessions.bankcache import set_default_root
    from webui import create_app
    from webui.extensions import db

    url, pg_name = _database(kind, work)
    queue_name = f"placement-load-{secrets.token_hex(4)}"
    app = create_app(
        {
            "SECRET_KEY": "load-test",
            "DATABASE_URL": url,
            "AUTO_UPGRADE": kind == "sqlite",
            "BANK_ROOT": str(root),
            "RULES": rules,
            "QUEUE": "rq",
            "QUEUE_NAME": queue_name,
            "REDIS_URL": args.redis_url,
        }
    )
    app.instance_path = str(work / f"instance-{kind}")
    figures = Figures()
    app.wsgi_app = _Timed(app.wsgi_app, figures)  # type: ignore[method-assign]  # middleware
    # waitress refuses connections beyond connection_limit (default 100): every tablet keeps one
    server = create_server(
        app,
        host="127.0.0.1",
        port=0,
        threads=args.server_threads,
        connection_limit=args.candidates + 50,
    )
    port = server.effective_port  # type: ignore[union-attr]  # a single TCP server here
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        codes = _start_sessions(app, args.candidates, rules)
        audio = _speech(work)
        deadline = time.monotonic() + args.max_s
        started = time.perf_counter()
        tablets = [
            threading.Thread(
                target=take_test,
                args=(port, code),
                kwargs={
                    "audio": audio,
                    "figures": figures,
                    "think": tuple(args.think_s),
                    "deadline": deadline,
                    "rng": random.Random(args.seed + i),
                },
                daemon=True,
            )
            for i, code in enumerate(codes)
        ]
        for tablet in tablets:
            tablet.start()
            time.sleep(args.ramp_s / max(1, len(tablets)))
        with tqdm(total=len(tablets), desc=f"tests finished ({kind})", unit="test") as bar:
            done = 0
            while done < len(tablets):
                for tablet in tablets:
                    tablet.join(timeout=0.2)
                now_done = sum(not t.is_alive() for t in tablets)
                bar.update(now_done - done)
                done = now_done
                if time.monotonic() > deadline + 60:
                    figures.error("tablets still running after the deadline")
                    break
        wall = time.perf_counter() - started
    finally:
        server.close()
        with app.app_context():
            db.engine.dispose()
        set_default_root(None)
        _clear_queue(args.redis_url, queue_name)
        _drop(pg_name)
    _report(kind, args, figures, wall)


def _clear_queue(redis_url: str, name: str) -> None:
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(redis_url)
    queue = Queue(name, connection=connection)
    queue.empty()
    queue.delete(delete_jobs=True)


def _report(kind: str, args: argparse.Namespace, figures: Figures, wall_s: float) -> None:
    total = sum(len(v) for k, v in figures.latencies.items() if "in app" not in k)
    print(
        f"\n== {kind}: {args.candidates} candidates, think time {args.think_s[0]:g}-"
        f"{args.think_s[1]:g} s, waitress {args.server_threads} threads =="
    )
    print(
        f"tests finished: {figures.finished}/{args.candidates} in {wall_s:.1f} s; "
        f"{total} timed requests ({total / wall_s:.1f}/s)"
    )
    print(f"{'request':<19} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name in ("next item", "answer", "recording", "next item (in app)", "answer (in app)"):
        values = figures.latencies.get(name, [])
        if not values:
            continue
        print(
            f"{name:<19} {len(values):>6} {1000 * statistics.median(values):>8.1f} "
            f"{1000 * _percentile(values, 95):>8.1f} {1000 * _percentile(values, 99):>8.1f} "
            f"{1000 * max(values):>8.1f}"
        )
    print(f"errors: {len(figures.errors)}")
    for message in figures.errors[:10]:
        print(f"  {message}")
    target = all(
        _percentile(figures.latencies.get(k, []), 95) < 0.200 for k in ("next item", "answer")
    )
    print(
        f"target p95 < 200 ms (next item, answer) and zero errors: "
        f"{'met' if target and not figures.errors else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--think-s", type=float, nargs=2, default=(5.0, 15.0), metavar=("MIN", "MAX")
    )
    parser.add_argument(
        "--ramp-s",
        type=float,
        default=60.0,
        help="spread the tablets' starts over this many seconds",
    )
    parser.add_argument("--max-s", type=float, default=600.0, help="stop every test after this")
    parser.add_argument(
        "--server-threads",
        type=int,
        default=48,
        help="waitress threads; recordings waiting for a check hold one each, so many more "
        "than cores are needed for page loads not to queue behind them",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from tests.candidate import testbank

    work = Path(tempfile.mkdtemp(prefix="load"))
    try:
        root, rules_path = testbank.publish(work / "bank")
        kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
        for kind in kinds:
            run(kind, args, root, str(rules_path), work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
