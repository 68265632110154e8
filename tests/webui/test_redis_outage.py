"""A Redis outage in RQ mode loses no spoken answer: the upload is acknowledged (no 500), the
job waits in the database (the outbox), and the periodic sweep enqueues it once Redis is back.

The test runs a ``redis-server`` of its own on a free port and stops it mid-test (never the
shared one).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from placement.sessions.models import Response, Transcript, User
from placement.sessions.testflow import transcription_job_id
from tests.candidate.tablet import Tablet
from tests.webui.flows import new_session
from webui.extensions import db
from webui.transcription import app_queue, start_sweeper, sweep

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    """A throw-away redis-server (no persistence: a restart loses every job, as an outage may)."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is needed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        pytest.fail("our redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _at_a_spoken_item(app: Flask, pad: Tablet, speech_wav: bytes) -> str:
    """Play the tablet up to a speech item; returns its id."""
    pad.through_checks(speech_wav)
    pad.practice()
    for _ in range(40):
        state = pad.state()
        assert state["stage"] == "test", state
        if state["item"]["response_mode"] == "speech":
            return str(state["item"]["id"])
        pad.answer_current(speech_wav)
    pytest.fail("no spoken item in the test bank's first 40 items")


def test_an_answer_given_while_redis_is_down_is_kept_then_enqueued_by_the_sweep(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    speech_wav: bytes,
    own_redis: OwnRedis,
) -> None:
    app.config.update(QUEUE="rq", REDIS_URL=own_redis.url, QUEUE_NAME=f"t-{uuid.uuid4().hex[:8]}")
    auditeur, _ = make_user("auditeur")
    session_id = new_session(app, auditeur, "75-2026-00990")
    with app.app_context():
        from placement.sessions.models import TestSession

        session = db.session.get(TestSession, session_id)
        assert session is not None
        code = session.code
    pad = Tablet(app.test_client())
    assert pad.open(code).status_code == 303
    item_id = _at_a_spoken_item(app, pad, speech_wav)
    queue = app_queue(app)  # made while Redis was up: the connection is cached

    own_redis.stop()  # the outage
    upload = pad.post_audio("/t/enregistrement", speech_wav, "reponse.wav", item_id=item_id)
    assert upload.status_code == 200, upload.get_data(as_text=True)
    assert upload.get_json()["ok"] is True
    with app.app_context():
        response = db.session.scalar(
            select(Response).where(Response.session_id == session_id, Response.item_id == item_id)
        )
        assert response is not None
        response_id = response.id
        assert response.recording is not None
        status = db.session.scalar(
            select(Transcript.status).where(Transcript.response_id == response_id)
        )
    assert status == "queued"  # the outbox: kept in the database
    assert pad.state()["item"]["id"] != item_id  # the tablet went on
    assert sweep(app) == 0  # still down: nothing handed over, nothing raised

    own_redis.start()  # back, empty: it knows nothing of the answer
    job_id = transcription_job_id(response_id)
    assert queue.status(job_id) is None
    stop = start_sweeper(app, 0.2)
    try:
        for _ in range(100):
            if queue.status(job_id) == "queued":
                break
            time.sleep(0.1)
    finally:
        stop.set()
    assert queue.status(job_id) == "queued"
    assert sweep(app) == 1  # sweeping again enqueues nothing twice
    assert queue.status(job_id) == "queued"
    from rq import Queue

    assert Queue(str(app.config["QUEUE_NAME"]), connection=queue.connection).count == 1
