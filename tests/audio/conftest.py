"""Fixtures of the audio tests: real recordings made with espeak-ng, ffmpeg and sox, the model."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from audio.transcribe import Transcriber, get_transcriber
from tests.speech import speak as say


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly; fail the test with its message if it fails."""
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def speak(text: str, path: Path, voice: str = "fr-fr+m3", speed: int = 140) -> Path:
    """Synthesise ``text`` with espeak-ng into a WAV file (a male voice by default here)."""
    return say(text, path, voice=voice, speed=speed)


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    """The bundled Whisper model, loaded once for the whole test session."""
    return get_transcriber()


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A factory of real clips by name, made once per session (``clips("french.webm")``)."""
    root = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}
    french = "Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc."
    english = (
        "Hello, my name is John. I would like to book an appointment with the doctor "
        "on Tuesday morning."
    )

    def make(name: str) -> Path:
        if name in made:
            return made[name]
        path = root / name
        if name == "french.wav":
            speak(french, path)
        elif name == "english.wav":
            speak(english, path, voice="en-us", speed=150)
        elif name.startswith("french."):
            ffmpeg("-i", str(make("french.wav")), str(path))
        else:
            raise KeyError(name)
        made[name] = path
        return path

    return make
