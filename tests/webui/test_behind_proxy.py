"""``placement-web serve`` behind a real nginx with TLS, as in production.

The test makes a self-signed certificate, starts nginx (Debian's ``nginx-light``) on a free port
in front of ``placement-web serve`` with ``PLACEMENT_PROXY_FIX=1``, and talks HTTPS to it from
several loopback addresses (127.0.0.2, 127.0.0.3...: each a client of its own, while the proxy
reaches the app from 127.0.0.1). Checked: the audit trail and the login attempts hold the
client's address, not the proxy's; login and session-code throttling are per client (one
client's typos lock no one else); a forged X-Forwarded-For is not believed; the staff and tablet
cookies are Secure; HSTS is sent.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from placement.sessions.db import make_engine
from placement.sessions.models import AuditEvent, LoginAttempt

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).with_name("placement-web")
PASSWORD = "mot de passe du test proxy"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail(f"{what} stopped (exit {process.returncode})")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{what} did not start")


@dataclass
class Client:
    """An HTTPS browser at its own loopback address, with its cookies."""

    port: int
    address: str
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, **headers: str
    ) -> tuple[int, dict[str, str], str]:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
        conn = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=context, source_address=(self.address, 0), timeout=30
        )
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                self.set_cookies.append(header)
                name, _, rest = header.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
            return response.status, dict(response.headers.items()), text
        finally:
            conn.close()

    def csrf(self) -> str:
        _, _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert token is not None
        return token.group(1)

    def login(self, username: str, password: str) -> int:
        status, _, _ = self.request(
            "POST",
            "/login",
            {"username": username, "password": password, "csrf_token": self.csrf()},
        )
        return status


@pytest.fixture
def behind_nginx(tmp_path: Path) -> Iterator[tuple[int, str]]:
    """nginx with TLS in front of ``placement-web serve``; yields (https port, database URL)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.fail("nginx is needed (apt-get install nginx-light; .ci/setup installs it)")
    db_url = f"sqlite:///{tmp_path / 'proxy.db'}"
    env = {
        **os.environ,
        "PLACEMENT_DATABASE_URL": db_url,
        "PLACEMENT_INSTANCE_PATH": str(tmp_path / "instance"),
        "PLACEMENT_SECRET_KEY": "clé-du-test-proxy",
        "PLACEMENT_QUEUE": "sync",
        "PLACEMENT_PROXY_FIX": "1",
        "PLACEMENT_SESSION_COOKIE_SECURE": "true",
        "PLACEMENT_HSTS_SECONDS": "31536000",
        "PLACEMENT_LOGIN_IP_MAX_FAILURES": "3",
        "PLACEMENT_CODE_MAX_FAILURES": "2",
        "PYTHONPATH": str(ROOT),
    }
    made = subprocess.run(
        [str(BIN), "create-user", "agent", "--role", "auditeur", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    app_port, https_port = _free_port(), _free_port()
    (tmp_path / "nginx").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/nginx/body;
    proxy_temp_path {tmp_path}/nginx/proxy;
    fastcgi_temp_path {tmp_path}/nginx/fastcgi;
    uwsgi_temp_path {tmp_path}/nginx/uwsgi;
    scgi_temp_path {tmp_path}/nginx/scgi;
    server {{
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        location / {{
            proxy_pass http://127.0.0.1:{app_port};
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host:$server_port;
        }}
    }}
}}
"""
    )
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN), "serve", "--port", str(app_port), "--threads", "4"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proxy = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(app_port, server, "placement-web serve")
        _wait_for(https_port, proxy, "nginx")
        yield https_port, db_url
    finally:
        for process in (proxy, server):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)


def test_behind_nginx_the_app_sees_each_client_and_speaks_https(
    behind_nginx: tuple[int, str],
) -> None:
    port, db_url = behind_nginx
    typist, agent, forger = (Client(port, f"127.0.0.{n}") for n in (2, 3, 4))

    # one client's typos throttle that client only
    for _ in range(3):
        assert typist.login("agent", "faute de frappe") == 401
    assert typist.login("agent", PASSWORD) == 429
    assert agent.login("agent", PASSWORD) == 302
    # a forged header does not make a client someone else
    assert (
        forger.login(
            "agent",
            "encore faux",
        )
        == 401
    )
    status, _, _ = forger.request("GET", "/login", **{"X-Forwarded-For": "198.51.100.99"})
    assert status == 200

    # HTTPS is known to the app: Secure cookies and HSTS
    status, headers, page = agent.request("GET", "/desk/")
    assert status == 200
    assert "Sessions du" in page
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    session_cookies = [c for c in agent.set_cookies if c.startswith("placement_session=")]
    assert session_cookies
    assert all("Secure" in c and "HttpOnly" in c for c in session_cookies)

    # the tablet's cookie too
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert csrf is not None
    status, headers, _ = agent.request(
        "POST",
        "/desk/sessions",
        {
            "dossier_number": "75-2026-00555",
            "last_name": "Diallo",
            "first_name": "Awa",
            "csrf_token": csrf.group(1),
        },
    )
    assert status == 302
    _, _, session_page = agent.request("GET", urllib.parse.urlsplit(headers["Location"]).path)
    code = re.search(r'<p class="code"[^>]*>([^<]+)</p>', session_page)
    assert code is not None
    tablet = Client(port, "127.0.0.5")
    status, _, _ = tablet.request("GET", f"/t/c/{code.group(1)}")
    assert status == 303
    tablet_cookies = [c for c in tablet.set_cookies if c.startswith("placement_tablet=")]
    assert tablet_cookies
    assert "Secure" in tablet_cookies[0]

    # wrong session codes are counted per client too
    guesser = Client(port, "127.0.0.6")
    token = guesser.csrf()
    for _ in range(2):
        status, _, _ = guesser.request("POST", "/t/", {"code": "AAA-AAA", "csrf_token": token})
        assert status == 404
    status, _, _ = guesser.request("POST", "/t/", {"code": code.group(1), "csrf_token": token})
    assert status == 429
    other = Client(port, "127.0.0.7")
    status, _, _ = other.request("POST", "/t/", {"code": "AAA-AAA", "csrf_token": other.csrf()})
    assert status == 404  # not throttled: another client

    # the audit trail and the login attempts hold the clients' addresses, never the proxy's
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            attempts = set(conn.execute(select(LoginAttempt.ip, LoginAttempt.success)).all())
            events = set(conn.execute(select(AuditEvent.action, AuditEvent.ip)).all())
    finally:
        engine.dispose()
    assert attempts == {("127.0.0.2", False), ("127.0.0.3", True), ("127.0.0.4", False)}
    assert ("user.login", "127.0.0.3") in events
    assert ("session.open", "127.0.0.5") in events
    assert ("code.refused", "127.0.0.6") in events
    assert ("code.refused", "127.0.0.7") in events
    assert not any(ip in ("127.0.0.1", "198.51.100.99") for _, ip in events)
