"""A recording the app's settings accept is transcribed under the same settings, whatever its
size: the job must not refuse what the intake took."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from placement.sessions.models import Response, TestSession
from tests.candidate.tablet import Tablet
from tests.candidate.test_tablet import _advance_to_speech
from tests.speech import speak
from webui.extensions import db


def test_a_recording_over_the_default_size_limit_is_transcribed(
    app: Flask, start_test: Any, tablet: FlaskClient, speech_wav: bytes, tmp_path: Path, db_url: str
) -> None:
    """An office that raised RECORDING_MAX_BYTES (uncompressed WAV from a native recorder: 48 kHz
    stereo float, 384 kB/s) gets its long answers transcribed, not failed for their size."""
    from audio.intake import DEFAULT_MAX_BYTES
    from placement.sessions import testflow
    from placement.sessions.jobs import process_recording

    started = start_test()
    pad = Tablet(tablet)
    pad.open(started["code"])
    pad.through_checks(speech_wav)
    pad.practice()
    item = _advance_to_speech(pad, speech_wav)
    voice = speak("Bonjour, je m'appelle Amina. J'habite à Paris.", tmp_path / "voice.wav")
    big = tmp_path / "big.wav"
    subprocess.run(
        ["sox", str(voice), "-r", "48000", "-c", "2", "-e", "floating-point", "-b", "32",
         str(big), "pad", "0", "60"],
        check=True,
    )  # fmt: skip
    data = big.read_bytes()
    assert len(data) > DEFAULT_MAX_BYTES
    with app.app_context():
        session = db.session.get(TestSession, started["session_id"])
        assert session is not None
        response = testflow.submit_recording(
            db.session, session, item["id"], data, "audio/wav", max_bytes=2 * len(data)
        )
        db.session.commit()
        response_id = response.id
    process_recording(response_id, db_url)
    with app.app_context():
        stored = db.session.scalars(select(Response).where(Response.id == response_id)).one()
        assert stored.transcript is not None
        assert stored.transcript.status == "done", stored.transcript.error
