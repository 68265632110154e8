"""Spoken versions of the tablet's own sentences, made with espeak-ng and kept on disk.

Every instruction the tablet shows is also spoken. The bank's items carry their own recorded
instructions; the tablet's own screens (welcome, consent, checks, refusals of a recording...) are
spoken from their French text by espeak-ng, once per text, then served from a cache folder.

Only registered texts are spoken: :func:`register` is called by the server for the sentences it
shows (at import for the fixed ones), and the URL names a hash of the text, never the text. So
nobody can make the server run espeak-ng on text of their choosing, and every process of a
multi-process server knows the same keys.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

__all__ = ["VOICE", "SpeechUnavailable", "key_for", "register", "text_for", "wav_path"]

#: espeak-ng's French voice and a slow speed (words per minute) for people learning French.
VOICE = "fr-fr"
SPEED_WPM = 135

_texts: dict[str, str] = {}
_lock = threading.Lock()


class SpeechUnavailable(RuntimeError):
    """espeak-ng is not installed or failed: the page still shows the text."""


def key_for(text: str) -> str:
    """The stable key of a sentence (a hash of its text, voice and speed)."""
    return hashlib.sha256(f"{VOICE}|{SPEED_WPM}|{text}".encode()).hexdigest()[:20]


def register(text: str) -> str:
    """Allow ``text`` to be spoken; returns its key."""
    key = key_for(text)
    with _lock:
        _texts[key] = text
    return key


def text_for(key: str) -> str | None:
    """The registered sentence for ``key``, or None."""
    return _texts.get(key)


def wav_path(key: str, cache_dir: Path) -> Path:
    """The WAV file of a registered sentence, made with espeak-ng on first use.

    Raises ``KeyError`` for an unknown key and :class:`SpeechUnavailable` when espeak-ng fails.
    """
    text = _texts[key]
    path = cache_dir / f"{key}.wav"
    if path.is_file():
        return path
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SpeechUnavailable("espeak-ng is not installed")
    cache_dir.mkdir(parents=True, exist_ok=True)
    # write beside, then rename: two requests for the same sentence never see half a file
    with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".wav", delete=False) as tmp:
        tmp_path = Path(tmp.name)
    try:
        subprocess.run(  # noqa: S603 - fixed program; the text is one we registered, after "--"
            [espeak, "-v", VOICE, "-s", str(SPEED_WPM), "-w", str(tmp_path), "--", text],
            check=True,
            capture_output=True,
            timeout=30,
        )
        tmp_path.replace(path)
    except (OSError, subprocess.SubprocessError) as exc:
        tmp_path.unlink(missing_ok=True)
        raise SpeechUnavailable(f"espeak-ng failed: {exc}") from exc
    return path
