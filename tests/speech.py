"""French speech for the tests: espeak-ng, the one voice source every test area uses."""

from __future__ import annotations

import subprocess
from pathlib import Path


def speak(text: str, path: Path, voice: str = "fr-fr", speed: int = 140) -> Path:
    """Synthesise ``text`` with espeak-ng into the WAV file ``path``; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path
